package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/report"
)

// reportSpecText is an exec experiment running reportEngine: a shell
// script that writes the five Sarathi metric files with awk (values depend
// on the threshold, with an optimum at 2, and on the repeat) and fails at
// threshold 3 of repeat 1.
const reportSpecText = `name: report-cmd-test
description: exec engine writing synthetic metrics
engine:
  exec:
    command: [sh, engine.sh, "{{.min_chunk_threshold}}", "{{.Repeat}}", "{{.OutputDir}}"]
sweep:
  min_chunk_threshold: [0, 1, 2, 3]
repeats: 3
seed: 5
baseline: {min_chunk_threshold: 0}
select:
  aggregation: mean
  presets:
    default: {request: 0.35, prefill: 0.35, prefill_exec_norm: 0.20, request_exec_norm: 0.05, decode: 0.05}
    decode-heavy: {request: 0.2, prefill: 0.2, prefill_exec_norm: 0.1, request_exec_norm: 0.1, decode: 0.4}
`

const reportEngine = `t=$1 r=$2 d=$3/replica_0/plots
[ "$t" = 3 ] && [ "$r" = 1 ] && { echo "simulated crash" >&2; exit 7; }
mkdir -p "$d"
for m in request_execution_time request_execution_time_normalized prefill_e2e_time prefill_time_execution_plus_preemption_normalized decode_time_execution_plus_preemption_normalized; do
  awk -v t="$t" -v r="$r" -v m="$m" 'BEGIN {
    srand(100 * r + 10 * t + length(m)); print "Request Id," m ",cdf"
    for (i = 0; i < 60; i++) printf "0_%d,%.6f,%.6f\n", i, (1 + (t - 2) ^ 2 / 10) * (0.5 + rand()) / 1000, (i + 1) / 60
  }' > "$d/$m.csv"
done
`

// writeReportSpec writes the experiment and its engine script into dir.
func writeReportSpec(t *testing.T, dir string) string {
	t.Helper()
	specPath := filepath.Join(dir, "exp.yaml")
	if err := os.WriteFile(specPath, []byte(reportSpecText), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "engine.sh"), []byte(reportEngine), 0o755); err != nil {
		t.Fatal(err)
	}
	return specPath
}

// summaryFields are the fields of summary.json these tests check
// (report.Summary itself holds marshal-only point types).
type summaryFields struct {
	Hash        string            `json:"hash"`
	Engine      string            `json:"engine"`
	Cells       report.CellCounts `json:"cells"`
	FailedCells []string          `json:"failed_cells"`
	Headline    struct {
		Point []float64 `json:"point"`
	} `json:"headline"`
	Selections []struct {
		Conclusion *string `json:"conclusion"`
		Thresholds []struct {
			PValue *float64 `json:"p_value"`
			Score  float64  `json:"score"`
		} `json:"thresholds"`
	} `json:"selections"`
	PromptWeight *struct {
		N int `json:"n"`
	} `json:"prompt_weight"`
}

func readSummary(t *testing.T, dir string) (summaryFields, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, report.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	var s summaryFields
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("summary.json: %v", err)
	}
	return s, b
}

var generatedLine = regexp.MustCompile(`(?m)^\s*"generated": .*$`)

func TestRunWritesReport(t *testing.T) {
	dir := t.TempDir()
	specPath := writeReportSpec(t, dir)
	st := filepath.Join(dir, "store")
	reports := filepath.Join(dir, "reports")

	// lab run: one cell fails (exit 1), the report is still written.
	code, out, errs := runLab(t, "run", specPath, "--store", st, "--reports", reports, "-j", "2")
	if code != 1 {
		t.Fatalf("lab run exit %d, want 1 (one cell fails)\nstdout: %s\nstderr: %s", code, out, errs)
	}
	page := filepath.Join(reports, "report-cmd-test", report.HTMLFile)
	if !strings.Contains(out, "report: "+page) {
		t.Errorf("lab run stdout does not name the report %s:\n%s", page, out)
	}
	s, first := readSummary(t, filepath.Dir(page))
	if s.Cells != (report.CellCounts{Total: 12, OK: 11, Failed: 1}) {
		t.Errorf("cells = %+v, want 12 total, 11 ok, 1 failed", s.Cells)
	}
	if len(s.FailedCells) != 1 || !strings.Contains(s.FailedCells[0], "min_chunk_threshold=3 repeat 1") || !strings.Contains(s.FailedCells[0], "exit 7") {
		t.Errorf("failed cells = %q", s.FailedCells)
	}
	if got := s.Headline.Point; len(got) != 1 || got[0] != 2 {
		t.Errorf("headline choice = %v, want [2] (the synthetic optimum)", got)
	}
	if s.Hash == "" || s.Engine != "exec" || len(s.Selections) != 8 || s.PromptWeight == nil || s.PromptWeight.N != 3*60 {
		t.Errorf("summary lacks provenance, selections or prompt_weight: hash %q engine %q %d selections, prompt_weight %v",
			s.Hash, s.Engine, len(s.Selections), s.PromptWeight != nil)
	}
	if sel := s.Selections[0]; sel.Conclusion == nil || sel.Thresholds[0].PValue == nil {
		t.Error("the headline selection has no statistics")
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"min_chunk_threshold=3 repeat 1", "name: report-cmd-test", "Engine configuration"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	// The paper figures and tables beside the page.
	for _, pattern := range []string{"figures/*.svg", "figures/*.pdf", "figures/*.png", "tables/*.tex", "tables/*.md"} {
		files, _ := filepath.Glob(filepath.Join(filepath.Dir(page), pattern))
		if min := map[bool]int{true: 3, false: 14}[strings.HasPrefix(pattern, "tables")]; len(files) < min {
			t.Errorf("%s: %d files, want at least %d", pattern, len(files), min)
		}
	}

	// lab report gives the same numbers from the store.
	again := filepath.Join(dir, "again")
	code, out, errs = runLab(t, "report", specPath, "--store", st, "--out", again)
	if code != 0 {
		t.Fatalf("lab report exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	_, second := readSummary(t, filepath.Join(again, "report-cmd-test"))
	if a, b := generatedLine.ReplaceAll(first, nil), generatedLine.ReplaceAll(second, nil); string(a) != string(b) {
		t.Error("lab report's summary.json differs from the one lab run wrote")
	}

	// --no-report writes nothing.
	none := filepath.Join(dir, "none")
	if code, out, errs = runLab(t, "run", specPath, "--store", st, "--reports", none, "--no-report"); code != 1 {
		t.Fatalf("rerun exit %d: %s %s", code, out, errs)
	}
	if _, err := os.Stat(none); !os.IsNotExist(err) {
		t.Errorf("--no-report: %s exists (err %v)", none, err)
	}
}

func TestReportErrors(t *testing.T) {
	dir := t.TempDir()
	specPath := writeReportSpec(t, dir)
	emptyStore := filepath.Join(dir, "empty")
	if err := os.MkdirAll(emptyStore, 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no spec", []string{"report"}, 2, "expected one SPEC file"},
		{"missing spec", []string{"report", filepath.Join(dir, "nope.yaml")}, 1, "nope.yaml"},
		{"no store", []string{"report", specPath, "--store", filepath.Join(dir, "absent")}, 1, "does not exist"},
		{"nothing run", []string{"report", specPath, "--store", emptyStore, "--out", filepath.Join(dir, "r")}, 1, "no cell of experiment report-cmd-test has results"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runLab(t, c.args...)
			if code != c.code || !strings.Contains(errs, c.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errs, c.code, c.want)
			}
		})
	}
}
