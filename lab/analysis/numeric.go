package analysis

import (
	"math"

	"github.com/schedlab/schedlab/lab/internal/stats"
)

// numpyBlock is numpy's default ufunc buffer size (np.getbufsize()): a
// reduction over a long array is carried out block by block, each block
// summed pairwise, and the block sums are added in order.
const numpyBlock = 8192

// numpyPairwiseBlock is numpy's PW_BLOCKSIZE: below it, pairwise_sum adds
// with eight interleaved accumulators instead of recursing.
const numpyPairwiseBlock = 128

// Sum adds xs in the order numpy's np.sum / np.add.reduce does for a
// contiguous float64 array, so that Mean matches np.mean bit for bit.
func Sum(xs []float64) float64 {
	var s float64
	for len(xs) > 0 {
		n := min(len(xs), numpyBlock)
		s += pairwiseSum(xs[:n])
		xs = xs[n:]
	}
	return s
}

// pairwiseSum is numpy's pairwise_sum for doubles (numpy/core/src/umath/
// loops_utils.h.src), rewritten from its description: fewer than 8 values are
// added in order; up to 128 with eight accumulators combined as
// ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)) and the remainder added in order;
// longer inputs are split at half rounded down to a multiple of 8.
func pairwiseSum(xs []float64) float64 {
	n := len(xs)
	switch {
	case n < 8:
		var r float64
		for _, x := range xs {
			r += x
		}
		return r
	case n <= numpyPairwiseBlock:
		var r [8]float64
		copy(r[:], xs[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			r[0] += xs[i]
			r[1] += xs[i+1]
			r[2] += xs[i+2]
			r[3] += xs[i+3]
			r[4] += xs[i+4]
			r[5] += xs[i+5]
			r[6] += xs[i+6]
			r[7] += xs[i+7]
		}
		res := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			res += xs[i]
		}
		return res
	default:
		n2 := n / 2
		n2 -= n2 % 8
		return pairwiseSum(xs[:n2]) + pairwiseSum(xs[n2:])
	}
}

// Mean is np.mean: Sum divided by the count. NaN for no values.
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return Sum(xs) / float64(len(xs))
}

// Percentile returns the q-quantile (0 ≤ q ≤ 1) of sorted (ascending) values
// the way np.percentile(x, 100*q) does with its default "linear" method:
// position (n−1)·q between order statistics, interpolated with numpy's
// _lerp (which interpolates from the upper neighbour when the fraction is
// ≥ 0.5). NaN for no values.
func Percentile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	i, frac, last := quantileIndex(n, q)
	if last {
		return sorted[n-1]
	}
	if i < 0 {
		return sorted[0]
	}
	return lerp(sorted[i], sorted[i+1], frac)
}

// quantileIndex is numpy's virtual index for the linear method: the lower
// order statistic i and the fraction towards i+1; last when the position is
// at or past the final element.
func quantileIndex(n int, q float64) (i int, frac float64, last bool) {
	v := float64(n-1) * q
	if v >= float64(n-1) {
		return n - 1, 0, true
	}
	if v < 0 {
		return -1, 0, false
	}
	lo := math.Floor(v)
	return int(lo), v - lo, false
}

// lerp is numpy's _lerp. The explicit float64 conversions forbid the
// compiler from fusing the multiply and add, which would change the last bit.
func lerp(a, b, t float64) float64 {
	d := b - a
	if t >= 0.5 {
		return b - float64(d*(1-t))
	}
	return a + float64(d*t)
}

// Median is np.median of sorted values: the middle one, or the mean of the
// two middle ones ((a+b)/2, which is what np.mean of two values computes).
func Median(sorted []float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// percentileUnsorted is Percentile without sorting: it partially orders xs
// in place (stats.SelectKth), which is all the interpolation needs.
func percentileUnsorted(xs []float64, q float64) float64 {
	n := len(xs)
	if n == 0 {
		return math.NaN()
	}
	i, frac, last := quantileIndex(n, q)
	if last {
		stats.SelectKth(xs, n-1)
		return xs[n-1]
	}
	if i < 0 {
		stats.SelectKth(xs, 0)
		return xs[0]
	}
	stats.SelectKth(xs, i)
	a := xs[i]
	// After selection every element right of i is ≥ xs[i]; the next order
	// statistic is their minimum.
	b := xs[i+1]
	for _, x := range xs[i+2:] {
		if x < b {
			b = x
		}
	}
	return lerp(a, b, frac)
}
