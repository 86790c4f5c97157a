package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/schedlab/schedlab/lab/experiment"
	"github.com/schedlab/schedlab/lab/internal/store"
	"github.com/schedlab/schedlab/lab/spec"
)

// runLab runs the lab command in-process and returns its exit code,
// stdout and stderr.
func runLab(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runMain(context.Background(), &cmdEnv{stdout: &out, stderr: &errb}, args)
	return code, out.String(), errb.String()
}

const gcSpecText = `name: gc-test
engine:
  exec:
    command: [sh, -c, "true {{.OutputDir}}"]
sweep:
  min_chunk_threshold: [0, 1, 2]
repeats: 2
`

// commitSpecCells commits every cell of the spec at path into st, as a
// finished run would, and returns their hashes.
func commitSpecCells(t *testing.T, st *store.Store, path string) []string {
	t.Helper()
	s, err := spec.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	e, err := experiment.NewEngine(s)
	if err != nil {
		t.Fatal(err)
	}
	var hashes []string
	for _, c := range s.Cells() {
		in := experiment.CellInputs(s, e, c)
		h, err := store.HashInputs(in)
		if err != nil {
			t.Fatal(err)
		}
		commitInputs(t, st, in, h)
		hashes = append(hashes, h)
	}
	return hashes
}

func commitInputs(t *testing.T, st *store.Store, in store.Inputs, h string) {
	t.Helper()
	tx, err := st.Begin(h)
	if errors.Is(err, store.ErrExists) {
		return // shared with a spec committed earlier
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tx.Dir(), "stdout.log"), []byte("ok\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := tx.Commit(&store.Record{Inputs: in, Status: store.StatusOK, Start: now, End: now}); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "store")
	if code, _, stderr := runLab(t, "verify", "--store", root); code != 1 || !strings.Contains(stderr, "no store at") {
		t.Fatalf("verify of a missing store: code %d, stderr %q", code, stderr)
	}
	st, err := store.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	specPath := filepath.Join(dir, "gc.yaml")
	os.WriteFile(specPath, []byte(gcSpecText), 0o666)
	hashes := commitSpecCells(t, st, specPath)

	code, stdout, stderr := runLab(t, "verify", "--store", root)
	if code != 0 || stdout != "" || !strings.Contains(stderr, "6 cells") {
		t.Fatalf("clean store: code %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	// Tamper with one cell: verify names it and exits 1.
	victim := hashes[3]
	os.WriteFile(filepath.Join(st.CellDir(victim), "stdout.log"), []byte("edited\n"), 0o666)
	code, stdout, _ = runLab(t, "verify", "--store", root)
	want := victim + " cells/" + victim + "/stdout.log: altered"
	if code != 1 || !strings.HasPrefix(stdout, want) || strings.Count(stdout, "\n") != 1 {
		t.Fatalf("tampered store: code %d, stdout %q; want one line starting %q", code, stdout, want)
	}
	code, stdout, _ = runLab(t, "verify", "--json", "--store", root)
	var rep verifyReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("--json output: %v\n%s", err, stdout)
	}
	if code != 1 || rep.Cells != 6 || len(rep.Problems) != 1 || rep.Problems[0].Hash != victim {
		t.Errorf("--json: code %d, %+v", code, rep)
	}
}

func TestGCCommand(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "store")
	st, err := store.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	specPath := filepath.Join(dir, "gc.yaml")
	os.WriteFile(specPath, []byte(gcSpecText), 0o666)
	kept := commitSpecCells(t, st, specPath)

	// An older version of the experiment (threshold 3 no longer swept).
	oldPath := filepath.Join(dir, "old.yaml")
	os.WriteFile(oldPath, []byte(strings.Replace(gcSpecText, "[0, 1, 2]", "[2, 3]", 1)), 0o666)
	commitSpecCells(t, st, oldPath) // threshold 2 cells are shared
	all, _ := st.List()
	if len(all) != 8 {
		t.Fatalf("%d cells, want 6 + 2 orphans", len(all))
	}

	// A broken spec stops gc before it decides anything.
	badPath := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badPath, []byte("name: x\n"), 0o666)
	if code, _, stderr := runLab(t, "gc", "--store", root, "--delete", specPath, badPath); code != 1 || !strings.Contains(stderr, "bad.yaml:") {
		t.Fatalf("gc with a broken spec: code %d, stderr %q", code, stderr)
	}
	if l, _ := st.List(); len(l) != 8 {
		t.Fatal("gc deleted cells while a spec was broken")
	}

	code, stdout, stderr := runLab(t, "gc", "--store", root, specPath)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || len(lines) != 2 || !strings.Contains(stderr, "6 of 8 cells referenced") {
		t.Fatalf("gc list: code %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
	for _, l := range lines {
		if !strings.Contains(l, "min_chunk_threshold=3 repeat=") || !strings.Contains(l, " ok ") {
			t.Errorf("unexpected gc line %q", l)
		}
	}
	if l, _ := st.List(); len(l) != 8 {
		t.Fatal("gc without --delete removed cells")
	}

	code, stdout, _ = runLab(t, "gc", "--json", "--delete", "--store", root, specPath)
	var rep gcReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, stdout)
	}
	if code != 0 || rep.Referenced != 6 || len(rep.Unreferenced) != 2 || !rep.Unreferenced[0].Removed {
		t.Fatalf("gc --delete --json: code %d, %+v", code, rep)
	}
	left, _ := st.List()
	if strings.Join(left, ",") != strings.Join(sortedCopy(kept), ",") {
		t.Errorf("after gc --delete: %v, want the spec's cells %v", left, kept)
	}
	if code, _, _ := runLab(t, "verify", "--store", root); code != 0 {
		t.Error("store does not verify after gc --delete")
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	for i := 1; i < len(c); i++ {
		for j := i; j > 0 && c[j] < c[j-1]; j-- {
			c[j], c[j-1] = c[j-1], c[j]
		}
	}
	return c
}

// A spec whose engine cannot be built here (its interpreter is missing)
// still protects every cell of its engine kind from gc.
func TestGCKeepsCellsOfUnavailableEngines(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "store")
	st, err := store.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	specPath := filepath.Join(dir, "gc.yaml")
	os.WriteFile(specPath, []byte(gcSpecText), 0o666)
	commitSpecCells(t, st, specPath)
	gpuPath := filepath.Join(dir, "gpu.yaml")
	os.WriteFile(gpuPath, []byte(`name: gpu-elsewhere
engine:
  gpu:
    model: tiny
    python: /nonexistent/python3
    scheduler: {chunk_size: 256, max_num_seqs: 8, policy: fcfs}
    workload: {trace: splitwise_conv, requests: 10}
sweep:
  min_chunk_threshold: [0, 16]
`), 0o666)
	gpuCell := store.Inputs{Engine: "gpu", Config: map[string]any{"model": "tiny"}, Params: map[string]float64{"min_chunk_threshold": 16}}
	gh, _ := store.HashInputs(gpuCell)
	commitInputs(t, st, gpuCell, gh)
	orphan := store.Inputs{Engine: "exec", Config: map[string]any{"old": true}, Params: map[string]float64{"min_chunk_threshold": 9}}
	oh, _ := store.HashInputs(orphan)
	commitInputs(t, st, orphan, oh)

	code, stdout, stderr := runLab(t, "gc", "--delete", "--store", root, specPath, gpuPath)
	if code != 0 || !strings.Contains(stderr, "keeping every gpu cell") || !strings.HasPrefix(stdout, oh) || strings.Count(stdout, "\n") != 1 {
		t.Fatalf("code %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
	if rec, _ := st.Get(gh); rec == nil {
		t.Error("gc removed a cell of an engine it could not expand")
	}
	if rec, _ := st.Get(oh); rec != nil {
		t.Error("gc kept the orphan exec cell")
	}
}

// Commands that only look (plan, status, verify, gc without --delete) write
// nothing: no store appears where there was none, and a folder that is not
// a store gets no cells/, tmp/ or locks/.
func TestLookingCommandsCreateNothing(t *testing.T) {
	dir := t.TempDir()
	specPath := filepath.Join(dir, "gc.yaml")
	os.WriteFile(specPath, []byte(gcSpecText), 0o666)
	missing := filepath.Join(dir, "no-store")
	for _, cmd := range []string{"plan", "status"} {
		code, stdout, stderr := runLab(t, cmd, specPath, "--store", missing)
		if code != 0 || !strings.Contains(stdout, "6 missing") {
			t.Errorf("%s on a missing store: code %d, stdout %q, stderr %q", cmd, code, stdout, stderr)
		}
		if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s created the store %s", cmd, missing)
		}
	}
	plain := filepath.Join(dir, "plain")
	os.Mkdir(plain, 0o777)
	for _, args := range [][]string{{"verify"}, {"gc", specPath}} {
		code, _, stderr := runLab(t, append(args, "--store", plain)...)
		if code != 1 || !strings.Contains(stderr, "is not a lab store") {
			t.Errorf("%s on a folder that is not a store: code %d, stderr %q", args[0], code, stderr)
		}
		if ents, _ := os.ReadDir(plain); len(ents) != 0 {
			t.Fatalf("%s wrote into a folder that is not a store: %v", args[0], ents)
		}
	}
}
