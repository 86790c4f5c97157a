package stats

import (
	"math"
	"testing"
)

// meanScorer scores candidate j by the mean of v[r][j] over the drawn repeats.
func meanScorer(v [][]float64) func(idx []int, out []float64) {
	return func(idx []int, out []float64) {
		for j := range out {
			var s float64
			for _, r := range idx {
				s += v[r][j]
			}
			out[j] = s / float64(len(idx))
		}
	}
}

func TestWinProbability(t *testing.T) {
	// Candidate 1 is lowest in every repeat: it wins every draw.
	v := [][]float64{{1, 0.9, 1.1}, {1, 0.8, 1.2}, {1, 0.95, 1.0}}
	p, err := WinProbability(3, 3, 500, NewPCG(1, 0), meanScorer(v))
	if err != nil {
		t.Fatal(err)
	}
	if p[0] != 0 || p[1] != 1 || p[2] != 0 {
		t.Errorf("p = %v, want [0 1 0]", p)
	}
	// Exact ties go to the lower index.
	tie := [][]float64{{1, 1}, {2, 2}}
	p, _ = WinProbability(2, 2, 100, NewPCG(1, 0), meanScorer(tie))
	if p[0] != 1 || p[1] != 0 {
		t.Errorf("ties: p = %v, want [1 0]", p)
	}
}

// TestWinProbabilitySplit: two candidates each lower in one of two
// repeats by the same amount. A draw of the same repeat twice (prob. 1/2)
// decides it; a draw of both ties and goes to candidate 0. So p ≈ (3/4, 1/4).
func TestWinProbabilitySplit(t *testing.T) {
	v := [][]float64{{1, 2}, {2, 1}}
	p, err := WinProbability(2, 2, 20000, NewPCG(2, 0), meanScorer(v))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(p[0]-0.75) > 0.015 || math.Abs(p[0]+p[1]-1) > 1e-12 {
		t.Errorf("p = %v, want about [0.75 0.25]", p)
	}
	q, _ := WinProbability(2, 2, 20000, NewPCG(2, 0), meanScorer(v))
	if q[0] != p[0] {
		t.Errorf("same seed: %v vs %v", p, q)
	}
}

// TestWinProbabilityNaN: an unscorable candidate never wins; a draw with
// nothing scorable counts for no one.
func TestWinProbabilityNaN(t *testing.T) {
	p, err := WinProbability(2, 2, 100, NewPCG(3, 0), func(idx []int, out []float64) {
		out[0] = math.NaN()
		out[1] = 5
	})
	if err != nil || p[0] != 0 || p[1] != 1 {
		t.Errorf("p = %v, err %v; want [0 1]", p, err)
	}
	p, _ = WinProbability(2, 2, 100, NewPCG(3, 0), func(idx []int, out []float64) {})
	if p[0] != 0 || p[1] != 0 {
		t.Errorf("nothing scorable: p = %v, want [0 0]", p)
	}
	if _, err := WinProbability(0, 2, 10, NewPCG(1, 1), func([]int, []float64) {}); err == nil {
		t.Error("want an error for 0 repeats")
	}
}
