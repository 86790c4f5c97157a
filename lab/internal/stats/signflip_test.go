package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bruteSignFlip enumerates all 2^n patterns one by one with integer data,
// so there is no rounding: the reference for the exact test.
func bruteSignFlip(d []int64) float64 {
	var obs int64
	for _, v := range d {
		obs += v
	}
	if obs < 0 {
		obs = -obs
	}
	var k int
	for m := 0; m < 1<<len(d); m++ {
		var s int64
		for i, v := range d {
			if m>>i&1 == 1 {
				s -= v
			} else {
				s += v
			}
		}
		if s >= obs || -s >= obs {
			k++
		}
	}
	return float64(k) / float64(int(1)<<len(d))
}

func TestSignFlipHand(t *testing.T) {
	tests := []struct {
		name string
		d    []float64
		want float64
	}{
		// ±1±2±3: only 6 and −6 reach |6|.
		{"three same sign", []float64{1, 2, 3}, 2.0 / 8},
		// Σ = −1: every pattern has |Σ| ≥ 1 (sums are ±1, ±3, ±5, ±7).
		{"small sum", []float64{1, 2, -4}, 1},
		// |Σ| = 6: only the observed pattern and its mirror.
		{"four", []float64{3, 1, 1, 1}, 2.0 / 16},
		// Σ = 0.5; in exact arithmetic 0.5−0.1−0.2+0.3 ties it, and so do
		// others; the float sums differ by rounding and must still tie.
		{"rounding ties", []float64{0.5, 0.1, 0.2, -0.3}, bruteSignFlip([]int64{5, 1, 2, -3})},
		{"one pair", []float64{-0.2}, 1},
		{"all zero", []float64{0, 0, 0}, 1},
		{"zero sum", []float64{1, -1, 2, -2}, 1},
		// A zero difference doubles every pattern: p as for {1, 2}.
		{"with zero", []float64{1, 2, 0}, 2.0 / 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := SignFlip(tc.d, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !r.Exact || r.N != len(tc.d) {
				t.Errorf("Exact=%v N=%d, want exact over %d", r.Exact, r.N, len(tc.d))
			}
			if math.Abs(r.P-tc.want) > 1e-15 {
				t.Errorf("p = %v, want %v", r.P, tc.want)
			}
		})
	}
	if got := bruteSignFlip([]int64{5, 1, 2, -3}); got != 10.0/16 {
		// Hand count: |±5±1±2±3| ≥ 5 for 5+1+2+3 (11), 5+1+2−3 (5),
		// 5+1−2+3 (7), 5−1+2+3 (9), 5−1−2+3 (5), and their mirrors.
		t.Errorf("brute reference = %v, want 10/16", got)
	}
}

// TestSignFlipMatchesBrute compares the meet-in-the-middle count with
// pattern-by-pattern enumeration on random integer data with many ties.
func TestSignFlipMatchesBrute(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for trial := range 300 {
		n := 1 + rng.IntN(14)
		di := make([]int64, n)
		df := make([]float64, n)
		for i := range di {
			di[i] = int64(rng.IntN(9)) - 3
			// Scaling by 0.01 makes the float sums inexact.
			df[i] = float64(di[i]) * 0.01
		}
		want := bruteSignFlip(di)
		r, err := SignFlip(df, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.P != want {
			t.Fatalf("trial %d: d=%v: p = %v, want %v", trial, df, r.P, want)
		}
	}
}

// TestSignFlipPowerFloor: with 3 pairs no data can give p < 0.25.
func TestSignFlipPowerFloor(t *testing.T) {
	if MinP(3) != 0.25 {
		t.Fatalf("MinP(3) = %v, want 0.25", MinP(3))
	}
	rng := rand.New(rand.NewPCG(2, 0))
	for range 1000 {
		d := []float64{rng.NormFloat64() - 5, rng.NormFloat64() - 5, rng.NormFloat64()}
		r, err := SignFlip(d, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.P < 0.25 {
			t.Fatalf("d=%v: p = %v < 0.25", d, r.P)
		}
	}
	r, _ := SignFlip([]float64{-0.03, -0.031, -0.029}, 0, nil)
	if r.P != 0.25 {
		t.Errorf("three consistent pairs: p = %v, want exactly the floor 0.25", r.P)
	}
}

func TestMinPairs(t *testing.T) {
	tests := []struct {
		alpha float64
		want  int
	}{
		{0.05, 6},      // 2^−5 = 0.031 ≤ 0.05 < 2^−4
		{0.05 / 4, 8},  // Holm's first step with 4 candidates: 2^−7 ≤ 0.0125 < 2^−6
		{0.25, 3},      // exactly the floor of 3 pairs
		{0.0625, 5},    // exactly 2^−4
		{1, 1},         //
		{0.01, 8},      // 2^−7 = 0.0078
		{0, 0}, {2, 0}, // invalid
	}
	for _, tc := range tests {
		if got := MinPairs(tc.alpha); got != tc.want {
			t.Errorf("MinPairs(%v) = %d, want %d", tc.alpha, got, tc.want)
		}
	}
}

// TestSignFlipFalsePositiveRate: with no effect, an exact test rejects at
// α = 0.05 in at most 5% of data sets (exactly 25/512 ≈ 4.9% for n = 10
// continuous data). 400 seeded trials must land within ±3 binomial
// standard deviations of that rate.
func TestSignFlipFalsePositiveRate(t *testing.T) {
	const trials = 400
	rng := rand.New(rand.NewPCG(3, 0))
	var rejects int
	d := make([]float64, 10)
	for range trials {
		for i := range d {
			d[i] = 0.02 * rng.NormFloat64()
		}
		r, err := SignFlip(d, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.P <= 0.05 {
			rejects++
		}
	}
	rate := 25.0 / 512
	mean, sd := trials*rate, math.Sqrt(trials*rate*(1-rate))
	if math.Abs(float64(rejects)-mean) > 3*sd {
		t.Errorf("%d of %d null trials rejected, want %.1f ± %.1f", rejects, trials, mean, 3*sd)
	}
}

// TestSignFlipFindsEffect: a −3% effect with 1% noise over 10 repeats is
// found: every pair negative gives the exact floor 2/1024.
func TestSignFlipFindsEffect(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 0))
	d := make([]float64, 10)
	for i := range d {
		d[i] = math.Log(0.97) + 0.01*rng.NormFloat64()
	}
	r, err := SignFlip(d, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.P > 0.01 {
		t.Errorf("p = %v for a clear effect, want ≤ 0.01", r.P)
	}
}

// TestSignFlipMonteCarlo: beyond MaxExactPairs the seeded Monte Carlo p
// agrees with the exact count (still cheap by meet-in-the-middle) and is
// reproducible.
func TestSignFlipMonteCarlo(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 0))
	d := make([]float64, 26)
	for i := range d {
		d[i] = 0.3 + rng.NormFloat64() // mild effect: p around a few percent
	}
	var obs, scale float64
	for _, v := range d {
		obs += v
		scale += math.Abs(v)
	}
	exact := float64(countExtremeExact(d, math.Abs(obs)-1e-9*scale)) / math.Ldexp(1, len(d))
	r1, err := SignFlip(d, 20000, NewPCG(9, 7))
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := SignFlip(d, 20000, NewPCG(9, 7))
	if r1 != r2 {
		t.Errorf("same seed, different results: %+v vs %+v", r1, r2)
	}
	if r1.Exact || r1.Permutations != 20000 {
		t.Errorf("got %+v, want a Monte Carlo result with 20000 permutations", r1)
	}
	se := math.Sqrt(exact * (1 - exact) / 20000)
	if math.Abs(r1.P-exact) > 4*se+1.0/20000 {
		t.Errorf("Monte Carlo p = %v, exact %v (se %v)", r1.P, exact, se)
	}
	if _, err := SignFlip(d, 0, nil); err == nil {
		t.Error("want an error without a generator beyond MaxExactPairs")
	}
}

func TestSignFlipErrors(t *testing.T) {
	for _, d := range [][]float64{nil, {1, math.NaN()}, {math.Inf(-1)}} {
		if _, err := SignFlip(d, 0, nil); err == nil {
			t.Errorf("SignFlip(%v): want an error", d)
		}
	}
}

func BenchmarkSignFlipExact20(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	d := make([]float64, 20)
	for i := range d {
		d[i] = rng.NormFloat64()
	}
	for b.Loop() {
		if _, err := SignFlip(d, 0, nil); err != nil {
			b.Fatal(err)
		}
	}
}
