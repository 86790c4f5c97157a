// Package source names where a cell's metric files come from and which
// metrics each source cannot observe. It is a leaf (standard library only)
// so that spec validation, the exec engine and the analysis agree on one
// table without importing each other.
package source

import "slices"

// Names of the sources, as written in run_summary.json's "source" and, for
// the exec engine's readers, in a spec's engine.exec.metrics.
const (
	Sim         = "sim"
	GPU         = "gpu"
	Sarathi     = "sarathi"
	VLLMBench   = "vllm-bench"
	SGLangBench = "sglang-bench"
	CSV         = "csv"
)

// Readers are the values engine.exec.metrics accepts, the default first.
var Readers = []string{Sarathi, VLLMBench, SGLangBench, CSV}

// clientUnobservable are the Sarathi metrics a benchmark client cannot
// observe: they need the server's own timestamps (when a request was first
// scheduled, how long it executed without queueing), which the client never
// sees. Sorted.
var clientUnobservable = []string{
	"prefill_time_execution_plus_preemption",
	"prefill_time_execution_plus_preemption_normalized",
	"request_execution_time",
	"request_execution_time_normalized",
	"request_scheduling_delay",
}

// Unavailable returns the metrics that source never provides, sorted (nil
// for sources that write the full Sarathi set, and for csv, whose metrics
// are whichever columns the file has: see run_summary.json per cell).
func Unavailable(name string) []string {
	switch name {
	case VLLMBench, SGLangBench:
		return slices.Clone(clientUnobservable)
	}
	return nil
}

// IsReader says whether name is a value of engine.exec.metrics.
func IsReader(name string) bool { return slices.Contains(Readers, name) }
