package stats

import (
	"math"
	"testing"
)

// TestTTestPairs checks the sample sizes of a two-sided one-sample t test
// at α = 0.05, 80% power against the standard tables (Cohen 1988; R's
// pwr.t.test(type = "one.sample") gives n = 33.37, 14.30, 9.94, 198.15).
func TestTTestPairs(t *testing.T) {
	tests := []struct {
		effect float64
		want   int
	}{{0.5, 34}, {0.8, 15}, {1, 10}, {0.2, 199}}
	for _, tc := range tests {
		n, capped := tTestPairs(tc.effect, 0.05, 0.8)
		if n != tc.want || capped {
			t.Errorf("effect %v: n = %d (capped %v), want %d", tc.effect, n, capped, tc.want)
		}
	}
	if n, capped := tTestPairs(1e-4, 0.05, 0.8); !capped || n != MaxRepeatsEstimate {
		t.Errorf("tiny effect: n = %d capped %v, want the cap", n, capped)
	}
}

func TestTTestPower(t *testing.T) {
	// No effect: power equals the level.
	if pw := TTestPower(10, 0, 0.05); math.Abs(pw-0.05) > 1e-9 {
		t.Errorf("power at effect 0 = %v, want 0.05", pw)
	}
	if pw := TTestPower(1, 1, 0.05); !math.IsNaN(pw) {
		t.Errorf("power with 1 pair = %v, want NaN", pw)
	}
	// Increasing in n.
	prev := 0.0
	for n := 2; n < 60; n++ {
		pw := TTestPower(n, 0.4, 0.05)
		if pw < prev {
			t.Fatalf("power fell from %v to %v at n = %d", prev, pw, n)
		}
		prev = pw
	}
}

func TestRepeatsNeeded(t *testing.T) {
	// Mean −0.01, sd 0.02 (effect 0.5) at α = 0.05: the t test wants 34.
	d := []float64{-0.03, -0.01, 0.01}
	p, err := RepeatsNeeded(d, 0.05, 0.8)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(p.Mean+0.01) > 1e-15 || math.Abs(p.SD-0.02) > 1e-15 || math.Abs(p.EffectSize-0.5) > 1e-12 {
		t.Errorf("mean %v sd %v effect %v, want −0.01, 0.02, 0.5", p.Mean, p.SD, p.EffectSize)
	}
	if !p.Estimable || p.TTest != 34 || p.ExactFloor != 6 || p.Needed != 34 {
		t.Errorf("got %+v, want t test 34, floor 6, needed 34", p)
	}
	// A huge effect: the exact floor decides.
	p, _ = RepeatsNeeded([]float64{-0.05, -0.051, -0.049}, 0.05/4, 0.8)
	if p.ExactFloor != 8 || p.Needed != 8 {
		t.Errorf("got %+v, want floor 8 = needed", p)
	}
	// No spread: effect infinite, floor decides.
	p, _ = RepeatsNeeded([]float64{-0.02, -0.02}, 0.05, 0.8)
	if !math.IsInf(p.EffectSize, 1) || p.Needed != 6 {
		t.Errorf("got %+v, want infinite effect, needed 6", p)
	}
	// No observed effect: not estimable.
	p, _ = RepeatsNeeded([]float64{-0.02, 0.02}, 0.05, 0.8)
	if p.Estimable || p.Needed != 6 {
		t.Errorf("got %+v, want not estimable", p)
	}
	p, _ = RepeatsNeeded([]float64{-0.02}, 0.05, 0.8)
	if p.Estimable || p.Pairs != 1 {
		t.Errorf("got %+v, want not estimable from one pair", p)
	}
	for _, bad := range []struct{ a, pw float64 }{{0, 0.8}, {0.05, 1}, {1, 0.8}} {
		if _, err := RepeatsNeeded(d, bad.a, bad.pw); err == nil {
			t.Errorf("RepeatsNeeded(α=%v, power=%v): want an error", bad.a, bad.pw)
		}
	}
}
