package stats

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// MaxExactPairs is the largest number of pairs for which SignFlip
// enumerates all 2^n sign patterns; beyond it the test draws random patterns.
const MaxExactPairs = 20

// DefaultPermutations is the number of random sign patterns drawn by
// SignFlip when n > MaxExactPairs and the caller asks for 0. With 10,000
// draws the Monte Carlo standard error of p = 0.05 is about 0.002.
const DefaultPermutations = 10000

// SignFlipResult is the outcome of a sign-flip test.
type SignFlipResult struct {
	// P is the two-sided p-value.
	P float64
	// N is the number of pairs.
	N int
	// Exact reports whether all 2^N patterns were enumerated. When false,
	// P = (1+k)/(1+Permutations) with k random patterns at least as extreme
	// (Phipson & Smyth 2010: never 0, valid as a p-value).
	Exact bool
	// Permutations is the number of random patterns drawn (0 when exact).
	Permutations int
}

// SignFlip runs a two-sided sign-flip (paired permutation) test of "the
// d values are symmetric around 0", with statistic |Σd|. d holds the paired
// differences (schedlab passes log-ratios). permutations is the number of
// random patterns drawn when len(d) > MaxExactPairs (0 means
// DefaultPermutations); rng drives those draws and may be nil when
// len(d) ≤ MaxExactPairs.
//
// A pattern ties with the observed one when its |Σ| is within a relative
// 1e-9 of the data's scale (Σ|d|): sums of the same values in a different
// order differ by rounding, and a tie must count as "at least as extreme".
func SignFlip(d []float64, permutations int, rng *PCG) (SignFlipResult, error) {
	n := len(d)
	if n == 0 {
		return SignFlipResult{}, errors.New("stats: sign-flip test needs at least one pair")
	}
	var obs, scale float64
	for i, v := range d {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return SignFlipResult{}, fmt.Errorf("stats: sign-flip test: pair %d is %v, want a finite number", i, v)
		}
		obs += v
		scale += math.Abs(v)
	}
	obs = math.Abs(obs)
	if scale == 0 {
		// All differences are zero: every pattern ties the observed one.
		return SignFlipResult{P: 1, N: n, Exact: n <= MaxExactPairs}, nil
	}
	thr := obs - 1e-9*scale
	if n <= MaxExactPairs {
		k := countExtremeExact(d, thr)
		return SignFlipResult{P: float64(k) / math.Ldexp(1, n), N: n, Exact: true}, nil
	}
	if permutations <= 0 {
		permutations = DefaultPermutations
	}
	if rng == nil {
		return SignFlipResult{}, errors.New("stats: sign-flip test with more than MaxExactPairs pairs needs a random generator")
	}
	var k int
	for range permutations {
		var s float64
		var w uint64
		for i, v := range d {
			if i%64 == 0 {
				w = rng.Uint64()
			}
			if w&1 == 1 {
				s -= v
			} else {
				s += v
			}
			w >>= 1
		}
		if math.Abs(s) >= thr {
			k++
		}
	}
	return SignFlipResult{P: float64(1+k) / float64(1+permutations), N: n, Permutations: permutations}, nil
}

// countExtremeExact counts the sign patterns s of d with |Σ s_i d_i| ≥ thr.
// It splits d into two halves, lists the 2^(n/2) partial sums of each (each
// sum computed afresh, so no rounding accumulates along the enumeration),
// sorts one list and, for every sum a of the other, counts the b with
// a+b ≥ thr or a+b ≤ −thr by binary search: O(2^(n/2)·n) instead of O(2^n).
func countExtremeExact(d []float64, thr float64) int {
	if thr <= 0 {
		// The observed sum is 0 (to rounding): every pattern is as extreme.
		return 1 << len(d)
	}
	h := len(d) / 2
	left := halfSums(d[:h])
	right := halfSums(d[h:])
	sort.Float64s(right)
	var k int
	for _, a := range left {
		// b ≥ thr − a
		k += len(right) - sort.SearchFloat64s(right, thr-a)
		// b ≤ −thr − a: the count of right values ≤ x is the index of the first > x.
		x := -thr - a
		k += sort.Search(len(right), func(i int) bool { return right[i] > x })
	}
	// thr > 0, so the two sides are disjoint: no pattern counted twice.
	return k
}

// halfSums lists Σ s_i d_i over all 2^len(d) sign patterns.
func halfSums(d []float64) []float64 {
	out := make([]float64, 1<<len(d))
	for m := range out {
		var s float64
		for i, v := range d {
			if m>>i&1 == 1 {
				s -= v
			} else {
				s += v
			}
		}
		out[m] = s
	}
	return out
}

// MinP is the smallest two-sided p-value an exact sign-flip test on n pairs
// can produce: only the observed pattern and its mirror image reach the
// largest |Σd|, so p ≥ 2/2^n. With 3 pairs it is 0.25, with 5 it is 0.0625.
func MinP(n int) float64 {
	if n <= 1 {
		return 1
	}
	return math.Ldexp(1, 1-n)
}

// MinPairs is the smallest n whose MinP(n) ≤ alpha: below it no data at all
// can make an exact sign-flip test significant. For alpha = 0.05 it is 6;
// under Holm across m values the best one is tested at alpha/m, so callers
// pass alpha/m. It returns 0 when alpha is not in (0, 1].
func MinPairs(alpha float64) int {
	if !(alpha > 0 && alpha <= 1) {
		return 0
	}
	// 2^(1−n) ≤ α  ⇔  n ≥ 1 − log2 α.
	n := int(math.Ceil(1 - math.Log2(alpha)))
	for n > 1 && MinP(n-1) <= alpha { // guard against log2 rounding
		n--
	}
	for MinP(n) > alpha {
		n++
	}
	return max(n, 1)
}
