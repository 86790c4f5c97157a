package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/experiment"
	"github.com/schedlab/schedlab/lab/internal/store"
	"github.com/schedlab/schedlab/lab/legacy"
	labmetrics "github.com/schedlab/schedlab/lab/metrics"
	"github.com/schedlab/schedlab/lab/spec"
)

func init() {
	register(&command{
		name:  "select",
		usage: "SPEC | --root DIR   choose the sweep value (old select_threshold maths; every preset × aggregation for a SPEC)",
		run:   runSelect,
	})
}

// legacyFlags are the old select_threshold.py's flags, same names, meanings
// and defaults (Go's flag package accepts -x and --x alike).
type legacyFlags struct {
	root     string
	baseline int
	w        spec.Weights
	runAgg   string
}

func (f *legacyFlags) register(fs *flag.FlagSet) {
	d := spec.DefaultWeights
	fs.StringVar(&f.root, "root", "", "legacy threshold_output folder: <timestamp>/<threshold>/*.csv")
	fs.IntVar(&f.baseline, "baseline", 0, "threshold to normalize by; a run without it uses its smallest threshold")
	// The weight of metric m is the spec.Weights field with YAML key m.Key.
	weight := map[string]struct {
		p   *float64
		def float64
	}{
		"request":           {&f.w.Request, d.Request},
		"prefill":           {&f.w.Prefill, d.Prefill},
		"prefill_exec_norm": {&f.w.PrefillExecNorm, d.PrefillExecNorm},
		"request_exec_norm": {&f.w.RequestExecNorm, d.RequestExecNorm},
		"decode":            {&f.w.Decode, d.Decode},
	}
	for _, m := range labmetrics.All {
		w := weight[m.Key]
		fs.Float64Var(w.p, "w_"+m.Key, w.def, "weight of "+m.Ratio()+" ("+m.Label()+")")
	}
	fs.StringVar(&f.runAgg, "run_agg", "mean", "aggregation of ratios across runs: mean, median, p90 or max")
}

// isLegacyOnly says whether a flag only makes sense with --root.
func isLegacyOnly(name string) bool {
	switch name {
	case "baseline", "w_request", "w_prefill", "w_prefill_exec_norm", "w_request_exec_norm", "w_decode", "run_agg":
		return true
	}
	return false
}

// pwFlags are the prompt_weight options shared by select and prompt-weight.
// Its intervals are computed, not resampled, so the flags that set a
// bootstrap's size and seed for them are gone; given anyway, they fail with
// that explanation instead of an unknown-flag error.
type pwFlags struct{}

func (pwFlags) register(fs *flag.FlagSet, seedToo bool) {
	removed := []string{"resamples"}
	if seedToo {
		removed = append(removed, "seed")
	}
	for _, name := range removed {
		fs.Var(removedFlag{}, name, "no longer used: the prompt_weight intervals are computed (t for the mean, order statistics for the median and p80), not resampled")
	}
}

// options are the spec's prompt_weight options (none with --root).
func (pwFlags) options(s *spec.Spec) analysis.PromptWeightOptions {
	if s == nil {
		return analysis.PromptWeightOptions{}
	}
	return experiment.PromptWeightOptions(s)
}

// removedFlag is a flag that fails when set, its usage saying why.
type removedFlag struct{}

func (removedFlag) String() string   { return "" }
func (removedFlag) Set(string) error { return errors.New("this flag was removed: see its line below") }

// sigFlags are the significance options.
type sigFlags struct {
	margin, alpha float64
	seed          int64
}

func (f *sigFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&f.margin, "margin", 0, "practical margin for verdicts, a fraction (default: the spec's select.margin, else 0.01)")
	fs.Float64Var(&f.alpha, "alpha", analysis.DefaultAlpha, "family-wise significance level of the Holm-corrected paired tests")
	fs.Int64Var(&f.seed, "seed", 0, "seed of the significance resamples (default: the spec's seed, or 0 with --root)")
}

// options resolves the margin (flag, else the spec's, else the default)
// and the seed (flag, else the spec's, else 0).
func (f *sigFlags) options(fs *flag.FlagSet, s *spec.Spec) analysis.SignificanceOptions {
	o := analysis.SignificanceOptions{Margin: f.margin}
	if s != nil {
		o = experiment.SignificanceOptions(s)
		if flagSet(fs, "margin") {
			o.Margin = f.margin
		}
	}
	if s == nil || flagSet(fs, "seed") {
		o.Seed = uint64(f.seed)
	}
	o.Alpha = f.alpha
	return o
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// legacyJSON is `lab select --root --json`: the selection's stable schema,
// plus the prompt_weight block at the recommended threshold.
type legacyJSON struct {
	analysis.SelectionJSON
	PromptWeight *analysis.PromptWeightResult `json:"prompt_weight,omitempty"`
}

// specSelectJSON is `lab select SPEC --json`.
type specSelectJSON struct {
	Experiment string `json:"experiment"`
	Hash       string `json:"experiment_hash"`
	Param      string `json:"param"`
	// Preset and Aggregation name the headline selection (the spec's first
	// preset under its select.aggregation), whose choice prompt_weight uses.
	Preset      string `json:"preset"`
	Aggregation string `json:"aggregation"`
	// Recommended is the headline's lowest score (the old script's
	// choice); the decision is "decision".
	Recommended analysis.PointJSON       `json:"recommended"`
	Selections  []analysis.SelectionJSON `json:"selections"`
	// Conclusion, Significant and PowerNote are the headline selection's;
	// Robustness says whether the choice changes across the selections.
	Conclusion   string                       `json:"conclusion"`
	Significant  bool                         `json:"significant"`
	PowerNote    string                       `json:"power_note,omitempty"`
	Robustness   string                       `json:"robustness,omitempty"`
	PromptWeight *analysis.PromptWeightResult `json:"prompt_weight,omitempty"`
	// Confirmation is the prompt_weight confirmation when it has run
	// (lab run); ConfirmationNote says why there is none.
	Confirmation     *experiment.ConfirmationJSON `json:"prompt_weight_confirmation,omitempty"`
	ConfirmationNote string                       `json:"prompt_weight_confirmation_note,omitempty"`
	// Joint is the grid analysis of a sweep of two or more parameters.
	Joint    *analysis.JointJSON `json:"joint,omitempty"`
	Warnings []string            `json:"warnings"`
	// DecisionFieldsJSON adds "decision" and "lowest_score".
	*analysis.DecisionFieldsJSON
}

func runSelect(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "select", "SPEC [--store DIR] [--json] | --root DIR [--baseline 0] [--w_request 0.35] … [--run_agg mean] [--json]")
	var lf legacyFlags
	lf.register(fs)
	var pf pwFlags
	pf.register(fs, false)
	var sf sigFlags
	sf.register(fs)
	storeDir := fs.String("store", store.DefaultRoot(), "store folder (with SPEC)")
	asJSON := fs.Bool("json", false, "print JSON (full float64 precision) instead of tables")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if flagSet(fs, "margin") && !(sf.margin > 0 && sf.margin < 1) {
		return &exitCodeError{code: 2, err: fmt.Errorf("--margin %v: expected a fraction with 0 < margin < 1 (e.g. 0.01 for 1%%)", sf.margin)}
	}
	switch {
	case lf.root != "" && len(pos) > 0:
		return &exitCodeError{code: 2, err: errors.New("give either a SPEC or --root, not both")}
	case lf.root != "":
		if len(pos) > 0 {
			return &exitCodeError{code: 2, err: fmt.Errorf("unexpected arguments %q", pos)}
		}
		return selectLegacy(env, fs, &lf, &pf, &sf, *asJSON)
	case len(pos) == 1:
		var bad []string
		fs.Visit(func(f *flag.Flag) {
			if isLegacyOnly(f.Name) {
				bad = append(bad, "--"+f.Name)
			}
		})
		if len(bad) > 0 {
			return &exitCodeError{code: 2, err: fmt.Errorf("%v apply to --root; a spec sets its baseline, presets and aggregation in its select: section", bad)}
		}
		return selectSpec(env, fs, pos[0], *storeDir, &pf, &sf, *asJSON)
	case len(pos) == 0 && isDir(legacyDefaultRoot):
		// The old script's default --root, so `lab select` in a Sarathi
		// checkout reads the bash loop's output as the script did.
		lf.root = legacyDefaultRoot
		return selectLegacy(env, fs, &lf, &pf, &sf, *asJSON)
	default:
		fs.Usage()
		return &exitCodeError{code: 2, err: errors.New("expected one SPEC or --root DIR (default " + legacyDefaultRoot + " when it exists)")}
	}
}

// legacyDefaultRoot is select_threshold.py's default --root, relative to
// the engine's checkout.
const legacyDefaultRoot = "example/parameter_selection/threshold_output"

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

func selectLegacy(env *cmdEnv, fs *flag.FlagSet, lf *legacyFlags, pf *pwFlags, sf *sigFlags, asJSON bool) error {
	// Checked before reading what may be gigabytes of CSV (argparse's
	// choices did the same for the old script).
	if !slices.Contains(analysis.Aggregations, lf.runAgg) {
		return &exitCodeError{code: 2, err: fmt.Errorf("--run_agg: unknown aggregation %q (want mean, median, p90 or max)", lf.runAgg)}
	}
	t, err := legacy.LoadTable(lf.root)
	if err != nil {
		return err
	}
	warn(env.stderr, t.Warnings)
	sel, err := analysis.Select(t, analysis.Options{Baseline: analysis.Point{float64(lf.baseline)}, Weights: lf.w, Agg: lf.runAgg})
	if err != nil {
		return err
	}
	warn(env.stderr, experiment.FellBack(sel))
	pwOpt := pf.options(nil)
	sig, sigErr := sel.Significance(sf.options(fs, nil))
	none, skip := experiment.NoStatistics(sigErr)
	if sigErr != nil && !skip {
		return sigErr
	}
	dec, err := experiment.Decide(nil, t, sel, sig, sigErr)
	if err != nil {
		return err
	}
	warn(env.stderr, dec.Warnings)
	// prompt_weight is derived where the decision lands, not at the
	// lowest score.
	pw, err := t.PromptWeightAt(dec.Point, pwOpt)
	if err != nil {
		return err
	}
	if asJSON {
		j := sel.JSON()
		if skip {
			j.SummaryJSON = &analysis.SummaryJSON{Conclusion: none}
		} else {
			j.AddSignificance(sig)
		}
		j.AddDecision(dec)
		return writeJSON(env.stdout, legacyJSON{SelectionJSON: j, PromptWeight: pw})
	}
	if err := analysis.WriteTable(env.stdout, sel); err != nil {
		return err
	}
	if err := analysis.WriteRecommendation(env.stdout, sel); err != nil {
		return err
	}
	fmt.Fprintln(env.stdout)
	if skip {
		fmt.Fprintf(env.stdout, "score alone: %s\n", none)
	} else if err := analysis.WriteSignificance(env.stdout, sel, sig); err != nil {
		return err
	}
	fmt.Fprintln(env.stdout)
	if err := analysis.WriteDecision(env.stdout, sel, dec); err != nil {
		return err
	}
	fmt.Fprintln(env.stdout)
	return analysis.WritePromptWeight(env.stdout, fmt.Sprintf("prompt_weight at the decided threshold %s", dec.Point), pw)
}

func selectSpec(env *cmdEnv, fs *flag.FlagSet, specPath, storeDir string, pf *pwFlags, sf *sigFlags, asJSON bool) error {
	x, err := experiment.Open(specPath, storeDir, experiment.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	pwOpt := pf.options(x.Spec)
	sigOpt := sf.options(fs, x.Spec)
	a, err := x.Analyze(experiment.AnalyzeOptions{PromptWeight: &pwOpt, Significance: &sigOpt})
	if err != nil {
		return err
	}
	if len(a.Spec.Select.By) > 0 {
		return selectByCondition(env, a, asJSON)
	}
	return printSelection(env, a, asJSON)
}

// printSelection prints the analysis of an experiment as `lab select SPEC`
// does: a side-by-side table of every selection, the statistics, the
// decision, prompt_weight at the decided point and the confirmation (or
// the same as JSON).
func printSelection(env *cmdEnv, a *experiment.Analysis, asJSON bool) error {
	s, t, head := a.Spec, a.Table, a.Headline
	headSig := a.HeadlineSignificance()
	if asJSON {
		out := specSelectJSON{
			Experiment: s.Name, Hash: s.Hash(), Param: t.Param, Preset: head.Preset, Aggregation: head.Agg,
			Recommended: analysis.PointJSON(head.Recommended()), PromptWeight: a.PromptWeight,
			Conclusion: a.Conclusion(), Robustness: a.Robustness, Warnings: a.Warnings,
		}
		if headSig != nil {
			out.Significant, out.PowerNote = headSig.Significant, headSig.PowerNote
		}
		if a.Joint != nil {
			jj := a.Joint.JSON()
			out.Joint = &jj
		}
		if cf := a.Confirmation; cf != nil {
			cj := cf.JSON()
			out.Confirmation = &cj
		}
		out.ConfirmationNote = a.ConfirmationNote
		df := a.Decision.JSON()
		out.DecisionFieldsJSON = &df
		for i, sel := range a.Selections {
			j := sel.JSON()
			if a.Significance == nil {
				j.SummaryJSON = &analysis.SummaryJSON{Conclusion: a.NoStatistics}
			} else {
				j.AddSignificance(a.Significance[i])
			}
			j.Preset, j.Param = sel.Preset, sel.Param
			if sel == head {
				j.AddDecision(a.Decision)
			}
			out.Selections = append(out.Selections, j)
		}
		return writeJSON(env.stdout, out)
	}
	warn(env.stderr, a.Warnings)
	base := "each repeat's smallest"
	if head.Baseline != nil {
		base = head.Baseline.String()
	}
	fmt.Fprintf(env.stdout, "experiment %s: %s over %d points × %d repeats, baseline %s\n\n",
		s.Name, t.Param, len(t.Points), len(t.Repeats), base)
	if err := analysis.WriteSideBySide(env.stdout, a.Selections); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "headline: preset %s, aggregation %s\n", head.Preset, head.Agg)
	if headSig == nil {
		fmt.Fprintf(env.stdout, "score alone: %s\n", a.NoStatistics)
	} else if err := analysis.WriteSignificance(env.stdout, head, headSig); err != nil {
		return err
	}
	if a.Robustness != "" {
		fmt.Fprintf(env.stdout, "robustness: %s\n", a.Robustness)
	}
	if a.Joint != nil {
		if err := writeJoint(env.stdout, a.Joint); err != nil {
			return err
		}
	}
	fmt.Fprintln(env.stdout)
	if err := analysis.WriteDecision(env.stdout, head, a.Decision); err != nil {
		return err
	}
	fmt.Fprintln(env.stdout)
	if a.PromptWeight == nil {
		fmt.Fprintln(env.stdout, a.PromptWeightNote)
	} else if err := analysis.WritePromptWeight(env.stdout, fmt.Sprintf("prompt_weight at the decided %s=%s", t.Param, a.PromptWeightAt), a.PromptWeight); err != nil {
		return err
	}
	fmt.Fprintln(env.stdout)
	if a.Confirmation == nil {
		_, err := fmt.Fprintf(env.stdout, "prompt_weight confirmation: none: %s\n", a.ConfirmationNote)
		return err
	}
	return experiment.WriteConfirmation(env.stdout, a.Confirmation)
}

func warn(w io.Writer, warnings []string) {
	for _, m := range warnings {
		fmt.Fprintln(w, "warning:", m)
	}
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// runSelectAfter prints, at the end of `lab run`, the selection that
// `lab select SPEC` prints with its defaults, so the main job ends with its
// answer, from the analysis the report is written from (err: why there is
// none). Like the report, a selection that cannot be made (no cell has
// results) is a warning that never changes the run's exit status.
func runSelectAfter(env *cmdEnv, a *experiment.Analysis, err error) {
	fmt.Fprintln(env.stdout)
	if err == nil {
		err = printSelection(env, a, false)
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "lab run: no selection: %v\n", err)
	}
}
