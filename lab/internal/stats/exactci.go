package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// The intervals here need no resampling: they are computed from the data
// once, so they carry no Monte Carlo error, need no seed, and cost
// microseconds where a bootstrap over tens of thousands of values costs a
// tenth of a second. They assume, as a request-level bootstrap does, that
// the values are independent draws from one population.

// TInterval is Student's t interval for the mean of the population x was
// drawn from: mean ± t·s/√n, with s the sample standard deviation (n − 1
// in the denominator) and t the (1+level)/2 quantile of Student's t with
// n − 1 degrees of freedom. mean is the caller's own estimate of x's mean
// (e.g. summed in numpy's order), reused as the centre. The interval is
// exact for normal data and, by the central limit theorem, close to level
// for any distribution with a finite variance once n is large (thousands of
// requests); for a few skewed values it undercovers, as a percentile
// bootstrap does. With fewer than two values there is no spread to
// estimate and Lo = Hi = mean.
func TInterval(x []float64, mean, level float64) Interval {
	n := len(x)
	if n < 2 {
		return Interval{Point: mean, Lo: mean, Hi: mean}
	}
	var ss float64
	for _, v := range x {
		d := v - mean
		ss += d * d
	}
	se := math.Sqrt(ss/float64(n-1)) / math.Sqrt(float64(n))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile((1 + level) / 2)
	return Interval{Point: mean, Lo: mean - t*se, Hi: mean + t*se}
}

// QuantileRanks gives the distribution-free confidence interval for the
// q-quantile ξ of a continuous population from n independent draws: the
// order statistics x₍lo₎ and x₍hi₎ (0-based ranks into the draws sorted
// ascending). Whatever the population, the number K of draws below ξ is
// Binomial(n, q), and x₍lo₎ ≤ ξ ≤ x₍hi₎ exactly when lo < K ≤ hi, so the
// interval covers ξ with probability F(hi) − F(lo), F the binomial CDF
// (Hahn & Meeker, Statistical Intervals, 1991, §5.2). lo is the highest
// rank with F(lo) ≤ (1−level)/2 and hi the lowest with F(hi) ≥
// (1+level)/2: each tail misses with at most (1−level)/2, so coverage ≥
// level. Ties in the data only make the closed interval cover more.
//
// coverage is F(hi) − F(lo). Too few draws cannot reach level at all (with
// n < 6 for the median at 95%: even the smallest and largest draw miss
// more often): the ranks are then clamped to 0 and n−1, and coverage says
// how much less than level the interval covers. n must be positive and q
// in (0, 1).
func QuantileRanks(n int, q, level float64) (lo, hi int, coverage float64) {
	tail := (1 - level) / 2
	first, weights := binomialWeights(n, q)
	var total float64
	for _, w := range weights {
		total += w
	}
	lo, hi = -1, n
	var cdf, cdfLo, cdfHi float64 // cdf = F(k); F(−1) = 0
	for i, w := range weights {
		k := first + i
		cdf += w / total
		if cdf <= tail {
			lo, cdfLo = k, cdf
		}
		if cdf >= 1-tail || k == n-1 {
			hi, cdfHi = k, cdf
			break
		}
	}
	if lo < 0 { // even F(0) > tail (so first = 0): the smallest draw is all there is
		lo, cdfLo = 0, weights[0]/total
	}
	return lo, hi, cdfHi - cdfLo
}

// binomialWeights returns P(K = k) for K ~ Binomial(n, q), up to one
// common factor, for k = first, first+1, …: every k whose probability is
// at least 1e-20 of the most likely one's. The weights walk out from the
// mode by the ratio P(k+1)/P(k) = (n−k)/(k+1) · q/(1−q), so no factorial
// or power of n is ever formed (log-gamma differences of numbers near
// n = 2^31 lose six digits; an incomplete beta function's continued
// fraction does not converge there). What lies beyond the weights is
// below 1e-19 of the total.
func binomialWeights(n int, q float64) (first int, weights []float64) {
	const negligible = 1e-20
	odds := q / (1 - q)
	mode := min(n, int(float64(n+1)*q))
	var below []float64 // P(mode−1), P(mode−2), … relative to P(mode)
	for k, w := mode, 1.0; k > 0; k-- {
		w *= float64(k) / float64(n-k+1) / odds // P(k−1)/P(k)
		if w < negligible {
			break
		}
		below = append(below, w)
	}
	first = mode - len(below)
	weights = make([]float64, 0, 2*len(below)+2)
	for i := len(below) - 1; i >= 0; i-- {
		weights = append(weights, below[i])
	}
	weights = append(weights, 1)
	for k, w := mode, 1.0; k < n; k++ {
		w *= float64(n-k) / float64(k+1) * odds // P(k+1)/P(k)
		if w < negligible {
			break
		}
		weights = append(weights, w)
	}
	return first, weights
}
