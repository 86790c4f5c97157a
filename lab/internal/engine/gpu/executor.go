package gpu

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/schedlab/schedlab/lab/internal/sim/sched"
)

// StepRecord is what one executed batch measured.
type StepRecord struct {
	// ForwardMS is the worker's measured forward time (CUDA events on a
	// GPU); WallMS its host wall clock; SchedMS the scheduler's own wall
	// time since the previous batch returned (forming this batch and
	// recording the last one).
	ForwardMS, WallMS, SchedMS float64
	Tokens, KVBlocksUsed       int
	// The batch's shape, as the performance model sees one: prefill
	// chunks as [new tokens, cached], the decode count and the sum of
	// their cached tokens.
	Prefills          [][2]int
	Decodes, DecodeKV int
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
	rec := StepRecord{ForwardMS: r.MS, WallMS: r.WallMS, SchedMS: schedS * 1e3, Tokens: r.Tokens, KVBlocksUsed: r.KVBlocksUsed,
		Prefills: make([][2]int, len(b.Prefills)), Decodes: len(b.Decodes)}
	for i, c := range b.Prefills {
		rec.Prefills[i] = [2]int{c.NewTokens, c.Cached}
	}
	for _, d := range b.Decodes {
		rec.DecodeKV += d.Cached
	}
	x.Steps = append(x.Steps, rec)
	x.last = x.now()
	return r.MS/1e3 + schedS, nil
}

// StepsHeader is the header of gpu_steps.csv. prefills is the batch's
// chunks as space-separated new:cached pairs.
const StepsHeader = "iteration,forward_ms,wall_ms,sched_ms,tokens,kv_blocks_used,decodes,decode_kv,prefills"

// WriteSteps writes the per-step measurements as CSV, one line per
// iteration of the iteration log.
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
		for _, v := range [...]int{s.Tokens, s.KVBlocksUsed, s.Decodes, s.DecodeKV} {
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(v), 10)
		}
		b = append(b, ',')
		for j, p := range s.Prefills {
			if j > 0 {
				b = append(b, ' ')
			}
			b = strconv.AppendInt(b, int64(p[0]), 10)
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(p[1]), 10)
		}
		b = append(b, '\n')
		buf.Write(b)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// ReadSteps reads a gpu_steps.csv that WriteSteps wrote. Errors name the
// file, the line and what was expected.
func ReadSteps(path string) ([]StepRecord, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if lines[0] != StepsHeader {
		return nil, fmt.Errorf("%s:1: header %q, expected %q", path, lines[0], StepsHeader)
	}
	steps := make([]StepRecord, 0, len(lines)-1)
	for n, line := range lines[1:] {
		bad := func(format string, a ...any) error {
			return fmt.Errorf("%s:%d: %s", path, n+2, fmt.Sprintf(format, a...))
		}
		f := strings.Split(line, ",")
		if len(f) != 9 {
			return nil, bad("%d fields, expected 9 (%s)", len(f), StepsHeader)
		}
		if f[0] != strconv.Itoa(n) {
			return nil, bad("iteration %q, expected %d", f[0], n)
		}
		var s StepRecord
		for i, dst := range []*float64{&s.ForwardMS, &s.WallMS, &s.SchedMS} {
			v, err := strconv.ParseFloat(f[1+i], 64)
			if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
				return nil, bad("%s %q, expected milliseconds ≥ 0", strings.Split(StepsHeader, ",")[1+i], f[1+i])
			}
			*dst = v
		}
		for i, dst := range []*int{&s.Tokens, &s.KVBlocksUsed, &s.Decodes, &s.DecodeKV} {
			v, err := strconv.Atoi(f[4+i])
			if err != nil || v < 0 {
				return nil, bad("%s %q, expected an integer ≥ 0", strings.Split(StepsHeader, ",")[4+i], f[4+i])
			}
			*dst = v
		}
		if f[8] != "" {
			for _, pair := range strings.Split(f[8], " ") {
				q, c, ok := strings.Cut(pair, ":")
				qi, err1 := strconv.Atoi(q)
				ci, err2 := strconv.Atoi(c)
				if !ok || err1 != nil || err2 != nil || qi < 1 || ci < 0 {
					return nil, bad("prefill chunk %q, expected new:cached with new ≥ 1, cached ≥ 0", pair)
				}
				s.Prefills = append(s.Prefills, [2]int{qi, ci})
			}
		}
		steps = append(steps, s)
	}
	return steps, nil
}
