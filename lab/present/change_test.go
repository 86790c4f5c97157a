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
