package present

import (
	"math"
	"testing"
)

func TestChangeHugeAndNonFinite(t *testing.T) {
	tests := []struct {
		ratio float64
		want  string
	}{
		{0.969, "−3.1%"},
		{1.0012, "+0.12%"},
		{1, "0.00%"},
		{math.Inf(1), "+∞%"},
		{math.Inf(-1), "−∞%"},
		{math.NaN(), "–"},
		{1e300, "+1e+302%"},
		{-1e300, "−1e+302%"},
		{12345.6, "+1.2e+06%"},
		{9999, "+999800.0%"},
	}
	for _, tc := range tests {
		if got := Change(tc.ratio); got != tc.want {
			t.Errorf("Change(%v) = %q, want %q", tc.ratio, got, tc.want)
		}
	}
}

// An estimate and its interval share their decimals, and a huge or missing
// end prints as Change prints it alone (never "++Inf%").
func TestChangeCI(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		ratio float64
		ci    [2]float64
		want  string
	}{
		{0.979, [2]float64{0.97, 0.988}, "−2.1% [−3.0%, −1.2%]"},
		{1.0017, [2]float64{0.9975, 1.0049}, "+0.17% [−0.25%, +0.49%]"},
		{1.0179, [2]float64{0.9844, 1.0628}, "+1.8% [−1.6%, +6.3%]"},
		{1, [2]float64{1, 1}, "0.00% [0.00%, 0.00%]"},
		{1.02, [2]float64{nan, 1.1}, "+2.0%"},
		{nan, [2]float64{nan, nan}, "–"},
		{math.Inf(1), [2]float64{2, math.Inf(1)}, "+∞% [+100.0%, +∞%]"},
	}
	for _, tc := range tests {
		if got := ChangeCI(tc.ratio, tc.ci); got != tc.want {
			t.Errorf("ChangeCI(%v, %v) = %q, want %q", tc.ratio, tc.ci, got, tc.want)
		}
	}
}
