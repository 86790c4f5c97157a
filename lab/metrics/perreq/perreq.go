// Package perreq turns what a benchmark client observed about each request
// (time to first token, the gaps between later tokens, the end-to-end
// latency, token counts, an error) into the Sarathi per-request metric files
// and the cell's run_summary.json. The vLLM and SGLang readers parse their
// tool's file into Requests and share this conversion, so both define every
// metric the same way; the csv reader builds a Result from columns directly.
//
// Definitions (seconds; i is one completed request):
//
//	prefill_e2e_time           = ttft_i (request sent → first token)
//	request_e2e_time           = latency_i (request sent → last token)
//	max_time_between_tokens    = max_j itl_i[j] (no row when len(itl_i) = 0)
//	decode_token_execution_plus_preemption_time
//	                           = every itl_i[j] (one row per gap)
//	decode_time_execution_plus_preemption_normalized
//	                           = (latency_i − ttft_i) / output_tokens_i
//	                             (no row when output_tokens_i = 0)
//
// The clocks are the client's: they include the network and the HTTP
// server, and "arrival" is when the client sent the request. Metrics that
// need the server's scheduling timestamps are unavailable (source.Unavailable).
package perreq

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/schedlab/schedlab/lab/internal/fsutil"
	"github.com/schedlab/schedlab/lab/metrics/source"
	"github.com/schedlab/schedlab/lab/sarathi"
)

// Metric names this package writes besides lab/sarathi's.
const (
	// MaxTimeBetweenTokens is, per request, the largest gap between two
	// consecutive output tokens.
	MaxTimeBetweenTokens = "max_time_between_tokens"
)

// Request is one request as the client saw it.
type Request struct {
	// ID names the request in the metric files (its index in the
	// benchmark's lists).
	ID           string
	PromptTokens int
	OutputTokens int
	// TTFT, ITL and Latency are in seconds.
	TTFT    float64
	ITL     []float64
	Latency float64
	// Error is the failure message; Failed requests have no metric rows.
	Failed bool
	Error  string
}

// Result is a converted cell.
type Result struct {
	Source string
	// Metrics maps each metric name to its rows (only non-empty ones).
	Metrics map[string][]sarathi.Row
	// Requests counts every request sent, Failed those that failed.
	Requests, Failed int
	// Duration is the benchmark's duration in seconds (0: not reported).
	Duration float64
	// Unavailable are the metrics this source cannot observe, sorted.
	Unavailable []string
	// Errors holds the first few failure messages (for the cell's log).
	Errors []string
}

// maxErrors bounds Result.Errors.
const maxErrors = 5

// FromRequests converts requests of a client-side benchmark. It checks
// every completed request's numbers (finite, ≥ 0, a first token seen,
// latency ≥ ttft) and names the request of the first one that is not.
func FromRequests(src string, reqs []Request, duration float64) (*Result, error) {
	res := &Result{Source: src, Metrics: map[string][]sarathi.Row{}, Requests: len(reqs),
		Duration: duration, Unavailable: source.Unavailable(src)}
	add := func(metric, id string, v float64) {
		res.Metrics[metric] = append(res.Metrics[metric], sarathi.Row{RequestID: id, Value: v})
	}
	for i := range reqs {
		r := &reqs[i]
		if r.Failed {
			res.Failed++
			if len(res.Errors) < maxErrors {
				res.Errors = append(res.Errors, fmt.Sprintf("request %s: %s", r.ID, firstLine(r.Error)))
			}
			continue
		}
		bad := func(format string, args ...any) error {
			return fmt.Errorf("request %s: %s", r.ID, fmt.Sprintf(format, args...))
		}
		if !finite(r.TTFT) || r.TTFT <= 0 {
			return nil, bad("ttft %v: expected a positive number of seconds for a completed request", r.TTFT)
		}
		if !finite(r.Latency) || r.Latency < r.TTFT {
			return nil, bad("end-to-end latency %v is below its ttft %v", r.Latency, r.TTFT)
		}
		if r.OutputTokens < 0 || r.PromptTokens < 0 {
			return nil, bad("negative token count (prompt %d, output %d)", r.PromptTokens, r.OutputTokens)
		}
		add(sarathi.PrefillE2ETime, r.ID, r.TTFT)
		add(sarathi.RequestE2ETime, r.ID, r.Latency)
		if r.OutputTokens > 0 {
			add(sarathi.DecodeExecPlusPreemptNorm, r.ID, (r.Latency-r.TTFT)/float64(r.OutputTokens))
		}
		maxGap := math.Inf(-1)
		for j, g := range r.ITL {
			if !finite(g) || g < 0 {
				return nil, bad("itl[%d] = %v: expected a gap ≥ 0 seconds", j, g)
			}
			add(sarathi.DecodeTokenExecPlusPreempt, r.ID, g)
			maxGap = max(maxGap, g)
		}
		if len(r.ITL) > 0 {
			add(MaxTimeBetweenTokens, r.ID, maxGap)
		}
	}
	return res, nil
}

// Completed is the number of requests that did not fail.
func (r *Result) Completed() int { return r.Requests - r.Failed }

// Summary is the cell's run_summary.json.
func (r *Result) Summary() *source.RunSummary {
	n, k := r.Requests, r.Failed
	s := &source.RunSummary{Source: r.Source, Requests: &n, RequestsFailed: &k, Unavailable: slices.Clone(r.Unavailable)}
	if r.Duration > 0 {
		d, rps := r.Duration, float64(r.Completed())/r.Duration
		s.MakespanSeconds, s.RequestsPerSecond = &d, &rps
	}
	return s
}

// Write writes the metric files into replicaDir/plots and run_summary.json
// into replicaDir (the cell's replica_0 folder).
func (r *Result) Write(replicaDir string) error {
	plots := filepath.Join(replicaDir, "plots")
	names := make([]string, 0, len(r.Metrics))
	for m := range r.Metrics {
		names = append(names, m)
	}
	slices.Sort(names)
	for _, m := range names {
		if err := sarathi.Write(plots, m, r.Metrics[m]); err != nil {
			return err
		}
	}
	b, err := r.Summary().Marshal()
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(filepath.Join(replicaDir, source.RunSummaryFile), b)
}

// FailedShare is Failed / Requests (0 for no requests).
func (r *Result) FailedShare() float64 {
	if r.Requests == 0 {
		return 0
	}
	return float64(r.Failed) / float64(r.Requests)
}

// Index is the ID of the i-th request of a benchmark's lists.
func Index(i int) string { return strconv.Itoa(i) }

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// firstLine shortens a failure message to its last non-empty line: for a
// Python traceback, the exception itself.
func firstLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if last == "" {
		return "(no error message)"
	}
	return last
}
