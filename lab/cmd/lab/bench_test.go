package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/treegen"
)

// BenchmarkMainJob is README's main job as a user runs it, in-process:
// `lab run experiments/min-chunk-threshold.yaml` on a fresh store (the 170
// cells, the prompt_weight confirmation's cells, the selection with its
// statistics, the report). Target ≤ 5 s on a 2-core machine with a warm
// build; lab/docs/benchmarks.md has the numbers. "cached" runs it again on
// a store that already holds every cell: what remains is the analysis and
// the report.
func BenchmarkMainJob(b *testing.B) {
	spec := filepath.Join("..", "..", "..", "experiments", "min-chunk-threshold.yaml")
	run := func(b *testing.B, store, reports string) {
		var stderr bytes.Buffer
		env := &cmdEnv{stdout: io.Discard, stderr: &stderr}
		if code := runMain(context.Background(), env, []string{"run", "--store", store, "--reports", reports, spec}); code != 0 {
			b.Fatalf("lab run: exit %d\n%s", code, stderr.String())
		}
	}
	b.Run("fresh", func(b *testing.B) {
		dir := b.TempDir()
		for i := 0; b.Loop(); i++ {
			run(b, filepath.Join(dir, "store"+strconv.Itoa(i)), filepath.Join(dir, "reports"))
		}
	})
	b.Run("cached", func(b *testing.B) {
		dir := b.TempDir()
		run(b, filepath.Join(dir, "store"), filepath.Join(dir, "reports"))
		for b.Loop() {
			run(b, filepath.Join(dir, "store"), filepath.Join(dir, "reports"))
		}
	})
}

// BenchmarkSelectRoot is `lab select --root` on a 21 × 5 × 5 × 10,000-row
// legacy tree (171 MB of CSV, generated once into the benchmark cache
// folder): everything it prints — the old script's table, the statistics,
// the decision and prompt_weight. The old script on the same tree, for
// the ratio (target ≥ 40×): /usr/bin/python3
// testdata/legacy/select_threshold.py --root <the tree>; lab/docs/benchmarks.md
// has both.
func BenchmarkSelectRoot(b *testing.B) {
	root, _, err := treegen.Cached(treegen.Options{Thresholds: 21, Repeats: 5, Rows: 10000, Seed: 1}, os.Stderr)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		var stderr bytes.Buffer
		env := &cmdEnv{stdout: io.Discard, stderr: &stderr}
		if code := runMain(context.Background(), env, []string{"select", "--root", root}); code != 0 {
			b.Fatalf("lab select: exit %d\n%s", code, stderr.String())
		}
	}
}
