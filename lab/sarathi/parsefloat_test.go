package sarathi

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// parseFloat must return exactly what strconv.ParseFloat returns, bits and
// error-or-not alike, on every kind of text.
func TestParseFloatMatchesStrconv(t *testing.T) {
	check := func(s string) {
		t.Helper()
		got, gerr := parseFloat([]byte(s))
		want, werr := strconv.ParseFloat(s, 64)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("%q: error %v, strconv says %v", s, gerr, werr)
		}
		if werr == nil && math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("%q: %v (%x), strconv %v (%x)", s, got, math.Float64bits(got), want, math.Float64bits(want))
		}
	}
	for _, s := range []string{"0", "-0", "+0", "0.0", "-0.0", ".5", "5.", "-.5", "1e5", "1E-5", "1e+22", "1e23", "1e-22",
		"1e-23", "123456789012345678", "1234567890123456789", "12345678901234567890", "9007199254740993",
		"9007199254740992", "0.000000000000000000001", "1.5e", "e5", "", ".", "-", "-.", "1..2", "1.2.3", "abc",
		"nan", "NaN", "inf", "-Inf", "0x1p3", "1_000", " 1", "1 ", "1e400", "1e-400", "1e00005", "4.9e-324",
		"2.2250738585072014e-308", "1.7976931348623157e308", "00000000000000000000012.5", "0.1478315634000421",
		"3.0000000000000004", "1e-", "12e+", "99999999999999999999", "0.12345678a", "0.1234567812345678",
		"12345678.12345678", "0.00046632418668149074", "1.00000000000000000000000000001", "0.00000000"} {
		check(s)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for range 100000 {
		v := math.Exp(rng.NormFloat64()*5) * float64(1-2*rng.IntN(2))
		check(strconv.FormatFloat(v, 'g', -1, 64))
		check(strconv.FormatFloat(v, 'f', -1, 64))
		check(strconv.FormatFloat(v, 'f', rng.IntN(25), 64))
		check(strconv.FormatFloat(v, 'e', rng.IntN(20), 64))
		check(strconv.FormatFloat(math.Float64frombits(rng.Uint64()), 'g', -1, 64))
	}
}

// Decimals exactly halfway between two doubles (ties go to even) and their
// neighbours one unit of the last digit away, with 17 to 19 digits: the
// hardest cases of the exact integer division, which must take them.
func TestParseFloatHalfway(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for range 20000 {
		e := 50 + rng.IntN(3) // x in [2^50, 2^53): ulp 1/4 … 1
		x := math.Ldexp(1+rng.Float64(), e)
		ulp := math.Nextafter(x, math.Inf(1)) - x
		mid := new(big.Float).SetPrec(200).SetFloat64(x)
		mid.Add(mid, new(big.Float).SetPrec(200).SetFloat64(ulp/2))
		txt := mid.Text('f', -1) // exact: 17 to 19 digits
		last := txt[len(txt)-1]
		cases := []string{txt, "0." + strings.Replace(txt, ".", "", 1) + "e" + strconv.Itoa(strings.Index(txt, "."))}
		if last > '0' && last < '9' {
			cases = append(cases, txt[:len(txt)-1]+string(last-1), txt[:len(txt)-1]+string(last+1))
		}
		for _, s := range cases {
			if _, ok := parseDecimalFast([]byte(s)); !ok && !strings.Contains(s, "e") {
				t.Fatalf("%q did not take the fast path", s)
			}
			got, err := parseFloat([]byte(s))
			want, _ := strconv.ParseFloat(s, 64)
			if err != nil || got != want {
				t.Fatalf("%q: %v (%v), strconv %v", s, got, err, want)
			}
		}
	}
}

func BenchmarkParseFloat(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	vals := make([][]byte, 4096)
	for i := range vals {
		vals[i] = []byte(strconv.FormatFloat(math.Exp(rng.NormFloat64()), 'g', -1, 64))
	}
	b.Run("sarathi", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			parseFloat(vals[i%len(vals)])
		}
	})
	b.Run("strconv", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			strconv.ParseFloat(string(vals[i%len(vals)]), 64)
		}
	})
}

// Reading through the memory mapping and through read(2) give the same
// values and the same errors, on good and bad files alike.
func TestMappedAndStreamedAgree(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"plain.csv":  "Request Id,m,cdf\n0_0,1.5,0.5\n0_1,2.25,1\n",
		"crlf.csv":   "Request Id,m,cdf\r\n0_0,1.5,0.5\r\n0_1,,0.7\r\n0_2,3,1",
		"vidur.csv":  ",Request Id,m,cdf\n0,0_0,0.1,0.5\n1,0_1,0.2,1\n",
		"quoted.csv": "\"Request Id\",\"m\",cdf\n0_0,\"4\",1\n",
		"bad.csv":    "Request Id,m,cdf\n0_0,1,0.5\n0_1,x,1\n",
		"short.csv":  "Request Id,m,cdf\n0_0\n",
		"nocol.csv":  "Request Id,other,cdf\n0_0,1,1\n",
		"empty.csv":  "",
		"novals.csv": "Request Id,m,cdf\n0_0,,1\n",
		"nan.csv":    "Request Id,m,cdf\n0_0,NaN,1\n",
		"long.csv":   "Request Id,m,cdf\n0_0," + strings.Repeat("1", 70000) + ",1\n",
		// A line longer than the read buffer (once corrupted by the refill).
		"longok.csv": "Request Id,m,cdf\n0_0,2.5," + strings.Repeat("0", 70000) + "\n0_1,3.5,1\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		mapped, merr := ReadValues(p, "m")
		streamed, serr := readValues(strings.NewReader(content), p, "m", nil)
		if fmt.Sprint(merr) != fmt.Sprint(serr) || !slices.Equal(mapped, streamed) {
			t.Errorf("%s: mapped %v, %v; streamed %v, %v", name, mapped, merr, streamed, serr)
		}
		if name == "longok.csv" && (serr != nil || !slices.Equal(streamed, []float64{2.5, 3.5})) {
			t.Errorf("long line: %v, %v; want [2.5 3.5]", streamed, serr)
		}
	}
}

// parseDecimalPrefix parses the number at the start of a field and says
// where it ends; what follows is the caller's business.
func TestParseDecimalPrefix(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		n    int
		ok   bool
	}{
		{"1.5,0.5\n", 1.5, 3, true},
		{"0.2221279850818555\n", 0.2221279850818555, 18, true},
		{"-3.5E+2,x", -350, 7, true},
		{"12 ", 12, 2, true},
		{"7e", 0, 0, false},
		{"1e12345", 0, 0, false},
		{",1", 0, 0, false},
		{"-.", 0, 0, false},
		{"inf", 0, 0, false},
	} {
		got, n, ok := parseDecimalPrefix([]byte(tc.in))
		if ok != tc.ok || ok && (got != tc.want || n != tc.n) {
			t.Errorf("parseDecimalPrefix(%q) = %v, %d, %v; want %v, %d, %v", tc.in, got, n, ok, tc.want, tc.n, tc.ok)
		}
	}
}

// mulPow10 gives divPow10's exact result whenever it answers, on random
// mantissas of every length, on multiples of 5^k (exact quotients and
// ties) and on their neighbours; and it answers almost always.
func TestMulPow10MatchesDivPow10(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	check := func(mant uint64, k int) (answered bool) {
		if mant < 1<<53 {
			return true
		}
		got, ok := mulPow10(mant, k)
		if !ok {
			return false
		}
		if want := divPow10(mant, k); got != want {
			t.Fatalf("mulPow10(%d, %d) = %v (%#x), divPow10 %v (%#x)", mant, k, got, math.Float64bits(got), want, math.Float64bits(want))
		}
		return true
	}
	declined, total := 0, 400000
	for range total {
		k := 1 + rng.IntN(22)
		mant := rng.Uint64() >> rng.IntN(11) // 54 to 64 bits
		if !check(mant, k) {
			declined++
		}
		// Exact quotients (and so ties) and their neighbours: where the
		// product's shortfall matters most.
		q := mant / pow5[k]
		for _, m := range []uint64{q * pow5[k], q*pow5[k] - 1, q*pow5[k] + 1} {
			check(m, k)
		}
	}
	if declined > total/100 {
		t.Errorf("mulPow10 declined %d of %d random mantissas", declined, total)
	}
}

// A number followed by the rest of its row (or by any byte that cannot
// continue it, ASCII or not) parses as the number alone does, to the same
// length and bits, and takes the fast path exactly when the number alone
// does: the digits after the last whole word of eight are read as a word
// too when eight bytes follow.
func TestParseDecimalPrefixBeforeAnyByte(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	stops := []byte{',', '\n', '\r', ' ', 'x', ';', '/', ':', 0x00, 0x7f, 0x80, 0xb9, 0xba, 0xc6, 0xff}
	for range 200000 {
		v := math.Exp(rng.NormFloat64()*4) * float64(1-2*rng.IntN(2))
		var num string
		switch rng.IntN(4) {
		case 0:
			num = strconv.FormatFloat(v, 'g', -1, 64)
		case 1:
			num = strconv.FormatFloat(v, 'f', -1, 64)
		case 2:
			num = strconv.FormatFloat(v, 'f', rng.IntN(25), 64)
		default:
			num = strconv.FormatFloat(v, 'e', rng.IntN(20), 64)
		}
		rest := []byte{stops[rng.IntN(len(stops))]}
		for range rng.IntN(12) {
			rest = append(rest, byte(rng.IntN(256)))
		}
		in := append([]byte(num), rest...)
		got, n, ok := parseDecimalPrefix(in)
		alone, aloneOK := parseDecimalFast([]byte(num))
		if ok != aloneOK {
			t.Fatalf("%q: fast path %v, the number alone %v", in, ok, aloneOK)
		}
		if ok && (n != len(num) || math.Float64bits(got) != math.Float64bits(alone)) {
			t.Fatalf("%q: %v (length %d); the number alone: %v (length %d)", in, got, n, alone, len(num))
		}
		if want, _ := strconv.ParseFloat(num, 64); ok && got != want {
			t.Fatalf("%q: %v, strconv %v", in, got, want)
		}
	}
}

// FuzzParseFloat: on any bytes, parseFloat gives strconv.ParseFloat's bits
// and its verdict, and parseDecimalPrefix never reads past what it claims
// nor disagrees with the whole-field parse. The seed corpus runs with the
// tests; `go test -fuzz FuzzParseFloat ./lab/sarathi` searches further.
func FuzzParseFloat(f *testing.F) {
	for _, s := range []string{"0", "-0.5", "1e5", "0.00460120908195203", "4.1511833799251475e-05",
		"9007199254740993", "1e400", "1e-400", "nan", "0x1p3", "1_000", ".5", "5.", "0.1234567812345678,0.0001\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, gerr := parseFloat(b)
		want, werr := strconv.ParseFloat(string(b), 64)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("%q: error %v, strconv says %v", b, gerr, werr)
		}
		if werr == nil && math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("%q: %v, strconv %v", b, got, want)
		}
		if v, n, ok := parseDecimalPrefix(b); ok {
			if n <= 0 || n > len(b) {
				t.Fatalf("%q: prefix length %d", b, n)
			}
			w, err := strconv.ParseFloat(string(b[:n]), 64)
			if err != nil || math.Float64bits(v) != math.Float64bits(w) {
				t.Fatalf("%q: prefix %q parsed as %v, strconv %v (%v)", b, b[:n], v, w, err)
			}
		}
	})
}
