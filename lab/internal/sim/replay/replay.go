package replay

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/schedlab/schedlab/lab/internal/sim/sched"
)

// RelTol is the relative tolerance on times (start, duration and the
// request stamps). Doing the fork's floating-point operations in its order
// reproduces them bit for bit; the tolerance only absorbs a printer that
// did not round-trip.
const RelTol = 1e-9

// Result is the comparison of one scenario.
type Result struct {
	File      string `json:"file"`
	Identical bool   `json:"identical"`
	// Iterations is the number of iterations the fork's schedule has.
	Iterations      int         `json:"iterations"`
	FirstDivergence *Divergence `json:"first_divergence"`
}

// Divergence is the first place where the two schedules differ.
type Divergence struct {
	// Iteration is the batch index, or -1 for a difference in the
	// per-request outcomes or the run's counts.
	Iteration int `json:"iteration"`
	// Field names what differs ("decodes", "start",
	// "requests_out[12].output_tokens", "summary.preemptions", ...).
	Field string `json:"field"`
	// Fork and Ours render what each side has there (for an iteration, the
	// whole batch).
	Fork string `json:"fork"`
	Ours string `json:"ours"`
}

func (d *Divergence) String() string {
	if d.Iteration >= 0 {
		return fmt.Sprintf("iteration %d differs in %s\n  fork: %s\n  ours: %s", d.Iteration, d.Field, d.Fork, d.Ours)
	}
	return fmt.Sprintf("%s differs: fork %s, ours %s", d.Field, d.Fork, d.Ours)
}

// batch is the part of a sched.Batch the comparison needs, in request ids.
type batch struct {
	decodes, preempted []int
	prefills           [][2]int
}

// errRunaway stops a replay whose schedule has gone far past the fork's.
var errRunaway = errors.New("replay: far more iterations than the fork's schedule")

// Replay runs the scheduler on the scenario with its executor formula (and,
// for the time-predictor variant, its predictor) and compares the result.
// An error means the scenario could not be run, not that it differs.
func Replay(file string, sc *Scenario) (*Result, error) {
	cfg := sc.SchedConfig()
	reqs := make([]sched.Request, len(sc.Requests))
	for i, r := range sc.Requests {
		reqs[i] = sched.Request{ID: r.ID, Arrival: r.Arrival, PromptTokens: r.PromptTokens, OutputTokens: r.OutputTokens}
	}
	k := sc.Executor.Coefficients
	a, b, c, e := *k.A, *k.B, *k.C, *k.E
	limit := 2*len(sc.Iterations) + 1000
	var got []batch
	ex := sched.ExecutorFunc(func(bt *sched.Batch) (float64, error) {
		if len(got) >= limit {
			return 0, errRunaway
		}
		var g batch
		for _, d := range bt.Decodes {
			g.decodes = append(g.decodes, d.Seq)
		}
		for _, ch := range bt.Prefills {
			g.prefills = append(g.prefills, [2]int{ch.Seq, ch.NewTokens})
		}
		g.preempted = append(g.preempted, bt.Preempted...)
		got = append(got, g)
		return Linear(a, b, c, e, bt), nil
	})
	var opts []sched.Option
	if p := sc.Config.Predictor; p != nil && cfg.Chunking == sched.TimeBudget {
		opts = append(opts, sched.WithPredictor(sched.PredictorFunc(func(bt *sched.Batch) float64 {
			return Linear(p.A, p.B, p.C, p.E, bt)
		})))
	}
	res := &Result{File: file, Iterations: len(sc.Iterations)}
	tr, err := sched.Simulate(cfg, reqs, ex, opts...)
	if errors.Is(err, errRunaway) {
		res.FirstDivergence = firstBatchDivergence(sc, got, nil)
		if res.FirstDivergence == nil {
			res.FirstDivergence = &Divergence{Iteration: len(sc.Iterations), Field: "iteration count", Fork: fmt.Sprint(len(sc.Iterations)), Ours: fmt.Sprintf("more than %d", limit)}
		}
		return res, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	res.FirstDivergence = firstBatchDivergence(sc, got, tr)
	if res.FirstDivergence == nil {
		res.FirstDivergence = requestsDivergence(sc, tr)
	}
	if res.FirstDivergence == nil {
		res.FirstDivergence = summaryDivergence(sc, tr)
	}
	res.Identical = res.FirstDivergence == nil
	return res, nil
}

// Linear evaluates ((a + b·prefill_tokens) + c·decodes) + e·chunks in
// float64, left to right, each product rounded on its own (the explicit
// conversions keep the compiler from fusing a multiply-add), so the result
// is bit-identical to the fork's.
func Linear(a, b, c, e float64, bt *sched.Batch) float64 {
	p := 0
	for _, ch := range bt.Prefills {
		p += ch.NewTokens
	}
	d := float64(a + float64(b*float64(p)))
	d = float64(d + float64(c*float64(len(bt.Decodes))))
	return float64(d + float64(e*float64(len(bt.Prefills))))
}

func firstBatchDivergence(sc *Scenario, got []batch, tr *sched.Trace) *Divergence {
	n := min(len(sc.Iterations), len(got))
	for k := 0; k < n; k++ {
		f, g := &sc.Iterations[k], &got[k]
		field := ""
		switch {
		case !slices.Equal(f.Decodes, g.decodes):
			field = "decodes"
		case !slices.Equal(f.Prefills, g.prefills):
			field = "prefills"
		case !slices.Equal(f.Preempted, g.preempted):
			field = "preempted"
		case tr != nil && !near(f.Start, tr.Iterations[k].Start):
			field = "start"
		case tr != nil && !near(f.Duration, tr.Iterations[k].Duration):
			field = "duration"
		}
		if field != "" {
			d := &Divergence{Iteration: k, Field: field, Fork: showBatch(f.Decodes, f.Prefills, f.Preempted)}
			d.Ours = showBatch(g.decodes, g.prefills, g.preempted)
			if tr != nil {
				d.Fork += fmt.Sprintf(" start %v duration %v", f.Start, f.Duration)
				d.Ours += fmt.Sprintf(" start %v duration %v", tr.Iterations[k].Start, tr.Iterations[k].Duration)
			}
			return d
		}
	}
	if len(sc.Iterations) != len(got) {
		d := &Divergence{Iteration: n, Field: "iteration count", Fork: fmt.Sprintf("%d iterations", len(sc.Iterations)), Ours: fmt.Sprintf("%d iterations", len(got))}
		if n < len(sc.Iterations) {
			f := &sc.Iterations[n]
			d.Fork += ": next " + showBatch(f.Decodes, f.Prefills, f.Preempted)
		} else {
			g := &got[n]
			d.Ours += ": next " + showBatch(g.decodes, g.prefills, g.preempted)
		}
		return d
	}
	return nil
}

func requestsDivergence(sc *Scenario, tr *sched.Trace) *Divergence {
	for i, f := range sc.RequestsOut {
		r := &tr.Requests[i]
		field := func(name string) string { return fmt.Sprintf("requests_out[%d].%s", f.ID, name) }
		ints := []struct {
			name      string
			fork, got int
		}{{"output_tokens", f.OutputTokens, r.OutputTokens}, {"preemptions", f.Preemptions, r.Preemptions}}
		for _, v := range ints {
			if v.fork != v.got {
				return &Divergence{Iteration: -1, Field: field(v.name), Fork: fmt.Sprint(v.fork), Ours: fmt.Sprint(v.got)}
			}
		}
		if f.Ignored != r.Ignored {
			return &Divergence{Iteration: -1, Field: field("ignored"), Fork: fmt.Sprint(f.Ignored), Ours: fmt.Sprint(r.Ignored)}
		}
		times := []struct {
			name string
			fork *float64
			got  float64
			has  bool
		}{
			{"first_scheduled", f.FirstScheduled, r.Scheduled, r.Started},
			{"prefill_done", f.PrefillDone, r.PrefillDone, r.OutputTokens > 0},
			{"completed", f.Completed, r.Completed, r.Ignored || (r.OutputTokens > 0 && r.Completed > 0)},
		}
		for _, v := range times {
			if (v.fork != nil) != v.has || (v.fork != nil && !near(*v.fork, v.got)) {
				return &Divergence{Iteration: -1, Field: field(v.name), Fork: showTime(v.fork), Ours: showTime(ptrIf(v.got, v.has))}
			}
		}
	}
	return nil
}

func summaryDivergence(sc *Scenario, tr *sched.Trace) *Divergence {
	s := &sc.Summary
	c := tr.Counters
	out, prefill := 0, 0
	for _, r := range tr.Requests {
		out += r.OutputTokens
	}
	for _, it := range tr.Iterations {
		prefill += it.PrefillTokens
	}
	by := s.RunningPrefillSkipsByCause
	for _, v := range []struct {
		name      string
		fork, got int
	}{
		{"preemptions", s.Preemptions, tr.Preemptions},
		{"threshold_blocked_admissions", s.ThresholdBlockedAdmissions, c.ThresholdBlockedAdmissions},
		{"predictor_blocked_admissions", s.PredictorBlockedAdmissions, c.PredictorBlockedAdmissions},
		{"running_prefill_skips_by_reason.threshold", by["threshold"], c.SkipsThreshold},
		{"running_prefill_skips_by_reason.budget", by["budget"], c.SkipsBudget},
		{"running_prefill_skips_by_reason.predictor", by["predictor"], c.SkipsPredictor},
		{"forced_single_token", s.ForcedSingleToken, c.ForcedSingleToken},
		{"ignored", s.Ignored, tr.Ignored},
		{"readmission_drops", s.ReadmissionDrops, c.ReadmissionDrops},
		{"output_tokens", s.OutputTokens, out},
		{"prefill_tokens", s.PrefillTokens, prefill},
	} {
		if v.fork != v.got {
			return &Divergence{Iteration: -1, Field: "summary." + v.name, Fork: fmt.Sprint(v.fork), Ours: fmt.Sprint(v.got)}
		}
	}
	if !near(s.Makespan, tr.End) {
		return &Divergence{Iteration: -1, Field: "summary.makespan", Fork: fmt.Sprint(s.Makespan), Ours: fmt.Sprint(tr.End)}
	}
	return nil
}

func near(a, b float64) bool {
	return a == b || math.Abs(a-b) <= RelTol*math.Max(math.Abs(a), math.Abs(b))
}

func ptrIf(v float64, ok bool) *float64 {
	if !ok {
		return nil
	}
	return &v
}

func showTime(p *float64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

// showBatch renders a batch as "decodes [..] prefills [id:chunk ..] preempted [..]".
func showBatch(decodes []int, prefills [][2]int, preempted []int) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "decodes %v prefills [", decodes)
	for k, p := range prefills {
		if k > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%d:%d", p[0], p[1])
	}
	fmt.Fprintf(&sb, "] preempted %v", preempted)
	return sb.String()
}
