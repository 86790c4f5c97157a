package analysis

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/schedlab/schedlab/lab/metrics"

	"github.com/schedlab/schedlab/lab/internal/stats"
)

// MetricNames are the five per-cell summary metrics in Ratios order, named
// as in the JSON ("request" for request_ratio, …).
func MetricNames() [5]string {
	var out [5]string
	for i, m := range metrics.All {
		out[i] = m.Key
	}
	return out
}

// MetricComparison is one metric at one point of experiment B against A.
type MetricComparison struct {
	// Pairs is the number of repeats both experiments have at the point.
	Pairs int
	// Ratio is the geometric mean over the pairs of metric_B/metric_A (the
	// per-cell summaries); CI its BCa interval (NaN with fewer than 2
	// pairs).
	Ratio float64
	CI    [2]float64
	// RawP is the sign-flip p-value of the log ratios; P is it
	// Holm-adjusted over every point compared (one family per metric).
	RawP, P float64
	// Verdict is Better when B is lower (all five metrics are times: lower
	// is better) by more than the margin with P ≤ α, Worse when higher,
	// Same otherwise — the rule of Significance.
	Verdict Verdict
}

// PointComparison is one sweep point present in both experiments.
type PointComparison struct {
	Point   Point
	Metrics [5]MetricComparison
}

// Comparison is experiment B against experiment A, cell by cell: cells are
// paired where their sweep point and repeat (by name) match.
type Comparison struct {
	Params []string
	// Points are the points both experiments have, sorted.
	Points []PointComparison
	// OnlyA and OnlyB are the points one experiment lacks.
	OnlyA, OnlyB []Point
	// Repeats are the repeat names both experiments have.
	Repeats []string
	Options SignificanceOptions
	// Compared is the number of point × metric tests (Holm families: one
	// per metric, of len(Points) tests each).
	Compared int
}

// Compare pairs the cells of two tables of the same parameters by sweep
// point and repeat and compares every metric, B against A, with the
// statistics of Significance (stats.SignFlip on the log ratios, a joint
// stats.BootstrapCIs BCa interval per point, stats.Holm over the points
// of each metric, the same verdict rule); the same seed gives the same result.
func Compare(a, b *Table, opt SignificanceOptions) (*Comparison, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	if !slices.Equal(a.Params, b.Params) {
		return nil, fmt.Errorf("analysis: compare: experiment A sweeps (%s), B sweeps (%s): the points cannot be paired",
			strings.Join(a.Params, ", "), strings.Join(b.Params, ", "))
	}
	c := &Comparison{Params: a.Params, Options: opt}
	// Repeats by name: rb[i] is B's index of A's repeat i (-1: none).
	rb := make([]int, len(a.Repeats))
	for i, name := range a.Repeats {
		rb[i] = slices.Index(b.Repeats, name)
		if rb[i] >= 0 {
			c.Repeats = append(c.Repeats, name)
		}
	}
	if len(c.Repeats) == 0 {
		return nil, fmt.Errorf("analysis: compare: no repeat name in both experiments (A: %s; B: %s)", strings.Join(a.Repeats, ", "), strings.Join(b.Repeats, ", "))
	}
	for _, p := range b.Points {
		if a.PointIndex(p) < 0 {
			c.OnlyB = append(c.OnlyB, p)
		}
	}
	for pa, p := range a.Points {
		pb := b.PointIndex(p)
		if pb < 0 {
			c.OnlyA = append(c.OnlyA, p)
			continue
		}
		pc, err := comparePoint(a, b, pa, pb, rb, opt)
		if err != nil {
			return nil, err
		}
		if pc.Metrics[0].Pairs == 0 {
			continue // neither has a result here in a shared repeat
		}
		c.Points = append(c.Points, pc)
	}
	if len(c.Points) == 0 {
		return nil, errors.New("analysis: compare: no sweep point has a result in both experiments in the same repeat")
	}
	// One Holm family per metric: each metric asks its own question (is B's
	// TTFT different?) over every point, as the selection's statistics ask
	// theirs over every point.
	raw := make([]float64, len(c.Points))
	for k := range metrics.All {
		for i := range c.Points {
			raw[i] = c.Points[i].Metrics[k].RawP
		}
		adj, err := stats.Holm(raw)
		if err != nil {
			return nil, err
		}
		for i := range c.Points {
			m := &c.Points[i].Metrics[k]
			m.P = adj[i]
			ps := PointSignificance{P: m.P, ScoreCI: m.CI}
			m.Verdict = verdict(&ps, opt)
		}
	}
	c.Compared = len(c.Points) * len(metrics.All)
	return c, nil
}

// comparePoint computes the ratios B/A at one point, before the Holm step.
func comparePoint(a, b *Table, pa, pb int, rb []int, opt SignificanceOptions) (PointComparison, error) {
	pc := PointComparison{Point: a.Points[pa]}
	nan2 := [2]float64{math.NaN(), math.NaN()}
	var logs [5][]float64
	for ra, rbi := range rb {
		if rbi < 0 {
			continue
		}
		ca, cb := &a.Cells[ra][pa], &b.Cells[rbi][pb]
		if !ca.Present || !cb.Present {
			continue
		}
		va, vb := ca.Summary.Values(), cb.Summary.Values()
		for k := range va {
			if !(va[k] > 0 && vb[k] > 0) || math.IsInf(va[k], 0) || math.IsInf(vb[k], 0) {
				return pc, fmt.Errorf("analysis: compare: point %s, %s: %s is %v in A and %v in B: %w",
					pc.Point, a.Repeats[ra], metrics.All[k].Key, va[k], vb[k], ErrNotPositive)
			}
			logs[k] = append(logs[k], math.Log(vb[k])-math.Log(va[k]))
		}
	}
	n := len(logs[0])
	for k := range pc.Metrics {
		pc.Metrics[k] = MetricComparison{Pairs: n, Ratio: math.NaN(), CI: nan2, RawP: math.NaN(), P: math.NaN(), Verdict: Same}
	}
	if n == 0 {
		return pc, nil
	}
	for k := range logs {
		m := &pc.Metrics[k]
		m.Ratio = math.Exp(stats.Mean(logs[k]))
		res, err := stats.SignFlip(logs[k], opt.Resamples, stats.NewPCG(opt.Seed, stream("compare-signflip-"+metrics.All[k].Key, pc.Point)))
		if err != nil {
			return pc, err
		}
		m.RawP = res.P
	}
	if n < 2 {
		return pc, nil
	}
	ivs, err := stats.BootstrapMeanCIs(logs[:], opt.Resamples, opt.Level, stats.BCa, stats.NewPCG(opt.Seed, stream("compare-ci", pc.Point)))
	if err != nil {
		return pc, err
	}
	for k := range ivs {
		pc.Metrics[k].CI = [2]float64{math.Exp(ivs[k].Lo), math.Exp(ivs[k].Hi)}
	}
	return pc, nil
}

// Counts returns how many point × metric comparisons have each verdict.
func (c *Comparison) Counts() map[Verdict]int {
	out := map[Verdict]int{}
	for _, p := range c.Points {
		for _, m := range p.Metrics {
			out[m.Verdict]++
		}
	}
	return out
}

// MetricComparisonJSON is one metric's comparison in `lab compare --json`;
// numbers that do not exist are null.
type MetricComparisonJSON struct {
	Metric  string      `json:"metric"`
	Pairs   int         `json:"pairs"`
	Ratio   *float64    `json:"ratio"`
	CI      *[2]float64 `json:"ratio_ci"`
	PValue  *float64    `json:"p_value"`
	Verdict Verdict     `json:"verdict"`
}

// PointComparisonJSON is one point's comparisons.
type PointComparisonJSON struct {
	Point   PointJSON              `json:"point"`
	Metrics []MetricComparisonJSON `json:"metrics"`
}

// ComparisonJSON is the stable JSON form of a Comparison.
type ComparisonJSON struct {
	Params   []string              `json:"params"`
	Repeats  []string              `json:"repeats"`
	Points   []PointComparisonJSON `json:"points"`
	OnlyA    []PointJSON           `json:"only_a"`
	OnlyB    []PointJSON           `json:"only_b"`
	Compared int                   `json:"compared"`
	Alpha    float64               `json:"alpha"`
	Margin   float64               `json:"margin"`
	Level    float64               `json:"level"`
	Seed     uint64                `json:"seed"`
}

// JSON returns the comparison's JSON form.
func (c *Comparison) JSON() ComparisonJSON {
	num := func(v float64) *float64 {
		if math.IsNaN(v) {
			return nil
		}
		return &v
	}
	out := ComparisonJSON{Params: c.Params, Repeats: c.Repeats, Compared: c.Compared, OnlyA: []PointJSON{}, OnlyB: []PointJSON{},
		Alpha: c.Options.Alpha, Margin: c.Options.Margin, Level: c.Options.Level, Seed: c.Options.Seed}
	for _, p := range c.OnlyA {
		out.OnlyA = append(out.OnlyA, PointJSON(p))
	}
	for _, p := range c.OnlyB {
		out.OnlyB = append(out.OnlyB, PointJSON(p))
	}
	for _, p := range c.Points {
		pj := PointComparisonJSON{Point: PointJSON(p.Point)}
		for k, m := range p.Metrics {
			mj := MetricComparisonJSON{Metric: metrics.All[k].Key, Pairs: m.Pairs, Ratio: num(m.Ratio), PValue: num(m.P), Verdict: m.Verdict}
			if !math.IsNaN(m.CI[0]) {
				ci := m.CI
				mj.CI = &ci
			}
			pj.Metrics = append(pj.Metrics, mj)
		}
		out.Points = append(out.Points, pj)
	}
	return out
}
