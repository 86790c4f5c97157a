package experiment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/internal/runner"
	"github.com/schedlab/schedlab/lab/report"
	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

// ConfirmMultiples are the multiples of the derived prompt_weight the
// confirmation runs beside it and the configured weight.
var ConfirmMultiples = []float64{0.1, 10}

// Confirmation is the prompt_weight confirmation: the derived weight, a
// few multiples of it and the configured weight run at the decided point
// as ordinary cells (same repeats and seeds as the experiment, so paired),
// compared with the configured weight by the same statistics and guards
// as the selection.
type Confirmation struct {
	// Spec is the confirmation experiment (the experiment's name with
	// "-confirm-prompt-weight", one point per weight).
	Spec *spec.Spec
	// At is the decided point the weights run at (prompt_weight, when
	// swept, left out); Stat the prompt_weight statistic the derived
	// weight is from.
	At   analysis.Point
	Stat string
	// Configured is the engine's prompt_weight, the baseline; Derived is
	// −s·time_weight.
	Configured, Derived float64
	Table               *analysis.Table
	Selection           *analysis.Selection
	Significance        *analysis.Significance
	Decision            *analysis.Decision
	// Run is what running the cells did (nil when only loaded).
	Run *runner.Result
}

// ErrNoConfirmation is wrapped when a spec cannot be confirmed: its engine
// has no prompt_weight (exec) or its policy is not AGING.
var ErrNoConfirmation = errors.New("no prompt_weight to confirm")

// schedulerOf returns the spec's scheduler block (sim and gpu engines).
func schedulerOf(s *spec.Spec) (*spec.SchedulerConfig, error) {
	switch c := s.Engine.Config.(type) {
	case *spec.SimConfig:
		return &c.Scheduler, nil
	case *spec.GPUConfig:
		return &c.Scheduler, nil
	}
	return nil, fmt.Errorf("%s: the %s engine has no scheduler settings: %w", specName(s), s.Engine.Kind(), ErrNoConfirmation)
}

// ConfirmSpec is the confirmation experiment of s at point at (in s's
// parameter order) for the derived weight: every swept parameter but
// prompt_weight fixed at its decided value, prompt_weight swept over the
// configured weight (the baseline), the derived weight and its
// ConfirmMultiples; same engine, repeats, seed, presets and guards.
func ConfirmSpec(s *spec.Spec, at analysis.Point, derived float64) (*spec.Spec, float64, error) {
	sc, err := schedulerOf(s)
	if err != nil {
		return nil, 0, err
	}
	if sc.Policy != "aging" {
		return nil, 0, fmt.Errorf("%s: policy %q: prompt_weight only acts under aging: %w", specName(s), sc.Policy, ErrNoConfirmation)
	}
	if !(derived < 0) || math.IsInf(derived, 0) {
		return nil, 0, fmt.Errorf("%s: derived prompt_weight %v: want a negative number: %w", specName(s), derived, ErrNoConfirmation)
	}
	configured := sc.PromptWeight
	if configured == 0 {
		configured = -0.01 // the engines' default (spec.SchedulerConfig)
	}
	names := s.ParamNames()
	if len(at) != len(names) {
		return nil, 0, fmt.Errorf("%s: point %s has %d values for %d parameters", specName(s), at, len(at), len(names))
	}
	c := *s
	c.Name = s.Name + "-confirm-prompt-weight"
	c.Description = fmt.Sprintf("prompt_weight confirmation of %s at its decision", s.Name)
	c.Sweep = nil
	c.Baseline = spec.Point{}
	for i, n := range names {
		if n == "prompt_weight" {
			continue
		}
		c.Sweep = append(c.Sweep, spec.Param{Name: n, Values: []float64{at[i]}})
		c.Baseline[n] = at[i]
	}
	weights := []float64{configured, derived}
	for _, m := range ConfirmMultiples {
		weights = append(weights, derived*m)
	}
	slices.Sort(weights)
	weights = slices.Compact(weights)
	c.Sweep = append(c.Sweep, spec.Param{Name: "prompt_weight", Values: weights})
	c.Baseline["prompt_weight"] = configured
	c.Source = nil
	if err := c.Validate(); err != nil {
		return nil, 0, fmt.Errorf("%s: confirmation experiment: %w", specName(s), err)
	}
	return &c, configured, nil
}

// ConfirmOptions configure Confirm.
type ConfirmOptions struct {
	// Run runs the cells the store lacks; false only loads what is there
	// (ErrNotConfirmed when some cell is missing).
	Run bool
	// RunOptions are the settings the cells run with — `lab run` passes its
	// own, so the confirmation runs where and as the experiment did (jobs,
	// GPUs, timeout, retries, executor, progress). Spec, engine and store
	// are the confirmation's own. The zero value: the runner's defaults
	// (one cell per core on the simulator), no progress lines.
	RunOptions RunOptions
}

// ErrNotConfirmed is wrapped when the confirmation's cells are not all in
// the store and Run is false.
var ErrNotConfirmed = errors.New("the prompt_weight confirmation has not run")

// Confirm runs (opt.Run: the cells the store lacks) or loads the
// prompt_weight confirmation at a's decision, with the derived weight of
// the prompt_weight derivation at the decided point (its first statistic)
// times the configured time_weight (prompt_weight = −s·time_weight keeps
// both AGING terms in seconds), and analyses it with the headline preset,
// aggregation, statistics and guards of the spec. It is the only call
// besides Run that runs cells; Analyze loads it (Run false) when it is in
// the store.
func (x *Experiment) Confirm(ctx context.Context, a *Analysis, opt ConfirmOptions) (*Confirmation, error) {
	s := x.Spec
	d := a.Decision
	if d == nil {
		return nil, fmt.Errorf("%s: no decision to confirm", specName(s))
	}
	sc, err := schedulerOf(s)
	if err != nil {
		return nil, err
	}
	pw := a.PromptWeight
	if pw == nil || !slices.Equal(a.PromptWeightAt, d.Point) {
		if pw, err = a.Table.PromptWeightAt(d.Point, PromptWeightOptions(s)); err != nil {
			return nil, fmt.Errorf("%s: prompt_weight: %w", specName(s), err)
		}
	}
	if len(pw.Stats) == 0 {
		return nil, fmt.Errorf("%s: prompt_weight result without statistics", specName(s))
	}
	tw := sc.TimeWeight
	if tw == 0 {
		tw = 1
	}
	stat := pw.Stats[0]
	derived := stat.TimeWeightOne.PromptWeight * tw
	cs, configured, err := ConfirmSpec(s, d.Point, derived)
	if err != nil {
		return nil, err
	}
	e, err := NewEngine(cs)
	if err != nil {
		return nil, err
	}
	cx := &Experiment{Spec: cs, Engine: e, Store: x.Store}
	cf := &Confirmation{Spec: cs, At: d.Point, Stat: stat.Stat, Configured: configured, Derived: derived}
	if opt.Run {
		o := opt.RunOptions
		if o.Progress == nil {
			o.Progress = io.Discard
		}
		res, err := cx.Run(ctx, o)
		if err != nil {
			return nil, fmt.Errorf("%s: running the confirmation: %w", specName(s), err)
		}
		cf.Run = res
		if res.Failed > 0 {
			return nil, fmt.Errorf("%s: %d of %d confirmation cells failed", specName(s), res.Failed, res.Total)
		}
	}
	cells, err := cx.Cells()
	if err != nil {
		return nil, err
	}
	for _, c := range cells {
		if c.State != OK {
			return nil, fmt.Errorf("%s: %w (cell %.12s %s; `lab run %s` runs it)", specName(s), ErrNotConfirmed, c.Hash, c.State, specName(s))
		}
	}
	if cf.Table, err = cx.Table(cells); err != nil {
		return nil, err
	}
	sels, err := analysis.SelectAll(cf.Table, Presets(cs)[:1], SpecBaseline(cs))
	if err != nil {
		return nil, err
	}
	cf.Selection = Headline(cs, sels)
	sig, sigErr := cf.Selection.Significance(SignificanceOptions(cs))
	if cf.Decision, err = Decide(cs, cf.Table, cf.Selection, sig, sigErr); err != nil {
		return nil, err
	}
	if sigErr == nil {
		cf.Significance = sig
	}
	return cf, nil
}

// Verdicts are the confirmation's outcome per weight, in sweep order:
// "better", "same" or "worse" on the score (as the selection's
// statistics), "blocked" when better but a guard blocks it.
func (c *Confirmation) Verdicts() []ConfirmRow {
	k := len(c.Selection.Params) - 1 // prompt_weight is the last parameter
	var out []ConfirmRow
	for i, r := range c.Selection.Rows {
		row := ConfirmRow{PromptWeight: r.Point[k], Score: r.Score, Guards: c.Decision.Guards.Points[i],
			Preemptions: preemptions(c.Table, c.Table.PointIndex(r.Point))}
		switch w := r.Point[k]; {
		case w == c.Configured:
			row.Label = "configured"
		case w == c.Derived:
			row.Label = "derived (" + c.Stat + ")"
		default:
			row.Label = "×" + strconv.FormatFloat(w/c.Derived, 'g', 3, 64) + " derived"
		}
		if c.Significance != nil {
			ps := c.Significance.Points[i]
			row.ScoreRatio, row.ScoreCI, row.P, row.Verdict = ps.ScoreRatio, ps.ScoreCI, ps.P, string(ps.Verdict)
			if ps.Baseline {
				row.Verdict = "baseline"
			} else if ps.Verdict == analysis.Better && !row.Guards.OK() {
				row.Verdict = "blocked"
			}
		}
		out = append(out, row)
	}
	return out
}

// ConfirmRow is one weight of the confirmation.
type ConfirmRow struct {
	PromptWeight float64
	Label        string
	Score        float64
	ScoreRatio   float64
	ScoreCI      [2]float64
	P            float64
	// Verdict: baseline, better, same, worse or blocked (better on the
	// score, a guard not ok).
	Verdict string
	Guards  analysis.PointGuards
	// Preemptions is the mean number of preemptions per cell (from
	// run_summary.json; NaN when the cells do not record it).
	Preemptions float64
}

// preemptions is the mean of run_summary.json's preemptions over the
// present cells of point p (NaN when any lacks it).
func preemptions(t *analysis.Table, p int) float64 {
	sum, n := 0.0, 0
	for r := range t.Repeats {
		c := &t.Cells[r][p]
		if !c.Present {
			continue
		}
		rs, err := sarathi.ReadRunSummary(filepath.Join(filepath.Dir(c.Dir), filepath.Base(sarathi.RunSummaryFile)))
		if err != nil || rs.Preemptions == nil {
			return math.NaN()
		}
		sum += float64(*rs.Preemptions)
		n++
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// Sentence is the confirmation in one line: the decision among the
// weights, then how the derived weight did.
func (c *Confirmation) Sentence() string {
	var derived string
	for _, r := range c.Verdicts() {
		if r.PromptWeight == c.Derived {
			derived = fmt.Sprintf("derived prompt_weight %s (%s): %s vs the configured %s", fmtW(c.Derived), c.Stat, r.Verdict, fmtW(c.Configured))
			if !math.IsNaN(r.ScoreRatio) {
				derived += fmt.Sprintf(", score ratio %s", strconv.FormatFloat(r.ScoreRatio, 'f', 4, 64))
			}
		}
	}
	same := true
	for _, r := range c.Verdicts() {
		same = same && r.ScoreRatio == 1 && r.ScoreCI == [2]float64{1, 1}
	}
	if same {
		derived += "; every weight gives the same results (prompt_weight changes no scheduling decision here"
		if r := c.Verdicts()[0]; r.Preemptions == 0 {
			derived += ": no preemptions"
		}
		derived += ")"
	}
	return derived + "; " + strings.Replace(c.Decision.Reason, "change to", "run", 1)
}

func fmtW(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// ConfirmationJSON is the confirmation in `lab select --json` and the
// report's summary.json ("prompt_weight_confirmation").
type ConfirmationJSON struct {
	Experiment string             `json:"experiment"`
	At         analysis.PointJSON `json:"at"`
	Stat       string             `json:"stat"`
	Configured float64            `json:"configured"`
	Derived    float64            `json:"derived"`
	Rows       []ConfirmRowJSON   `json:"rows"`
	// Decision is the decision among the weights (the configured one
	// unless another is significantly better and passes every guard).
	Decision analysis.DecisionJSON `json:"decision"`
	Sentence string                `json:"sentence"`
}

// ConfirmRowJSON is one weight.
type ConfirmRowJSON struct {
	PromptWeight float64              `json:"prompt_weight"`
	Label        string               `json:"label"`
	Score        float64              `json:"score"`
	ScoreRatio   *float64             `json:"score_ratio"`
	ScoreCI      *[2]float64          `json:"score_ratio_ci"`
	PValue       *float64             `json:"p_value"`
	Verdict      string               `json:"verdict"`
	Guards       []analysis.GuardJSON `json:"guards"`
	// Preemptions is the mean per cell (null when not recorded).
	Preemptions *float64 `json:"preemptions_per_cell"`
}

// JSON returns the confirmation's JSON form.
func (c *Confirmation) JSON() ConfirmationJSON {
	num := func(v float64) *float64 {
		if math.IsNaN(v) {
			return nil
		}
		return &v
	}
	j := ConfirmationJSON{Experiment: c.Spec.Name, At: analysis.PointJSON(c.At), Stat: c.Stat, Configured: c.Configured,
		Derived: c.Derived, Decision: c.Decision.JSON().Decision, Sentence: c.Sentence()}
	for _, r := range c.Verdicts() {
		rj := ConfirmRowJSON{PromptWeight: r.PromptWeight, Label: r.Label, Score: r.Score, Verdict: r.Verdict,
			ScoreRatio: num(r.ScoreRatio), PValue: num(r.P), Guards: []analysis.GuardJSON{}, Preemptions: num(r.Preemptions)}
		if !math.IsNaN(r.ScoreCI[0]) && c.Significance != nil {
			ci := r.ScoreCI
			rj.ScoreCI = &ci
		}
		for _, g := range r.Guards.Results {
			rj.Guards = append(rj.Guards, g.JSON())
		}
		j.Rows = append(j.Rows, rj)
	}
	return j
}

// WriteConfirmation prints the confirmation: one row per weight (score
// ratio to the configured weight with its interval, Holm p, verdict, the
// guards that did not pass), then its sentence.
func WriteConfirmation(w io.Writer, c *Confirmation) error {
	if _, err := fmt.Fprintf(w, "prompt_weight confirmation at %s (%d repeats, paired with the experiment's seeds; store experiment %s):\n",
		c.pointName(), c.Spec.Repeats, c.Spec.Name); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-14s %-18s %12s %10s %32s %9s %9s  %s\n", "prompt_weight", "", "preempt/cell", "score", "ratio [95% CI]", "p (Holm)", "verdict", "guards not ok")
	for _, r := range c.Verdicts() {
		ratio, p := "–", "–"
		if !math.IsNaN(r.ScoreRatio) {
			ratio = strconv.FormatFloat(r.ScoreRatio, 'f', 4, 64)
			if !math.IsNaN(r.ScoreCI[0]) {
				ratio += fmt.Sprintf(" [%s, %s]", strconv.FormatFloat(r.ScoreCI[0], 'f', 4, 64), strconv.FormatFloat(r.ScoreCI[1], 'f', 4, 64))
			}
		}
		if !math.IsNaN(r.P) && r.Verdict != "baseline" {
			p = strconv.FormatFloat(r.P, 'f', 3, 64)
		}
		var bad []string
		for _, g := range r.Guards.Results {
			if g.Verdict != analysis.GuardOK {
				bad = append(bad, g.Describe()+" "+string(g.Verdict))
			}
		}
		line := fmt.Sprintf("%-14s %-18s %12s %10s %32s %9s %9s  %s", fmtW(r.PromptWeight), r.Label, strconv.FormatFloat(r.Preemptions, 'f', 1, 64),
			strconv.FormatFloat(r.Score, 'f', 6, 64), ratio, p, r.Verdict, strings.Join(bad, "; "))
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	fmt.Fprintf(&b, "confirmation: %s\n", c.Sentence())
	_, err := io.WriteString(w, b.String())
	return err
}

func (c *Confirmation) pointName() string {
	names := c.Spec.ParamNames()
	var parts []string
	for i, n := range names {
		if n != "prompt_weight" && i < len(c.Selection.Rows[0].Point) {
			parts = append(parts, n+"="+analysis.Point{c.Selection.Rows[0].Point[i]}.String())
		}
	}
	if len(parts) == 0 {
		return "the decided point"
	}
	return strings.Join(parts, ", ")
}

// Report is the confirmation as the report shows it (nil for nil).
func (c *Confirmation) Report() *report.Confirmation {
	if c == nil {
		return nil
	}
	rc := &report.Confirmation{Sentence: c.Sentence(), JSON: c.JSON(),
		Header: []string{"prompt_weight", "", "preemptions per cell", "score", "ratio to configured", "95% interval", "p (Holm)", "verdict", "guards not ok"}}
	f := func(v float64, d int) string {
		if math.IsNaN(v) {
			return "–"
		}
		return strconv.FormatFloat(v, 'f', d, 64)
	}
	for _, r := range c.Verdicts() {
		ci := "–"
		if !math.IsNaN(r.ScoreCI[0]) {
			ci = "[" + f(r.ScoreCI[0], 4) + ", " + f(r.ScoreCI[1], 4) + "]"
		}
		var bad []string
		for _, g := range r.Guards.Results {
			if g.Verdict != analysis.GuardOK {
				bad = append(bad, g.Describe()+" "+string(g.Verdict))
			}
		}
		p := f(r.P, 3)
		if r.Verdict == "baseline" {
			p = "–"
		}
		rc.Rows = append(rc.Rows, []string{fmtW(r.PromptWeight), r.Label, f(r.Preemptions, 1), f(r.Score, 6), f(r.ScoreRatio, 4), ci, p, r.Verdict, strings.Join(bad, "; ")})
		rc.Mark = append(rc.Mark, r.PromptWeight == c.Decision.Point[len(c.Decision.Point)-1])
	}
	return rc
}
