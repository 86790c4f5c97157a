// Package metrics is the one table of the five metrics the selection
// scores: for each, the engine file it is read from, the statistic that
// summarizes a cell, its unit, how it is labelled, and the key that names
// its weight, its ratio and its interval. The analysis, the report, the
// notebooks, `lab sim` and gpucheck all read it, so a metric is described
// once. lab/sarathi stays the file format.
package metrics

import (
	"fmt"
	"strings"

	"github.com/schedlab/schedlab/lab/sarathi"
)

// Statistic is how a cell's values of a metric become one number.
type Statistic string

const (
	// P95 is the 95th percentile (numpy's linear interpolation).
	P95 Statistic = "P95"
	// Mean is the arithmetic mean.
	Mean Statistic = "mean"
)

// Metric is one of the five selection metrics.
type Metric struct {
	// Key names the metric wherever the selection does: its weight in a
	// select preset (the spec.Weights field with that YAML key), its
	// ratio "<Key>_ratio", its interval in the statistics' JSON.
	Key string
	// File is the Sarathi metric the values come from (file <File>.csv).
	File string
	// Stat summarizes a cell's values.
	Stat Statistic
	// Summary is the per-cell number's JSON name (analysis.Summary).
	Summary string
	// Unit of the per-cell number.
	Unit string
	// Note is a short gloss for labels ("TTFT"), or "".
	Note string
}

// All are the five metrics in the order of the old script's ratios
// (request, request_exec_norm, prefill, prefill_exec_norm, decode), the
// order of analysis.Summary.Values and analysis.Ratios.Values.
var All = [5]Metric{
	{Key: "request", File: sarathi.RequestExecutionTime, Stat: P95, Summary: "request_p95", Unit: "s"},
	{Key: "request_exec_norm", File: sarathi.RequestExecutionTimeNormalized, Stat: Mean, Summary: "request_exec_norm_mean", Unit: "s/output token"},
	{Key: "prefill", File: sarathi.PrefillE2ETime, Stat: P95, Summary: "prefill_p95", Unit: "s", Note: "TTFT"},
	{Key: "prefill_exec_norm", File: sarathi.PrefillExecPlusPreemptNorm, Stat: Mean, Summary: "prefill_exec_norm_mean", Unit: "s/prompt token"},
	{Key: "decode", File: sarathi.DecodeExecPlusPreemptNorm, Stat: Mean, Summary: "decode_norm_mean", Unit: "s/output token"},
}

// Ratio is the name of the metric's ratio to the baseline
// ("request_ratio"), as the old script's table and the JSON name it.
func (m Metric) Ratio() string { return m.Key + "_ratio" }

// Label is the per-cell number in words: "P95 request_execution_time",
// "mean request_execution_time_normalized".
func (m Metric) Label() string { return string(m.Stat) + " " + m.File }

// Name is the per-cell number named file first, statistic after, lower
// case: "request_execution_time p95" (gpucheck's tables and JSON).
func (m Metric) Name() string { return m.File + " " + strings.ToLower(string(m.Stat)) }

// ByKey finds a metric by its key ("prefill") or its ratio's name
// ("prefill_ratio").
func ByKey(name string) (Metric, error) {
	keys := make([]string, len(All))
	for i, m := range All {
		if name == m.Key || name == m.Ratio() {
			return m, nil
		}
		keys[i] = m.Key
	}
	return Metric{}, fmt.Errorf("unknown metric %q: want one of %s (or with a _ratio suffix)", name, strings.Join(keys, ", "))
}

// Index is m's position in All (and in analysis.Summary.Values and
// analysis.Ratios.Values), or -1 for a metric not in the table.
func (m Metric) Index() int {
	for i, a := range All {
		if a == m {
			return i
		}
	}
	return -1
}
