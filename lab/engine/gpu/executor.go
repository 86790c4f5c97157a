package gpu

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/schedlab/schedlab/lab/sched"
)

// StepRecord is what one executed batch measured.
type StepRecord struct {
	// ForwardMS is the worker's measured forward time (CUDA events on a
	// GPU); WallMS its host wall clock; SchedMS the scheduler's own wall
	// time since the previous batch returned (forming this batch and
	// recording the last one).
	ForwardMS, WallMS, SchedMS float64
	Tokens, KVBlocksUsed       int
}

// Executor is the sched.Executor that runs batches on a worker. The
// duration it reports is the forward pass plus the scheduler's own time,
// so the clock advances as it would in a serving engine whose scheduler
// runs between forward passes; the pipe round trip to the worker is not
// counted (an engine has no such hop).
type Executor struct {
	w *Worker
	// pendingFree are the sequences that finished in the previous batch:
	// their KV is freed at the start of the next step.
	pendingFree []int
	last        time.Time
	req         StepRequest
	Steps       []StepRecord
	// now is the wall clock (replaced in tests).
	now func() time.Time
}

// NewExecutor returns an executor over w; the scheduler's time is counted
// from now on.
func NewExecutor(w *Worker) *Executor {
	x := &Executor{w: w, now: time.Now}
	x.last = x.now()
	return x
}

// StepRequestFor translates a batch into a step: Free holds the sequences
// preempted while forming it and those that finished in the batch before
// (carried in pendingFree).
func StepRequestFor(req *StepRequest, b *sched.Batch, pendingFree []int) {
	req.Prefills = req.Prefills[:0]
	req.Decodes = req.Decodes[:0]
	req.Free = append(req.Free[:0], pendingFree...)
	req.Free = append(req.Free, b.Preempted...)
	for _, c := range b.Prefills {
		req.Prefills = append(req.Prefills, [3]int{c.Seq, c.NewTokens, c.Cached})
	}
	for _, d := range b.Decodes {
		req.Decodes = append(req.Decodes, [2]int{d.Seq, d.Cached})
	}
}

// Execute implements sched.Executor.
func (x *Executor) Execute(b *sched.Batch) (float64, error) {
	schedS := x.now().Sub(x.last).Seconds()
	StepRequestFor(&x.req, b, x.pendingFree)
	r, err := x.w.Step(&x.req)
	if err != nil {
		return 0, err
	}
	x.pendingFree = append(x.pendingFree[:0], b.Finished...)
	if r.Tokens != b.Tokens() {
		return 0, fmt.Errorf("gpu worker: ran %d tokens, the batch has %d", r.Tokens, b.Tokens())
	}
	x.Steps = append(x.Steps, StepRecord{ForwardMS: r.MS, WallMS: r.WallMS, SchedMS: schedS * 1e3, Tokens: r.Tokens, KVBlocksUsed: r.KVBlocksUsed})
	x.last = x.now()
	return r.MS/1e3 + schedS, nil
}

// StepsHeader is the header of gpu_steps.csv.
const StepsHeader = "iteration,forward_ms,wall_ms,sched_ms,tokens,kv_blocks_used"

// WriteSteps writes the per-step measurements as CSV, one line per
// iteration of iterations.csv.
func WriteSteps(path string, steps []StepRecord) error {
	var buf bytes.Buffer
	buf.WriteString(StepsHeader)
	buf.WriteByte('\n')
	var b []byte
	for i, s := range steps {
		b = strconv.AppendInt(b[:0], int64(i), 10)
		for _, v := range [...]float64{s.ForwardMS, s.WallMS, s.SchedMS} {
			b = append(b, ',')
			b = strconv.AppendFloat(b, v, 'g', -1, 64)
		}
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(s.Tokens), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(s.KVBlocksUsed), 10)
		b = append(b, '\n')
		buf.Write(b)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
