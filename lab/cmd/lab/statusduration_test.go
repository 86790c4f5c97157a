package main

import "testing"

func TestStatusDuration(t *testing.T) {
	tests := []struct {
		seconds float64
		want    string
	}{
		{0, "0s"},
		{0.0004, "0s"},
		{0.053611174, "54ms"},
		{0.9994, "999ms"},
		{0.9996, "1s"},
		{3.14, "3.1s"},
		{125.26, "2m5.3s"},
	}
	for _, tc := range tests {
		if got := statusDuration(tc.seconds); got != tc.want {
			t.Errorf("statusDuration(%v) = %q, want %q", tc.seconds, got, tc.want)
		}
	}
}
