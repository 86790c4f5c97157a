package stats

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"gonum.org/v1/gonum/stat/distuv"
)

// Method names a bootstrap interval construction.
type Method string

const (
	// BCa is the bias-corrected and accelerated interval (Efron &
	// Tibshirani 1993, §14.3): percentile levels shifted by the bootstrap
	// bias z0 and the jackknife acceleration a. schedlab's default.
	BCa Method = "bca"
	// Percentile takes the bootstrap distribution's quantiles as they are.
	Percentile Method = "percentile"
)

// DefaultResamples is the bootstrap size used when a caller asks for 0.
// 10,000 keeps the Monte Carlo error of a 95% interval's ends well below
// the spread of the data for the small n schedlab sees, and costs
// milliseconds.
const DefaultResamples = 10000

// Interval is a point estimate with a confidence interval.
type Interval struct {
	Point, Lo, Hi float64
}

// Mean is the arithmetic mean; with log-ratios as input, exp(Mean) is the
// geometric mean of the ratios.
func Mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// BootstrapCI resamples x with replacement (resamples times; 0 means
// DefaultResamples), evaluates stat on each resample and returns the
// two-sided interval at level (e.g. 0.95) built by method. stat may reorder
// the slice it is given but must not keep it. Quantiles of the bootstrap
// distribution interpolate linearly at position (B−1)·q, as the selection's percentiles do
// for percentiles.
//
// For BCa, z0 = Φ⁻¹(share of bootstrap values below stat(x), ties counting
// half — resamples are discrete, and with few repeats many equal stat(x)),
// with the share clamped to [1/(2B), 1−1/(2B)] so z0 stays finite; the
// acceleration a comes from the jackknife and is 0 when all jackknife values
// agree. x needs at least 2 values: one repeat says nothing about spread.
func BootstrapCI(x []float64, stat func([]float64) float64, resamples int, level float64, method Method, rng *PCG) (Interval, error) {
	iv, err := BootstrapCIs([][]float64{x}, stat, resamples, level, method, rng)
	if err != nil {
		return Interval{}, err
	}
	return iv[0], nil
}

// BootstrapCIs is BootstrapCI for several paired samples of equal length —
// e.g. the log-ratios of the score and of each metric over the same
// repeats: every resample draws one set of indices and applies it to all
// samples, so the intervals come from the same resampled repeats (and the
// generator is drawn from once, not once per sample).
func BootstrapCIs(xs [][]float64, stat func([]float64) float64, resamples int, level float64, method Method, rng *PCG) ([]Interval, error) {
	return bootstrapCIs(xs, stat, false, resamples, level, method, rng)
}

// BootstrapMeanCI is BootstrapCI(x, Mean, …), and BootstrapMeanCIs
// BootstrapCIs(xs, Mean, …), with the same numbers: each resample's mean
// is summed straight from the drawn indices, in draw order as Mean would,
// without copying the resample and calling a statistic (the selection's
// statistics draw millions of small resamples, all of means).
func BootstrapMeanCI(x []float64, resamples int, level float64, method Method, rng *PCG) (Interval, error) {
	iv, err := bootstrapCIs([][]float64{x}, Mean, true, resamples, level, method, rng)
	if err != nil {
		return Interval{}, err
	}
	return iv[0], nil
}

// BootstrapMeanCIs: see BootstrapMeanCI.
func BootstrapMeanCIs(xs [][]float64, resamples int, level float64, method Method, rng *PCG) ([]Interval, error) {
	return bootstrapCIs(xs, Mean, true, resamples, level, method, rng)
}

// bootstrapCIs is BootstrapCIs; mean says that stat is Mean.
func bootstrapCIs(xs [][]float64, stat func([]float64) float64, mean bool, resamples int, level float64, method Method, rng *PCG) ([]Interval, error) {
	if len(xs) == 0 {
		return nil, nil
	}
	n := len(xs[0])
	if n < 2 {
		return nil, fmt.Errorf("stats: bootstrap interval needs at least 2 values, got %d", n)
	}
	if !(level > 0 && level < 1) {
		return nil, fmt.Errorf("stats: bootstrap confidence level %v, want a number in (0, 1)", level)
	}
	if method != BCa && method != Percentile {
		return nil, fmt.Errorf("stats: unknown bootstrap method %q, want %q or %q", method, BCa, Percentile)
	}
	if rng == nil {
		return nil, errors.New("stats: bootstrap needs a random generator")
	}
	for j, x := range xs {
		if len(x) != n {
			return nil, fmt.Errorf("stats: bootstrap: sample %d has %d values, sample 0 has %d; paired samples need equal lengths", j, len(x), n)
		}
		for i, v := range x {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("stats: bootstrap: value %d of sample %d is %v, want a finite number", i, j, v)
			}
		}
	}
	if resamples <= 0 {
		resamples = DefaultResamples
	}
	if uint64(n) > math.MaxUint32 {
		return nil, fmt.Errorf("stats: bootstrap of %d values: at most %d can be resampled", n, uint32(math.MaxUint32))
	}
	buf := make([]float64, n)
	// The bootstrap values of all samples, in one buffer kept between
	// calls: the selection asks for thousands of intervals, and a fresh
	// 80 KB per sample and call kept the collector busy.
	pooled := bootPool.Get().(*[]float64)
	defer bootPool.Put(pooled)
	if cap(*pooled) < len(xs)*resamples {
		*pooled = make([]float64, len(xs)*resamples)
	}
	all := (*pooled)[:len(xs)*resamples]
	boot := make([][]float64, len(xs))
	for j := range boot {
		boot[j] = all[j*resamples : (j+1)*resamples]
	}
	// Indices are drawn for many resamples at a time (the generator's
	// state stays in registers while it draws).
	per := max(1, 4096/n)
	idx := make([]uint32, per*n)
	for b0 := 0; b0 < resamples; b0 += per {
		batch := min(per, resamples-b0)
		rng.Indices(idx[:batch*n], uint32(n))
		for bi := range batch {
			b, drawn := b0+bi, idx[bi*n:(bi+1)*n]
			for j, x := range xs {
				if mean {
					var sum float64
					for _, k := range drawn {
						sum += x[k]
					}
					boot[j][b] = sum / float64(n)
					continue
				}
				for i, k := range drawn {
					buf[i] = x[k]
				}
				boot[j][b] = stat(buf)
			}
		}
	}
	out := make([]Interval, len(xs))
	for j, x := range xs {
		copy(buf, x)
		point := stat(buf)
		alo, ahi := (1-level)/2, (1+level)/2
		if method == BCa {
			z0 := biasCorrection(boot[j], point)
			a := acceleration(x, stat)
			alo, ahi = bcaLevel(alo, z0, a), bcaLevel(ahi, z0, a)
		}
		lo := quantileSelect(boot[j], alo)
		hi := quantileSelect(boot[j], ahi)
		out[j] = Interval{Point: point, Lo: lo, Hi: hi}
	}
	return out, nil
}

var stdNormal = distuv.Normal{Mu: 0, Sigma: 1}

// bootPool holds bootstrapCIs' buffers of bootstrap values.
var bootPool = sync.Pool{New: func() any { return new([]float64) }}

// b2i is 1 for true, 0 for false (compiled without a branch).
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// biasCorrection is BCa's z0 from the bootstrap values (in any order).
func biasCorrection(boot []float64, point float64) float64 {
	// The bootstrap values are finite (their samples are checked), so
	// plain comparisons do what math.Max and a switch did. They are
	// counted without branches: values fall on either side of the point
	// at random, which a branch predictor cannot learn.
	scale := math.Abs(point)
	for _, v := range boot {
		if a := math.Abs(v); a > scale {
			scale = a
		}
	}
	tol := 1e-12 * scale
	lo, hi := point-tol, point+tol
	var below, atMost int
	for _, v := range boot {
		below += b2i(v < lo)
		atMost += b2i(v <= hi)
	}
	ties := atMost - below
	B := float64(len(boot))
	share := (float64(below) + 0.5*float64(ties)) / B
	share = math.Min(math.Max(share, 0.5/B), 1-0.5/B)
	return stdNormal.Quantile(share)
}

// acceleration is BCa's a from the jackknife (leave-one-out) values.
func acceleration(x []float64, stat func([]float64) float64) float64 {
	n := len(x)
	jack := make([]float64, n)
	buf := make([]float64, 0, n-1)
	for i := range x {
		buf = append(append(buf[:0], x[:i]...), x[i+1:]...)
		jack[i] = stat(buf)
	}
	m := Mean(jack)
	var num, den float64
	for _, v := range jack {
		d := m - v
		num += d * d * d
		den += d * d
	}
	if den == 0 {
		return 0
	}
	return num / (6 * math.Pow(den, 1.5))
}

// bcaLevel maps a nominal tail level to BCa's adjusted one.
func bcaLevel(alpha, z0, a float64) float64 {
	z := z0 + stdNormal.Quantile(alpha)
	den := 1 - a*z
	if den <= 0 {
		// Extreme acceleration: the adjusted level runs off the end.
		if alpha < 0.5 {
			return 0
		}
		return 1
	}
	return stdNormal.CDF(z0 + z/den)
}

// quantileSelect interpolates linearly at position (len(x)−1)·q of the
// sorted values without sorting: it partially orders x in place
// (SelectKth, O(len(x))), which is all the interpolation needs. It gives
// the same number as sorting first.
func quantileSelect(x []float64, q float64) float64 {
	q = math.Min(math.Max(q, 0), 1)
	pos := float64(len(x)-1) * q
	i := int(math.Floor(pos))
	if i >= len(x)-1 {
		return slices.Max(x)
	}
	// The i-th and (i+1)-th order statistics: one selection, then a scan of
	// the smaller side (for a low quantile the values left of i+1, whose
	// maximum is the i-th; for a high one those right of i, whose minimum
	// is the (i+1)-th) instead of the larger.
	var cur, next float64
	if i < len(x)/2 {
		SelectKth(x, i+1)
		cur, next = slices.Max(x[:i+1]), x[i+1]
	} else {
		SelectKth(x, i)
		cur, next = x[i], slices.Min(x[i+1:])
	}
	f := pos - float64(i)
	// The conversion forbids fusing the multiply and add (as arm64 would),
	// so the result is bit-identical on every platform.
	return cur + float64(f*(next-cur))
}
