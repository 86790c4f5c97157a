package sarathi

import (
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkReadValues reads one metric file as engines write it (10,000
// rows of shortest-form values, the size of a row of the selection's
// benchmark tree): the per-file cost of loading a sweep.
func BenchmarkReadValues(b *testing.B) {
	dir := b.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	rows := make([]Row, 10000)
	for i := range rows {
		rows[i] = Row{RequestID: "0_" + strconv.Itoa(i), Value: rng.ExpFloat64() * 0.3}
	}
	if err := Write(dir, RequestExecutionTime, rows); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, FileName(RequestExecutionTime))
	var buf []float64
	b.SetBytes(int64(len(rows)))
	for b.Loop() {
		var err error
		buf, err = AppendValues(buf[:0], path, RequestExecutionTime)
		if err != nil || len(buf) != len(rows) {
			b.Fatal(len(buf), err)
		}
	}
}

// BenchmarkWrite writes one metric file of a main-job cell (1,000 rows):
// a simulated cell writes nine of them.
func BenchmarkWrite(b *testing.B) {
	dir := b.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	rows := make([]Row, 1000)
	for i := range rows {
		rows[i] = Row{RequestID: "0_" + strconv.Itoa(i), Value: rng.ExpFloat64() * 0.3}
	}
	for b.Loop() {
		if err := Write(dir, RequestExecutionTime, rows); err != nil {
			b.Fatal(err)
		}
	}
}
