package stats

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

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
// distribution interpolate linearly at position (B−1)·q, as DESIGN §6 does
// for percentiles.
//
// For BCa, z0 = Φ⁻¹(share of bootstrap values below stat(x), ties counting
// half — resamples are discrete, and with few repeats many equal stat(x)),
// with the share clamped to [1/(2B), 1−1/(2B)] so z0 stays finite; the
// acceleration a comes from the jackknife and is 0 when all jackknife values
// agree. x needs at least 2 values: one repeat says nothing about spread.
func BootstrapCI(x []float64, stat func([]float64) float64, resamples int, level float64, method Method, rng *rand.Rand) (Interval, error) {
	n := len(x)
	if n < 2 {
		return Interval{}, fmt.Errorf("stats: bootstrap interval needs at least 2 values, got %d", n)
	}
	if !(level > 0 && level < 1) {
		return Interval{}, fmt.Errorf("stats: bootstrap confidence level %v, want a number in (0, 1)", level)
	}
	if method != BCa && method != Percentile {
		return Interval{}, fmt.Errorf("stats: unknown bootstrap method %q, want %q or %q", method, BCa, Percentile)
	}
	if rng == nil {
		return Interval{}, errors.New("stats: bootstrap needs a random generator")
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Interval{}, fmt.Errorf("stats: bootstrap: value %d is %v, want a finite number", i, v)
		}
	}
	if resamples <= 0 {
		resamples = DefaultResamples
	}
	buf := make([]float64, n)
	copy(buf, x)
	point := stat(buf)

	boot := make([]float64, resamples)
	for b := range boot {
		for i := range buf {
			buf[i] = x[rng.IntN(n)]
		}
		boot[b] = stat(buf)
	}
	slices.Sort(boot)

	alo, ahi := (1-level)/2, (1+level)/2
	if method == BCa {
		z0 := biasCorrection(boot, point)
		a := acceleration(x, stat)
		alo, ahi = bcaLevel(alo, z0, a), bcaLevel(ahi, z0, a)
	}
	return Interval{Point: point, Lo: quantileSorted(boot, alo), Hi: quantileSorted(boot, ahi)}, nil
}

var stdNormal = distuv.Normal{Mu: 0, Sigma: 1}

// biasCorrection is BCa's z0 from the sorted bootstrap values.
func biasCorrection(boot []float64, point float64) float64 {
	tol := 1e-12 * math.Max(math.Abs(point), math.Max(math.Abs(boot[0]), math.Abs(boot[len(boot)-1])))
	var below, ties int
	for _, v := range boot {
		switch {
		case v < point-tol:
			below++
		case v <= point+tol:
			ties++
		}
	}
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

// quantileSorted interpolates linearly at position (n−1)·q of sorted x.
func quantileSorted(x []float64, q float64) float64 {
	q = math.Min(math.Max(q, 0), 1)
	pos := float64(len(x)-1) * q
	i := int(math.Floor(pos))
	if i >= len(x)-1 {
		return x[len(x)-1]
	}
	f := pos - float64(i)
	return x[i] + f*(x[i+1]-x[i])
}
