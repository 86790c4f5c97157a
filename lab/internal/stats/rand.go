package stats

import "math/rand/v2"

// NewRand returns a deterministic generator for one purpose. The stream
// separates independent uses under the same seed (e.g. one per sweep value
// and per statistic), so adding a sweep value does not shift the random
// numbers another value sees. PCG is a fully specified algorithm, so a seed
// reproduces across platforms.
func NewRand(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream))
}
