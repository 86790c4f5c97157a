package sarathi

import (
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"
)

// benchRows are n rows as a simulated cell writes them: request ids and
// shortest-form values of ~17 digits.
func benchRows(n int) []Row {
	rng := rand.New(rand.NewPCG(1, 2))
	rows := make([]Row, n)
	for i := range rows {
		rows[i] = Row{RequestID: "0_" + strconv.Itoa(i), Value: rng.ExpFloat64() * 0.3}
	}
	return rows
}

// BenchmarkReadValues reads one metric file as engines write it (10,000
// rows, the size of a file of the selection's benchmark tree): the
// per-file cost of loading a sweep.
func BenchmarkReadValues(b *testing.B) {
	dir := b.TempDir()
	rows := benchRows(10000)
	if err := Write(dir, RequestExecutionTime, rows); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, FileName(RequestExecutionTime))
	var buf []float64
	for b.Loop() {
		var err error
		buf, err = AppendValues(buf[:0], path, RequestExecutionTime)
		if err != nil || len(buf) != len(rows) {
			b.Fatal(len(buf), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(rows)), "ns/row")
}

// BenchmarkWrite writes one metric file of a main-job cell (1,000 rows):
// a simulated cell writes nine of them.
func BenchmarkWrite(b *testing.B) {
	dir := b.TempDir()
	rows := benchRows(1000)
	for b.Loop() {
		if err := Write(dir, RequestExecutionTime, rows); err != nil {
			b.Fatal(err)
		}
	}
}
