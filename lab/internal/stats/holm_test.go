package stats

import (
	"math"
	"slices"
	"testing"
)

func TestHolm(t *testing.T) {
	tests := []struct {
		name string
		p    []float64
		want []float64
	}{
		// Sorted: 0.005·4 = 0.02; 0.01·3 = 0.03; 0.03·2 = 0.06; 0.04·1 =
		// 0.04 → raised to the running max 0.06.
		{"step-down", []float64{0.01, 0.04, 0.03, 0.005}, []float64{0.03, 0.06, 0.06, 0.02}},
		// Capped at 1.
		{"cap", []float64{0.5, 0.6}, []float64{1, 1}},
		// Ties: both get 2·0.02, the third 1·0.3.
		{"ties", []float64{0.02, 0.3, 0.02}, []float64{0.06, 0.3, 0.06}},
		{"single", []float64{0.04}, []float64{0.04}},
		{"empty", nil, []float64{}},
		// The textbook 3-test case: 0.01·3, max(0.03, 0.02·2), max(0.04, 0.03·1).
		{"textbook", []float64{0.01, 0.02, 0.03}, []float64{0.03, 0.04, 0.04}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Holm(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, tc.want, func(a, b float64) bool { return math.Abs(a-b) < 1e-15 }) {
				t.Errorf("Holm(%v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestHolmErrors(t *testing.T) {
	for _, p := range [][]float64{{0.1, math.NaN()}, {-0.1}, {1.5}} {
		if _, err := Holm(p); err == nil {
			t.Errorf("Holm(%v): want an error", p)
		}
	}
}
