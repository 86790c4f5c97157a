package metrics

// The readers turn the raw output of a benchmark into the per-request metric
// files the analysis reads (the Sarathi layout, see lab/sarathi) plus the
// cell's run_summary.json. A spec selects one by name in engine.exec.metrics:
// vllm-bench (lab/metrics/vllm), sglang-bench (lab/metrics/sglang) or csv
// (lab/metrics/percsv); lab/metrics/perreq holds the metric definitions they
// share and lab/metrics/source the names and what each source cannot
// observe.

import (
	"fmt"

	"github.com/schedlab/schedlab/lab/metrics/percsv"
	"github.com/schedlab/schedlab/lab/metrics/perreq"
	"github.com/schedlab/schedlab/lab/metrics/sglang"
	"github.com/schedlab/schedlab/lab/metrics/source"
	"github.com/schedlab/schedlab/lab/metrics/vllm"
)

// ReadFunc turns the raw output a benchmark command left in outDir into a
// cell's per-request metrics.
type ReadFunc func(outDir string) (*perreq.Result, error)

// readers are the exec engine's metric readers by their engine.exec.metrics
// name. "sarathi" is absent: its files are already the metric files and are
// harvested as they are.
var readers = map[string]ReadFunc{
	source.VLLMBench:   vllm.Read,
	source.SGLangBench: sglang.Read,
	source.CSV:         percsv.Read,
}

// Reader returns the reader named name; ok is false for "sarathi" (no
// conversion) and for unknown names.
func Reader(name string) (ReadFunc, bool) {
	r, ok := readers[name]
	return r, ok
}

// ConvertCell runs reader name on outDir and writes the metric files and
// run_summary.json into replicaDir. It returns the result for the caller's
// checks (the share of failed requests).
func ConvertCell(name, outDir, replicaDir string) (*perreq.Result, error) {
	read, ok := Reader(name)
	if !ok {
		return nil, fmt.Errorf("unknown metrics reader %q", name)
	}
	res, err := read(outDir)
	if err != nil {
		return nil, err
	}
	if err := res.Write(replicaDir); err != nil {
		return nil, err
	}
	return res, nil
}
