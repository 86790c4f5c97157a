package slurm

import "testing"

func TestOutputPatternEscapesPercent(t *testing.T) {
	tests := []struct{ dir, want string }{
		{"/store/slurm/r1", "/store/slurm/r1/out/%A_%a.out"},
		{"/data/100%/slurm/r1", "/data/100%%/slurm/r1/out/%A_%a.out"},
		{"/s/%j%%u/r", "/s/%%j%%%%u/r/out/%A_%a.out"},
	}
	for _, tc := range tests {
		if got := outputPattern(tc.dir); got != tc.want {
			t.Errorf("outputPattern(%q) = %q, want %q", tc.dir, got, tc.want)
		}
	}
}
