package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/internal/labtest"
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

// selectRootTree is the legacy tree the select --root target is stated on:
// 21 thresholds × 5 repeats × 5 CSVs × 10,000 rows (171 MB), generated once
// into the benchmark cache folder.
var selectRootTree = treegen.Options{Thresholds: 21, Repeats: 5, Rows: 10000, Seed: 1}

// BenchmarkSelectRoot is `lab select --root` on selectRootTree, in-process:
// everything it prints — the old script's table, the statistics, the
// decision and prompt_weight. BenchmarkSelectRootVsScript gives the ratio
// to the old script; lab/docs/benchmarks.md has the numbers.
func BenchmarkSelectRoot(b *testing.B) {
	root, _, err := treegen.Cached(selectRootTree, os.Stderr)
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

// BenchmarkSelectRootVsScript measures what the select --root target is
// stated in: the old script's wall time over `lab select --root`'s (target
// ≥ 40), both run as users run them — fresh processes, the script under
// the system Python with pandas — on selectRootTree. Each iteration runs
// lab three times, the script once, lab three times again, so that both
// see the same seconds of a shared machine whose speed drifts; it reports
// the script's median time, lab's median time and their ratio (x-script).
// One iteration takes about as long as the script (~10 s): run it with
// -count and read the spread.
func BenchmarkSelectRootVsScript(b *testing.B) {
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import numpy, pandas").Run(); err != nil {
		b.Skipf("skipping: %s with numpy and pandas runs the old script (apt-get install python3-numpy python3-pandas): %v", py, err)
	}
	root, _, err := treegen.Cached(selectRootTree, os.Stderr)
	if err != nil {
		b.Fatal(err)
	}
	labBin, _, err := labtest.BuildCommands(b.TempDir(), false)
	if err != nil {
		b.Fatal(err)
	}
	script := filepath.Join("..", "..", "..", "testdata", "legacy", "select_threshold.py")
	wall := func(name string, args ...string) float64 {
		cmd := exec.Command(name, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("%s %v: %v\n%s", name, args, err, stderr.String())
		}
		return time.Since(start).Seconds()
	}
	var scriptTimes, labTimes []float64
	runLab := func() {
		for range 3 {
			labTimes = append(labTimes, wall(labBin, "select", "--root", root))
		}
	}
	for b.Loop() {
		runLab()
		scriptTimes = append(scriptTimes, wall(py, script, "--root", root))
		runLab()
	}
	s := analysis.Median(slices.Sorted(slices.Values(scriptTimes)))
	l := analysis.Median(slices.Sorted(slices.Values(labTimes)))
	b.ReportMetric(s, "script-s")
	b.ReportMetric(l, "lab-s")
	b.ReportMetric(s/l, "x-script")
}
