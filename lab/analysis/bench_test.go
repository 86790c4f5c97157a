package analysis

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/treegen"
	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

// bigTree returns a generated tree of the given size, kept in the
// benchmark cache folder between runs (treegen.Cached).
func bigTree(b *testing.B, o treegen.Options) (root string, bytes int64) {
	b.Helper()
	root, bytes, err := treegen.Cached(o, os.Stderr)
	if err != nil {
		b.Fatal(err)
	}
	return root, bytes
}

// BenchmarkSelectBigTree is the big-tree size: 101 thresholds × 10 repeats ×
// 5 CSVs × 20,000 rows (3.4 GB of CSV). "select" is what the old script
// does — load, summarize and select (mean); "select+prompt_weight" adds the
// prompt_weight derivation at the choice (200,000 pooled values; read,
// sorted, intervals). lab/docs/benchmarks.md records the numbers and the
// Python reference's on the same tree.
func BenchmarkSelectBigTree(b *testing.B) {
	root, size := bigTree(b, treegen.Options{Thresholds: 101, Repeats: 10, Rows: 20000, Seed: 1})
	for _, withPW := range []bool{false, true} {
		name := "select"
		if withPW {
			name = "select+prompt_weight"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				tab, err := LoadLegacy(root)
				if err != nil {
					b.Fatal(err)
				}
				sel, err := Select(tab, Options{Baseline: Point{0}, Weights: spec.DefaultWeights, Agg: "mean"})
				if err != nil {
					b.Fatal(err)
				}
				if !withPW {
					continue
				}
				files, err := tab.Files(sel.Recommended(), sarathi.PrefillExecPlusPreemptNorm)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := SecondsPerPrefillToken(files, PromptWeightOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSummarize is one cell: five files of 20,000 rows.
func BenchmarkSummarize(b *testing.B) {
	root, _ := bigTree(b, treegen.Options{Thresholds: 101, Repeats: 10, Rows: 20000, Seed: 1})
	dir := filepath.Join(root, treegen.RepeatName(0), "0")
	files := plotFiles(dir)
	var buf []float64
	var size int64
	for _, f := range files {
		st, _ := os.Stat(f)
		size += st.Size()
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := summarizeFiles(files, &buf); err != nil {
			b.Fatal(err)
		}
	}
}
