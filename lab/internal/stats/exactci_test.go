package stats

import (
	"math"
	"slices"
	"testing"
)

// The ranks of the classic distribution-free intervals for the median
// (e.g. Hahn & Meeker 1991, table A.15: x₍₂₎..x₍₉₎ for n = 10, x₍₆₎..x₍₁₅₎
// for n = 20, 1-based) and for other quantiles, with their exact coverage
// from the binomial probabilities.
func TestQuantileRanks(t *testing.T) {
	tests := []struct {
		n        int
		q        float64
		lo, hi   int
		coverage float64
	}{
		{n: 1, q: 0.5, lo: 0, hi: 0, coverage: 0},                // one draw never covers
		{n: 5, q: 0.5, lo: 0, hi: 4, coverage: 1 - 2.0/32},       // the range: 93.75%, under 95%
		{n: 6, q: 0.5, lo: 0, hi: 5, coverage: 1 - 2.0/64},       // the first n reaching 95%
		{n: 10, q: 0.5, lo: 1, hi: 8, coverage: 1 - 2*11.0/1024}, // 97.85%
		{n: 20, q: 0.5, lo: 5, hi: 14, coverage: 1 - 2*21700.0/1048576},
		{n: 6, q: 0.8, lo: 2, hi: 5, coverage: 1 - math.Pow(0.8, 6) - (math.Pow(0.2, 6) + 6*0.8*math.Pow(0.2, 5) + 15*0.64*math.Pow(0.2, 4))},
	}
	for _, tc := range tests {
		lo, hi, cov := QuantileRanks(tc.n, tc.q, 0.95)
		if lo != tc.lo || hi != tc.hi || math.Abs(cov-tc.coverage) > 1e-12 {
			t.Errorf("QuantileRanks(%d, %v) = %d, %d covering %v; want %d, %d covering %v", tc.n, tc.q, lo, hi, cov, tc.lo, tc.hi, tc.coverage)
		}
	}
}

// For every n up to 300 and a few quantiles, the ranks are the tightest
// with both binomial tails at most 2.5% (checked by summing the binomial
// probabilities in log space, independently of the incomplete beta
// function QuantileRanks uses), and for large n they sit where the normal
// approximation nq ± 1.96·√(nq(1−q)) puts them.
func TestQuantileRanksAreTightest(t *testing.T) {
	for _, q := range []float64{0.2, 0.5, 0.8, 0.95} {
		for n := 1; n <= 300; n++ {
			cdf := make([]float64, n+1) // cdf[k] = P(K ≤ k)
			sum := 0.0
			for k := 0; k <= n; k++ {
				lg := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
				sum += math.Exp(lg(n) - lg(k) - lg(n-k) + float64(k)*math.Log(q) + float64(n-k)*math.Log1p(-q))
				cdf[k] = sum
			}
			lo, hi, cov := QuantileRanks(n, q, 0.95)
			wantLo := 0
			for k := 0; k < n && cdf[k] <= 0.025+1e-12; k++ {
				wantLo = k
			}
			wantHi := n - 1
			for k := n - 1; k >= 0 && cdf[k] >= 0.975-1e-12; k-- {
				wantHi = k
			}
			if lo != wantLo || hi != wantHi || math.Abs(cov-(cdf[hi]-cdf[lo])) > 1e-9 {
				t.Fatalf("n=%d q=%v: ranks %d, %d covering %v; by summation %d, %d covering %v", n, q, lo, hi, cov, wantLo, wantHi, cdf[wantHi]-cdf[wantLo])
			}
			if cdf[n-1] >= 0.975 && cdf[0] <= 0.025 && cov < 0.95 {
				t.Fatalf("n=%d q=%v: coverage %v below 95%% although reachable", n, q, cov)
			}
		}
	}
	for _, n := range []int{50000, 10_000_000, math.MaxInt32} {
		for _, q := range []float64{0.5, 0.8} {
			lo, hi, cov := QuantileRanks(n, q, 0.95)
			mu, sd := float64(n)*q, math.Sqrt(float64(n)*q*(1-q))
			if math.Abs(float64(lo)-(mu-1.96*sd)) > 3 || math.Abs(float64(hi)-(mu+1.96*sd)) > 3 || cov < 0.95 || cov > 0.9515 {
				t.Errorf("n=%d q=%v: ranks %d, %d covering %v; normal approximation %.0f, %.0f", n, q, lo, hi, cov, mu-1.96*sd, mu+1.96*sd)
			}
		}
	}
}

// The t interval's half-width is t(0.975, n−1)·s/√n: by hand for three
// values, and no spread to estimate from one.
func TestTInterval(t *testing.T) {
	x := []float64{1, 2, 6}
	// mean 3, s² = (4+1+9)/2 = 7, t(0.975, 2) = 4.302652729911275
	half := 4.302652729911275 * math.Sqrt(7.0/3)
	iv := TInterval(x, 3, 0.95)
	if iv.Point != 3 || math.Abs(iv.Lo-(3-half)) > 1e-9 || math.Abs(iv.Hi-(3+half)) > 1e-9 {
		t.Errorf("TInterval(%v) = %+v, want 3 ± %v", x, iv, half)
	}
	if iv := TInterval([]float64{5}, 5, 0.95); iv != (Interval{5, 5, 5}) {
		t.Errorf("one value: %+v, want a zero-width interval at it", iv)
	}
}

// Coverage by simulation: 4,000 samples of 200 values from a normal and
// from a skewed (exponential) population. The order-statistic intervals
// cover the true median and p80 as often as their binomial coverage says,
// for both populations (they are distribution-free); the t interval covers
// the normal mean 95% of the time and the exponential mean nearly so.
func TestIntervalCoverage(t *testing.T) {
	const trials, n = 4000, 200
	populations := []struct {
		name              string
		draw              func(*PCG) float64
		mean, median, p80 float64
		tLow              float64 // lowest acceptable t coverage
	}{
		{"normal", normal, 0, 0, 0.8416212335729143, 0.94},
		{"exponential", func(p *PCG) float64 { return -math.Log1p(-uniform(p)) }, 1, math.Ln2, -math.Log(0.2), 0.93},
	}
	for _, pop := range populations {
		rng := NewPCG(1, 2)
		x := make([]float64, n)
		var coveredMean, coveredMedian, coveredP80 int
		mlo, mhi, mcov := QuantileRanks(n, 0.5, 0.95)
		plo, phi, pcov := QuantileRanks(n, 0.8, 0.95)
		for range trials {
			for i := range x {
				x[i] = pop.draw(rng)
			}
			iv := TInterval(x, Mean(x), 0.95)
			if iv.Lo <= pop.mean && pop.mean <= iv.Hi {
				coveredMean++
			}
			slices.Sort(x)
			if x[mlo] <= pop.median && pop.median <= x[mhi] {
				coveredMedian++
			}
			if x[plo] <= pop.p80 && pop.p80 <= x[phi] {
				coveredP80++
			}
		}
		// Three binomial standard errors of a share near 95% over 4,000 trials.
		const tol = 3 * 0.0035
		share := func(c int) float64 { return float64(c) / trials }
		if s := share(coveredMedian); math.Abs(s-mcov) > tol {
			t.Errorf("%s median: covered %.3f, binomial coverage %.3f", pop.name, s, mcov)
		}
		if s := share(coveredP80); math.Abs(s-pcov) > tol {
			t.Errorf("%s p80: covered %.3f, binomial coverage %.3f", pop.name, s, pcov)
		}
		if s := share(coveredMean); s < pop.tLow || s > 0.95+tol {
			t.Errorf("%s mean: t interval covered %.3f, want %.2f–%.3f", pop.name, s, pop.tLow, 0.95+tol)
		}
	}
}

// uniform is a uniform draw in [0, 1) with 53 random bits.
func uniform(p *PCG) float64 { return float64(p.Uint64()>>11) / (1 << 53) }

// normal is a standard normal draw (Box–Muller, one of the pair).
func normal(p *PCG) float64 {
	u1, u2 := 1-uniform(p), uniform(p)
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}
