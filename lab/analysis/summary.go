package analysis

import (
	"fmt"
	"math"
	"path/filepath"

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
	// Requests is the number of values in request_execution_time.csv.
	Requests int `json:"requests"`
}

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
	var s Summary
	for _, m := range metrics.All {
		vals, err := sarathi.AppendValues((*buf)[:0], files[m.File], m.File)
		if cap(vals) > cap(*buf) {
			*buf = vals
		}
		if err != nil {
			return Summary{}, err
		}
		switch m.File {
		case sarathi.RequestExecutionTime:
			s.Requests = len(vals)
			s.RequestP95 = percentileUnsorted(vals, 0.95)
		case sarathi.PrefillE2ETime:
			s.PrefillP95 = percentileUnsorted(vals, 0.95)
		case sarathi.RequestExecutionTimeNormalized:
			s.RequestExecNorm = Mean(vals)
		case sarathi.PrefillExecPlusPreemptNorm:
			s.PrefillExecNorm = Mean(vals)
		case sarathi.DecodeExecPlusPreemptNorm:
			s.DecodeNorm = Mean(vals)
		}
	}
	for i, v := range s.Values() {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			m := metrics.All[i]
			return Summary{}, fmt.Errorf("%s: %s is %v (the values overflow float64)", files[m.File], m.Label(), v)
		}
	}
	return s, nil
}
