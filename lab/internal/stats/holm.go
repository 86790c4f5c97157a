package stats

import (
	"fmt"
	"math"
	"sort"
)

// Holm returns Holm's step-down adjusted p-values (Holm 1979), in the order
// of p. With the m raw p-values sorted ascending, p(1) ≤ … ≤ p(m), the
// adjusted value of the i-th is max over j ≤ i of min(1, (m−j+1)·p(j)).
// Rejecting every adjusted p ≤ α controls the family-wise error rate at α
// under any dependence between the tests — the sweep values share the
// baseline, so their tests are dependent. Ties keep their input order, so
// equal inputs get equal outputs.
func Holm(p []float64) ([]float64, error) {
	m := len(p)
	for i, v := range p {
		if math.IsNaN(v) || v < 0 || v > 1 {
			return nil, fmt.Errorf("stats: Holm: p-value %d is %v, want a number in [0, 1]", i, v)
		}
	}
	order := make([]int, m)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return p[order[a]] < p[order[b]] })
	adj := make([]float64, m)
	var running float64
	for rank, i := range order {
		v := math.Min(1, float64(m-rank)*p[i])
		running = math.Max(running, v)
		adj[i] = running
	}
	return adj, nil
}
