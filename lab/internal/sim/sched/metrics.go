package sched

import (
	"bufio"
	"cmp"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/schedlab/schedlab/lab/internal/fsutil"

	"github.com/schedlab/schedlab/lab/sarathi"
)

// Metric is one metric file's content.
type Metric struct {
	Name string
	Rows []sarathi.Row
}

// MaxTimeBetweenTokens is the metric of each request's longest gap between
// consecutive output tokens (sarathi.MaxTimeBetweenTokens).
const MaxTimeBetweenTokens = sarathi.MaxTimeBetweenTokens

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
//	max_time_between_tokens                             the longest gap between two
//	                                                    consecutive output tokens (its
//	                                                    worst decode stall; no row for a
//	                                                    request with one token)
//
// The per-token time-between-tokens distribution (Sarathi's
// decode_token_execution_plus_preemption_time, see TimeBetweenTokens) is
// not among them: one row per token is ~6 MB per 1,000-request cell, so it
// is written only when PlotOptions.TBTPerToken asks for it.
//
// request_execution_time_normalized divides by OUTPUT tokens as
// sarathi-serve's SequenceState.execution_time_normalized does (the old workflow's
// document says total tokens; the code wins so simulated and real files agree).
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
	names = append(names, MaxTimeBetweenTokens)
	out := make([]Metric, len(names))
	for k, name := range names {
		out[k] = Metric{Name: name, Rows: make([]sarathi.Row, 0, n)}
	}
	for i := range tr.Requests {
		r := &tr.Requests[i]
		if r.Ignored {
			continue
		}
		id := RequestID(r.ID)
		nout := float64(r.OutputTokens)
		tbtMax := 0.0
		for j := 1; j < len(r.TokenTimes); j++ {
			tbtMax = max(tbtMax, r.TokenTimes[j]-r.TokenTimes[j-1])
		}
		vals := [...]float64{
			r.ExecTime,
			r.ExecTime / nout,
			r.PrefillDone - r.Arrival,
			(r.PrefillDone - r.Scheduled) / float64(r.PromptTokens),
			(r.Completed - r.PrefillDone) / nout,
			r.Completed - r.Arrival,
			r.Scheduled - r.Arrival,
			r.PrefillDone - r.Scheduled,
			tbtMax,
		}
		for k, v := range vals {
			if k == len(vals)-1 && len(r.TokenTimes) < 2 {
				break // no gap between tokens to report
			}
			out[k].Rows = append(out[k].Rows, sarathi.Row{RequestID: id, Value: v})
		}
	}
	return out
}

// TimeBetweenTokens is Sarathi-Serve's per-token time-between-tokens
// distribution, decode_token_execution_plus_preemption_time: one row per
// decode token, its value the time since the request's previous output
// token (t_j − t_{j−1} over the request's token times), so a request with
// n_out tokens has n_out − 1 rows and a one-token request none. As in
// sarathi-serve, the gap of the first token after a recompute preemption
// spans the preemption and the re-prefill. Rows are in request order, then
// token order; sarathi.Write sorts them stably by value. Ignored requests
// have no rows.
func TimeBetweenTokens(tr *Trace) Metric {
	n := 0
	for i := range tr.Requests {
		if r := &tr.Requests[i]; !r.Ignored && len(r.TokenTimes) > 1 {
			n += len(r.TokenTimes) - 1
		}
	}
	rows := make([]sarathi.Row, 0, n)
	for i := range tr.Requests {
		r := &tr.Requests[i]
		if r.Ignored || len(r.TokenTimes) < 2 {
			continue
		}
		id := RequestID(r.ID)
		for j := 1; j < len(r.TokenTimes); j++ {
			rows = append(rows, sarathi.Row{RequestID: id, Value: r.TokenTimes[j] - r.TokenTimes[j-1]})
		}
	}
	return Metric{Name: sarathi.DecodeTokenExecPlusPreempt, Rows: rows}
}

// PlotOptions selects the optional metric files of WritePlots. The zero
// value writes the per-request files of Metrics only.
type PlotOptions struct {
	// TBTPerToken also writes TimeBetweenTokens
	// (decode_token_execution_plus_preemption_time.csv): the full
	// time-between-tokens distribution, one row per decode token, ~6 MB
	// per 1,000-request cell (spec field tbt_per_token).
	TBTPerToken bool
	// Source, when set, also writes replica_0/run_summary.json (RunSummary)
	// naming the engine ("sim", "gpu").
	Source string
}

// RunSummary is the trace's run_summary.json: completed requests, the
// ignored ones as failed, the makespan from the first arrival to the last
// completion of a completed request, requests per second of makespan and
// the preemptions. With no completed request, or a zero makespan, the
// makespan and throughput are left out rather than invented.
func RunSummary(tr *Trace, source string) sarathi.RunSummary {
	done := 0
	first, last := math.Inf(1), math.Inf(-1)
	for i := range tr.Requests {
		r := &tr.Requests[i]
		if r.Ignored {
			continue
		}
		done++
		first = min(first, r.Arrival)
		last = max(last, r.Completed)
	}
	s := sarathi.RunSummary{Source: source, Requests: sarathi.Int(done), RequestsFailed: sarathi.Int(tr.Ignored), Preemptions: sarathi.Int(tr.Preemptions)}
	if done > 0 && last > first {
		s.MakespanSeconds = sarathi.Float(last - first)
		s.RequestsPerSecond = sarathi.Float(float64(done) / (last - first))
	}
	return s
}

// WriteMetrics writes the metric files of tr under dir/replica_0/plots
// (WritePlots) and the per-iteration log to dir/iterations.csv. The gpu
// engine calls it; the simulator writes its (much longer) log compressed,
// as iterations.csv.gz. FindIterations finds either.
func WriteMetrics(dir string, tr *Trace, opts PlotOptions) error {
	if err := WritePlots(dir, tr, opts); err != nil {
		return err
	}
	return WriteIterations(filepath.Join(dir, "iterations.csv"), tr.Iterations)
}

// WritePlots writes the metric files of tr under dir/replica_0/plots:
// those of Metrics, and TimeBetweenTokens when opts.TBTPerToken is set
// (a header-only file when no request produced a second token), and, with
// opts.Source, replica_0/run_summary.json.
//
// dir is a run's own new output folder, which the runner commits as a
// whole (or discards), so each file is written in place rather than
// renamed into place as sarathi.Write does: on ext4 the temporary files
// and the ten renames (~80 µs each) cost about as much as formatting a
// main-job cell's files.
func WritePlots(dir string, tr *Trace, opts PlotOptions) error {
	plots := filepath.Join(dir, sarathi.PlotsDir)
	if err := os.MkdirAll(plots, 0o755); err != nil {
		return err
	}
	ms := Metrics(tr)
	if opts.TBTPerToken {
		ms = append(ms, TimeBetweenTokens(tr))
	}
	for _, m := range ms {
		if err := os.WriteFile(filepath.Join(plots, sarathi.FileName(m.Name)), sarathi.Format(m.Name, m.Rows), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", m.Name, err)
		}
	}
	if opts.Source != "" {
		data, err := RunSummary(tr, opts.Source).Marshal()
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, sarathi.RunSummaryFile), data, 0o644)
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", sarathi.RunSummaryFile, err)
		}
	}
	return nil
}

// FindIterations returns the path of the iteration log in a run folder
// (iterations.csv or iterations.csv.gz), or an error naming both.
func FindIterations(dir string) (string, error) {
	for _, name := range []string{"iterations.csv", "iterations.csv.gz"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: no iterations.csv or iterations.csv.gz", dir)
}

// IterationsHeader is the header of the iteration log.
const IterationsHeader = "iteration,start,duration,prefill_chunks,prefill_tokens,decodes,tokens,preempted,finished,running,waiting"

// WriteIterations writes the per-iteration log as CSV (times in seconds,
// exact: the shortest text that reads back as the same float64, so metrics
// can be recomputed from the log bit for bit),
// gzip-compressed when path ends in ".gz" (deterministically: no name or
// time in the gzip headers; see writeGzipParallel).
func WriteIterations(path string, its []Iteration) error {
	// The text is formatted into a buffer reused across cells: a fresh one
	// (1.8 MB for the main job's cell) cost more in clearing and page
	// faults than its formatting.
	bp := iterationText.Get().(*[]byte)
	defer iterationText.Put(bp)
	if want := 72 * (len(its) + 1); cap(*bp) < want {
		*bp = make([]byte, 0, want) // the usual line is under 72 bytes: no growing while formatting
	}
	buf := append((*bp)[:0], IterationsHeader...)
	buf = append(buf, '\n')
	for k, it := range its {
		buf = strconv.AppendInt(buf, int64(k), 10)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, it.Start, 'g', -1, 64)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, it.Duration, 'g', -1, 64)
		for _, v := range [...]int{it.PrefillChunks, it.PrefillTokens, it.Decodes, it.Tokens, it.Preempted, it.Finished, it.Running, it.Waiting} {
			buf = append(buf, ',')
			buf = strconv.AppendInt(buf, int64(v), 10)
		}
		buf = append(buf, '\n')
	}
	*bp = buf
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if !strings.HasSuffix(path, ".gz") {
		return os.WriteFile(path, buf, 0o644)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	err = writeGzipParallel(f, buf) // one write per member
	return cmp.Or(err, f.Close())
}

var iterationText = sync.Pool{New: func() any { return new([]byte) }}

// ReadIterations reads a log written by WriteIterations (gzip'd or not),
// checking the header and every field; errors name the file and line.
func ReadIterations(path string) ([]Iteration, error) {
	r, err := fsutil.OpenMaybeGzip(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	if !sc.Scan() || sc.Text() != IterationsHeader {
		return nil, fmt.Errorf("%s:1: expected header %q", path, IterationsHeader)
	}
	var its []Iteration
	for line := 2; sc.Scan(); line++ {
		f := strings.Split(sc.Text(), ",")
		if len(f) != 11 {
			return nil, fmt.Errorf("%s:%d: %d fields, expected 11", path, line, len(f))
		}
		var it Iteration
		var perr error
		num := func(s string) float64 {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil && perr == nil {
				perr = err
			}
			return v
		}
		it.Start, it.Duration = num(f[1]), num(f[2])
		ints := [...]*int{&it.PrefillChunks, &it.PrefillTokens, &it.Decodes, &it.Tokens, &it.Preempted, &it.Finished, &it.Running, &it.Waiting}
		for k, p := range ints {
			v, err := strconv.Atoi(f[3+k])
			if err != nil && perr == nil {
				perr = err
			}
			*p = v
		}
		if perr != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, perr)
		}
		its = append(its, it)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return its, nil
}
