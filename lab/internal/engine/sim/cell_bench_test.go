package sim

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/runner"
	"github.com/schedlab/schedlab/lab/internal/store"
	"github.com/schedlab/schedlab/lab/spec"
)

// BenchmarkCell10k is one cell of the main job's engine with 10,000
// requests instead of 1,000, end to end as `lab run` runs it: the runner's
// whole per-cell path (lock, temporary folder, simulation, metric files,
// the gzip'd iteration log, sim.json, logs, the metrics check, hashing,
// the fsync'd commit). Target ≤ 0.3 s; lab/docs/benchmarks.md has the
// numbers. "disk" puts the store in the test's temporary folder, "shm" in
// /dev/shm (fsync is free there: the CPU cost alone).
func BenchmarkCell10k(b *testing.B) {
	text, err := os.ReadFile("../../../../experiments/min-chunk-threshold.yaml")
	if err != nil {
		b.Fatal(err)
	}
	s, err := spec.Parse("bench.yaml", []byte(strings.Replace(string(text), "requests: 1000\n", "requests: 10000\n", 1)))
	if err != nil {
		b.Fatal(err)
	}
	e, err := New(s)
	if err != nil {
		b.Fatal(err)
	}
	cell := s.Cells()[0]
	for _, where := range []string{"disk", "shm"} {
		b.Run(where, func(b *testing.B) {
			base := b.TempDir()
			if where == "shm" {
				d, err := os.MkdirTemp("/dev/shm", "cell-bench-")
				if err != nil {
					b.Skip("no /dev/shm:", err)
				}
				defer os.RemoveAll(d)
				base = d
			}
			host := &store.HostInfo{Hostname: "bench"}
			for i := 0; b.Loop(); i++ {
				st, err := store.Open(filepath.Join(base, "store", strings.Repeat("x", i%2+1), itoa(i)))
				if err != nil {
					b.Fatal(err)
				}
				o := &runner.Options{Spec: s, Engine: e, Store: st, Host: host, LabVersion: "bench"}
				out, err := runner.RunCell(context.Background(), o, cell, "")
				if err != nil || out.State != runner.StateOK {
					b.Fatal(out.State, err)
				}
			}
		})
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
