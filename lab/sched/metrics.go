package sched

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/schedlab/schedlab/lab/sarathi"
)

// Metric is one metric file's content.
type Metric struct {
	Name string
	Rows []sarathi.Row
}

// RequestID is how request id appears in the metric files: replica 0,
// then the request's ID, as Sarathi-Serve names its sequences.
func RequestID(id int) string { return "0_" + strconv.Itoa(id) }

// Metrics computes the per-request metric files from a trace, with
// sarathi-serve's definitions (a = arrival, s = first scheduled, f = prefill
// completed, c = completed, n_out = output tokens, the first included):
//
//	request_execution_time                              ExecTime (all attempts)
//	request_execution_time_normalized                   ExecTime / n_out
//	prefill_e2e_time                                    f − a
//	prefill_time_execution_plus_preemption              f − s
//	prefill_time_execution_plus_preemption_normalized   (f − s) / prompt tokens
//	decode_time_execution_plus_preemption_normalized    (c − f) / n_out
//	request_e2e_time                                    c − a
//	request_scheduling_delay                            s − a
//	decode_token_execution_plus_preemption_time         one row per decode token:
//	                                                    the time since the previous token (TBT)
//
// request_execution_time_normalized divides by OUTPUT tokens as
// sarathi-serve's SequenceState.execution_time_normalized does (the seed's
// text says total tokens; the code wins so simulated and real files agree).
// The prompt count is the original prompt, as SequenceState keeps it across
// recomputes. A single-token request has c = f and a decode value of 0.
// Ignored requests have no rows. The order is sarathi.Required, then the
// further metrics.
func Metrics(tr *Trace) []Metric {
	n := len(tr.Requests) - tr.Ignored
	names := []string{
		sarathi.RequestExecutionTime,
		sarathi.RequestExecutionTimeNormalized,
		sarathi.PrefillE2ETime,
		sarathi.PrefillExecPlusPreemptNorm,
		sarathi.DecodeExecPlusPreemptNorm,
		sarathi.RequestE2ETime,
		sarathi.RequestSchedulingDelay,
		sarathi.PrefillExecPlusPreemptTime,
	}
	out := make([]Metric, len(names)+1)
	for k, name := range names {
		out[k] = Metric{Name: name, Rows: make([]sarathi.Row, 0, n)}
	}
	tokens := 0
	for i := range tr.Requests {
		tokens += max(len(tr.Requests[i].TokenTimes)-1, 0)
	}
	tbt := make([]sarathi.Row, 0, tokens)
	for i := range tr.Requests {
		r := &tr.Requests[i]
		if r.Ignored {
			continue
		}
		id := RequestID(r.ID)
		nout := float64(r.OutputTokens)
		vals := [...]float64{
			r.ExecTime,
			r.ExecTime / nout,
			r.PrefillDone - r.Arrival,
			(r.PrefillDone - r.Scheduled) / float64(r.PromptTokens),
			(r.Completed - r.PrefillDone) / nout,
			r.Completed - r.Arrival,
			r.Scheduled - r.Arrival,
			r.PrefillDone - r.Scheduled,
		}
		for k, v := range vals {
			out[k].Rows = append(out[k].Rows, sarathi.Row{RequestID: id, Value: v})
		}
		for j := 1; j < len(r.TokenTimes); j++ {
			tbt = append(tbt, sarathi.Row{RequestID: id, Value: r.TokenTimes[j] - r.TokenTimes[j-1]})
		}
	}
	out[len(names)] = Metric{Name: sarathi.DecodeTokenExecPlusPreempt, Rows: tbt}
	return out
}

// WriteMetrics writes the metric files of tr under dir/replica_0/plots and
// the per-iteration log to dir/iterations.csv. The sim and gpu engines both
// call it, so their outputs have one format.
func WriteMetrics(dir string, tr *Trace) error {
	plots := filepath.Join(dir, sarathi.PlotsDir)
	for _, m := range Metrics(tr) {
		if err := sarathi.Write(plots, m.Name, m.Rows); err != nil {
			return fmt.Errorf("writing %s: %w", m.Name, err)
		}
	}
	return WriteIterations(filepath.Join(dir, "iterations.csv"), tr.Iterations)
}

// IterationsHeader is the header of iterations.csv.
const IterationsHeader = "iteration,start,duration,prefill_chunks,prefill_tokens,decodes,tokens,preempted,finished,running,waiting"

// WriteIterations writes the per-iteration log as CSV (times in seconds).
func WriteIterations(path string, its []Iteration) error {
	var buf bytes.Buffer
	buf.Grow(64 * (len(its) + 1))
	buf.WriteString(IterationsHeader)
	buf.WriteByte('\n')
	var num []byte
	for k, it := range its {
		num = strconv.AppendInt(num[:0], int64(k), 10)
		num = append(num, ',')
		num = strconv.AppendFloat(num, it.Start, 'g', -1, 64)
		num = append(num, ',')
		num = strconv.AppendFloat(num, it.Duration, 'g', -1, 64)
		for _, v := range [...]int{it.PrefillChunks, it.PrefillTokens, it.Decodes, it.Tokens, it.Preempted, it.Finished, it.Running, it.Waiting} {
			num = append(num, ',')
			num = strconv.AppendInt(num, int64(v), 10)
		}
		num = append(num, '\n')
		buf.Write(num)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
