package report

import (
	"path/filepath"
	"testing"
)

// BenchmarkWritePaper is what the paper outputs add to `lab report`:
// drawing every figure as SVG, PDF and PNG and writing the tables, from
// the summary of a sweep the size of the default experiment (17 points ×
// 10 repeats) and of the selection benchmark (101 × 10).
func BenchmarkWritePaper(b *testing.B) {
	for _, tc := range []struct {
		name string
		tr   tree
	}{
		{"17x10", tree{thresholds: 17, repeats: 10, rows: 100, seed: 3}},
		{"101x10", tree{thresholds: 101, repeats: 10, rows: 100, seed: 3}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			sum := buildSummary(inputFromTree(b, tc.tr))
			dir := filepath.Join(b.TempDir(), "r")
			b.ResetTimer()
			cpu0 := cpuTime()
			for range b.N {
				if err := WritePaper(dir, sum); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cpuTime()-cpu0).Seconds()*1000/float64(b.N), "cpu-ms/op")
		})
	}
}
