package stats

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

func TestBootstrapConstant(t *testing.T) {
	for _, m := range []Method{BCa, Percentile} {
		iv, err := BootstrapCI([]float64{0.25, 0.25, 0.25}, Mean, 500, 0.95, m, NewPCG(1, 0))
		if err != nil {
			t.Fatal(err)
		}
		if iv.Point != 0.25 || iv.Lo != 0.25 || iv.Hi != 0.25 {
			t.Errorf("%s: constant data gave %+v, want [0.25, 0.25]", m, iv)
		}
	}
}

func TestBootstrapDeterministic(t *testing.T) {
	x := []float64{0.011, -0.023, 0.031, 0.057, -0.013, 0.002, 0.0171, -0.0049, 0.029, 0.0083, -0.0301, 0.0127}
	a, err := BootstrapCI(x, Mean, 2000, 0.95, BCa, NewPCG(42, 3))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := BootstrapCI(x, Mean, 2000, 0.95, BCa, NewPCG(42, 3))
	c, _ := BootstrapCI(x, Mean, 2000, 0.95, BCa, NewPCG(43, 3))
	if a != b {
		t.Errorf("same seed: %+v vs %+v", a, b)
	}
	if a == c {
		t.Errorf("different seeds gave identical intervals %+v", a)
	}
	if !(a.Lo <= a.Point && a.Point <= a.Hi) {
		t.Errorf("interval %+v does not contain its point", a)
	}
}

// TestBootstrapCoverage: for the mean of 20 normal values the 95%
// intervals cover the true mean in about 95% of seeded data sets (the
// bootstrap runs a little narrow at n = 20; BCa and percentile both land
// near 93%). 300 trials; ±3 binomial sd around 0.94 plus slack.
func TestBootstrapCoverage(t *testing.T) {
	const trials = 300
	for _, m := range []Method{BCa, Percentile} {
		rng := rand.New(rand.NewPCG(7, 0))
		var cover int
		x := make([]float64, 20)
		for trial := range trials {
			for i := range x {
				x[i] = 1 + rng.NormFloat64()
			}
			iv, err := BootstrapCI(x, Mean, 1000, 0.95, m, NewPCG(8, uint64(trial)))
			if err != nil {
				t.Fatal(err)
			}
			if iv.Lo <= 1 && 1 <= iv.Hi {
				cover++
			}
		}
		rate := float64(cover) / trials
		if rate < 0.88 || rate > 0.99 {
			t.Errorf("%s: coverage %.3f, want about 0.94", m, rate)
		}
	}
}

// TestBootstrapSkew: for right-skewed data the mean's BCa interval sits to
// the right of the percentile interval (positive acceleration), the
// correction BCa exists for.
func TestBootstrapSkew(t *testing.T) {
	x := []float64{0.1, 0.2, 0.2, 0.3, 0.4, 0.5, 0.8, 1.5, 3, 6}
	p, _ := BootstrapCI(x, Mean, 4000, 0.9, Percentile, NewPCG(1, 1))
	b, _ := BootstrapCI(x, Mean, 4000, 0.9, BCa, NewPCG(1, 1))
	if !(b.Lo > p.Lo && b.Hi > p.Hi) {
		t.Errorf("BCa %+v not right of percentile %+v for right-skewed data", b, p)
	}
}

// TestAccelerationHand: x = {1, 2, 6}; leave-one-out means 4, 3.5, 1.5
// (mean 3); deviations −1, −0.5, 1.5; a = 2.25 / (6·3.5^1.5).
func TestAccelerationHand(t *testing.T) {
	got := acceleration([]float64{1, 2, 6}, Mean)
	want := 2.25 / (6 * math.Pow(3.5, 1.5))
	if math.Abs(got-want) > 1e-15 {
		t.Errorf("a = %v, want %v", got, want)
	}
	if a := acceleration([]float64{3, 3, 3}, Mean); a != 0 {
		t.Errorf("constant data: a = %v, want 0", a)
	}
}

func TestBiasCorrectionHand(t *testing.T) {
	boot := []float64{1, 2, 3, 4}
	if z := biasCorrection(boot, 2.5); math.Abs(z) > 1e-15 {
		t.Errorf("z0 = %v, want 0 (half below)", z)
	}
	// 1 below, 1 tie: share (1 + 0.5)/4 = 0.375 → Φ⁻¹(0.375).
	if z, want := biasCorrection(boot, 2), stdNormal.Quantile(0.375); math.Abs(z-want) > 1e-15 {
		t.Errorf("z0 = %v, want %v", z, want)
	}
	// Nothing below: share clamped to 1/(2B) = 0.125, not −∞.
	if z, want := biasCorrection(boot, 0), stdNormal.Quantile(0.125); z != want {
		t.Errorf("z0 = %v, want %v", z, want)
	}
	if l := bcaLevel(0.025, 0, 0); math.Abs(l-0.025) > 1e-15 {
		t.Errorf("bcaLevel without correction = %v, want 0.025", l)
	}
}

func TestQuantileSorted(t *testing.T) {
	x := []float64{1, 2, 4, 8}
	for _, tc := range []struct{ q, want float64 }{{0, 1}, {1, 8}, {0.5, 3}, {0.9, 6.8}, {-1, 1}, {2, 8}} {
		if got := quantileSorted(x, tc.q); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("quantile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
}

func TestBootstrapErrors(t *testing.T) {
	rng := NewPCG(1, 1)
	cases := []struct {
		x     []float64
		level float64
		m     Method
	}{
		{[]float64{1}, 0.95, BCa},
		{[]float64{1, 2}, 1, BCa},
		{[]float64{1, 2}, 0.95, "student"},
		{[]float64{1, math.NaN()}, 0.95, BCa},
	}
	for _, c := range cases {
		if _, err := BootstrapCI(c.x, Mean, 10, c.level, c.m, rng); err == nil {
			t.Errorf("BootstrapCI(%v, %v, %q): want an error", c.x, c.level, c.m)
		}
	}
	if _, err := BootstrapCI([]float64{1, 2}, Mean, 10, 0.95, BCa, nil); err == nil {
		t.Error("want an error without a generator")
	}
}

// TestBootstrapStatMayReorder: a stat that sorts its input in place (a
// median) must not disturb the caller's data.
func TestBootstrapStatMayReorder(t *testing.T) {
	x := []float64{3, 1, 2, 5, 4}
	orig := slices.Clone(x)
	median := func(v []float64) float64 { slices.Sort(v); return quantileSorted(v, 0.5) }
	iv, err := BootstrapCI(x, median, 200, 0.9, BCa, NewPCG(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x, orig) || iv.Point != 3 {
		t.Errorf("x = %v (want %v), point %v (want 3)", x, orig, iv.Point)
	}
}

// TestQuantileSelect: the quickselect quantile equals the sorted one on
// data with many ties and at the ends.
func TestQuantileSelect(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 0))
	for trial := range 300 {
		n := 1 + rng.IntN(200)
		x := make([]float64, n)
		for i := range x {
			x[i] = float64(rng.IntN(7)) + 0.5*rng.Float64()*float64(rng.IntN(2))
		}
		s := slices.Clone(x)
		slices.Sort(s)
		for _, q := range []float64{0, 0.025, 0.3, 0.5, 0.975, 1, rng.Float64()} {
			y := slices.Clone(x)
			if got, want := quantileSelect(y, q), quantileSorted(s, q); got != want {
				t.Fatalf("trial %d n=%d q=%v: select %v, sorted %v", trial, n, q, got, want)
			}
		}
		// One slice, quantile after quantile (as an interval's two ends
		// are taken): each still exact, the values only reordered.
		z := slices.Clone(x)
		for _, q := range []float64{0.025, 0.975, 0.5, 0.1} {
			if got, want := quantileSelect(z, q), quantileSorted(s, q); got != want {
				t.Fatalf("trial %d n=%d, in turn, q=%v: select %v, sorted %v", trial, n, q, got, want)
			}
		}
		if slices.Sort(z); !slices.Equal(z, s) {
			t.Fatalf("trial %d: quantileSelect changed the values, not only their order", trial)
		}
	}
}

// TestBootstrapCIsPaired: all samples share the resample indices, so
// identical samples get identical intervals, equal to a single-sample call
// with the same generator.
func TestBootstrapCIsPaired(t *testing.T) {
	x := []float64{0.011, -0.023, 0.031, 0.057, -0.013, 0.002}
	y := []float64{1, 2, 3, 4, 5, 7}
	iv, err := BootstrapCIs([][]float64{x, y, x}, Mean, 3000, 0.95, BCa, NewPCG(4, 4))
	if err != nil {
		t.Fatal(err)
	}
	single, _ := BootstrapCI(x, Mean, 3000, 0.95, BCa, NewPCG(4, 4))
	if iv[0] != iv[2] || iv[0] != single {
		t.Errorf("paired intervals %v / %v, single %v: want all equal", iv[0], iv[2], single)
	}
	if _, err := BootstrapCIs([][]float64{x, y[:3]}, Mean, 10, 0.95, BCa, NewPCG(1, 1)); err == nil {
		t.Error("want an error for unequal lengths")
	}
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

// The mean's own path gives BootstrapCIs(…, Mean, …)'s intervals to the
// bit, for one sample and for paired ones, both methods.
func TestBootstrapMeanCIsMatchGeneral(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	for _, n := range []int{2, 3, 5, 10, 31} {
		xs := make([][]float64, 3)
		for j := range xs {
			xs[j] = make([]float64, n)
			for i := range xs[j] {
				xs[j][i] = rng.NormFloat64() * float64(j+1)
			}
		}
		for _, m := range []Method{BCa, Percentile} {
			want, err1 := BootstrapCIs(xs, Mean, 777, 0.9, m, NewPCG(3, uint64(n)))
			got, err2 := BootstrapMeanCIs(xs, 777, 0.9, m, NewPCG(3, uint64(n)))
			if err1 != nil || err2 != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("n=%d %s: %v, %v; general path %v, %v", n, m, got, err2, want, err1)
			}
			one, err := BootstrapMeanCI(xs[0], 777, 0.9, m, NewPCG(3, uint64(n)))
			if ref, _ := BootstrapCI(xs[0], Mean, 777, 0.9, m, NewPCG(3, uint64(n))); err != nil || one != ref {
				t.Errorf("n=%d %s: one sample %v, %v; general path %v", n, m, one, err, ref)
			}
		}
	}
}
