package gpu

import (
	"testing"
	"time"

	"github.com/schedlab/schedlab/lab/internal/sim/sched"
)

// BenchmarkStepRoundTrip measures what one iteration costs besides the
// forward pass: Go encodes the batch, the worker parses it, checks the
// bookkeeping, builds the index tensors, runs (a 1-token decode of the tiny
// shape on the CPU: almost nothing) and answers. It reports the forward
// time the worker measured, so the difference is the protocol's overhead
// per iteration.
func BenchmarkStepRoundTrip(b *testing.B) {
	w, err := StartWorker(b.Context(), WorkerOptions{Python: testPython(b), Script: testScript(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Init(InitRequest{Model: "tiny", Device: "cpu", Seed: 1, KVBlocks: 1 << 16, BlockSize: 16}); err != nil {
		b.Fatal(err)
	}
	if _, err := w.Step(&StepRequest{Prefills: [][3]int{{0, 16, 0}}}); err != nil {
		b.Fatal(err)
	}
	x := NewExecutor(w)
	batch := &sched.Batch{Decodes: []sched.Decode{{Seq: 0}}}
	fwd := 0.0
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		batch.Decodes[0].Cached = 16 + i
		if _, err := x.Execute(batch); err != nil {
			b.Fatal(err)
		}
		fwd += x.Steps[len(x.Steps)-1].ForwardMS
	}
	el := time.Since(start)
	b.ReportMetric(fwd/float64(b.N), "forward-ms/op")
	b.ReportMetric((el.Seconds()*1e3-fwd)/float64(b.N), "overhead-ms/op")
}
