package analysis

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/schedlab/schedlab/lab/metrics"

	"github.com/schedlab/schedlab/lab/spec"
)

// Aggregations are the ways ratios are combined across repeats, in the
// order they are reported: mean (the old script's default), median (robust
// to one odd run), p90 and max (conservative: a point must not regress much
// even in its bad runs).
var Aggregations = []string{"mean", "median", "p90", "max"}

// Options configure one selection.
type Options struct {
	// Baseline is the point ratios are taken against. A repeat that lacks it
	// uses its own smallest point instead (the old script's fallback); nil
	// means the smallest point of each repeat.
	Baseline Point
	Weights  spec.Weights
	// Agg is one of Aggregations; "" means mean.
	Agg string
	// Preset names the weights (carried into the Selection for output).
	Preset string
}

// Ratios are a point's five summary numbers divided by the baseline's.
type Ratios struct {
	Request         float64 `json:"request_ratio"`
	RequestExecNorm float64 `json:"request_exec_norm_ratio"`
	Prefill         float64 `json:"prefill_ratio"`
	PrefillExecNorm float64 `json:"prefill_exec_norm_ratio"`
	Decode          float64 `json:"decode_ratio"`
}

// Score is the weighted sum of the old script's score, added in the old script's
// order. The conversions keep each product rounded on its own (no fused
// multiply-add), as Python computes it.
//
// A term whose weight is 0 adds nothing, even when its ratio is NaN (a
// metric the source cannot observe): for finite ratios skipping it gives the
// same sum bit for bit, since x + 0 = x.
func Score(w spec.Weights, r Ratios) float64 {
	term := func(w, r float64) float64 {
		if w == 0 {
			return 0
		}
		return float64(w * r)
	}
	return term(w.Request, r.Request) + term(w.Prefill, r.Prefill) +
		term(w.PrefillExecNorm, r.PrefillExecNorm) + term(w.RequestExecNorm, r.RequestExecNorm) +
		term(w.Decode, r.Decode)
}

// weightValues are w's weights in metrics.All order.
func weightValues(w spec.Weights) [5]float64 {
	return [5]float64{w.Request, w.RequestExecNorm, w.Prefill, w.PrefillExecNorm, w.Decode}
}

// checkAvailable rejects weights on a metric that a present cell lacks
// because its source cannot observe it.
func checkAvailable(t *Table, opt Options) error {
	ws := weightValues(opt.Weights)
	for r, row := range t.Cells {
		for p := range row {
			c := &row[p]
			if !c.Present || len(c.Summary.Unavailable) == 0 {
				continue
			}
			for i, m := range metrics.All {
				if ws[i] != 0 && !c.Summary.Has(m.File) {
					return fmt.Errorf("%s: the weights give %s %v, but this source cannot observe %s (run_summary.json, %s=%s, repeat %s): set its weight to 0",
						c.Dir, m.Label(), ws[i], m.File, t.Param, t.Points[p], t.Repeats[r])
				}
			}
		}
	}
	return nil
}

// Selection is the outcome of Select: every point's aggregated ratios and
// score, the per-repeat numbers behind them, and the choice.
type Selection struct {
	Preset  string
	Param   string
	Params  []string
	Agg     string
	Weights spec.Weights
	// Baseline is the configured baseline (nil: each repeat's smallest).
	Baseline Point
	// Repeats are the table's repeats; RepeatBaselines[r] is the point each
	// repeat's ratios are taken against (nil for a repeat without results).
	Repeats         []string
	RepeatBaselines []Point
	// FellBack names the repeats that lack the configured baseline and so
	// used their smallest point.
	FellBack []string
	// Runs is the number of repeats that have at least one result.
	Runs int
	// Rows are the points that have results in at least one repeat, sorted.
	Rows []Row
	// Best indexes Rows: the smallest score, ties to the smallest point.
	Best int
}

// Recommended is the chosen point.
func (s *Selection) Recommended() Point { return s.Rows[s.Best].Point }

// Row is one point of a selection.
type Row struct {
	Point Point
	// Runs is the number of repeats the aggregate is over.
	Runs int
	// Ratios are aggregated across those repeats with Selection.Agg.
	Ratios Ratios
	// Score is Score(weights, Ratios).
	Score float64
	// PerRepeat has one entry per Selection.Repeats: that repeat's own
	// ratios and score (Present false where the repeat lacks the point).
	// Statistics pair them across points.
	PerRepeat []RepeatRatios
}

// RepeatRatios are one repeat's ratios at one point.
type RepeatRatios struct {
	Present bool
	Ratios  Ratios
	Score   float64
}

// Select scores every point of t: per-repeat ratios to the baseline, aggregated across repeats, scored, and the lowest score chosen.
func Select(t *Table, opt Options) (*Selection, error) {
	agg := opt.Agg
	if agg == "" {
		agg = "mean"
	}
	aggregate, err := aggregator(agg)
	if err != nil {
		return nil, err
	}
	if err := checkAvailable(t, opt); err != nil {
		return nil, err
	}
	s := &Selection{
		Preset: opt.Preset, Param: t.Param, Params: t.Params, Agg: agg, Weights: opt.Weights,
		Baseline: opt.Baseline, Repeats: t.Repeats, RepeatBaselines: make([]Point, len(t.Repeats)),
	}
	bIdx := -1
	if opt.Baseline != nil {
		bIdx = t.PointIndex(opt.Baseline)
	}
	// ratios[r][p]: repeat r's ratios at point p (valid where present).
	ratios := make([][][5]float64, len(t.Repeats))
	for r, row := range t.Cells {
		b := -1
		if bIdx >= 0 && row[bIdx].Present {
			b = bIdx
		} else {
			for p := range row {
				if row[p].Present {
					b = p
					break
				}
			}
			if b >= 0 && opt.Baseline != nil {
				s.FellBack = append(s.FellBack, t.Repeats[r])
			}
		}
		if b < 0 {
			continue
		}
		s.Runs++
		s.RepeatBaselines[r] = t.Points[b]
		base := row[b].Summary.Values()
		for i, v := range base {
			if v == 0 { // NaN (unavailable) is not 0: its ratios stay NaN
				m := metrics.All[i]
				return nil, fmt.Errorf("%s: %s of the baseline (%s=%s, repeat %s) is 0: ratios against it are undefined",
					row[b].file(m.File), m.Label(), t.Param, t.Points[b], t.Repeats[r])
			}
		}
		ratios[r] = make([][5]float64, len(row))
		for p := range row {
			if !row[p].Present {
				continue
			}
			v := row[p].Summary.Values()
			for i := range v {
				ratios[r][p][i] = v[i] / base[i]
			}
		}
	}
	col := make([][]float64, 5)
	for p, pt := range t.Points {
		for i := range col {
			col[i] = col[i][:0]
		}
		per := make([]RepeatRatios, len(t.Repeats))
		n := 0
		for r := range t.Repeats {
			if ratios[r] == nil || !t.Cells[r][p].Present {
				continue
			}
			n++
			v := ratios[r][p]
			for i := range v {
				col[i] = append(col[i], v[i])
			}
			rr := ratiosOf(v)
			per[r] = RepeatRatios{Present: true, Ratios: rr, Score: Score(opt.Weights, rr)}
		}
		if n == 0 {
			continue
		}
		var a [5]float64
		for i := range col {
			a[i] = aggregate(col[i])
		}
		rr := ratiosOf(a)
		s.Rows = append(s.Rows, Row{Point: pt, Runs: n, Ratios: rr, Score: Score(opt.Weights, rr), PerRepeat: per})
	}
	if len(s.Rows) == 0 {
		return nil, errors.New("analysis: no point has all five metrics in any repeat")
	}
	for i, row := range s.Rows {
		if math.IsNaN(row.Score) || math.IsInf(row.Score, 0) {
			return nil, fmt.Errorf("analysis: score of %s=%s is %v (check the weights)", t.Param, row.Point, row.Score)
		}
		if row.Score < s.Rows[s.Best].Score {
			s.Best = i
		}
	}
	return s, nil
}

func ratiosOf(v [5]float64) Ratios {
	return Ratios{Request: v[0], RequestExecNorm: v[1], Prefill: v[2], PrefillExecNorm: v[3], Decode: v[4]}
}

// aggregator returns the numpy-exact aggregation of per-repeat ratios
// (given in repeat order; may be reordered).
func aggregator(name string) (func([]float64) float64, error) {
	switch name {
	case "mean":
		return Mean, nil
	case "median":
		return func(xs []float64) float64 { slices.Sort(xs); return Median(xs) }, nil
	case "p90":
		return func(xs []float64) float64 { slices.Sort(xs); return Percentile(xs, 0.9) }, nil
	case "max":
		return func(xs []float64) float64 { return slices.Max(xs) }, nil
	}
	return nil, fmt.Errorf("analysis: unknown aggregation %q (want mean, median, p90 or max)", name)
}

// SelectAll runs Select for every preset under every aggregation, preset by
// preset in the given order, aggregations in the order of Aggregations.
func SelectAll(t *Table, presets []spec.Preset, baseline Point) ([]*Selection, error) {
	var out []*Selection
	for _, p := range presets {
		for _, agg := range Aggregations {
			s, err := Select(t, Options{Baseline: baseline, Weights: p.Weights, Agg: agg, Preset: p.Name})
			if err != nil {
				return nil, fmt.Errorf("preset %s, %s: %w", p.Name, agg, err)
			}
			out = append(out, s)
		}
	}
	return out, nil
}
