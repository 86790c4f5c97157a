// Package sglang reads the output of SGLang's serving benchmark, `python -m
// sglang.bench_serving --output-file F --output-details`
// (python/sglang/bench_serving.py): a JSONL file to which each run appends
// one JSON object; with --output-details the object carries the per-request
// lists input_lens, output_lens, ttfts, itls, generated_texts and errors,
// which become the cell's metric files, and duration and completed, which
// become its run_summary.json.
package sglang

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

type result struct {
	perreq.Columns
	Duration  *float64 `json:"duration"`
	Completed *int     `json:"completed"`
}

const hint = "run `python -m sglang.bench_serving` with --output-details"

// Read reads the one *.jsonl file directly under outDir.
func Read(outDir string) (*perreq.Result, error) {
	found, err := filepath.Glob(filepath.Join(outDir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no SGLang result (*.jsonl) in %s: %s --output-file {{.OutputDir}}/sglang.jsonl", outDir, hint)
	case 1:
	default:
		return nil, fmt.Errorf("%d JSONL files in %s (%s); expected the one bench_serving output file", len(found), outDir, strings.Join(found, ", "))
	}
	res, err := ReadFile(found[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", found[0], err)
	}
	return res, nil
}

// ReadFile converts a file holding exactly one result line (blank lines
// are ignored). bench_serving appends, so a file reused across runs holds
// several: that is an error rather than a guess at which run is this cell's.
func ReadFile(path string) (*perreq.Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var line []byte
	lineNo, n := 0, 0
	for i, l := range bytes.Split(data, []byte{'\n'}) {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		n++
		if n == 1 {
			line, lineNo = l, i+1
		}
	}
	switch {
	case n == 0:
		return nil, fmt.Errorf("empty file; expected one JSON result line")
	case n > 1:
		return nil, fmt.Errorf("%d result lines; expected one run per cell (bench_serving appends to --output-file: give each cell a fresh file under {{.OutputDir}})", n)
	}
	line = perreq.QuotePythonNonFinite(line)
	var r result
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, perreq.DecodeError(line, lineNo-1, err)
	}
	if r.Duration == nil || !(*r.Duration > 0) {
		return nil, fmt.Errorf("line %d: \"duration\" is missing or not positive; expected the benchmark's duration in seconds", lineNo)
	}
	reqs, err := r.Requests(hint)
	if err != nil {
		return nil, fmt.Errorf("line %d: %w", lineNo, err)
	}
	res, err := perreq.FromRequests(source.SGLangBench, reqs, *r.Duration)
	if err != nil {
		return nil, fmt.Errorf("line %d: %w", lineNo, err)
	}
	if r.Completed != nil && *r.Completed != res.Completed() {
		return nil, fmt.Errorf("line %d: \"completed\" is %d but %d requests have a first token: requests that completed without one mean the endpoint did not stream, and TTFT is not observable (do not pass --disable-stream)",
			lineNo, *r.Completed, res.Completed())
	}
	return res, nil
}
