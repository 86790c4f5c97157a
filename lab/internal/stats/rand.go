package stats

import "math/bits"

// PCG is math/rand/v2's PCG-DXSM generator as a plain value: the same
// stream as rand.NewPCG(seed, stream) and the same IntN as rand.Rand's
// (TestPCGMatchesMathRand), so seeds keep their meaning. Resampling loops
// draw tens of millions of indices: its Uint64 inlines, and Indices keeps
// the state in registers for a whole batch, where rand.Rand calls through
// an interface on every draw.
type PCG struct{ hi, lo uint64 }

// NewPCG returns the generator rand.NewPCG(seed, stream) would be, for
// one purpose. The stream separates independent uses under the same seed
// (e.g. one per sweep value and per statistic), so adding a sweep value
// does not shift the random numbers another value sees. PCG is a fully
// specified algorithm, so a seed reproduces across platforms.
func NewPCG(seed, stream uint64) *PCG { return &PCG{seed, stream} }

// Uint64 returns the next 64 random bits: the 128-bit LCG step, then the
// DXSM ("double xorshift multiply") output permutation of the state's high
// half with its low half, with the constants of O'Neill's PCG family that
// math/rand/v2 uses.
func (p *PCG) Uint64() uint64 {
	const (
		mulHi    = 2549297995355413924
		mulLo    = 4865540595714422341
		incHi    = 6364136223846793005
		incLo    = 1442695040888963407
		cheapMul = 0xda942042e4dd58b5
	)
	hi, lo := bits.Mul64(p.lo, mulLo)
	hi += p.hi*mulLo + p.lo*mulHi
	lo, c := bits.Add64(lo, incLo, 0)
	hi, _ = bits.Add64(hi, incHi, c)
	p.hi, p.lo = hi, lo
	hi ^= hi >> 32
	hi *= cheapMul
	hi ^= hi >> 48
	return hi * (lo | 1)
}

// IntN returns a uniform integer in [0, n), n > 0, as rand.Rand.IntN does
// on 64-bit platforms: a mask for a power of two, else Lemire's
// multiply-and-reject (https://arxiv.org/abs/1805.10941).
func (p *PCG) IntN(n uint64) uint64 {
	x := p.Uint64()
	if n&(n-1) == 0 {
		return x & (n - 1)
	}
	hi, lo := bits.Mul64(x, n)
	if lo < n {
		*p, hi = reject(*p, n, hi, lo)
	}
	return hi
}

// reject finishes IntN's rare rejection loop, on a copy of the state that
// it returns (taking the state's address would keep Indices' copy of it
// out of registers).
func reject(p PCG, n, hi, lo uint64) (PCG, uint64) {
	thresh := -n % n
	for lo < thresh {
		hi, lo = bits.Mul64(p.Uint64(), n)
	}
	return p, hi
}

// Indices fills idx with IntN(n) draws, in order. The loop works on a copy
// of the state in registers: in resampling, drawing in batches this way
// and then using the batch costs less than a call per draw.
func (p *PCG) Indices(idx []uint32, n uint32) {
	s := *p
	m := uint64(n)
	if m&(m-1) == 0 {
		for i := range idx {
			idx[i] = uint32(s.Uint64() & (m - 1))
		}
		*p = s
		return
	}
	for i := range idx {
		hi, lo := bits.Mul64(s.Uint64(), m)
		if lo < m {
			s, hi = reject(s, m, hi, lo)
		}
		idx[i] = uint32(hi)
	}
	*p = s
}
