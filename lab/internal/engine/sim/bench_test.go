package sim

import (
	"context"
	"io"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/engine"
	"github.com/schedlab/schedlab/lab/internal/sim/sched"
	"github.com/schedlab/schedlab/lab/spec"
)

// BenchmarkSimulate10k is the simulator's speed target (≤ 1 s): 10,000 splitwise_conv
// requests (offline, all at t=0), chunk_size 256, max_num_seqs 128, on the
// H200 llama-3-8b graph model with noise: ≤ 1 s on one core. It reports
// requests/s and iterations/s of the scheduler + performance model (the
// workload is drawn once, outside the timer; no files are written).
func BenchmarkSimulate10k(b *testing.B) {
	e := benchEngine(b, `
name: bench
engine:
  sim:
    model: llama-3-8b
    gpu: h200
    scheduler: {chunk_size: 256, max_num_seqs: 128, policy: fcfs}
    workload: {trace: splitwise_conv, requests: 10000}
sweep: {min_chunk_threshold: [0]}
`)
	cfg, err := e.Config(spec.Point{"min_chunk_threshold": 0})
	if err != nil {
		b.Fatal(err)
	}
	reqs, err := e.src.Requests(e.specSeed, 1)
	if err != nil {
		b.Fatal(err)
	}
	iters := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr, err := sched.Simulate(cfg, reqs, NewExecutor(e.model, 1, 1))
		if err != nil {
			b.Fatal(err)
		}
		iters = len(tr.Iterations)
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(len(reqs))/sec, "requests/s")
	b.ReportMetric(float64(iters)/sec, "iterations/s")
}

// BenchmarkRunCell is one cell of the main job (1,000 requests, Poisson
// 6/s, max_num_seqs 10, AGING) including writing its files.
func BenchmarkRunCell(b *testing.B) {
	s, err := spec.ParseFile("../../../../experiments/min-chunk-threshold.yaml")
	if err != nil {
		b.Fatal(err)
	}
	e, err := New(s)
	if err != nil {
		b.Fatal(err)
	}
	cell := s.Cells()[0]
	for i := 0; i < b.N; i++ {
		if err := e.Run(context.Background(), engine.Request{Cell: cell, Dir: b.TempDir(), Stdout: io.Discard, Stderr: io.Discard}); err != nil {
			b.Fatal(err)
		}
	}
}

func benchEngine(b *testing.B, yaml string) *Engine {
	b.Helper()
	s, err := spec.Parse("bench.yaml", []byte(yaml))
	if err != nil {
		b.Fatal(err)
	}
	e, err := New(s)
	if err != nil {
		b.Fatal(err)
	}
	return e
}
