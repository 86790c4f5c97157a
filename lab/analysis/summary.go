package analysis

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"

	"github.com/schedlab/schedlab/lab/metrics"

	"github.com/schedlab/schedlab/lab/sarathi"
)

// Summary is what the selection needs from one cell (one engine run): the
// five numbers of metrics.All, and the request count.
type Summary struct {
	// RequestP95 is the 95th percentile of request_execution_time.
	RequestP95 float64 `json:"request_p95"`
	// PrefillP95 is the 95th percentile of prefill_e2e_time (TTFT).
	PrefillP95 float64 `json:"prefill_p95"`
	// RequestExecNorm is the mean of request_execution_time_normalized.
	RequestExecNorm float64 `json:"request_exec_norm_mean"`
	// PrefillExecNorm is the mean of
	// prefill_time_execution_plus_preemption_normalized.
	PrefillExecNorm float64 `json:"prefill_exec_norm_mean"`
	// DecodeNorm is the mean of decode_time_execution_plus_preemption_normalized.
	DecodeNorm float64 `json:"decode_norm_mean"`
	// Requests is the number of values in request_execution_time.csv
	// (prefill_e2e_time.csv when the source cannot observe execution times).
	Requests int `json:"requests"`
	// Unavailable lists the summary metrics the cell's source cannot
	// observe (run_summary.json); their numbers above are NaN, and a
	// selection that weights one of them is an error.
	Unavailable []string `json:"unavailable,omitempty"`
}

// Has says whether the summary has a number for metric (a sarathi name).
func (s Summary) Has(metric string) bool { return !slices.Contains(s.Unavailable, metric) }

// Values returns the summary's five numbers in the order of metrics.All.
func (s Summary) Values() [5]float64 {
	return [5]float64{s.RequestP95, s.RequestExecNorm, s.PrefillP95, s.PrefillExecNorm, s.DecodeNorm}
}

// Summarize reads the five metric files in plotsDir (a run's
// replica_0/plots folder, or a legacy threshold folder) and summarizes them.
func Summarize(plotsDir string) (Summary, error) {
	var buf []float64
	return summarizeFiles(plotFiles(plotsDir), &buf)
}

// plotFiles maps each required metric to its file in dir.
func plotFiles(dir string) map[string]string {
	m := make(map[string]string, len(sarathi.Required))
	for _, name := range sarathi.Required {
		m[name] = filepath.Join(dir, sarathi.FileName(name))
	}
	return m
}

// summarizeFiles summarizes the metric files given by metric name, reusing
// *buf for the values so that a worker allocates nothing per file once its
// buffer has grown to the largest file.
func summarizeFiles(files map[string]string, buf *[]float64) (Summary, error) {
	s, _, err := summarizeAvailable(files, nil, buf)
	return s, err
}

// ttftQuantiles are TTFT's (prefill_e2e_time's) p50, p95 and p99 in one
// cell, kept from summarizing it: the default guards ask for exactly these,
// and computing them from the values already read (two more selections
// beside the p95's) spares reading the file again. Percentiles do not
// depend on the values' order, so they equal guardStat's on the sorted
// file to the bit.
type ttftQuantiles struct {
	ok            bool
	p50, p95, p99 float64
}

// stat returns the guard statistic stat, if it is one of the three.
func (q ttftQuantiles) stat(stat string) (float64, bool) {
	if !q.ok {
		return 0, false
	}
	switch stat {
	case "p50":
		return q.p50, true
	case "p95":
		return q.p95, true
	case "p99":
		return q.p99, true
	}
	return 0, false
}

// summarizeAvailable is summarizeFiles for a cell whose source cannot
// observe the metrics in unavailable: their numbers are NaN (never a
// stand-in value) and their files are not read.
func summarizeAvailable(files map[string]string, unavailable []string, buf *[]float64) (Summary, ttftQuantiles, error) {
	var s Summary
	var ttft ttftQuantiles
	for _, m := range metrics.All {
		if slices.Contains(unavailable, m.File) {
			s.Unavailable = append(s.Unavailable, m.File)
			switch m.File {
			case sarathi.RequestExecutionTime:
				s.RequestP95 = math.NaN()
			case sarathi.PrefillE2ETime:
				s.PrefillP95 = math.NaN()
			case sarathi.RequestExecutionTimeNormalized:
				s.RequestExecNorm = math.NaN()
			case sarathi.PrefillExecPlusPreemptNorm:
				s.PrefillExecNorm = math.NaN()
			case sarathi.DecodeExecPlusPreemptNorm:
				s.DecodeNorm = math.NaN()
			}
			continue
		}
		vals, err := sarathi.AppendValues((*buf)[:0], files[m.File], m.File)
		if cap(vals) > cap(*buf) {
			*buf = vals
		}
		if err != nil {
			return Summary{}, ttft, err
		}
		switch m.File {
		case sarathi.RequestExecutionTime:
			s.Requests = len(vals)
			s.RequestP95 = percentileUnsorted(vals, 0.95)
		case sarathi.PrefillE2ETime:
			if !s.Has(sarathi.RequestExecutionTime) {
				s.Requests = len(vals)
			}
			s.PrefillP95 = percentileUnsorted(vals, 0.95)
			ttft = ttftQuantiles{ok: true, p50: percentileUnsorted(vals, 0.5), p95: s.PrefillP95, p99: percentileUnsorted(vals, 0.99)}
		case sarathi.RequestExecutionTimeNormalized:
			s.RequestExecNorm = Mean(vals)
		case sarathi.PrefillExecPlusPreemptNorm:
			s.PrefillExecNorm = Mean(vals)
		case sarathi.DecodeExecPlusPreemptNorm:
			s.DecodeNorm = Mean(vals)
		}
	}
	for i, v := range s.Values() {
		if !s.Has(metrics.All[i].File) {
			continue
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			m := metrics.All[i]
			return Summary{}, ttft, fmt.Errorf("%s: %s is %v (the values overflow float64)", files[m.File], m.Label(), v)
		}
	}
	return s, ttft, nil
}

// CellNumbersJSON is Summary in JSON: the number of a metric the source cannot
// observe (NaN in Summary) is null, and "unavailable" names it.
type CellNumbersJSON struct {
	RequestP95      *float64 `json:"request_p95"`
	PrefillP95      *float64 `json:"prefill_p95"`
	RequestExecNorm *float64 `json:"request_exec_norm_mean"`
	PrefillExecNorm *float64 `json:"prefill_exec_norm_mean"`
	DecodeNorm      *float64 `json:"decode_norm_mean"`
	Requests        int      `json:"requests"`
	Unavailable     []string `json:"unavailable,omitempty"`
}

// JSON returns s with NaN numbers as nil.
func (s Summary) JSON() CellNumbersJSON {
	num := func(v float64) *float64 {
		if math.IsNaN(v) {
			return nil
		}
		return &v
	}
	return CellNumbersJSON{num(s.RequestP95), num(s.PrefillP95), num(s.RequestExecNorm), num(s.PrefillExecNorm),
		num(s.DecodeNorm), s.Requests, s.Unavailable}
}
