package analysis

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Hand-computed: position (n−1)·q, interpolated between neighbours.
func TestPercentileByHand(t *testing.T) {
	tests := []struct {
		xs   []float64
		q    float64
		want float64
	}{
		{[]float64{1, 2, 3, 4, 5}, 0.95, 4.8},                       // 3.8 → 4 + 0.8
		{[]float64{0.5, 1, 1.5, 2, 2.5, 3}, 0.95, 2.875},            // 4.75 → 2.5 + 0.75·0.5
		{[]float64{1, 2, 3, 4}, 0.9, 3.7},                           // 2.7 → 3 + 0.7
		{[]float64{1, 2, 3}, 0.9, 2.8},                              // 1.8
		{[]float64{7}, 0.95, 7},                                     // one value
		{[]float64{1, 2}, 0, 1},                                     // q = 0
		{[]float64{1, 2}, 1, 2},                                     // q = 1
		{[]float64{2, 2, 2, 2}, 0.95, 2},                            // equal values
		{[]float64{0.001, 0.002, 0.003, 0.004, 0.005}, 0.8, 0.0042}, // 3.2
	}
	for _, tc := range tests {
		got := Percentile(tc.xs, tc.q)
		if math.Abs(got-tc.want) > 1e-15*math.Abs(tc.want) {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tc.xs, tc.q, got, tc.want)
		}
		shuffled := slices.Clone(tc.xs)
		slices.Reverse(shuffled)
		if u := percentileUnsorted(shuffled, tc.q); u != got {
			t.Errorf("percentileUnsorted(%v, %v) = %v, Percentile gives %v", tc.xs, tc.q, u, got)
		}
	}
	if !math.IsNaN(Percentile(nil, 0.5)) || !math.IsNaN(Median(nil)) || !math.IsNaN(Mean(nil)) {
		t.Error("no values must give NaN")
	}
}

func TestMedianByHand(t *testing.T) {
	tests := []struct {
		xs   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{1, 3}, 2},
		{[]float64{1, 2, 10}, 2},
		{[]float64{1, 2, 4, 10}, 3},
		{[]float64{0.9, 0.95, 1.05, 1.1, 1.3}, 1.05},
	}
	for _, tc := range tests {
		if got := Median(tc.xs); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
	}
}

// Selection by quickselect must give exactly what sorting gives, whatever
// the data (duplicates, sorted, reversed, random).
func TestSelectionMatchesSorting(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		n := 1 + rng.IntN(500)
		xs := make([]float64, n)
		for i := range xs {
			switch trial % 3 {
			case 0:
				xs[i] = rng.NormFloat64()
			case 1:
				xs[i] = float64(rng.IntN(5)) // many duplicates
			default:
				xs[i] = float64(i) // already sorted
			}
		}
		sorted := slices.Sorted(slices.Values(xs))
		for _, q := range []float64{0, 0.1, 0.5, 0.8, 0.9, 0.95, 1} {
			if got, want := percentileUnsorted(slices.Clone(xs), q), Percentile(sorted, q); got != want {
				t.Fatalf("n=%d q=%v: selection %v, sorting %v", n, q, got, want)
			}
		}
	}
}

// numpy itself is the oracle for the exact arithmetic: np.sum/np.mean
// (pairwise within 8192-value blocks), np.percentile and np.median, compared
// bit for bit on lengths around every boundary of numpy's algorithm.
func TestNumpyBitForBit(t *testing.T) {
	py := python(t)
	rng := rand.New(rand.NewPCG(3, 4))
	lengths := []int{1, 2, 3, 7, 8, 9, 15, 16, 17, 127, 128, 129, 255, 256, 257, 1000, 8191, 8192, 8193, 16384, 20000, 50001}
	var arrays [][]float64
	for _, n := range lengths {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = math.Exp(rng.NormFloat64()) * 1e-3
		}
		arrays = append(arrays, xs)
	}
	dir := t.TempDir()
	var buf bytes.Buffer
	for _, xs := range arrays {
		binary.Write(&buf, binary.LittleEndian, int64(len(xs)))
		binary.Write(&buf, binary.LittleEndian, xs)
	}
	in := filepath.Join(dir, "arrays.bin")
	if err := os.WriteFile(in, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `
import sys, numpy as np
data = open(sys.argv[1], "rb").read()
off = 0
while off < len(data):
    n = int(np.frombuffer(data, dtype="<i8", count=1, offset=off)[0]); off += 8
    a = np.frombuffer(data, dtype="<f8", count=n, offset=off).copy(); off += 8 * n
    print(" ".join(float(v).hex() for v in [np.sum(a), np.mean(a), np.percentile(a, 95), np.percentile(a, 90), np.percentile(a, 80), np.median(a)]))
`
	out, err := exec.Command(py, "-c", script, in).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(arrays) {
		t.Fatalf("numpy printed %d lines for %d arrays:\n%s", len(lines), len(arrays), out)
	}
	for i, xs := range arrays {
		sorted := slices.Sorted(slices.Values(xs))
		got := []float64{Sum(xs), Mean(xs), Percentile(sorted, 0.95), Percentile(sorted, 0.9), Percentile(sorted, 0.8), Median(sorted)}
		names := []string{"sum", "mean", "p95", "p90", "p80", "median"}
		for j, f := range strings.Fields(lines[i]) {
			want, err := parseHexFloat(f)
			if err != nil {
				t.Fatal(err)
			}
			if got[j] != want {
				t.Errorf("n=%d %s: Go %v, numpy %v", len(xs), names[j], got[j], want)
			}
		}
	}
}

// parseHexFloat reads Python's float.hex() ("0x1.8p+1").
func parseHexFloat(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("parsing numpy output %q: %w", s, err)
	}
	return v, nil
}
