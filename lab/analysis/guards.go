package analysis

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/schedlab/schedlab/lab/internal/stats"
	"github.com/schedlab/schedlab/lab/present"
	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

// GuardVerdict is the outcome of one guard at one point.
type GuardVerdict string

// Guard verdicts. A guard is a safety check, so the burden of proof is on
// the change (non-inferiority): with r the point's guard ratio to the
// baseline and [lo, hi] its interval, a latency guard is OK when
// hi ≤ 1 + margin, Worse when lo > 1 + margin and Inconclusive otherwise
// (also when there is no interval: fewer than 2 pairs, or a ratio that is
// undefined because one side is 0). For throughput, where higher is better,
// the bound is 1 − margin: OK when lo ≥ 1 − margin, Worse when
// hi < 1 − margin.
const (
	GuardOK           GuardVerdict = "ok"
	GuardWorse        GuardVerdict = "worse"
	GuardInconclusive GuardVerdict = "inconclusive"
)

// GuardResult is one guard at one point, against the baseline.
type GuardResult struct {
	Guard spec.Guard
	// Pairs is the number of repeats that have the guard's value at both
	// the point and the baseline.
	Pairs int
	// Ratio is the geometric mean over the pairs of value(point) /
	// value(baseline); CI its BCa interval, the same bootstrap as the
	// score's (Significance). NaN where they do not exist.
	Ratio   float64
	CI      [2]float64
	Verdict GuardVerdict
	// Note says why a guard is inconclusive without an interval ("" else).
	Note string
}

// PointGuards are the guard results of one point.
type PointGuards struct {
	Point    Point
	Baseline bool
	// Results follow GuardCheck.Guards.
	Results []GuardResult
}

// OK reports whether every guard of the point passed.
func (p *PointGuards) OK() bool {
	for _, r := range p.Results {
		if r.Verdict != GuardOK {
			return false
		}
	}
	return true
}

// GuardCheck is every point's guards against the baseline.
type GuardCheck struct {
	Baseline Point
	Margin   float64
	// Guards are the guards checked; Skipped those no cell has (each named
	// in Warnings).
	Guards  []spec.Guard
	Skipped []spec.Guard
	// Points follow the rows of the selection the check was made for.
	Points []PointGuards
	// Warnings say which guards were skipped and which cells lack a guard
	// metric, sorted.
	Warnings []string
}

// GuardName is how a guard reads in sentences: "TTFT p95", "E2E p95",
// "max TBT p99", "scheduling delay p95", "throughput", else
// "<metric> <stat>".
func GuardName(g spec.Guard) string {
	switch g.Metric {
	case spec.GuardThroughput:
		return "throughput"
	case sarathi.PrefillE2ETime:
		return "TTFT " + g.Stat
	case sarathi.RequestE2ETime:
		return "E2E " + g.Stat
	case sarathi.MaxTimeBetweenTokens:
		return "max TBT " + g.Stat
	case sarathi.RequestSchedulingDelay:
		return "scheduling delay " + g.Stat
	}
	return g.Metric + " " + g.Stat
}

// higherBetter reports whether a larger value of the guard is better.
func higherBetter(g spec.Guard) bool { return g.Metric == spec.GuardThroughput }

// CheckGuards compares every point of s with baseline on each guard,
// paired by repeat, with opt's resamples, level, margin and seed (the
// options of the selection's Significance, so the intervals are built the
// same way). The values come from the cells' files in t, the table s was
// selected from: per-request metrics from <metric>.csv in the cell's
// folder, requests_per_second from the run's replica_0/run_summary.json.
// A guard metric that no cell has is skipped with a warning; a guard
// metric some cells lack is compared on the other repeats, with a warning.
// A file that exists but cannot be read is an error.
func CheckGuards(t *Table, s *Selection, baseline Point, guards []spec.Guard, opt SignificanceOptions) (*GuardCheck, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := checkGuardList(guards); err != nil {
		return nil, err
	}
	b := t.PointIndex(baseline)
	if b < 0 {
		return nil, fmt.Errorf("analysis: guard baseline %s=%s is not a point of the table", t.Param, baseline)
	}
	cols := make([]int, 0, len(s.Rows)) // table point index of each row
	for _, r := range s.Rows {
		i := t.PointIndex(r.Point)
		if i < 0 {
			return nil, fmt.Errorf("analysis: %s=%s of the selection is not a point of the table", t.Param, r.Point)
		}
		cols = append(cols, i)
	}
	if !slices.Contains(cols, b) {
		cols = append(cols, b)
	}
	vals, err := t.guardValues(cols, guards)
	if err != nil {
		return nil, err
	}
	gc := &GuardCheck{Baseline: baseline, Margin: opt.Margin}
	var kept []int
	for g, guard := range guards {
		var have, lack int
		var first string
		for _, p := range cols {
			for r := range t.Repeats {
				if !t.Cells[r][p].Present {
					continue
				}
				switch v := vals[r][p][g]; {
				case v.why == "":
					have++
				default:
					if lack == 0 {
						first = vals[r][p][g].why
					}
					lack++
				}
			}
		}
		switch {
		case have == 0 && lack > 0:
			gc.Skipped = append(gc.Skipped, guard)
			gc.Warnings = append(gc.Warnings, fmt.Sprintf("guard %s (%s) skipped: no cell has it (%s)", GuardName(guard), guardLabel(guard), first))
		case lack > 0:
			gc.Warnings = append(gc.Warnings, fmt.Sprintf("guard %s (%s): %d of %d cells lack it (%s); those repeats are left out of its comparisons",
				GuardName(guard), guardLabel(guard), lack, have+lack, first))
			fallthrough
		default:
			if have > 0 {
				gc.Guards = append(gc.Guards, guard)
				kept = append(kept, g)
			}
		}
	}
	slices.Sort(gc.Warnings)
	gc.Points = make([]PointGuards, len(s.Rows))
	for i, row := range s.Rows {
		p := t.PointIndex(row.Point)
		gc.Points[i] = PointGuards{Point: row.Point, Baseline: p == b, Results: make([]GuardResult, len(kept))}
	}
	err = forEach(len(s.Rows)*len(kept), func(j int) (err error) {
		pg, k := &gc.Points[j/len(kept)], j%len(kept)
		g := kept[k]
		pg.Results[k], err = compareGuard(t, vals, t.PointIndex(pg.Point), b, g, guards[g], opt)
		return err
	})
	if err != nil {
		return nil, err
	}
	return gc, nil
}

// checkGuardList rejects guards the analysis cannot evaluate (the spec's
// validation names the file position; this protects direct callers).
func checkGuardList(guards []spec.Guard) error {
	for _, g := range guards {
		switch {
		case g.Metric == spec.GuardThroughput:
			if g.Stat != spec.GuardThroughputStat {
				return fmt.Errorf("analysis: guard %s has stat %q, want %q", g.Metric, g.Stat, spec.GuardThroughputStat)
			}
		case g.Metric == "":
			return errors.New("analysis: guard without a metric")
		case !slices.Contains(spec.GuardStats, g.Stat):
			return fmt.Errorf("analysis: guard %s has stat %q, want one of %s", g.Metric, g.Stat, strings.Join(spec.GuardStats, ", "))
		}
	}
	return nil
}

// guardLabel is "prefill_e2e_time p95" (or "requests_per_second").
func guardLabel(g spec.Guard) string {
	if g.Metric == spec.GuardThroughput {
		return g.Metric
	}
	return g.Metric + " " + g.Stat
}

// guardValue is one guard's value in one cell; why says why there is
// none ("" when there is).
type guardValue struct {
	v   float64
	why string
}

// guardValues reads, for every repeat and the given point columns, each
// guard's value (vals[r][p][g]; columns not asked for stay nil). Cells are
// read in parallel; the first error in cell order is returned.
func (t *Table) guardValues(cols []int, guards []spec.Guard) ([][][]guardValue, error) {
	vals := make([][][]guardValue, len(t.Repeats))
	type job struct{ r, p int }
	var jobs []job
	for r := range t.Repeats {
		vals[r] = make([][]guardValue, len(t.Points))
		for _, p := range cols {
			if t.Cells[r][p].Present {
				jobs = append(jobs, job{r, p})
			}
		}
	}
	bufs := sync.Pool{New: func() any { return new([]float64) }}
	err := forEach(len(jobs), func(i int) (err error) {
		j, buf := jobs[i], bufs.Get().(*[]float64)
		defer bufs.Put(buf)
		vals[j.r][j.p], err = cellGuardValues(&t.Cells[j.r][j.p], guards, buf)
		return err
	})
	if err != nil {
		return nil, err
	}
	return vals, nil
}

// runSummaryPath is the run_summary.json of a cell whose Dir is a run's
// replica_0/plots folder ("" for other layouts, such as legacy trees).
func (c *Cell) runSummaryPath() string {
	if filepath.Base(c.Dir) != "plots" || filepath.Base(filepath.Dir(c.Dir)) != "replica_0" {
		return ""
	}
	return filepath.Join(filepath.Dir(c.Dir), filepath.Base(sarathi.RunSummaryFile))
}

// cellGuardValues computes each guard's value in one cell, reading each
// metric file once.
func cellGuardValues(c *Cell, guards []spec.Guard, buf *[]float64) ([]guardValue, error) {
	out := make([]guardValue, len(guards))
	var sum *sarathi.RunSummary
	sumWhy := "no run_summary.json next to the plots folder"
	if p := c.runSummaryPath(); p != "" {
		s, err := sarathi.ReadRunSummary(p)
		switch {
		case err == nil:
			sum = &s
		case errors.Is(err, sarathi.ErrNoRunSummary):
			sumWhy = p + ": no such file"
		default:
			return nil, err
		}
	}
	done := map[string][]float64{} // sorted values per metric read
	for g, guard := range guards {
		if guard.Metric == spec.GuardThroughput {
			switch {
			case sum == nil:
				out[g].why = sumWhy
			case sum.RequestsPerSecond == nil:
				out[g].why = fmt.Sprintf("%s: no %s (source %s)", c.runSummaryPath(), spec.GuardThroughput, sum.Source)
			default:
				out[g].v = *sum.RequestsPerSecond
			}
			continue
		}
		if sum != nil && sum.IsUnavailable(guard.Metric) {
			out[g].why = fmt.Sprintf("source %s does not observe %s", sum.Source, guard.Metric)
			continue
		}
		if guard.Metric == sarathi.PrefillE2ETime {
			if v, ok := c.ttft.stat(guard.Stat); ok {
				out[g].v = v
				continue
			}
		}
		sorted, ok := done[guard.Metric]
		if !ok {
			path := c.file(guard.Metric)
			vals, err := sarathi.AppendValues((*buf)[:0], path, guard.Metric)
			if cap(vals) > cap(*buf) {
				*buf = vals
			}
			switch {
			case errors.Is(err, os.ErrNotExist):
				done[guard.Metric] = nil
			case errors.Is(err, sarathi.ErrNoValues):
				done[guard.Metric] = []float64{}
			case err != nil:
				return nil, err
			default:
				sorted = slices.Clone(vals)
				slices.Sort(sorted)
				done[guard.Metric] = sorted
			}
			sorted = done[guard.Metric]
		}
		switch {
		case sorted == nil:
			out[g].why = c.file(guard.Metric) + ": no such file"
		case len(sorted) == 0:
			out[g].why = c.file(guard.Metric) + ": no values"
		default:
			out[g].v = guardStat(sorted, guard.Stat)
		}
	}
	return out, nil
}

// guardStat is stat of sorted values (percentiles interpolate as numpy's
// default method, as the selection's P95s do).
func guardStat(sorted []float64, stat string) float64 {
	switch stat {
	case "p50":
		return Percentile(sorted, 0.5)
	case "p95":
		return Percentile(sorted, 0.95)
	case "p99":
		return Percentile(sorted, 0.99)
	}
	return Mean(sorted)
}

// compareGuard compares column p with the baseline column b on guard g.
func compareGuard(t *Table, vals [][][]guardValue, p, b, g int, guard spec.Guard, opt SignificanceOptions) (GuardResult, error) {
	nan2 := [2]float64{math.NaN(), math.NaN()}
	res := GuardResult{Guard: guard, Ratio: math.NaN(), CI: nan2, Verdict: GuardInconclusive}
	var logs []float64
	for r := range t.Repeats {
		if !t.Cells[r][p].Present || !t.Cells[r][b].Present {
			continue
		}
		vp, vb := vals[r][p][g], vals[r][b][g]
		if vp.why != "" || vb.why != "" {
			continue
		}
		switch {
		case vp.v == vb.v:
			logs = append(logs, 0)
		case vp.v <= 0 || vb.v <= 0:
			res.Pairs = len(logs) + 1
			res.Note = fmt.Sprintf("%s is %v at %s=%s and %v at %s=%s in %s: the ratio is undefined",
				guardLabel(guard), vp.v, t.Param, t.Points[p], vb.v, t.Param, t.Points[b], t.Repeats[r])
			return res, nil
		default:
			logs = append(logs, math.Log(vp.v)-math.Log(vb.v))
		}
	}
	res.Pairs = len(logs)
	if p == b {
		res.Ratio, res.CI, res.Verdict = 1, [2]float64{1, 1}, GuardOK
		return res, nil
	}
	switch len(logs) {
	case 0:
		res.Note = "no repeat has it at both the point and the baseline"
		return res, nil
	case 1:
		res.Ratio = math.Exp(logs[0])
		res.Note = "one pair: no interval"
		return res, nil
	}
	res.Ratio = math.Exp(stats.Mean(logs))
	iv, err := stats.BootstrapMeanCI(logs, opt.Resamples, opt.Level, stats.BCa,
		stats.NewPCG(opt.Seed, stream("guard "+guardLabel(guard), t.Points[p])))
	if err != nil {
		return res, err
	}
	res.CI = [2]float64{math.Exp(iv.Lo), math.Exp(iv.Hi)}
	res.Verdict = guardVerdict(guard, res.CI, opt.Margin)
	return res, nil
}

// guardVerdict applies the non-inferiority rule to an interval.
func guardVerdict(g spec.Guard, ci [2]float64, margin float64) GuardVerdict {
	if higherBetter(g) {
		switch {
		case ci[0] >= 1-margin:
			return GuardOK
		case ci[1] < 1-margin:
			return GuardWorse
		}
		return GuardInconclusive
	}
	switch {
	case ci[1] <= 1+margin:
		return GuardOK
	case ci[0] > 1+margin:
		return GuardWorse
	}
	return GuardInconclusive
}

// Describe is "TTFT p95 +12% [+10%, +14%]" (or, without an interval,
// "TTFT p95 +12% (one pair: no interval)").
func (r GuardResult) Describe() string {
	name := GuardName(r.Guard)
	if math.IsNaN(r.Ratio) {
		return name + " not comparable (" + r.Note + ")"
	}
	if math.IsNaN(r.CI[0]) {
		return fmt.Sprintf("%s %s (%s)", name, present.Change(r.Ratio), r.Note)
	}
	d := present.ChangeDigits(r.Ratio, r.CI[0], r.CI[1])
	return fmt.Sprintf("%s %s [%s, %s]", name, present.ChangeN(r.Ratio, d), present.ChangeN(r.CI[0], d), present.ChangeN(r.CI[1], d))
}
