package sarathi

import (
	"encoding/binary"
	"math"
	"math/big"
	"math/bits"
	"strconv"
)

// exactPow10 are the powers of ten that float64 represents exactly.
var exactPow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat parses a metric value with exactly strconv.ParseFloat's
// result (bits and errors). Profiling the selection on a 4.5 GB tree showed
// the digit scanning of strconv as the largest cost, so plain decimals
// ([-]digits[.digits][e[±]digits], as engines write them) are scanned here,
// eight fraction digits at a time; when the significant digits fit below
// 2^53 and the decimal exponent is within ±22, the mantissa and the power of
// ten are both exact in float64 and one IEEE division or multiplication
// rounds correctly (Clinger's fast path, the first path strconv takes too).
// Mantissas of 54 to 64 bits (the 17-digit values of shortest round-trip
// output) with a negative exponent down to −22 are multiplied by a 128-bit
// 5^-k whose rounding is exact but for rare cases (mulPow10), which are
// divided exactly in integers (divPow10). Everything else — big exponents, 20+ digits, inf,
// nan, hex, underscores, malformed text — goes to strconv.ParseFloat.
func parseFloat(b []byte) (float64, error) {
	if f, ok := parseDecimalFast(b); ok {
		return f, nil
	}
	// The compiler does not allocate for a string conversion used only as a
	// call argument that does not escape.
	return strconv.ParseFloat(string(b), 64)
}

func parseDecimalFast(b []byte) (float64, bool) {
	f, n, ok := parseDecimalPrefix(b)
	return f, ok && n == len(b)
}

// parseDecimalPrefix parses the plain decimal at the start of b and
// returns it with its length in bytes; ok is false when the text there is
// no plain decimal or its value is not exact by the fast paths (the caller
// then uses strconv). The number ends at the first byte that cannot
// continue it, so a row's value parses where it lies, without finding the
// field's end first.
func parseDecimalPrefix(b []byte) (f float64, n int, ok bool) {
	i := 0
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg = true
		i++
	}
	var mant uint64
	nd := 0  // significant digits in mant
	exp := 0 // decimal exponent of mant's last digit
	start := i
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if mant == 0 && b[i] == '0' {
			continue // leading zero
		}
		if nd == 19 {
			return 0, 0, false
		}
		mant = mant*10 + uint64(b[i]-'0')
		nd++
	}
	digits := i - start
	if i < len(b) && b[i] == '.' {
		i++
		fstart := i
		if mant == 0 {
			for i < len(b) && b[i] == '0' {
				i++
			}
			exp -= i - fstart
		}
		for len(b)-i >= 8 {
			v := binary.LittleEndian.Uint64(b[i:])
			if v&0xF0F0F0F0F0F0F0F0 != 0x3030303030303030 || (v+0x0606060606060606)&0xF0F0F0F0F0F0F0F0 != 0x3030303030303030 {
				break // not eight digits
			}
			if nd+8 > 19 {
				return 0, 0, false
			}
			v &= 0x0F0F0F0F0F0F0F0F
			v = (v*10 + v>>8) & 0x00FF00FF00FF00FF
			v = (v*100 + v>>16) & 0x0000FFFF0000FFFF
			v = (v*10000 + v>>32) & 0xFFFFFFFF
			mant = mant*100000000 + v
			nd += 8
			exp -= 8
			i += 8
		}
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			if nd == 19 {
				return 0, 0, false
			}
			mant = mant*10 + uint64(b[i]-'0')
			if mant != 0 {
				nd++
			}
			exp--
		}
		digits += i - fstart
	}
	if digits == 0 {
		return 0, 0, false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if i < len(b) && (b[i] == '-' || b[i] == '+') {
			eneg = b[i] == '-'
			i++
		}
		estart := i
		e := 0
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			if i-estart == 4 {
				return 0, 0, false // an exponent this long is not for the fast path
			}
			e = e*10 + int(b[i]-'0')
		}
		if i == estart {
			return 0, 0, false
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if mant >= 1<<53 && exp < 0 && exp >= -22 {
		f, ok := mulPow10(mant, -exp)
		if !ok {
			f = divPow10(mant, -exp)
		}
		if neg {
			f = -f
		}
		return f, i, true
	}
	if mant >= 1<<53 || exp < -22 || exp > 22 {
		return 0, 0, false
	}
	f = float64(mant)
	if exp < 0 {
		f /= exactPow10[-exp]
	} else {
		f *= exactPow10[exp]
	}
	if neg {
		f = -f
	}
	return f, i, true
}

// pow5 are 5^0 … 5^22 (all below 2^52).
var pow5 = func() (p [23]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 5
	}
	return p
}()

// invPow5 holds, for k = 1 … 22, 5^-k as a 128-bit fraction rounded down:
// 5^-k = (hi·2^64 + lo + δ)·2^-p with 2^127 ≤ hi·2^64 + lo < 2^128 and
// 0 < δ < 1 (5^-k has no finite binary expansion, so δ > 0).
var invPow5 = func() (t [23]struct {
	hi, lo uint64
	p      int
}) {
	for k := 1; k < len(t); k++ {
		p := 127 + bits.Len64(pow5[k])
		m := new(big.Int).Lsh(big.NewInt(1), uint(p))
		m.Quo(m, new(big.Int).SetUint64(pow5[k]))
		lo := new(big.Int).And(m, new(big.Int).SetUint64(math.MaxUint64))
		t[k].hi, t[k].lo, t[k].p = new(big.Int).Rsh(m, 64).Uint64(), lo.Uint64(), p
	}
	return t
}()

// mulPow10 is divPow10 by multiplication, for the same arguments: mant
// (shifted to fill 64 bits, w) times the 128-bit 5^-k of invPow5. The
// product falls short of w·5^-k·2^p by w·δ, more than 0 and less than 2^64:
// below the 54 bits kept (53 and the rounding bit), the true value is the
// product's bits plus that shortfall. So unless the product's bits between
// the rounding bit and its lowest 64 are all ones (where the shortfall
// could carry into the rounding bit), the rounding bit is exact and the
// bits below it are not all zero — never a tie — and rounding to nearest
// is: up when the rounding bit is set. ok is false in the all-ones case
// (about one value in five hundred), for divPow10 to decide. The 128-bit
// division divPow10 does was its largest cost; this is two multiplications.
func mulPow10(mant uint64, k int) (f float64, ok bool) {
	e := invPow5[k]
	lz := bits.LeadingZeros64(mant)
	w := mant << lz
	hi1, lo1 := bits.Mul64(w, e.hi)
	hi2, _ := bits.Mul64(w, e.lo)
	mid, c := bits.Add64(lo1, hi2, 0)
	top := hi1 + c // bits 191…128 of the 192-bit product
	shift := 11    // the product's leading bit is 191, top's 63: keep 63…11, round at 10
	if top>>63 == 0 {
		shift = 10 // the leading bit is 190: keep 62…10, round at 9
	}
	below := top & (1<<(shift-1) - 1) // bits between the rounding bit and mid
	if below == 1<<(shift-1)-1 && mid == math.MaxUint64 {
		return 0, false
	}
	m := top >> shift // 53 bits
	if top>>(shift-1)&1 == 1 {
		m++
	}
	exp := shift + 128 - lz - e.p - k // the value is m·2^exp
	if m == 1<<53 {
		m >>= 1
		exp++
	}
	return math.Float64frombits(uint64(exp+52+1023)<<52 | m&(1<<52-1)), true
}

// divPow10 returns mant / 10^k correctly rounded (to nearest, ties to
// even), for 2^53 ≤ mant < 2^64 and 1 ≤ k ≤ 22. As 10^k = 5^k·2^k, it
// divides mant·2^s by 5^k in 128-bit integer arithmetic, with s chosen so
// that the quotient q has 63 or 64 bits; q's bits below the 53 kept, plus
// whether the division left a remainder, decide the rounding exactly. The
// result is a normal float64 (≥ 2^53/10^22), so scaling by a power of two
// is exact: only the exponent field changes.
func divPow10(mant uint64, k int) float64 {
	d := pow5[k]
	lm := bits.Len64(mant) // 54…64
	ld := bits.Len64(d)    // 1…52
	s := 63 - lm + ld      // 0…61: quotient in (2^62, 2^64)
	var hi, lo uint64
	if s == 0 {
		lo = mant
	} else {
		hi, lo = mant>>(64-s), mant<<s
	}
	q, r := bits.Div64(hi, lo, d)
	shift := bits.Len64(q) - 53 // 10 or 11
	m := q >> shift
	rest := q & (1<<shift - 1)
	half := uint64(1) << (shift - 1)
	if rest > half || (rest == half && (r != 0 || m&1 == 1)) {
		m++
		if m == 1<<53 {
			m >>= 1
			shift++
		}
	}
	// m·2^e with m in [2^52, 2^53) and the result normal: its bits are
	// built directly (math.Ldexp's general case was a fifth of the time).
	e := shift - s - k
	return math.Float64frombits(uint64(e+52+1023)<<52 | m&(1<<52-1))
}
