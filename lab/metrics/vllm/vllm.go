// Package vllm reads the result file of vLLM's serving benchmark, `vllm bench
// serve --save-result --save-detailed` (vllm/benchmarks/serve.py; before
// that benchmarks/benchmark_serving.py): one JSON object whose per-request
// lists (input_lens, output_lens, ttfts, itls, latencies, errors,
// generated_texts, start_times) become the cell's metric files, and whose
// duration, completed and failed become its run_summary.json.
package vllm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/schedlab/schedlab/lab/metrics/perreq"
	"github.com/schedlab/schedlab/lab/metrics/source"
)

// result is the part of the file the reader uses.
type result struct {
	perreq.Columns
	Duration  *float64 `json:"duration"`
	Completed *int     `json:"completed"`
	Failed    *int     `json:"failed"`
}

// hint is how to make vLLM write the per-request lists.
const hint = "run `vllm bench serve` with --save-result --save-detailed"

// Read reads the one vLLM result file (*.json, not *.pytorch.json, which
// holds the same numbers in another layout) directly under outDir.
func Read(outDir string) (*perreq.Result, error) {
	path, err := findOne(outDir)
	if err != nil {
		return nil, err
	}
	res, err := ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return res, nil
}

func findOne(dir string) (string, error) {
	all, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return "", err
	}
	var found []string
	for _, p := range all {
		if !strings.HasSuffix(p, ".pytorch.json") {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", fmt.Errorf("no vLLM result (*.json) in %s: %s --result-dir {{.OutputDir}}", dir, hint)
	}
	return "", fmt.Errorf("%d JSON files in %s (%s); expected the one vLLM result file", len(found), dir, strings.Join(found, ", "))
}

// ReadFile converts one result file (errors do not name it: Read does).
func ReadFile(path string) (*perreq.Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	data = perreq.QuotePythonNonFinite(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	var r result
	if err := dec.Decode(&r); err != nil {
		return nil, perreq.DecodeError(data, 0, err)
	}
	if dec.More() {
		// --append-result writes one object per run into the same file.
		return nil, fmt.Errorf("more than one result in the file (written with --append-result?); expected one run per cell: use --save-result with a fresh --result-dir")
	}
	if r.Duration == nil || !(*r.Duration > 0) {
		return nil, fmt.Errorf("\"duration\" is missing or not positive; expected the benchmark's duration in seconds")
	}
	reqs, err := r.Requests(hint)
	if err != nil {
		return nil, err
	}
	res, err := perreq.FromRequests(source.VLLMBench, reqs, *r.Duration)
	if err != nil {
		return nil, err
	}
	if r.Completed != nil && *r.Completed != res.Completed() {
		return nil, fmt.Errorf("\"completed\" is %d but %d requests have a first token: requests that completed without one mean the endpoint did not stream, and TTFT is not observable (use a streaming backend)",
			*r.Completed, res.Completed())
	}
	return res, nil
}
