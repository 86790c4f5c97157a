package experiment

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/spec"
)

// AnalyzeOptions adjust an analysis; the zero value is the spec's own
// analysis, the one `lab select SPEC`, the report and the notebooks show.
type AnalyzeOptions struct {
	// PromptWeight and Significance replace the options the spec implies
	// (PromptWeightOptions, SignificanceOptions) when not nil.
	PromptWeight *analysis.PromptWeightOptions
	Significance *analysis.SignificanceOptions
	// At is the point whose repeats prompt_weight pools; nil means the
	// decided point.
	At analysis.Point
	// SkipSignificance leaves the statistics of the selections out
	// (Significance stays nil), for a caller that only wants the decision
	// or prompt_weight; the headline's statistics are still computed,
	// since the decision needs them (HeadlineSignificance).
	SkipSignificance bool
}

// Analysis is everything known about an experiment's results, computed
// once: what the CLI prints, the report draws and the notebooks display.
type Analysis struct {
	Spec *spec.Spec
	// Cells are the experiment's cells with their states (Experiment.Cells).
	Cells []Cell
	// Table holds the summaries of the ok cells.
	Table *analysis.Table
	// Selections are every preset × aggregation (analysis.SelectAll with
	// the spec's presets and baseline); Headline is the one recommended.
	Selections []*analysis.Selection
	Headline   *analysis.Selection
	// Significance[i] compares every point of Selections[i] with the
	// baseline. It is nil when NoStatistics says why the statistics could
	// not be computed (a non-positive ratio: the selection stands), or
	// when they were skipped.
	Significance []*analysis.Significance
	NoStatistics string
	// headSig is the headline's statistics (also when SkipSignificance
	// left Significance nil), or nil.
	headSig *analysis.Significance
	// Robustness says whether the lowest score changes across the
	// selections ("" when it does not).
	Robustness string
	// Decision is the headline's decision (Decide with the spec's guards):
	// the decided point, the old script's lowest score beside it, every
	// point's guard results and what was blocked. Computed once here;
	// everything that states the decision reads it.
	Decision *analysis.Decision
	// Joint is the grid analysis around Decision when two or more
	// parameters are swept (nil for one, with select.by, or without
	// statistics); Conditions the per-condition decisions of a spec with
	// select.by (nil without).
	Joint      *analysis.Joint
	Conditions *analysis.Conditions
	// PromptWeight is the prompt_weight derivation pooled over the
	// repeats at PromptWeightAt (the decided point unless
	// AnalyzeOptions.At says otherwise).
	PromptWeightAt analysis.Point
	PromptWeight   *analysis.PromptWeightResult
	// PromptWeightNote says why PromptWeight is nil (the cells' source
	// cannot observe the metric it pools); empty otherwise.
	PromptWeightNote string
	// Confirmation is the prompt_weight confirmation at the decision when
	// its cells are in the store (Experiment.Confirm runs them);
	// otherwise ConfirmationNote says why there is none.
	Confirmation     *Confirmation
	ConfirmationNote string
	// Warnings say what the numbers leave out: cells without results,
	// repeats that lack the baseline and the guards' (skipped guards,
	// cells lacking one). Never nil.
	Warnings []string
}

// HeadlineSignificance is the headline selection's statistics, or nil
// when NoStatistics says why there are none.
func (a *Analysis) HeadlineSignificance() *analysis.Significance {
	if a.headSig != nil || a.Significance == nil {
		return a.headSig
	}
	return a.Significance[slices.Index(a.Selections, a.Headline)]
}

// Conclusion is the headline's one-sentence conclusion: the statistics'
// conclusion, or why there are none.
func (a *Analysis) Conclusion() string {
	if sig := a.HeadlineSignificance(); sig != nil {
		return sig.Conclusion
	}
	return a.NoStatistics
}

// Analyze reads the experiment's cells and analyses the results: the
// table, every selection, the headline, the statistics, the decision
// (once, with the spec's guards), prompt_weight at the decided point, the
// prompt_weight confirmation when its cells are in the store, and the
// warnings. It runs nothing; cells without results are warnings, and no
// results at all is an error.
func (x *Experiment) Analyze(opts AnalyzeOptions) (*Analysis, error) {
	cells, err := x.Cells()
	if err != nil {
		return nil, err
	}
	t, err := x.Table(cells)
	if err != nil {
		return nil, err
	}
	s := x.Spec
	a := &Analysis{Spec: s, Cells: cells, Table: t}
	if a.Selections, err = analysis.SelectAll(t, Presets(s), SpecBaseline(s)); err != nil {
		return nil, fmt.Errorf("%s: %w", x.Name(), err)
	}
	a.Headline = Headline(s, a.Selections)
	a.Robustness = analysis.Robustness(a.Selections)
	a.Warnings = append(slices.Clone(t.Warnings), FellBack(a.Headline)...)
	if a.Warnings == nil {
		a.Warnings = []string{}
	}

	sigOpt := SignificanceOptions(s)
	if opts.Significance != nil {
		sigOpt = *opts.Significance
	}
	var headSig *analysis.Significance
	var sigErr error
	if opts.SkipSignificance {
		headSig, sigErr = a.Headline.Significance(sigOpt)
	} else {
		a.Significance, sigErr = analysis.SignificanceAll(a.Selections, sigOpt)
		if sigErr == nil {
			headSig = a.HeadlineSignificance()
		}
	}
	if none, ok := NoStatistics(sigErr); ok {
		a.Significance, a.NoStatistics, headSig = nil, none, nil
	} else if sigErr != nil {
		return nil, fmt.Errorf("%s: statistics: %w", x.Name(), sigErr)
	}
	a.headSig = headSig
	if a.Decision, err = Decide(s, t, a.Headline, headSig, sigErr); err != nil {
		return nil, fmt.Errorf("%s: decision: %w", x.Name(), err)
	}
	a.Warnings = append(a.Warnings, a.Decision.Warnings...)
	if a.Joint, err = joint(s, a.Headline, headSig, a.Decision); err != nil {
		return nil, fmt.Errorf("%s: grid: %w", x.Name(), err)
	}
	if a.Conditions, err = conditions(s, t, sigOpt); err != nil {
		return nil, fmt.Errorf("%s: conditions: %w", x.Name(), err)
	}

	pwOpt := PromptWeightOptions(s)
	if opts.PromptWeight != nil {
		pwOpt = *opts.PromptWeight
	}
	a.PromptWeightAt = opts.At
	if a.PromptWeightAt == nil {
		a.PromptWeightAt = a.Decision.Point
	}
	a.PromptWeight, err = t.PromptWeightAt(a.PromptWeightAt, pwOpt)
	if errors.Is(err, analysis.ErrUnavailable) {
		// A client-side benchmark cannot observe the per-prefill-token
		// times prompt_weight pools: the selection stands without it.
		a.PromptWeightNote = "prompt_weight not derived: " + err.Error()
		a.Warnings = append(a.Warnings, a.PromptWeightNote)
	} else if err != nil {
		return nil, fmt.Errorf("%s: prompt_weight: %w", x.Name(), err)
	}
	if a.Confirmation, err = x.Confirm(context.Background(), a, ConfirmOptions{}); err != nil {
		a.Confirmation, a.ConfirmationNote = nil, err.Error()
	}
	return a, nil
}

// FellBack is the warning that some repeats of s lack the configured
// baseline and so normalize by their smallest point, or nothing.
func FellBack(s *analysis.Selection) []string {
	if len(s.FellBack) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("baseline %s=%s missing in %s: those repeats use their smallest %s",
		s.Param, s.Baseline, strings.Join(s.FellBack, ", "), s.Param)}
}

// NoStatistics recognizes the one error that leaves selections without
// statistics — per-repeat ratios that are not positive (weights of mixed
// signs, a metric of 0), whose logarithm the tests need — and words it as
// the conclusion; the selection stands, as the old script printed it.
func NoStatistics(err error) (conclusion string, ok bool) {
	if errors.Is(err, analysis.ErrNotPositive) {
		return "no statistics: " + err.Error(), true
	}
	return "", false
}
