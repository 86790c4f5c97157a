package stats

import (
	"math/rand/v2"
	"testing"
)

// PCG is math/rand/v2's generator: the same bits, the same IntN, for
// every kind of bound (powers of two, small, large, rejection-prone).
func TestPCGMatchesMathRand(t *testing.T) {
	for _, seed := range [][2]uint64{{0, 0}, {1, 2}, {^uint64(0), 12345}} {
		p, want := NewPCG(seed[0], seed[1]), rand.NewPCG(seed[0], seed[1])
		for i := range 1000 {
			if a, b := p.Uint64(), want.Uint64(); a != b {
				t.Fatalf("seed %v, draw %d: %#x, math/rand %#x", seed, i, a, b)
			}
		}
		for _, n := range []uint64{1, 2, 3, 7, 8, 1000, 50000, 1 << 20, 1<<32 - 1, 1<<62 + 12345, 3 << 62} {
			p, want := NewPCG(seed[0], n), rand.New(rand.NewPCG(seed[0], n))
			for i := range 2000 {
				if a, b := p.IntN(n), want.Uint64N(n); a != b {
					t.Fatalf("seed %v, n=%d, draw %d: %d, math/rand %d", seed, n, i, a, b)
				}
			}
		}
		for _, n := range []uint32{1, 2, 3, 8, 1000, 50000, 1<<32 - 1} {
			p, want := NewPCG(seed[1], uint64(n)), rand.New(rand.NewPCG(seed[1], uint64(n)))
			idx := make([]uint32, 3000)
			p.Indices(idx[:1000], n)
			p.Indices(idx[1000:], n) // the state carries over between batches
			for i, a := range idx {
				if b := want.IntN(int(n)); int(a) != b {
					t.Fatalf("seed %v, n=%d, index %d: %d, math/rand IntN %d", seed, n, i, a, b)
				}
			}
		}
	}
}
