package report

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/legacy"
	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

// tree sizes a synthetic legacy threshold_output tree.
type tree struct {
	thresholds, repeats, rows int
	seed                      uint64
	// skip lists "repeat/threshold" cells left out (a failed or missing run).
	skip map[string]bool
}

// generate writes the tree under root in the Sarathi format (with
// lab/sarathi.Write): <root>/<repeat>/<threshold>/<metric>.csv. Values
// are deterministic in the seed, with a shallow optimum near a third of
// the range, per-repeat drift and per-request spread, so that the charts
// and choices are not trivial.
func (tr tree) generate(t testing.TB, root string) {
	t.Helper()
	rows := make([]sarathi.Row, tr.rows)
	for r := range tr.repeats {
		rep := fmt.Sprintf("20250101_%06d", 120000+r)
		drift := rand.New(rand.NewPCG(tr.seed, uint64(r)))
		runFactor := 1 + 0.05*drift.NormFloat64()
		for th := range tr.thresholds {
			if tr.skip[fmt.Sprintf("%d/%d", r, th)] {
				continue
			}
			rng := rand.New(rand.NewPCG(tr.seed, uint64(r)<<32|uint64(th)))
			x := (float64(th) - float64(tr.thresholds)/3) / math.Max(1, float64(tr.thresholds))
			shape := runFactor * (1 + 0.3*x*x + 0.01*rng.NormFloat64())
			dir := filepath.Join(root, rep, strconv.Itoa(th))
			for mi, m := range sarathi.Required {
				scale := []float64{2.5, 0.02, 0.8, 0.0004, 0.03}[mi] * shape * (1 + 0.02*float64(mi)*x)
				for i := range rows {
					rows[i] = sarathi.Row{RequestID: "0_" + strconv.Itoa(i), Value: scale * math.Exp(0.5*rng.NormFloat64())}
				}
				if err := sarathi.Write(dir, m, rows); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// testPresets are two weight presets, so that the report shows a
// comparison.
var testPresets = []spec.Preset{
	{Name: "default", Weights: spec.DefaultWeights},
	{Name: "prefill-efficiency", Weights: spec.Weights{Request: 0.25, Prefill: 0.25, PrefillExecNorm: 0.35, RequestExecNorm: 0.05, Decode: 0.05}},
}

// fixedTime is the "generated" date of test reports.
var fixedTime = time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)

// inputFromTree generates a tree, loads it with lab/analysis and selects
// with every preset and aggregation: the Input a report is built from.
func inputFromTree(t testing.TB, tr tree) *Input {
	t.Helper()
	root := t.TempDir()
	tr.generate(t, root)
	return inputFromRoot(t, root)
}

func inputFromRoot(t testing.TB, root string) *Input {
	t.Helper()
	tab, err := legacy.LoadTable(root)
	if err != nil {
		t.Fatal(err)
	}
	sels, err := analysis.SelectAll(tab, testPresets, analysis.Point{0})
	if err != nil {
		t.Fatal(err)
	}
	head := sels[0]
	sig, err := head.Significance(analysis.SignificanceOptions{Seed: 1, Resamples: 2000})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := analysis.Decide(tab, head, sig, spec.DefaultGuards)
	if err != nil {
		t.Fatal(err)
	}
	files, err := tab.Files(dec.Point, sarathi.PrefillExecPlusPreemptNorm)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := analysis.SecondsPerPrefillToken(files, analysis.PromptWeightOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &Input{
		Significance: sig,
		Decision:     dec,
		PromptWeight: pw,
		Name:         "synthetic",
		Description:  "A synthetic threshold sweep for the report's tests",
		Hash:         "0123456789abcdef",
		Engine:       "legacy",
		Table:        tab,
		Selections:   sels,
		Headline:     Headline{Preset: "default", Aggregation: "mean"},
		LabVersion:   "test",
		Generated:    fixedTime,
	}
}
