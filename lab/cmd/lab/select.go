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
	"strings"

	"github.com/schedlab/schedlab/lab"
	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/internal/runner"
	"github.com/schedlab/schedlab/lab/internal/store"
	"github.com/schedlab/schedlab/lab/sarathi"
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
	fs.Float64Var(&f.w.Request, "w_request", d.Request, "weight of request_ratio (P95 request_execution_time)")
	fs.Float64Var(&f.w.Prefill, "w_prefill", d.Prefill, "weight of prefill_ratio (P95 prefill_e2e_time, TTFT)")
	fs.Float64Var(&f.w.PrefillExecNorm, "w_prefill_exec_norm", d.PrefillExecNorm, "weight of prefill_exec_norm_ratio")
	fs.Float64Var(&f.w.RequestExecNorm, "w_request_exec_norm", d.RequestExecNorm, "weight of request_exec_norm_ratio")
	fs.Float64Var(&f.w.Decode, "w_decode", d.Decode, "weight of decode_ratio")
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
type pwFlags struct {
	seed      int64
	resamples int
}

func (f *pwFlags) register(fs *flag.FlagSet) {
	fs.Int64Var(&f.seed, "seed", 0, "bootstrap seed for the prompt_weight intervals and the significance resamples (default: the spec's seed, or 0 with --root)")
	fs.IntVar(&f.resamples, "resamples", analysis.DefaultResamples, "bootstrap resamples for the prompt_weight intervals")
}

// options resolves the seed: the flag when given, else the spec's.
func (f *pwFlags) options(fs *flag.FlagSet, s *spec.Spec) analysis.PromptWeightOptions {
	var o analysis.PromptWeightOptions
	if s != nil {
		o = lab.PromptWeightOptions(s)
	}
	if s == nil || flagSet(fs, "seed") {
		o.Seed = uint64(f.seed)
	}
	o.Resamples = f.resamples
	return o
}

// sigFlags are the significance options (issue 7).
type sigFlags struct {
	margin, alpha float64
}

func (f *sigFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&f.margin, "margin", 0, "practical margin for verdicts, a fraction (default: the spec's select.margin, else 0.01)")
	fs.Float64Var(&f.alpha, "alpha", analysis.DefaultAlpha, "family-wise significance level of the Holm-corrected paired tests")
}

// options resolves the margin (flag, else the spec's, else the default)
// and takes the seed already resolved for prompt_weight.
func (f *sigFlags) options(fs *flag.FlagSet, s *spec.Spec, seed uint64) analysis.SignificanceOptions {
	o := analysis.SignificanceOptions{Margin: f.margin}
	if s != nil {
		o = lab.SignificanceOptions(s)
		if flagSet(fs, "margin") {
			o.Margin = f.margin
		}
	}
	o.Alpha, o.Seed = f.alpha, seed
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

// legacyJSON is `lab select --root --json`: the schema of issue 3 item 3,
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
	Preset      string                   `json:"preset"`
	Aggregation string                   `json:"aggregation"`
	Recommended analysis.PointJSON       `json:"recommended"`
	Selections  []analysis.SelectionJSON `json:"selections"`
	// Conclusion, Significant and PowerNote are the headline selection's (issue 7);
	// Robustness says whether the choice changes across the selections.
	Conclusion   string                       `json:"conclusion"`
	Significant  bool                         `json:"significant"`
	PowerNote    string                       `json:"power_note,omitempty"`
	Robustness   string                       `json:"robustness,omitempty"`
	PromptWeight *analysis.PromptWeightResult `json:"prompt_weight,omitempty"`
	// Joint is the grid analysis of a sweep of two or more parameters.
	Joint    *analysis.JointJSON `json:"joint,omitempty"`
	Warnings []string            `json:"warnings"`
}

func runSelect(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "select", "SPEC [--store DIR] [--json] | --root DIR [--baseline 0] [--w_request 0.35] … [--run_agg mean] [--json]")
	var lf legacyFlags
	lf.register(fs)
	var pf pwFlags
	pf.register(fs)
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
	t, err := analysis.LoadLegacy(lf.root)
	if err != nil {
		return err
	}
	warn(env.stderr, t.Warnings)
	sel, err := analysis.Select(t, analysis.Options{Baseline: analysis.Point{float64(lf.baseline)}, Weights: lf.w, Agg: lf.runAgg})
	if err != nil {
		return err
	}
	warn(env.stderr, fellBack(sel))
	files, err := t.Files(sel.Recommended(), sarathi.PrefillExecPlusPreemptNorm)
	if err != nil {
		return err
	}
	pwOpt := pf.options(fs, nil)
	pw, err := analysis.SecondsPerPrefillToken(files, pwOpt)
	if err != nil {
		return err
	}
	sig, err := sel.Significance(sf.options(fs, nil, pwOpt.Seed))
	none, skip := noStatistics(err)
	if err != nil && !skip {
		return err
	}
	if asJSON {
		j := sel.JSON()
		if skip {
			j.SummaryJSON = &analysis.SummaryJSON{Conclusion: none}
		} else {
			j.AddSignificance(sig)
		}
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
		fmt.Fprintf(env.stdout, "conclusion: %s\n", none)
	} else if err := analysis.WriteSignificance(env.stdout, sel, sig); err != nil {
		return err
	}
	fmt.Fprintln(env.stdout)
	return analysis.WritePromptWeight(env.stdout, fmt.Sprintf("prompt_weight at threshold %s", sel.Recommended()), pw)
}

// loadSpecTable parses a spec and loads its results from the store.
func loadSpecTable(specPath, storeDir string) (*spec.Spec, *analysis.Table, error) {
	s, err := spec.ParseFile(specPath)
	if err != nil {
		return nil, nil, err
	}
	st, err := store.Open(storeDir)
	if err != nil {
		return nil, nil, err
	}
	t, err := lab.LoadTable(s, st)
	if err != nil {
		return nil, nil, err
	}
	return s, t, nil
}

func selectSpec(env *cmdEnv, fs *flag.FlagSet, specPath, storeDir string, pf *pwFlags, sf *sigFlags, asJSON bool) error {
	s, t, err := loadSpecTable(specPath, storeDir)
	if err != nil {
		return err
	}
	if len(s.Select.By) > 0 {
		return selectByCondition(env, s, t, sf.options(fs, s, pf.options(fs, s).Seed), asJSON)
	}
	sels, err := analysis.SelectAll(t, lab.Presets(s), lab.SpecBaseline(s))
	if err != nil {
		return err
	}
	head := lab.Headline(s, sels)
	files, err := t.Files(head.Recommended(), sarathi.PrefillExecPlusPreemptNorm)
	if err != nil {
		return err
	}
	pwOpt := pf.options(fs, s)
	pw, err := analysis.SecondsPerPrefillToken(files, pwOpt)
	if err != nil {
		return err
	}
	sigs, err := analysis.SignificanceAll(sels, sf.options(fs, s, pwOpt.Seed))
	none, skip := noStatistics(err)
	if err != nil && !skip {
		return err
	}
	headSig := &analysis.Significance{Conclusion: none}
	if !skip {
		headSig = sigs[slices.Index(sels, head)]
	}
	robust := analysis.Robustness(sels)
	var joint *analysis.Joint
	if !skip {
		if joint, err = lab.Joint(s, t, head, headSig); err != nil {
			return err
		}
	}
	if asJSON {
		out := specSelectJSON{
			Experiment: s.Name, Hash: s.Hash(), Param: t.Param, Preset: head.Preset, Aggregation: head.Agg,
			Recommended: analysis.PointJSON(head.Recommended()), PromptWeight: pw,
			Conclusion: headSig.Conclusion, Significant: headSig.Significant, PowerNote: headSig.PowerNote,
			Robustness: robust,
		}
		if joint != nil {
			jj := joint.JSON()
			out.Joint = &jj
		}
		out.Warnings = append(slices.Clone(t.Warnings), fellBack(head)...)
		if out.Warnings == nil {
			out.Warnings = []string{}
		}
		for i, sel := range sels {
			j := sel.JSON()
			if skip {
				j.SummaryJSON = &analysis.SummaryJSON{Conclusion: none}
			} else {
				j.AddSignificance(sigs[i])
			}
			j.Preset, j.Param = sel.Preset, sel.Param
			out.Selections = append(out.Selections, j)
		}
		return writeJSON(env.stdout, out)
	}
	warn(env.stderr, t.Warnings)
	warn(env.stderr, fellBack(head))
	base := "each repeat's smallest"
	if head.Baseline != nil {
		base = head.Baseline.String()
	}
	fmt.Fprintf(env.stdout, "experiment %s: %s over %d points × %d repeats, baseline %s\n\n",
		s.Name, t.Param, len(t.Points), len(t.Repeats), base)
	if err := analysis.WriteSideBySide(env.stdout, sels); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "Recommended %s: %s (preset %s, aggregation %s, score %.6f)\n\n",
		t.Param, head.Recommended(), head.Preset, head.Agg, head.Rows[head.Best].Score)
	if skip {
		fmt.Fprintf(env.stdout, "conclusion: %s\n", none)
	} else if err := analysis.WriteSignificance(env.stdout, head, headSig); err != nil {
		return err
	}
	if robust != "" {
		fmt.Fprintf(env.stdout, "robustness: %s\n", robust)
	}
	if joint != nil {
		if err := writeJoint(env.stdout, joint); err != nil {
			return err
		}
	}
	fmt.Fprintln(env.stdout)
	return analysis.WritePromptWeight(env.stdout, fmt.Sprintf("prompt_weight at %s=%s", t.Param, head.Recommended()), pw)
}

// fellBack is the warning that some repeats lack the configured baseline
// and so normalize by their smallest point (DESIGN §6 step 2), or nothing.
func fellBack(s *analysis.Selection) []string {
	if len(s.FellBack) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("baseline %s=%s missing in %s: those repeats use their smallest %s",
		s.Param, s.Baseline, strings.Join(s.FellBack, ", "), s.Param)}
}

// noStatistics recognizes the one error that leaves selections without
// statistics — per-repeat ratios that are not positive (weights of mixed
// signs, a metric of 0), whose logarithm the tests need — and words it as
// the conclusion; the selection stands, as the old script printed it.
func noStatistics(err error) (conclusion string, ok bool) {
	if errors.Is(err, analysis.ErrNotPositive) {
		return "no statistics: " + err.Error(), true
	}
	return "", false
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
// answer. Like the report, a selection that cannot be made (no cell has
// results) is a warning that never changes the run's exit status.
func runSelectAfter(env *cmdEnv, opts *runner.Options) {
	fs := newFlags(env, "select", "")
	var pf pwFlags
	pf.register(fs)
	var sf sigFlags
	sf.register(fs)
	fmt.Fprintln(env.stdout)
	if err := selectSpec(env, fs, opts.Spec.Path, opts.Store.Root(), &pf, &sf, false); err != nil {
		fmt.Fprintf(env.stderr, "lab run: no selection: %v\n", err)
	}
}
