package stats

import (
	"math/rand/v2"
	"slices"
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

// Resample draws what IntN would, counts each index and sums in draw order;
// it gives up exactly when a count would pass its limit.
func TestResampleMatchesIntN(t *testing.T) {
	for _, n := range []int{1, 2, 3, 8, 1000, 4096, 50000} {
		values := make([]float64, n)
		for i := range values {
			values[i] = float64(i)*0.37 + 1e-3*float64(i%7)
		}
		for stream := range uint64(5) {
			want := make([]int32, n)
			var wantSum float64
			maxCount := int32(0)
			r := NewPCG(7, stream)
			for range n {
				j := r.IntN(uint64(n))
				want[j]++
				maxCount = max(maxCount, want[j])
				wantSum += values[j]
			}
			next := r.Uint64()

			p := NewPCG(7, stream)
			wide := make([]int32, n)
			sum, ok := Resample(p, values, wide, 1<<31-1)
			if !ok || sum != wantSum || !slices.Equal(wide, want) {
				t.Fatalf("n=%d stream %d: int32 counts: ok %v, sum %v (want %v), counts equal %v", n, stream, ok, sum, wantSum, slices.Equal(wide, want))
			}
			if got := p.Uint64(); got != next {
				t.Fatalf("n=%d stream %d: the state after Resample is not the state after n draws", n, stream)
			}
			for _, limit := range []uint8{255, uint8(min(maxCount, 255)), uint8(maxCount - 1)} {
				narrow := make([]uint8, n)
				sum, ok := Resample(NewPCG(7, stream), values, narrow, limit)
				if wantOK := maxCount <= int32(limit); ok != wantOK {
					t.Fatalf("n=%d stream %d limit %d: ok %v, most draws of one index %d", n, stream, limit, ok, maxCount)
				}
				if !ok {
					continue
				}
				for j, c := range narrow {
					if int32(c) != want[j] {
						t.Fatalf("n=%d stream %d limit %d: count %d is %d, want %d", n, stream, limit, j, c, want[j])
					}
				}
				if sum != wantSum {
					t.Fatalf("n=%d stream %d limit %d: sum %v, want %v", n, stream, limit, sum, wantSum)
				}
			}
		}
	}
}
