package sarathi

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
)

// referenceWrite is Write as it was first written (sort.SliceStable and
// FormatFloat): the faster Write must produce the same bytes.
func referenceWrite(metric string, rows []Row) []byte {
	sorted := make([]Row, len(rows))
	copy(sorted, rows)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Value < sorted[j].Value })
	var buf bytes.Buffer
	buf.WriteString("Request Id," + metric + ",cdf\n")
	n := float64(len(sorted))
	for i, r := range sorted {
		buf.WriteString(r.RequestID + "," + strconv.FormatFloat(r.Value, 'g', -1, 64) + "," + strconv.FormatFloat(float64(i+1)/n, 'g', -1, 64) + "\n")
	}
	return buf.Bytes()
}

func TestWriteBytesUnchanged(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	next := 0
	tests := []struct {
		name string
		n    int
		draw func() float64
	}{
		{"empty", 0, nil},
		{"distinct", 5000, func() float64 { return rng.ExpFloat64() }},
		{"many ties", 5000, func() float64 { return float64(rng.IntN(7)) / 4 }},
		{"NaN among values", 3000, func() float64 {
			if rng.IntN(50) == 0 {
				return math.NaN()
			}
			return float64(rng.IntN(20))
		}},
		{"signed zeros and ties", 2000, func() float64 { return []float64{0, math.Copysign(0, -1), 1, -1}[rng.IntN(4)] }},
		{"sorted already", 3000, func() float64 { next++; return float64(next / 3) }},
		{"huge and tiny", 2000, func() float64 { return math.Ldexp(rng.Float64(), rng.IntN(2000)-1000) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows := make([]Row, tc.n)
			for i := range rows {
				rows[i] = Row{RequestID: "0_" + strconv.Itoa(i), Value: tc.draw()}
			}
			dir := t.TempDir()
			if err := Write(dir, "request_e2e_time", rows); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(filepath.Join(dir, FileName("request_e2e_time")))
			if want := referenceWrite("request_e2e_time", rows); !bytes.Equal(got, want) {
				t.Errorf("Write's bytes differ from the reference (%d vs %d bytes)", len(got), len(want))
			}
		})
	}
}
