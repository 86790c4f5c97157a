package stats

import (
	"errors"
	"fmt"
	"math"
)

// WinProbability estimates, for each of points candidates, the probability
// that it is the argmin of its score when whole repeats are resampled with
// replacement. Each of resamples draws (0 means DefaultResamples) picks
// repeats indices into [0, repeats) and calls score(idx, out), which must
// fill out[j] with candidate j's score computed from those repeats only
// (NaN when j cannot be scored from them, e.g. it is missing in all). The
// candidate with the smallest score wins the draw, ties going to the lower
// index — the selection's own tie rule when candidates are in sweep order.
// A draw where nothing can be scored counts for no one, so the
// probabilities can sum to less than 1.
//
// All candidates share each draw, so the pairing of values measured in the
// same repeat is kept.
func WinProbability(repeats, points, resamples int, rng *PCG, score func(idx []int, out []float64)) ([]float64, error) {
	if repeats < 1 || points < 1 {
		return nil, fmt.Errorf("stats: win probability needs at least one repeat and one candidate, got %d and %d", repeats, points)
	}
	if rng == nil {
		return nil, errors.New("stats: win probability needs a random generator")
	}
	if resamples <= 0 {
		resamples = DefaultResamples
	}
	idx := make([]int, repeats)
	out := make([]float64, points)
	wins := make([]int, points)
	for range resamples {
		for i := range idx {
			idx[i] = int(rng.IntN(uint64(repeats)))
		}
		for j := range out {
			out[j] = math.NaN()
		}
		score(idx, out)
		best := -1
		for j, v := range out {
			if math.IsNaN(v) {
				continue
			}
			if best < 0 || v < out[best] {
				best = j
			}
		}
		if best >= 0 {
			wins[best]++
		}
	}
	p := make([]float64, points)
	for j, w := range wins {
		p[j] = float64(w) / float64(resamples)
	}
	return p, nil
}
