package experiment

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/legacy"
	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

// importedTree opens a legacy tree imported into a fresh store, its spec
// extended with two presets, a median headline and a seed.
func importedTree(t *testing.T, name string) (*Experiment, *legacy.Tree) {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", "testdata", "legacy", "trees", name))
	if err != nil {
		t.Fatal(err)
	}
	tree, err := legacy.Scan(root)
	if err != nil {
		t.Fatal(err)
	}
	text := string(LegacySpecYAML(tree, name, root)) + `seed: 7
baseline: {min_chunk_threshold: 0}
select:
  aggregation: median
  presets:
    default: {request: 0.35, prefill: 0.35, prefill_exec_norm: 0.20, request_exec_norm: 0.05, decode: 0.05}
    ttft:    {request: 0.1, prefill: 0.7, prefill_exec_norm: 0.1, request_exec_norm: 0.05, decode: 0.05}
`
	s, err := spec.Parse(filepath.Join(t.TempDir(), "exp.yaml"), []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	x, err := OpenSpec(s, filepath.Join(t.TempDir(), "store"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return x, tree
}

// Opening and analysing run nothing: on an empty store every cell is
// missing, the analysis says to run the experiment, and the store stays
// empty.
func TestOpenRunsNothing(t *testing.T) {
	x, _ := importedTree(t, "basic")
	cells, err := x.Cells()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cells {
		if c.State != Missing {
			t.Errorf("%s: state %s, want missing", c.Where(x.Spec.ParamNames()), c.State)
		}
	}
	if _, err := x.Analyze(AnalyzeOptions{}); err == nil || !strings.Contains(err.Error(), "run `lab run") {
		t.Errorf("Analyze on an empty store: %v, want an error saying to run the experiment", err)
	}
	if hashes, err := x.Store.List(); err != nil || len(hashes) != 0 {
		t.Errorf("store holds %d cells after Open, Cells and Analyze (%v); want none", len(hashes), err)
	}
}

// Analyze assembles what the analysis packages compute on the same
// results: every selection, the headline under the spec's aggregation,
// the statistics with the spec's seed, the decision with the spec's
// guards, prompt_weight at the decided point.
func TestAnalyzeMatchesAnalysis(t *testing.T) {
	x, tree := importedTree(t, "missing_file")
	if _, err := x.ImportLegacy(context.Background(), tree); err != nil {
		t.Fatal(err)
	}
	a, err := x.Analyze(AnalyzeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	direct, err := legacy.LoadTable(tree.Root)
	if err != nil {
		t.Fatal(err)
	}
	sels, err := analysis.SelectAll(direct, Presets(x.Spec), SpecBaseline(x.Spec))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Selections) != len(sels) || len(a.Significance) != len(sels) {
		t.Fatalf("%d selections, %d statistics; want %d each", len(a.Selections), len(a.Significance), len(sels))
	}
	for i, want := range sels {
		got := a.Selections[i]
		if got.Preset != want.Preset || got.Agg != want.Agg || got.Recommended().Compare(want.Recommended()) != 0 ||
			got.Rows[got.Best].Score != want.Rows[want.Best].Score {
			t.Errorf("selection %d: %s/%s → %s, want %s/%s → %s", i, got.Preset, got.Agg, got.Recommended(), want.Preset, want.Agg, want.Recommended())
		}
	}
	if a.Headline.Preset != "default" || a.Headline.Agg != "median" {
		t.Errorf("headline %s/%s, want default/median", a.Headline.Preset, a.Headline.Agg)
	}
	head := Headline(x.Spec, sels)
	sig, err := head.Significance(SignificanceOptions(x.Spec))
	if err != nil {
		t.Fatal(err)
	}
	// The legacy table labels the parameter "threshold".
	want := strings.ReplaceAll(sig.Conclusion, "threshold", legacy.Param)
	if got := a.HeadlineSignificance(); got == nil || got.Conclusion != want || a.Conclusion() != want {
		t.Errorf("headline conclusion %q, want %q", a.Conclusion(), want)
	}
	dec, err := Decide(x.Spec, direct, head, sig, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Decision == nil || a.Decision.Point.Compare(dec.Point) != 0 || a.Decision.Verdict != dec.Verdict || a.Decision.Reason != strings.ReplaceAll(dec.Reason, "threshold", legacy.Param) {
		t.Errorf("decision %+v, want %+v", a.Decision, dec)
	}
	files, err := direct.Files(dec.Point, sarathi.PrefillExecPlusPreemptNorm)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := analysis.SecondsPerPrefillToken(files, PromptWeightOptions(x.Spec))
	if err != nil {
		t.Fatal(err)
	}
	if a.PromptWeightAt.Compare(dec.Point) != 0 || a.PromptWeight.Stats[0] != pw.Stats[0] {
		t.Errorf("prompt_weight at %s: %+v, want at %s: %+v", a.PromptWeightAt, a.PromptWeight.Stats[0], dec.Point, pw.Stats[0])
	}
	// An exec experiment has no prompt_weight to confirm: the analysis says so.
	if a.Confirmation != nil || !strings.Contains(a.ConfirmationNote, "no prompt_weight to confirm") {
		t.Errorf("confirmation %v, note %q; want none, saying the engine has no prompt_weight", a.Confirmation, a.ConfirmationNote)
	}
	// The tree lacks cells the spec has: they are warnings, never nil.
	if len(a.Warnings) == 0 || !strings.Contains(strings.Join(a.Warnings, "\n"), "not run yet") {
		t.Errorf("warnings %q, want the cells the tree lacks", a.Warnings)
	}

	// The report's input is the same analysis, with the cells counted.
	in, err := x.ReportInput(a)
	if err != nil {
		t.Fatal(err)
	}
	ok := 0
	for _, c := range a.Cells {
		if c.State == OK {
			ok++
		}
	}
	if in.Cells.Total != len(a.Cells) || in.Cells.OK != ok || in.Cells.Missing != len(a.Cells)-ok || in.Significance != a.HeadlineSignificance() ||
		in.Headline.Aggregation != "median" || in.PromptWeight != a.PromptWeight || in.Decision != a.Decision {
		t.Errorf("report input: cells %+v, headline %+v", in.Cells, in.Headline)
	}
}

// Options replace the spec's: prompt_weight at another point, no
// statistics for the selections when skipped (the headline's still, for
// the decision), other prompt_weight statistics.
func TestAnalyzeOptions(t *testing.T) {
	x, tree := importedTree(t, "basic")
	if _, err := x.ImportLegacy(context.Background(), tree); err != nil {
		t.Fatal(err)
	}
	pw := PromptWeightOptions(x.Spec)
	pw.Stats = []string{"p80"}
	a, err := x.Analyze(AnalyzeOptions{At: analysis.Point{2}, SkipSignificance: true, PromptWeight: &pw})
	if err != nil {
		t.Fatal(err)
	}
	if a.Significance != nil || a.NoStatistics != "" {
		t.Error("statistics of the selections computed although skipped")
	}
	if a.HeadlineSignificance() == nil || a.Decision == nil || len(a.Decision.Guards.Points) != len(a.Headline.Rows) {
		t.Error("no headline statistics or decision when the selections' statistics are skipped")
	}
	if a.PromptWeightAt.Compare(analysis.Point{2}) != 0 || len(a.PromptWeight.Stats) != 1 || a.PromptWeight.Stats[0].Stat != "p80" {
		t.Errorf("prompt_weight at %s with %+v; want at 2, p80 only", a.PromptWeightAt, a.PromptWeight.Stats)
	}
	if _, err := x.Analyze(AnalyzeOptions{At: analysis.Point{99}}); err == nil || !strings.Contains(err.Error(), "99 is not a point") {
		t.Errorf("prompt_weight at a point outside the sweep: %v", err)
	}
}
