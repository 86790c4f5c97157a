package experiment

import (
	"fmt"

	"github.com/schedlab/schedlab/lab/analysis"
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
// select.aggregation (mean when unset). It is the selection recommended
// everywhere, and prompt_weight is derived at its choice.
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

// PromptWeightOptions are the prompt_weight options a spec implies: the
// spec's statistics.
func PromptWeightOptions(s *spec.Spec) analysis.PromptWeightOptions {
	var o analysis.PromptWeightOptions
	if len(s.PromptWeight.Stats) > 0 {
		o.Stats = s.PromptWeight.Stats
	}
	return o
}

// SignificanceOptions are the statistics options a spec implies: resamples
// seeded with the spec's seed, verdicts with its select.margin.
func SignificanceOptions(s *spec.Spec) analysis.SignificanceOptions {
	return analysis.SignificanceOptions{Seed: uint64(s.Seed), Margin: s.Select.Margin}
}
