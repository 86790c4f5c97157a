package stats

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// MaxRepeatsEstimate caps RepeatsNeeded's search: an effect that needs more
// repeats than this is, for a benchmark sweep, not worth chasing.
const MaxRepeatsEstimate = 100000

// Power is an estimate of how many pairs a comparison needs.
type Power struct {
	// Pairs is the number of pairs observed.
	Pairs int
	// Mean and SD are the sample mean and standard deviation (n−1) of the
	// observed paired differences (log-ratios).
	Mean, SD float64
	// EffectSize is |Mean|/SD (Cohen's d_z); +Inf when SD is 0.
	EffectSize float64
	// Alpha is the two-sided level the estimate is for; Target the power.
	Alpha, Target float64
	// ExactFloor is MinPairs(Alpha): fewer pairs can never reach Alpha with
	// an exact sign-flip test, whatever the data.
	ExactFloor int
	// TTest is the smallest n at which a two-sided one-sample t test on the
	// differences reaches Target power if the true effect equals the
	// observed one (noncentral t; 0 when Estimable is false).
	TTest int
	// Needed is max(ExactFloor, TTest): the repeats to plan for.
	Needed int
	// Estimable is false when the observed effect is 0 or fewer than 2
	// pairs leave the spread unknown; then only ExactFloor is meaningful.
	Estimable bool
	// Capped reports that TTest would exceed MaxRepeatsEstimate; TTest and
	// Needed then hold the cap.
	Capped bool
}

// RepeatsNeeded estimates the pairs needed to detect the observed effect
// in d at two-sided level alpha with the given power (e.g. 0.8). The t
// approximation treats the observed mean and spread as the truth, so it is
// a planning figure, not a promise: with few pairs the spread itself is
// uncertain. Callers correcting for multiple comparisons pass the level
// the best candidate faces (Holm: alpha/m).
func RepeatsNeeded(d []float64, alpha, power float64) (Power, error) {
	if !(alpha > 0 && alpha < 1) {
		return Power{}, fmt.Errorf("stats: power: level %v, want a number in (0, 1)", alpha)
	}
	if !(power > 0 && power < 1) {
		return Power{}, fmt.Errorf("stats: power: target %v, want a number in (0, 1)", power)
	}
	for i, v := range d {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Power{}, fmt.Errorf("stats: power: pair %d is %v, want a finite number", i, v)
		}
	}
	p := Power{Pairs: len(d), Alpha: alpha, Target: power, ExactFloor: MinPairs(alpha)}
	p.Needed = p.ExactFloor
	if len(d) < 2 {
		if len(d) == 1 {
			p.Mean = d[0]
		}
		return p, nil
	}
	p.Mean = Mean(d)
	var ss float64
	for _, v := range d {
		ss += (v - p.Mean) * (v - p.Mean)
	}
	p.SD = math.Sqrt(ss / float64(len(d)-1))
	if p.Mean == 0 {
		return p, nil
	}
	p.Estimable = true
	if p.SD == 0 {
		p.EffectSize = math.Inf(1)
		p.TTest = 2
	} else {
		p.EffectSize = math.Abs(p.Mean) / p.SD
		p.TTest, p.Capped = tTestPairs(p.EffectSize, alpha, power)
	}
	p.Needed = max(p.ExactFloor, p.TTest)
	return p, nil
}

// TTestPower is the power of a two-sided one-sample t test with n
// observations at level alpha when the true standardized effect is effect:
// P(|T| > t_{1−α/2,n−1}) with T noncentral t (n−1 df, noncentrality
// effect·√n). It is NaN for n < 2.
func TTestPower(n int, effect, alpha float64) float64 {
	if n < 2 {
		return math.NaN()
	}
	df := float64(n - 1)
	c := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(1 - alpha/2)
	nct := distuv.NoncentralT{Nu: df, Mu: effect * math.Sqrt(float64(n))}
	pw := 1 - nct.CDF(c) + nct.CDF(-c)
	return math.Min(math.Max(pw, 0), 1)
}

// tTestPairs finds the smallest n ≥ 2 with TTestPower ≥ target by doubling
// then bisection (power grows with n).
func tTestPairs(effect, alpha, target float64) (n int, capped bool) {
	ok := func(n int) bool { return TTestPower(n, effect, alpha) >= target }
	if ok(2) {
		return 2, false
	}
	lo, hi := 2, 4 // ok(lo) false
	for !ok(hi) {
		if hi >= MaxRepeatsEstimate {
			return MaxRepeatsEstimate, true
		}
		lo, hi = hi, min(2*hi, MaxRepeatsEstimate)
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if ok(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, false
}
