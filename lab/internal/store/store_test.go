package store

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

type execIdentity struct {
	Kind    string            `json:"kind"`
	Command []string          `json:"command"`
	Env     map[string]string `json:"env,omitempty"`
	Weight  float64           `json:"weight"`
}

func sampleInputs(th float64, repeat int) Inputs {
	return Inputs{
		Engine: "exec",
		Config: execIdentity{Kind: "exec", Command: []string{"bench", "{{.min_chunk_threshold}}"},
			Env: map[string]string{"B": "2", "A": "1"}, Weight: 0.35},
		Params: map[string]float64{"min_chunk_threshold": th},
		Repeat: repeat,
		Seed:   1,
	}
}

func mustHash(t *testing.T, in Inputs) string {
	t.Helper()
	h, err := HashInputs(in)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o666); err != nil {
		t.Fatal(err)
	}
}

// commitCell writes a small cell with the given status and returns its hash.
func commitCell(t *testing.T, s *Store, in Inputs, status string, files map[string]string) string {
	t.Helper()
	h := mustHash(t, in)
	tx, err := s.Begin(h)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	for p, d := range files {
		writeFile(t, filepath.Join(tx.Dir(), p), d)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rec := &Record{Inputs: in, Status: status, Start: now, End: now.Add(time.Second), DurationSeconds: 1, Attempts: 1, LabVersion: "test"}
	if err := tx.Commit(rec); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return h
}

func TestHashInputsCanonical(t *testing.T) {
	base := sampleInputs(6, 2)
	h := mustHash(t, base)
	if !ValidHash(h) {
		t.Fatalf("hash %q is not 64 hex digits", h)
	}

	// The same config as a generic map (what cell.json reads back), keys
	// in another order, numbers written differently: same hash.
	asMap := base
	asMap.Config = map[string]any{"weight": json.Number("0.350"), "env": map[string]any{"A": "1", "B": "2"},
		"command": []any{"bench", "{{.min_chunk_threshold}}"}, "kind": "exec"}
	if got := mustHash(t, asMap); got != h {
		t.Errorf("generic map config hashes to %s, struct to %s", got, h)
	}

	// Round trip through a committed record.
	b, err := encodeRecord(&Record{Inputs: base, Status: StatusOK})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := decodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustHash(t, rec.Inputs); got != h {
		t.Errorf("inputs read back from cell.json hash to %s, want %s", got, h)
	}

	canon, err := Canonical(base)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"config":{"command":["bench","{{.min_chunk_threshold}}"],"env":{"A":"1","B":"2"},"kind":"exec","weight":0.35},"engine":"exec","params":{"min_chunk_threshold":6},"repeat":2,"seed":1}`
	if string(canon) != want {
		t.Errorf("canonical form\n got %s\nwant %s", canon, want)
	}

	// Every input matters.
	changes := map[string]func(*Inputs){
		"param":  func(in *Inputs) { in.Params = map[string]float64{"min_chunk_threshold": 7} },
		"repeat": func(in *Inputs) { in.Repeat = 3 },
		"seed":   func(in *Inputs) { in.Seed = 2 },
		"engine": func(in *Inputs) { in.Engine = "sim" },
		"config": func(in *Inputs) {
			c := in.Config.(execIdentity)
			c.Weight = 0.36
			in.Config = c
		},
	}
	for name, change := range changes {
		in := sampleInputs(6, 2)
		change(&in)
		if mustHash(t, in) == h {
			t.Errorf("changing %s does not change the hash", name)
		}
	}

	// -0 and 0 are the same parameter value.
	neg := sampleInputs(0, 0)
	neg.Params["min_chunk_threshold"] = negZero()
	if mustHash(t, neg) != mustHash(t, sampleInputs(0, 0)) {
		t.Error("-0 and 0 hash differently")
	}

	bad := sampleInputs(0, 0)
	bad.Params["x"] = nan()
	if _, err := HashInputs(bad); err == nil {
		t.Error("NaN parameter: want an error")
	}
}

func negZero() float64 { z := 0.0; return -z }
func nan() float64     { z := 0.0; return z / z }

func TestCommitGetList(t *testing.T) {
	s := openStore(t)
	in := sampleInputs(3, 0)
	h := mustHash(t, in)
	if rec, err := s.Get(h); rec != nil || err != nil {
		t.Fatalf("Get of an absent cell = %v, %v; want nil, nil", rec, err)
	}
	tx, err := s.Begin(h)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tx.Dir(), filepath.Join(s.Root(), "tmp")+string(filepath.Separator)) {
		t.Errorf("temp dir %s is not under the store's tmp/", tx.Dir())
	}
	writeFile(t, filepath.Join(tx.Dir(), "replica_0", "plots", "prefill_e2e_time.csv"), "Request Id,prefill_e2e_time,cdf\n0_0,1.5,1\n")
	writeFile(t, filepath.Join(tx.Dir(), "stdout.log"), "hello\n")
	if err := os.Symlink("replica_0/plots", filepath.Join(tx.Dir(), "plots")); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := tx.Commit(&Record{Inputs: in, Status: StatusOK, Start: start, End: start.Add(2 * time.Second), DurationSeconds: 2, Attempts: 1, Host: "h", LabVersion: "v"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tx.Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temp dir still exists after commit: %v", err)
	}
	rec, err := s.Get(h)
	if err != nil || rec == nil {
		t.Fatalf("Get = %v, %v", rec, err)
	}
	if rec.Hash != h || rec.Status != StatusOK || rec.Format != RecordFormat || !rec.Start.Equal(start) {
		t.Errorf("record = %+v", rec)
	}
	wantFiles := []string{"plots", "replica_0/plots/prefill_e2e_time.csv", "stdout.log"}
	var gotFiles []string
	for p := range rec.Files {
		gotFiles = append(gotFiles, p)
	}
	sortStrings(gotFiles)
	if !reflect.DeepEqual(gotFiles, wantFiles) {
		t.Errorf("files = %v, want %v", gotFiles, wantFiles)
	}
	if rec.Files["plots"] != "symlink:replica_0/plots" {
		t.Errorf("symlink recorded as %q", rec.Files["plots"])
	}
	if rec.Files["stdout.log"] != "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03" { // sha256("hello\n")
		t.Errorf("stdout.log hash = %s", rec.Files["stdout.log"])
	}
	list, err := s.List()
	if err != nil || !reflect.DeepEqual(list, []string{h}) {
		t.Errorf("List = %v, %v", list, err)
	}
	if _, err := s.Begin(h); !errors.Is(err, ErrExists) {
		t.Errorf("Begin of a committed ok cell: %v, want ErrExists", err)
	}
	if probs, err := s.Verify(); err != nil || len(probs) != 0 {
		t.Errorf("Verify = %v, %v; want no problems", probs, err)
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestBeginLockedAndAbort(t *testing.T) {
	s := openStore(t)
	h := mustHash(t, sampleInputs(1, 0))
	tx, err := s.Begin(h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Begin(h); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Begin: %v, want ErrLocked", err)
	}
	if err := s.Remove(h); !errors.Is(err, ErrLocked) {
		t.Errorf("Remove while locked: %v, want ErrLocked", err)
	}
	// A run in progress is not a problem, and CleanTemp keeps its folder.
	if probs, _ := s.Verify(); len(probs) != 0 {
		t.Errorf("Verify during a run: %v", probs)
	}
	if err := s.CleanTemp(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tx.Dir()); err != nil {
		t.Errorf("CleanTemp removed an active temp dir: %v", err)
	}
	if err := tx.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tx.Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Abort left the temp dir: %v", err)
	}
	if err := tx.Commit(&Record{}); err == nil {
		t.Error("Commit after Abort: want an error")
	}
	tx2, err := s.Begin(h)
	if err != nil {
		t.Fatalf("Begin after Abort: %v", err)
	}
	tx2.Abort()
	if rec, _ := s.Get(h); rec != nil {
		t.Error("an aborted cell is in the store")
	}
}

func TestFailedIsReplaced(t *testing.T) {
	for _, portable := range []bool{false, true} {
		t.Run(map[bool]string{false: "exchange", true: "two-renames"}[portable], func(t *testing.T) {
			s := openStore(t)
			s.noExchange = portable
			testFailedIsReplaced(t, s)
		})
	}
}

func testFailedIsReplaced(t *testing.T, s *Store) {
	in := sampleInputs(2, 1)
	h := commitCell(t, s, in, StatusFailed, map[string]string{"stderr.log": "boom\n", "partial.txt": "x"})
	rec, _ := s.Get(h)
	if rec == nil || rec.Status != StatusFailed {
		t.Fatalf("failed record not kept: %+v", rec)
	}
	commitCell(t, s, in, StatusOK, map[string]string{"stdout.log": "fine\n"})
	rec, _ = s.Get(h)
	if rec == nil || rec.Status != StatusOK {
		t.Fatalf("record after rerun: %+v", rec)
	}
	if _, err := os.Stat(filepath.Join(s.CellDir(h), "partial.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Error("a file of the replaced failed record survived")
	}
	ents, _ := os.ReadDir(filepath.Join(s.Root(), "tmp"))
	if len(ents) != 0 {
		t.Errorf("tmp/ not empty after replace: %v", ents)
	}
	if probs, _ := s.Verify(); len(probs) != 0 {
		t.Errorf("Verify: %v", probs)
	}
}

func TestCommitRejects(t *testing.T) {
	in := sampleInputs(4, 0)
	tests := []struct {
		name  string
		setup func(dir string)
		rec   func() *Record
		want  string
		// content: a *ContentError, which leaves the transaction open
		// for the caller to record a failure.
		content bool
	}{
		{"inputs of another cell", nil, func() *Record { return &Record{Inputs: sampleInputs(5, 0), Status: StatusOK} }, "inputs hash to", false},
		{"hash of another cell", nil, func() *Record {
			return &Record{Hash: strings.Repeat("a", 64), Inputs: in, Status: StatusOK}
		}, "does not match", false},
		{"unknown status", nil, func() *Record { return &Record{Inputs: in, Status: "done"} }, "status", false},
		{"engine wrote cell.json", func(dir string) { os.WriteFile(filepath.Join(dir, RecordFile), []byte("{}"), 0o666) },
			func() *Record { return &Record{Inputs: in, Status: StatusOK} }, "reserves", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t)
			h := mustHash(t, in)
			tx, err := s.Begin(h)
			if err != nil {
				t.Fatal(err)
			}
			if tc.setup != nil {
				tc.setup(tx.Dir())
			}
			err = tx.Commit(tc.rec())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Commit error = %v, want one containing %q", err, tc.want)
			}
			var ce *ContentError
			if errors.As(err, &ce) != tc.content {
				t.Fatalf("Commit error %v: content error = %v, want %v", err, !tc.content, tc.content)
			}
			if tc.content {
				tx.Abort()
			}
			// The failed commit aborted: no cell, no temp dir, lock free.
			if rec, _ := s.Get(h); rec != nil {
				t.Error("a rejected commit left a cell")
			}
			tx2, err := s.Begin(h)
			if err != nil {
				t.Fatalf("lock not released after a rejected commit: %v", err)
			}
			tx2.Abort()
			if ents, _ := os.ReadDir(filepath.Join(s.Root(), "tmp")); len(ents) != 0 {
				t.Errorf("tmp/ not empty: %v", ents)
			}
		})
	}
}

func TestVerifyNamesTampering(t *testing.T) {
	type tamper struct {
		name string
		do   func(t *testing.T, s *Store, h string)
		want []string // "path: msg prefix" per problem
	}
	tests := []tamper{
		{"altered file", func(t *testing.T, s *Store, h string) {
			writeFile(t, filepath.Join(s.CellDir(h), "replica_0/plots/a.csv"), "x,y\n9,9\n")
		}, []string{"replica_0/plots/a.csv: altered"}},
		{"missing file", func(t *testing.T, s *Store, h string) {
			os.Remove(filepath.Join(s.CellDir(h), "stdout.log"))
		}, []string{"stdout.log: missing"}},
		{"extra file", func(t *testing.T, s *Store, h string) {
			writeFile(t, filepath.Join(s.CellDir(h), "notes.txt"), "mine")
		}, []string{"notes.txt: extra"}},
		{"missing cell.json", func(t *testing.T, s *Store, h string) {
			os.Remove(filepath.Join(s.CellDir(h), RecordFile))
		}, []string{"cell.json: missing"}},
		{"garbled cell.json", func(t *testing.T, s *Store, h string) {
			writeFile(t, filepath.Join(s.CellDir(h), RecordFile), "{not json")
		}, []string{"cell.json: unreadable"}},
		{"edited inputs", func(t *testing.T, s *Store, h string) {
			p := filepath.Join(s.CellDir(h), RecordFile)
			b, _ := os.ReadFile(p)
			writeFile(t, p, strings.Replace(string(b), `"min_chunk_threshold": 4`, `"min_chunk_threshold": 5`, 1))
		}, []string{"cell.json: inconsistent: inputs hash to"}},
		{"moved cell", func(t *testing.T, s *Store, h string) {
			other := strings.Repeat("0", 64)
			if err := os.Rename(s.CellDir(h), s.CellDir(other)); err != nil {
				t.Fatal(err)
			}
		}, []string{"cell.json: inconsistent: inputs hash to", "cell.json: inconsistent: records hash"}},
		{"stray entry", func(t *testing.T, s *Store, h string) {
			writeFile(t, filepath.Join(s.Root(), "cells", "README"), "hi")
		}, []string{"cells/README: not a cell"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t)
			h := commitCell(t, s, sampleInputs(4, 0), StatusOK, map[string]string{
				"replica_0/plots/a.csv": "x,y\n1,2\n", "stdout.log": "ok\n",
			})
			tc.do(t, s, h)
			probs, err := s.Verify()
			if err != nil {
				t.Fatal(err)
			}
			if len(probs) != len(tc.want) {
				t.Fatalf("Verify = %v, want %d problems like %v", probs, len(tc.want), tc.want)
			}
			for i, p := range probs {
				got := strings.TrimPrefix(p.Path, "cells/"+p.Hash+"/") + ": " + p.Msg
				if !strings.HasPrefix(got, tc.want[i]) {
					t.Errorf("problem %d = %q, want prefix %q", i, got, tc.want[i])
				}
			}
		})
	}
}

func TestRemove(t *testing.T) {
	s := openStore(t)
	h1 := commitCell(t, s, sampleInputs(1, 0), StatusOK, map[string]string{"a": "1"})
	h2 := commitCell(t, s, sampleInputs(2, 0), StatusOK, map[string]string{"a": "2"})
	if err := s.Remove(h1); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(h1); err != nil {
		t.Errorf("removing an absent cell: %v", err)
	}
	list, _ := s.List()
	if !reflect.DeepEqual(list, []string{h2}) {
		t.Errorf("List after Remove = %v, want [%s]", list, h2)
	}
	if err := s.Remove("../../etc"); err == nil {
		t.Error("Remove accepted a path as a hash")
	}
	if probs, _ := s.Verify(); len(probs) != 0 {
		t.Errorf("Verify: %v", probs)
	}
}

// OpenReadOnly reads a store like Open but creates nothing: a missing root
// is an empty store, and writing through it fails.
func TestOpenReadOnly(t *testing.T) {
	s := openStore(t)
	h := commitCell(t, s, sampleInputs(1, 0), StatusOK, map[string]string{"a": "1"})
	ro, err := OpenReadOnly(s.Root())
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := ro.Get(h); err != nil || !rec.OK() {
		t.Errorf("Get through OpenReadOnly: %+v, %v", rec, err)
	}
	if probs, err := ro.Verify(); err != nil || len(probs) != 0 {
		t.Errorf("Verify through OpenReadOnly: %v, %v", probs, err)
	}

	missing := filepath.Join(t.TempDir(), "none")
	ro, err = OpenReadOnly(missing)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashInputs(sampleInputs(2, 0))
	if rec, err := ro.Get(h2); rec != nil || err != nil {
		t.Errorf("Get in a missing store: %+v, %v; want nothing", rec, err)
	}
	if busy, err := ro.Locked(h2); busy || err != nil {
		t.Errorf("Locked in a missing store: %v, %v", busy, err)
	}
	if _, err := ro.Begin(h2); err == nil {
		t.Error("Begin in a missing store opened read-only succeeded")
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("OpenReadOnly created %s: %v", missing, err)
	}
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o666)
	if _, err := OpenReadOnly(file); err == nil {
		t.Error("OpenReadOnly of a file succeeded")
	}
}

func TestHostInfo(t *testing.T) {
	out := "0, GPU-aaaa-1111, NVIDIA H100 80GB HBM3, 550.54.15\n1, GPU-bbbb-2222, NVIDIA H100 80GB HBM3, 550.54.15\n2, GPU-cccc-3333, NVIDIA A100-SXM4-40GB, 550.54.15\n"
	h := HostInfo{Hostname: "n1", GPUs: parseNvidiaSMI(out)}
	if len(h.GPUs) != 3 || h.GPUs[2].Name != "NVIDIA A100-SXM4-40GB" || h.GPUs[1].UUID != "GPU-bbbb-2222" {
		t.Fatalf("parsed %+v", h.GPUs)
	}
	tests := []struct{ visible, name, driver string }{
		{"", "NVIDIA H100 80GB HBM3, NVIDIA A100-SXM4-40GB", "550.54.15"},
		{"1", "NVIDIA H100 80GB HBM3", "550.54.15"},
		{"2,0", "NVIDIA A100-SXM4-40GB, NVIDIA H100 80GB HBM3", "550.54.15"},
		{"GPU-cccc", "NVIDIA A100-SXM4-40GB", "550.54.15"},
		{"7", "", ""},
	}
	for _, tc := range tests {
		got := h.WithDevices(tc.visible)
		if got.GPUName != tc.name || got.GPUDriver != tc.driver || got.CUDAVisibleDevices != tc.visible {
			t.Errorf("WithDevices(%q) = %q, %q; want %q, %q", tc.visible, got.GPUName, got.GPUDriver, tc.name, tc.driver)
		}
	}
	var r Record
	h.WithDevices("1").Fill(&r)
	if r.Host != "n1" || r.CUDAVisibleDevices != "1" || r.GPUName != "NVIDIA H100 80GB HBM3" {
		t.Errorf("Fill: %+v", r)
	}
	// The real thing: must not fail or hang, with or without nvidia-smi.
	real := CollectHost(t.Context())
	if real.Hostname == "" {
		t.Error("no hostname")
	}
	t.Logf("this host: %+v", real)
}

// A fake nvidia-smi on PATH: CollectHost runs it with the documented
// query, parses it, and gives up on one that hangs.
func TestCollectHostNvidiaSMI(t *testing.T) {
	bin := t.TempDir()
	script := `#!/bin/sh
if [ "$1" != "--query-gpu=index,uuid,name,driver_version" ] || [ "$2" != "--format=csv,noheader" ]; then
  echo "unexpected arguments: $*" >&2; exit 2
fi
if [ -n "$FAKE_SMI_HANG" ]; then sleep 30; fi
echo "0, GPU-1111, NVIDIA H200, 570.86.15"
echo "1, GPU-2222, NVIDIA H200, 570.86.15"
`
	if err := os.WriteFile(filepath.Join(bin, "nvidia-smi"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("CUDA_VISIBLE_DEVICES", "1")
	h := CollectHost(t.Context())
	if len(h.GPUs) != 2 || h.GPUName != "NVIDIA H200" || h.GPUDriver != "570.86.15" || h.CUDAVisibleDevices != "1" {
		t.Fatalf("CollectHost = %+v", h)
	}
	t.Setenv("FAKE_SMI_HANG", "1")
	// Without the timeout the script would print its GPUs after 30s.
	h = collectHost(t.Context(), 200*time.Millisecond)
	if len(h.GPUs) != 0 || h.Hostname == "" {
		t.Errorf("hanging nvidia-smi: %+v", h)
	}
}

func TestDefaultRoot(t *testing.T) {
	t.Setenv("LAB_STORE", "")
	if DefaultRoot() != ".lab" {
		t.Errorf("DefaultRoot = %q", DefaultRoot())
	}
	t.Setenv("LAB_STORE", "/shared/lab")
	if DefaultRoot() != "/shared/lab" {
		t.Errorf("DefaultRoot with LAB_STORE = %q", DefaultRoot())
	}
}
