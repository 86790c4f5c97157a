package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// smallSimSpec is a quick simulator experiment: 3 points × 3 repeats of
// 60 requests; gpu and seed are filled in.
const smallSimSpec = `name: %NAME%
engine:
  sim:
    model: llama-3-8b
    gpu: %GPU%
    scheduler: {chunk_size: 256, max_num_seqs: 10, policy: aging}
    workload:
      trace: splitwise_conv
      requests: 60
      max_tokens: 128
      arrival: {process: poisson, qps: 6}
sweep:
  min_chunk_threshold: [0, 4, 8]
repeats: 3
seed: %SEED%
baseline: {min_chunk_threshold: 0}
`

// writeSimSpec writes a smallSimSpec into dir and returns its path.
func writeSimSpec(t *testing.T, dir, name, gpu, seed string) string {
	t.Helper()
	text := strings.NewReplacer("%NAME%", name, "%GPU%", gpu, "%SEED%", seed).Replace(smallSimSpec)
	p := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// runSimSpec runs spec into store and writes its report under reports.
func runSimSpec(t *testing.T, spec, store, reports string) {
	t.Helper()
	if code, out, errs := runLab(t, "run", spec, "--store", store, "--reports", reports, "--no-select"); code != 0 {
		t.Fatalf("lab run: exit %d\n%s\n%s", code, out, errs)
	}
}

func TestReproduce(t *testing.T) {
	dir := t.TempDir()
	spec := writeSimSpec(t, dir, "repro", "h200", "1")
	reports := filepath.Join(dir, "reports")
	runSimSpec(t, spec, filepath.Join(dir, "store"), reports)
	sumPath := filepath.Join(reports, "repro", "summary.json")
	orig, err := os.ReadFile(sumPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Reproduce struct {
			Spec          string          `json:"spec"`
			Hash          string          `json:"hash"`
			GoVersion     string          `json:"go_version"`
			Engine        json.RawMessage `json:"engine"`
			Deterministic bool            `json:"deterministic"`
			Hosts         []string        `json:"hosts"`
		} `json:"reproduce"`
	}
	if err := json.Unmarshal(orig, &doc); err != nil {
		t.Fatal(err)
	}
	r := doc.Reproduce
	specText, _ := os.ReadFile(spec)
	var engine bytes.Buffer
	if err := json.Compact(&engine, r.Engine); err != nil {
		t.Fatal(err)
	}
	if r.Spec != string(specText) || r.Hash == "" || r.GoVersion == "" || !r.Deterministic || len(r.Hosts) == 0 {
		t.Errorf("reproduce block incomplete: %+v", r)
	}
	for _, want := range []string{`"kind":"sim"`, `"profile_sha256":"`, `"trace_sha256":"`} {
		if !strings.Contains(engine.String(), want) {
			t.Errorf("reproduce.engine lacks %s: %s", want, engine.String())
		}
	}

	fresh := filepath.Join(dir, "fresh")
	code, out, errs := runLab(t, "reproduce", sumPath, "--store", fresh)
	if code != 0 || !strings.Contains(out, "reproduced: all ") || !strings.Contains(out, "identical (bit for bit)") || strings.Contains(errs, "identity differs") {
		t.Fatalf("lab reproduce: exit %d\n%s\n%s", code, out, errs)
	}

	// A report whose numbers were changed does not reproduce: the
	// differences are listed, exit 1.
	edited := bytes.Replace(orig, []byte(`"score": 1,`), []byte(`"score": 1.5,`), 1)
	if bytes.Equal(edited, orig) {
		t.Fatal("no score to edit")
	}
	bad := filepath.Join(dir, "edited.json")
	if err := os.WriteFile(bad, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runLab(t, "reproduce", bad)
	if code != 1 || !strings.Contains(out, "NOT reproduced: 1 of the report's fields differ") || !strings.Contains(out, ".score: 1.5 in the report, 1 now") {
		t.Errorf("edited summary: exit %d\n%s", code, out)
	}

	for _, tc := range []struct {
		name string
		edit func([]byte) []byte
		code int
		want string
	}{
		{"spec edited", func(b []byte) []byte { return bytes.Replace(b, []byte(`repeats: 3`), []byte(`repeats: 4`), 1) }, 1, "the embedded spec hashes to"},
		{"no reproduce block", func(b []byte) []byte { return bytes.Replace(b, []byte(`"reproduce"`), []byte(`"reproduce_old"`), 1) }, 1, `no "reproduce" block`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".json")
			if err := os.WriteFile(p, tc.edit(orig), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errs := runLab(t, "reproduce", p)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, want %d and %q\n%s\n%s", code, tc.code, tc.want, out, errs)
			}
		})
	}
	// A store that already holds cells is refused (they would be cached).
	if code, _, errs := runLab(t, "reproduce", sumPath, "--store", fresh); code != 2 || !strings.Contains(errs, "is not empty") {
		t.Errorf("non-empty store: exit %d\n%s", code, errs)
	}
}

// TestReproduceWithinStatistics: an engine that is not deterministic (exec)
// is reproduced when the decision and the intervals agree.
func TestReproduceWithinStatistics(t *testing.T) {
	dir := t.TempDir()
	spec := writeReportSpec(t, dir)
	reports := filepath.Join(dir, "reports")
	runLab(t, "run", spec, "--store", filepath.Join(dir, "store"), "--reports", reports, "--no-select") // one cell fails on purpose
	code, out, errs := runLab(t, "reproduce", filepath.Join(reports, "report-cmd-test", "summary.json"))
	if code != 0 || !strings.Contains(out, "reproduced within the statistics") || !strings.Contains(out, "exec engine is not deterministic") {
		t.Errorf("exit %d\n%s\n%s", code, out, errs)
	}
}
