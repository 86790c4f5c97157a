package analysis

import (
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/schedlab/schedlab/lab/present"

	"github.com/schedlab/schedlab/lab/metrics"

	"github.com/schedlab/schedlab/lab/internal/stats"
)

// Defaults of SignificanceOptions.
const (
	DefaultAlpha  = 0.05 // family-wise level of the Holm-corrected tests
	DefaultMargin = 0.01 // practical margin: a change under 1% is "same"
	DefaultLevel  = 0.95 // confidence level of the ratio intervals
	DefaultPower  = 0.8  // power the repeats-needed estimate plans for
	// WinShown is the win probability from which a contender is named in
	// the conclusion (every value that wins in ≥ 5%).
	WinShown = 0.05
	// DefaultWinResamples is the number of repeat resamples behind the win
	// probabilities. Each re-runs the whole selection, so it is the costly
	// part; 2,000 puts the standard error of a 5% probability at 0.5
	// points and of 50% at 1.1 points — finer than the whole percents
	// printed.
	DefaultWinResamples = 2000
)

// SignificanceOptions configure Significance. Zero fields take the
// defaults above; Resamples 0 means stats.DefaultResamples (intervals and,
// beyond stats.MaxExactPairs pairs, the Monte Carlo sign-flip test),
// WinResamples 0 means DefaultWinResamples.
type SignificanceOptions struct {
	Alpha, Margin, Level, Power float64
	Resamples, WinResamples     int
	// Seed drives every resample; the same seed gives identical results.
	Seed uint64
}

func (o SignificanceOptions) withDefaults() (SignificanceOptions, error) {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Alpha, DefaultAlpha)
	def(&o.Margin, DefaultMargin)
	def(&o.Level, DefaultLevel)
	def(&o.Power, DefaultPower)
	switch {
	case !(o.Alpha > 0 && o.Alpha < 1):
		return o, fmt.Errorf("analysis: significance level %v, want a number in (0, 1)", o.Alpha)
	case !(o.Margin > 0 && o.Margin < 1):
		return o, fmt.Errorf("analysis: margin %v, want a fraction in (0, 1) such as 0.01", o.Margin)
	case !(o.Level > 0 && o.Level < 1):
		return o, fmt.Errorf("analysis: confidence level %v, want a number in (0, 1)", o.Level)
	case !(o.Power > 0 && o.Power < 1):
		return o, fmt.Errorf("analysis: power %v, want a number in (0, 1)", o.Power)
	case o.Resamples < 0 || o.WinResamples < 0:
		return o, fmt.Errorf("analysis: %d and %d resamples, want positive numbers (0: default)", o.Resamples, o.WinResamples)
	}
	if o.Resamples == 0 {
		o.Resamples = stats.DefaultResamples
	}
	if o.WinResamples == 0 {
		o.WinResamples = DefaultWinResamples
	}
	return o, nil
}

// ErrNotPositive is wrapped by Significance's error when a per-repeat score
// or metric ratio is not positive (weights of mixed signs, a metric that is
// 0): the statistics work on log-ratios, so there are none; the selection
// itself is still valid.
var ErrNotPositive = errors.New("ratios must be positive for the statistics (they use log-ratios)")

// Verdict is the practical outcome of one comparison with the baseline.
type Verdict string

// Verdicts. A point is Better (Worse) when its Holm-adjusted p ≤ α AND its
// whole score-ratio interval lies below 1−margin (above 1+margin) — the
// rule of Criterion's noise threshold: a significant change smaller than
// the margin is not worth acting on. Everything else is Same, which means
// "no significant, practically relevant difference", not "proven equal".
const (
	Better Verdict = "better"
	Worse  Verdict = "worse"
	Same   Verdict = "same"
)

// PointSignificance is one point's comparison with the baseline.
type PointSignificance struct {
	Point Point
	// Baseline marks the comparison baseline itself (ratio 1, p 1, Same).
	Baseline bool
	// Pairs is the number of repeats that have both this point and the
	// baseline: the paired observations every number below rests on.
	Pairs int
	// ScoreRatio is the geometric mean over the pairs of
	// score_r(point)/score_r(baseline), the per-repeat scores of the
	// selection; ScoreCI its BCa interval (bootstrap over the pairs). NaN
	// when Pairs is 0 (ratio) or < 2 (interval).
	ScoreRatio float64
	ScoreCI    [2]float64
	// MetricRatio and MetricCI are the same for each of the five summary
	// metrics (Ratios order): geometric means of metric(point)/metric(baseline).
	MetricRatio [5]float64
	MetricCI    [5][2]float64
	// RawP is the exact (or, beyond stats.MaxExactPairs pairs, Monte Carlo)
	// sign-flip p-value of the log score ratios; P is it Holm-adjusted over
	// every compared point. NaN when Pairs is 0.
	RawP, P float64
	Verdict Verdict
	// WinProbability is the share of bootstrap resamples of the repeats in
	// which this point has the selection's smallest aggregated score.
	WinProbability float64
	// logs are the per-pair log score ratios (for the power note).
	logs []float64
}

// Significance says whether the points of a Selection really differ from
// the baseline. Points is parallel to Selection.Rows.
type Significance struct {
	// Baseline is the point everything is compared with: the selection's
	// configured baseline if some repeat has it, else the smallest point
	// (the one every repeat falls back to when it has it).
	Baseline Point
	Options  SignificanceOptions
	Points   []PointSignificance
	// Compared is the number of points tested (the Holm family size).
	Compared int
	// Significant: the recommended point is Better than the baseline.
	Significant bool
	// Conclusion is the one-line verdict in benchstat style.
	Conclusion string
	// PowerNote says, when nothing is significant, whether the repeats
	// could have shown it and how many would be needed ("" otherwise).
	PowerNote string
	// Power is the estimate behind PowerNote (nil when there is none).
	Power *stats.Power
}

// Significance compares every point of s with the baseline, repeat by
// repeat (see the package stats documentation for the methods), and writes
// the conclusion.
//
// The tests and intervals use the per-repeat scores and ratios and so do not
// depend on the aggregation; the win probability does: each resample of
// the repeats is re-aggregated with s.Agg and re-scored with s.Weights,
// exactly as Select does.
func (s *Selection) Significance(opt SignificanceOptions) (*Significance, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	pts, err := s.compareAll(opt)
	if err != nil {
		return nil, err
	}
	return s.finish(pts, opt)
}

// SignificanceAll is Significance for every selection of one table (as
// SelectAll returns them). The paired tests and intervals depend only on
// the weights, not on the aggregation, so they are computed once per
// preset and shared; only the win probability is recomputed per
// selection. The results equal calling Significance on each.
func SignificanceAll(sels []*Selection, opt SignificanceOptions) ([]*Significance, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	out := make([]*Significance, len(sels))
	var prev *Selection
	var pts []PointSignificance
	for i, s := range sels {
		if prev == nil || !samePairs(prev, s) {
			if pts, err = s.compareAll(opt); err != nil {
				return nil, err
			}
			prev = s
		}
		if out[i], err = s.finish(slices.Clone(pts), opt); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// samePairs reports whether a and b have the same comparisons: same
// weights, baseline, points and per-repeat scores and ratios.
func samePairs(a, b *Selection) bool {
	if a.Weights != b.Weights || len(a.Rows) != len(b.Rows) || a.comparisonBaseline() != b.comparisonBaseline() {
		return false
	}
	for i := range a.Rows {
		ra, rb := &a.Rows[i], &b.Rows[i]
		if ra.Point.Compare(rb.Point) != 0 || !slices.Equal(ra.PerRepeat, rb.PerRepeat) {
			return false
		}
	}
	return true
}

// compareAll compares every row with the baseline, before Holm.
func (s *Selection) compareAll(opt SignificanceOptions) ([]PointSignificance, error) {
	b := s.comparisonBaseline()
	pts := make([]PointSignificance, len(s.Rows))
	err := forEach(len(s.Rows), func(i int) (err error) {
		pts[i], err = s.compare(i, b, opt)
		return err
	})
	if err != nil {
		return nil, err
	}
	return pts, nil
}

// finish adjusts the p-values, gives the verdicts, the win probabilities
// and the conclusion.
func (s *Selection) finish(pts []PointSignificance, opt SignificanceOptions) (*Significance, error) {
	b := s.comparisonBaseline()
	sig := &Significance{Baseline: s.Rows[b].Point, Options: opt, Points: pts}
	var tested []int
	var raw []float64
	for i, ps := range pts {
		if !ps.Baseline && ps.Pairs > 0 {
			tested = append(tested, i)
			raw = append(raw, ps.RawP)
		}
	}
	adj, err := stats.Holm(raw)
	if err != nil {
		return nil, err
	}
	sig.Compared = len(tested)
	for k, i := range tested {
		ps := &sig.Points[i]
		ps.P = adj[k]
		ps.Verdict = verdict(ps, opt)
	}
	win, err := s.winProbability(opt)
	if err != nil {
		return nil, err
	}
	for i := range sig.Points {
		sig.Points[i].WinProbability = win[i]
	}
	sig.conclude(s)
	return sig, nil
}

// comparisonBaseline returns the index in s.Rows of the comparison baseline.
func (s *Selection) comparisonBaseline() int {
	if s.Baseline != nil {
		for i, r := range s.Rows {
			if r.Point.Compare(s.Baseline) == 0 {
				return i
			}
		}
	}
	return 0
}

// stream derives the generator stream of one purpose at one point from
// their names, so a point's random numbers do not depend on which other
// points exist.
func stream(purpose string, p Point) uint64 {
	h := fnv.New64a()
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write([]byte(p.String()))
	return h.Sum64()
}

// compare computes row i against row b, before the Holm step.
func (s *Selection) compare(i, b int, opt SignificanceOptions) (PointSignificance, error) {
	row, base := &s.Rows[i], &s.Rows[b]
	nan2 := [2]float64{math.NaN(), math.NaN()}
	ps := PointSignificance{Point: row.Point, ScoreRatio: math.NaN(), ScoreCI: nan2, RawP: math.NaN(), P: math.NaN(), Verdict: Same}
	for k := range ps.MetricRatio {
		ps.MetricRatio[k], ps.MetricCI[k] = math.NaN(), nan2
	}
	if i == b {
		ps.Baseline = true
		ps.ScoreRatio, ps.ScoreCI, ps.RawP, ps.P = 1, [2]float64{1, 1}, 1, 1
		for k := range ps.MetricRatio {
			ps.MetricRatio[k], ps.MetricCI[k] = 1, [2]float64{1, 1}
		}
		for r := range base.PerRepeat {
			if base.PerRepeat[r].Present {
				ps.Pairs++
			}
		}
		return ps, nil
	}
	var metric [5][]float64
	for r := range row.PerRepeat {
		pr, pb := &row.PerRepeat[r], &base.PerRepeat[r]
		if !pr.Present || !pb.Present {
			continue
		}
		// Both present: this repeat's ratios are against the baseline, so
		// score_r(b) = Σw and metric ratios of b are 1; dividing keeps the
		// definition exact whatever the weights sum to.
		if pr.Score <= 0 || pb.Score <= 0 {
			return ps, fmt.Errorf("analysis: %s=%s, repeat %s: score %v against the baseline's %v: %w (check the weights)",
				s.Param, row.Point, s.Repeats[r], pr.Score, pb.Score, ErrNotPositive)
		}
		ps.logs = append(ps.logs, math.Log(pr.Score)-math.Log(pb.Score))
		vr, vb := pr.Ratios.Values(), pb.Ratios.Values()
		for k := range vr {
			if math.IsNaN(vr[k]) && math.IsNaN(vb[k]) {
				continue // a metric the source cannot observe: no ratio, no interval
			}
			if !(vr[k] > 0 && vb[k] > 0) || math.IsInf(vr[k], 0) {
				return ps, fmt.Errorf("analysis: %s=%s, repeat %s: %s ratio %v: %w",
					s.Param, row.Point, s.Repeats[r], metrics.All[k].Key, vr[k], ErrNotPositive)
			}
			metric[k] = append(metric[k], math.Log(vr[k])-math.Log(vb[k]))
		}
	}
	ps.Pairs = len(ps.logs)
	if ps.Pairs == 0 {
		return ps, nil
	}
	res, err := stats.SignFlip(ps.logs, opt.Resamples, stats.NewPCG(opt.Seed, stream("signflip", row.Point)))
	if err != nil {
		return ps, err
	}
	ps.RawP = res.P
	// One joint bootstrap over the pairs for the score and the five
	// metrics: every interval comes from the same resampled repeats.
	// Metrics without values (unobservable for the source) stay NaN and
	// are left out of the resampling; with all five present the samples are
	// the score's then the five metrics', as they always were.
	samples := [][]float64{ps.logs}
	var sampled []int
	ps.ScoreRatio = math.Exp(stats.Mean(ps.logs))
	for k := range metric {
		if len(metric[k]) == 0 {
			continue
		}
		ps.MetricRatio[k] = math.Exp(stats.Mean(metric[k]))
		samples = append(samples, metric[k])
		sampled = append(sampled, k)
	}
	if ps.Pairs < 2 {
		return ps, nil // one pair: no interval
	}
	ivs, err := stats.BootstrapMeanCIs(samples, opt.Resamples, opt.Level, stats.BCa, stats.NewPCG(opt.Seed, stream("ci", row.Point)))
	if err != nil {
		return ps, err
	}
	ps.ScoreCI = [2]float64{math.Exp(ivs[0].Lo), math.Exp(ivs[0].Hi)}
	for j, k := range sampled {
		ps.MetricCI[k] = [2]float64{math.Exp(ivs[j+1].Lo), math.Exp(ivs[j+1].Hi)}
	}
	return ps, nil
}

func verdict(ps *PointSignificance, opt SignificanceOptions) Verdict {
	if !(ps.P <= opt.Alpha) || math.IsNaN(ps.ScoreCI[0]) {
		return Same
	}
	switch {
	case ps.ScoreCI[1] < 1-opt.Margin:
		return Better
	case ps.ScoreCI[0] > 1+opt.Margin:
		return Worse
	}
	return Same
}

// winProbability resamples whole repeats and re-runs the selection's
// aggregation and score on them (stats.WinProbability), giving the same
// numbers as Select on the resampled table. Each resample is turned into
// per-repeat counts; a point's sorted multiset of ratios is then built by
// walking its repeats in presorted order (no sort per resample), and mean
// adds in draw order, as Select adds in repeat order.
func (s *Selection) winProbability(opt SignificanceOptions) ([]float64, error) {
	orderAggregate, err := countedAggregator(s.Agg)
	if err != nil {
		return nil, err
	}
	mean := s.Agg == "mean"
	// For row j and metric k: the repeats having the row, in repeat order
	// (reps) and sorted by the metric's ratio (sorted, with their values in
	// vals) — flat slices, so the per-resample loop is a tight walk.
	type column struct {
		reps, sorted []int
		vals         []float64 // the ratio of each repeat in sorted
		byRep        []float64 // the ratio of each repeat in reps
	}
	cols := make([][5]column, len(s.Rows))
	for j := range s.Rows {
		per := s.Rows[j].PerRepeat
		var reps []int
		for r := range per {
			if per[r].Present {
				reps = append(reps, r)
			}
		}
		for k := range cols[j] {
			val := func(r int) float64 { return per[r].Ratios.Values()[k] }
			sorted := slices.Clone(reps)
			slices.SortStableFunc(sorted, func(a, b int) int { return cmp.Compare(val(a), val(b)) })
			c := column{reps: reps, sorted: sorted, vals: make([]float64, len(sorted)), byRep: make([]float64, len(s.Repeats))}
			for i, r := range sorted {
				c.vals[i] = val(r)
			}
			for _, r := range reps {
				c.byRep[r] = val(r)
			}
			cols[j][k] = c
		}
	}
	counts := make([]int, len(s.Repeats))
	present := make([][]bool, len(s.Rows))
	for j := range s.Rows {
		present[j] = make([]bool, len(s.Repeats))
		for _, r := range cols[j][0].reps {
			present[j][r] = true
		}
	}
	var buf []float64
	var n int
	score := func(idx []int, out []float64) {
		clear(counts)
		for _, r := range idx {
			counts[r]++
		}
		for j := range s.Rows {
			var a [5]float64
			for k := range a {
				c := &cols[j][k]
				if mean {
					buf = buf[:0]
					for _, r := range idx {
						if present[j][r] {
							buf = append(buf, c.byRep[r])
						}
					}
					n = len(buf)
					if n > 0 {
						a[k] = Mean(buf)
					}
				} else {
					n = 0
					for _, r := range c.reps {
						n += counts[r]
					}
					if n > 0 {
						a[k] = orderAggregate(c.sorted, c.vals, counts, n)
					}
				}
				if n == 0 {
					break
				}
			}
			if n == 0 {
				continue // out[j] stays NaN: the resample lacks this point
			}
			out[j] = Score(s.Weights, ratiosOf(a))
		}
	}
	return stats.WinProbability(len(s.Repeats), len(s.Rows), opt.WinResamples,
		stats.NewPCG(opt.Seed, stream("win/"+s.Agg, nil)), score)
}

// countedAggregator is aggregator for a multiset given as distinct
// entries in ascending order (vals[i] belongs to repeat sorted[i], drawn
// counts[sorted[i]] times; n draws in all). It finds the order statistics
// by walking the cumulative counts instead of materializing and sorting
// the multiset, then combines them with the very expressions of Median and
// Percentile, so it returns the same bits as aggregator on the expanded
// values (TestCountedAggregator). Mean, which depends on summation order,
// is not handled here.
func countedAggregator(name string) (func(sorted []int, vals []float64, counts []int, n int) float64, error) {
	// at returns the i-th smallest of the multiset (0-based).
	at := func(sorted []int, vals []float64, counts []int, i int) float64 {
		for j, r := range sorted {
			i -= counts[r]
			if i < 0 {
				return vals[j]
			}
		}
		return vals[len(vals)-1]
	}
	switch name {
	case "mean":
		return nil, nil
	case "median":
		return func(sorted []int, vals []float64, counts []int, n int) float64 {
			if n%2 == 1 {
				return at(sorted, vals, counts, n/2)
			}
			return (at(sorted, vals, counts, n/2-1) + at(sorted, vals, counts, n/2)) / 2
		}, nil
	case "p90":
		return func(sorted []int, vals []float64, counts []int, n int) float64 {
			i, frac, last := quantileIndex(n, 0.9)
			if last {
				return at(sorted, vals, counts, n-1)
			}
			return lerp(at(sorted, vals, counts, i), at(sorted, vals, counts, i+1), frac)
		}, nil
	case "max":
		return func(sorted []int, vals []float64, counts []int, n int) float64 {
			return at(sorted, vals, counts, n-1)
		}, nil
	}
	_, err := aggregator(name)
	return nil, err
}

// Values lists the ratios in the order of metrics.All.
func (r Ratios) Values() [5]float64 {
	return [5]float64{r.Request, r.RequestExecNorm, r.Prefill, r.PrefillExecNorm, r.Decode}
}

// conclude writes Significant, Conclusion and PowerNote.
func (sig *Significance) conclude(s *Selection) {
	opt := sig.Options
	best := &sig.Points[s.Best]
	sig.Significant = best.Verdict == Better
	var others []Point // significantly better points that are not the choice
	for i := range sig.Points {
		if i != s.Best && sig.Points[i].Verdict == Better {
			others = append(others, sig.Points[i].Point)
		}
	}
	// bestDetail is the choice's numbers, with why a significant p did not
	// make it "better": its interval is not wholly beyond the margin.
	bestDetail := func() string {
		d := sig.describe(best)
		if best.P <= opt.Alpha && best.Verdict == Same {
			d += fmt.Sprintf(", not clearly beyond the %s margin", present.Percent(opt.Margin))
		}
		return d + fmt.Sprintf(", best in %s of resamples", present.WholePercent(best.WinProbability))
	}
	var b strings.Builder
	switch {
	case sig.Significant:
		fmt.Fprintf(&b, "%s: %s, best in %s of resamples", s.pointName(best.Point), sig.describe(best), present.WholePercent(best.WinProbability))
		if len(others) > 0 {
			fmt.Fprintf(&b, "; also significantly better: %s", s.pointList(others))
		}
	case len(others) > 0:
		// The lowest score is noise, yet other points do beat the baseline:
		// "nothing beats it; keep it" would contradict them.
		fmt.Fprintf(&b, "%s has the lowest score but does not beat %s significantly (%s); significantly better than %s: %s",
			s.pointName(best.Point), sig.Baseline, bestDetail(), sig.Baseline, s.pointList(others))
	default:
		if len(s.Params) > 1 {
			fmt.Fprintf(&b, "no other point beats %s significantly; keep it", s.pointName(sig.Baseline))
		} else {
			fmt.Fprintf(&b, "no other %s beats %s significantly; keep %s", s.Param, sig.Baseline, sig.Baseline)
		}
		if !best.Baseline {
			fmt.Fprintf(&b, " (lowest score: %s, %s)", s.pointName(best.Point), bestDetail())
		}
	}
	var contenders []string
	for i := range sig.Points {
		if i != s.Best && sig.Points[i].WinProbability >= WinShown {
			contenders = append(contenders, fmt.Sprintf("%s (%s)", present.PointValue(sig.Points[i].Point), present.WholePercent(sig.Points[i].WinProbability)))
		}
	}
	if len(contenders) > 0 {
		fmt.Fprintf(&b, "; also best in ≥ %s of resamples: %s", present.WholePercent(WinShown), strings.Join(contenders, ", "))
	}
	sig.Conclusion = b.String()
	if !sig.Significant {
		sig.powerNote(s)
	}
}

// pointName names a point in sentences (present.PointName).
func (s *Selection) pointName(p Point) string { return present.PointName(s.Params, p) }

// pointList is "min_chunk_threshold = 4, 8" (present.PointList).
func (s *Selection) pointList(ps []Point) string {
	vals := make([][]float64, len(ps))
	for i, p := range ps {
		vals[i] = p
	}
	return present.PointList(s.Params, vals)
}

// describe is "score −3.1% [−4.0%, −2.2%] vs 0, p = 0.004 (Holm)".
func (sig *Significance) describe(ps *PointSignificance) string {
	var b strings.Builder
	b.WriteString("score ")
	if math.IsNaN(ps.ScoreRatio) {
		b.WriteString("not comparable (no repeat has both)")
		fmt.Fprintf(&b, " vs %s", sig.Baseline)
		return b.String()
	}
	d := present.ChangeDigits(ps.ScoreRatio, ps.ScoreCI[0], ps.ScoreCI[1])
	b.WriteString(present.ChangeN(ps.ScoreRatio, d))
	if !math.IsNaN(ps.ScoreCI[0]) {
		fmt.Fprintf(&b, " [%s, %s]", present.ChangeN(ps.ScoreCI[0], d), present.ChangeN(ps.ScoreCI[1], d))
	}
	fmt.Fprintf(&b, " vs %s, p = %s (Holm)", sig.Baseline, present.PValue(ps.P))
	return b.String()
}

// powerNote explains a non-significant result: whether the exact test
// could have reached α at all with this many pairs, and how many repeats
// the observed effect would need.
func (sig *Significance) powerNote(s *Selection) {
	opt := sig.Options
	switch {
	case len(s.Rows) == 1:
		sig.PowerNote = fmt.Sprintf("only %s has results: nothing to compare", s.pointName(sig.Baseline))
		return
	case sig.Compared == 0:
		sig.PowerNote = fmt.Sprintf("no other %s shares a repeat with %s: nothing to compare", s.Param, sig.Baseline)
		return
	}
	// The note is about the recommended point, or, when that is the
	// baseline, the point closest to significance.
	focus := &sig.Points[s.Best]
	if focus.Baseline || focus.Pairs == 0 {
		focus = nil
		for i := range sig.Points {
			ps := &sig.Points[i]
			if !ps.Baseline && ps.Pairs > 0 && (focus == nil || ps.RawP < focus.RawP) {
				focus = ps
			}
		}
	}
	// Holm tests the most significant point at α/m.
	level := opt.Alpha / float64(sig.Compared)
	pw, err := stats.RepeatsNeeded(focus.logs, level, opt.Power)
	if err != nil {
		return // logs are finite and the levels valid: cannot happen
	}
	sig.Power = &pw
	var notes []string
	if focus.Pairs < pw.ExactFloor {
		pairs := "pairs"
		if focus.Pairs == 1 {
			pairs = "pair"
		}
		n := fmt.Sprintf("with %d %s the exact sign-flip test cannot go below p = %s (two-sided)", focus.Pairs, pairs,
			strconv.FormatFloat(stats.MinP(focus.Pairs), 'g', -1, 64)) // exact: 0.125, not a rounded 0.12 that is below the floor
		if sig.Compared > 1 {
			n += fmt.Sprintf("; Holm over %d comparisons needs ≥ %d repeats to reach p ≤ %s", sig.Compared, pw.ExactFloor, strconv.FormatFloat(opt.Alpha, 'g', -1, 64))
		} else {
			n += fmt.Sprintf("; reaching p ≤ %s needs ≥ %d repeats", strconv.FormatFloat(opt.Alpha, 'g', -1, 64), pw.ExactFloor)
		}
		notes = append(notes, n)
	}
	effect := math.Exp(pw.Mean)
	switch {
	case !pw.Estimable:
	case math.Abs(effect-1) < opt.Margin:
		notes = append(notes, fmt.Sprintf("the observed %s for %s is within the %s margin: more repeats would not make it a practical difference",
			present.Change(effect), s.pointName(focus.Point), present.Percent(opt.Margin)))
	case pw.Needed > focus.Pairs:
		need := fmt.Sprintf("about %d", pw.Needed)
		if pw.Capped {
			need = fmt.Sprintf("more than %d", pw.Needed)
		}
		notes = append(notes, fmt.Sprintf("detecting the observed %s (sd %s%% per repeat) for %s with %.0f%% power needs %s repeats",
			present.Change(effect), strconv.FormatFloat(100*pw.SD, 'g', 2, 64), s.pointName(focus.Point), 100*opt.Power, need))
	}
	sig.PowerNote = strings.Join(notes, "; ")
}

// RowJSON are the statistics fields of one point's object in `lab select
// --json`. Embed it as an anonymous field of the row object so its fields
// sit inline next to "score". Numbers that do not exist (no repeat with
// both the point and the baseline; an interval from fewer than 2 pairs)
// are null, never NaN.
type RowJSON struct {
	// ScoreRatio is the geometric mean of the paired per-repeat score
	// ratios against the baseline.
	ScoreRatio   *float64    `json:"score_ratio"`
	ScoreRatioCI *[2]float64 `json:"score_ratio_ci"`
	// PValue is Holm-adjusted.
	PValue         *float64 `json:"p_value"`
	Verdict        Verdict  `json:"verdict"`
	WinProbability float64  `json:"win_probability"`
	// RatioCI has the interval of each metric's ratio, keyed by the metric
	// ("request", "request_exec_norm", "prefill", "prefill_exec_norm",
	// "decode"; encoding/json sorts the keys).
	RatioCI map[string]*[2]float64 `json:"ratio_ci"`
	// Pairs is the number of repeats the comparison rests on.
	Pairs int `json:"pairs"`
}

// SummaryJSON are the statistics' top-level fields of a selection object.
type SummaryJSON struct {
	Conclusion  string `json:"conclusion"`
	Significant bool   `json:"significant"`
	// PowerNote is the advice on repeats when nothing is significant.
	PowerNote string `json:"power_note,omitempty"`
}

// RowJSON returns the JSON fields of Points[i] (Selection.Rows[i]).
func (sig *Significance) RowJSON(i int) RowJSON {
	ps := &sig.Points[i]
	num := func(v float64) *float64 {
		if math.IsNaN(v) {
			return nil
		}
		return &v
	}
	iv := func(v [2]float64) *[2]float64 {
		if math.IsNaN(v[0]) || math.IsNaN(v[1]) {
			return nil
		}
		return &v
	}
	r := RowJSON{
		ScoreRatio: num(ps.ScoreRatio), ScoreRatioCI: iv(ps.ScoreCI), PValue: num(ps.P),
		Verdict: ps.Verdict, WinProbability: ps.WinProbability, Pairs: ps.Pairs,
		RatioCI: make(map[string]*[2]float64, len(metrics.All)),
	}
	for k, m := range metrics.All {
		r.RatioCI[m.Key] = iv(ps.MetricCI[k])
	}
	return r
}

// SummaryJSON returns the top-level JSON fields.
func (sig *Significance) SummaryJSON() SummaryJSON {
	return SummaryJSON{Conclusion: sig.Conclusion, Significant: sig.Significant, PowerNote: sig.PowerNote}
}

// Robustness says in one sentence whether the lowest score's point (the
// old script's choice, not the decision) changes across the
// given selections (every preset × aggregation of SelectAll). It is "" for
// fewer than two selections.
func Robustness(sels []*Selection) string {
	if len(sels) < 2 {
		return ""
	}
	var order []Point
	where := map[string][]string{}
	for _, s := range sels {
		p := s.Recommended()
		if _, ok := where[p.String()]; !ok {
			order = append(order, p)
		}
		where[p.String()] = append(where[p.String()], s.Preset+"/"+s.Agg)
	}
	param := sels[0].Param
	if len(sels[0].Params) > 1 {
		param = "(" + strings.Join(sels[0].Params, ", ") + ")"
	}
	if len(order) == 1 {
		return fmt.Sprintf("the lowest score is at %s under all %d preset × aggregation combinations", sels[0].pointName(order[0]), len(sels))
	}
	parts := make([]string, len(order))
	for i, p := range order {
		parts[i] = fmt.Sprintf("%s under %s", present.PointValue(p), strings.Join(where[p.String()], ", "))
	}
	return fmt.Sprintf("the %s of the lowest score changes across presets × aggregations: %s", param, strings.Join(parts, "; "))
}

// AddSignificance adds the statistics fields to a selection's JSON (sig must
// come from the same selection: its points are the rows).
func (j *SelectionJSON) AddSignificance(sig *Significance) {
	sum := sig.SummaryJSON()
	j.SummaryJSON = &sum
	for i := range j.Thresholds {
		r := sig.RowJSON(i)
		j.Thresholds[i].RowJSON = &r
	}
}

// WriteSignificance prints, after the selection table, each point against
// the baseline (pairs, score ratio with its interval, Holm p, verdict, win
// probability), then the score-only conclusion ("score alone:", which
// Decide may overrule with a guard) and the power note.
func WriteSignificance(w io.Writer, s *Selection, sig *Significance) error {
	o := sig.Options
	if _, err := fmt.Fprintf(w, "vs %s, paired by repeat: sign-flip test with Holm correction, %s BCa intervals (%d resamples), margin %s, best in %d resamples, seed %d; * the old script's lowest score\n",
		s.pointName(sig.Baseline), present.Percent(o.Level), o.Resamples, present.Percent(o.Margin), o.WinResamples, o.Seed); err != nil {
		return err
	}
	cols := [][]string{{s.Param}, {"pairs"}, {"Δscore"}, {present.Percent(o.Level) + " CI"}, {"p (Holm)"}, {"verdict"}, {"best in"}}
	for i, ps := range sig.Points {
		ci, p, ratio := "–", "–", "–"
		if !math.IsNaN(ps.ScoreCI[0]) {
			d := present.ChangeDigits(ps.ScoreRatio, ps.ScoreCI[0], ps.ScoreCI[1])
			ci = "[" + present.ChangeN(ps.ScoreCI[0], d) + ", " + present.ChangeN(ps.ScoreCI[1], d) + "]"
		}
		if !math.IsNaN(ps.P) {
			p = present.PValue(ps.P)
		}
		if !math.IsNaN(ps.ScoreRatio) {
			ratio = present.ChangeN(ps.ScoreRatio, present.ChangeDigits(ps.ScoreRatio, ps.ScoreCI[0], ps.ScoreCI[1]))
		}
		v := string(ps.Verdict)
		if ps.Baseline {
			v, p = "baseline", "–"
		}
		if i == s.Best {
			v += " *"
		}
		for c, cell := range []string{ps.Point.String(), strconv.Itoa(ps.Pairs), ratio, ci, p, v, present.WholePercent(ps.WinProbability)} {
			cols[c] = append(cols[c], cell)
		}
	}
	if err := present.WriteColumns(w, cols, "  "); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "score alone: %s\n", sig.Conclusion); err != nil {
		return err
	}
	if sig.PowerNote != "" {
		if _, err := fmt.Fprintf(w, "power: %s\n", sig.PowerNote); err != nil {
			return err
		}
	}
	return nil
}
