package analysis

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/treegen"
	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

// BenchCacheDir is where benchmarks keep the generated trees they reuse
// between runs: $SCHEDLAB_BENCH_CACHE, else schedlab/bench under the user's
// cache folder (~/.cache on Linux). Documented in lab/docs/benchmarks.md.
func benchCacheDir() string {
	if d := os.Getenv("SCHEDLAB_BENCH_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "schedlab", "bench")
	}
	return filepath.Join(os.TempDir(), "schedlab-bench")
}

// bigTree returns a generated tree of the given size, written once into
// the benchmark cache folder and reused by later runs (a marker file says
// it is complete; delete the folder to regenerate or to free the space).
// It says on stderr what it generates, where, and how big it is, since a
// benchmark's log shows only with -v.
func bigTree(b *testing.B, o treegen.Options) (root string, bytes int64) {
	b.Helper()
	root = filepath.Join(benchCacheDir(), fmt.Sprintf("bigtree-%dx%dx%d-seed%d", o.Thresholds, o.Repeats, o.Rows, o.Seed))
	marker := filepath.Join(root, ".complete")
	if _, err := os.Stat(marker); err != nil {
		fmt.Fprintf(os.Stderr, "bench: generating a legacy tree of %d thresholds × %d repeats × 5 CSVs × %d rows (about %.1f GB) into %s; it is kept for later runs (delete it to free the space; SCHEDLAB_BENCH_CACHE moves it)\n",
			o.Thresholds, o.Repeats, o.Rows, float64(o.Thresholds*o.Repeats*o.Rows)*5*34/1e9, root)
		os.RemoveAll(root)
		if err := treegen.Generate(root, o); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(marker, nil, 0o644); err != nil {
			b.Fatal(err)
		}
	} else {
		fmt.Fprintf(os.Stderr, "bench: using the generated tree in %s (delete it to free the space)\n", root)
	}
	filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				bytes += info.Size()
			}
		}
		return nil
	})
	return root, bytes
}

// BenchmarkSelectBigTree is the big-tree size: 101 thresholds × 10 repeats ×
// 5 CSVs × 20,000 rows (3.4 GB of CSV). "select" is what the old script
// does — load, summarize and select (mean); "select+prompt_weight" adds the
// prompt_weight derivation at the choice (200,000 pooled values, 1,000
// bootstrap resamples). README "Benchmarks" records the numbers and the
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
