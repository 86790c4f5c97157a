package lab

import (
	"fmt"
	"path/filepath"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/internal/runner"
	"github.com/schedlab/schedlab/lab/internal/store"
	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

// RepeatName is how results tables name repeat r of an experiment.
func RepeatName(r int) string { return fmt.Sprintf("repeat %d", r) }

// SpecPoint converts a spec point into an analysis point (values in the
// order of names).
func SpecPoint(p spec.Point, names []string) analysis.Point {
	out := make(analysis.Point, len(names))
	for i, n := range names {
		out[i] = p[n]
	}
	return out
}

// LoadTable reads the results of s from st: the summary of every cell whose
// record is ok (its replica_0/plots folder). Cells not run yet or failed are
// left absent and named in the table's warnings; the selection then leaves
// those repeats out at those points. It fails when no cell has a result.
func LoadTable(s *spec.Spec, st *store.Store) (*analysis.Table, error) {
	e, err := NewEngine(s)
	if err != nil {
		return nil, err
	}
	plan, err := runner.Plan(s, e)
	if err != nil {
		return nil, err
	}
	names := s.ParamNames()
	specPoints := s.Points()
	points := make([]analysis.Point, len(specPoints))
	for i, p := range specPoints {
		points[i] = SpecPoint(p, names)
	}
	repeats := make([]string, s.Repeats)
	for r := range repeats {
		repeats[r] = RepeatName(r)
	}
	t := analysis.NewTable(names, points, repeats)
	var cells []analysis.CellFiles
	var facts runFacts
	failed := 0
	for _, p := range plan {
		rec, err := st.Get(p.Hash)
		if err != nil {
			return nil, fmt.Errorf("%s: cell %s: %w", specName(s), p.Hash, err)
		}
		where := fmt.Sprintf("%s %s (cell %.12s)", p.Cell.Point.Key(names), RepeatName(p.Cell.Repeat), p.Hash)
		switch {
		case rec == nil:
			t.Warnings = append(t.Warnings, where+": not run yet")
		case !rec.OK():
			failed++
			t.Warnings = append(t.Warnings, fmt.Sprintf("%s: failed: %s", where, rec.Reason))
		default:
			dir := filepath.Join(st.CellDir(p.Hash), sarathi.PlotsDir)
			un, err := facts.add(replicaDir(dir), where)
			if err != nil {
				return nil, err
			}
			cells = append(cells, analysis.CellFiles{
				Repeat:      p.Cell.Repeat,
				Point:       SpecPoint(p.Cell.Point, names),
				Dir:         dir,
				Unavailable: un,
			})
		}
	}
	t.Warnings = append(t.Warnings, facts.warnings()...)
	switch {
	case len(cells) == 0 && failed > 0:
		return nil, fmt.Errorf("%s: no cell of experiment %s has results in store %s: %d failed (`lab status %s` lists them with their reasons)",
			specName(s), s.Name, st.Root(), failed, specName(s))
	case len(cells) == 0:
		return nil, fmt.Errorf("%s: no cell of experiment %s has results in store %s (run `lab run %s` first)",
			specName(s), s.Name, st.Root(), specName(s))
	}
	if err := t.Load(cells); err != nil {
		return nil, err
	}
	return t, nil
}

// SpecBaseline is the spec's baseline as an analysis point (nil when the
// spec has none: each repeat's smallest point is then used).
func SpecBaseline(s *spec.Spec) analysis.Point {
	if len(s.Baseline) == 0 {
		return nil
	}
	return SpecPoint(s.Baseline, s.ParamNames())
}

// Presets are the spec's weight presets, or the single preset "default"
// with spec.DefaultWeights when it declares none.
func Presets(s *spec.Spec) []spec.Preset {
	if len(s.Select.Presets) > 0 {
		return s.Select.Presets
	}
	return []spec.Preset{{Name: "default", Weights: spec.DefaultWeights}}
}

// Headline is the experiment's main selection among sels (as returned by
// analysis.SelectAll with Presets(s)): its first preset under its
// select.aggregation (mean when unset). `lab select`, the report and the
// notebooks recommend it, and derive prompt_weight at its choice.
func Headline(s *spec.Spec, sels []*analysis.Selection) *analysis.Selection {
	agg := s.Select.Aggregation
	if agg == "" {
		agg = "mean"
	}
	for _, sel := range sels {
		if sel.Agg == agg {
			return sel
		}
	}
	return sels[0]
}

// PromptWeightOptions are the prompt_weight options a spec implies (DESIGN
// §7): bootstrap seeded with the spec's seed, the spec's statistics. `lab
// select`, `lab prompt-weight`, the report and the notebooks all start from
// them, so their numbers agree.
func PromptWeightOptions(s *spec.Spec) analysis.PromptWeightOptions {
	o := analysis.PromptWeightOptions{Seed: uint64(s.Seed)}
	if len(s.PromptWeight.Stats) > 0 {
		o.Stats = s.PromptWeight.Stats
	}
	return o
}

// SignificanceOptions are the statistics options a spec implies (issue 7):
// resamples seeded with the spec's seed, verdicts with its select.margin.
func SignificanceOptions(s *spec.Spec) analysis.SignificanceOptions {
	return analysis.SignificanceOptions{Seed: uint64(s.Seed), Margin: s.Select.Margin}
}
