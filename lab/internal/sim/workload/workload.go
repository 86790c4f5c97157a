// Package workload turns a spec's workload section into the requests of one
// run: lengths from a shipped trace (splitwise_conv, arxiv_summarization), a
// user's CSV with the same columns, or synthetic distributions; arrivals
// offline (all at t = 0), Poisson at a rate, or the trace's own timestamps
// scaled.
//
// Randomness is split in two, so that comparisons are paired:
//
//   - The experiment seed (spec seed) picks WHICH requests run: the window
//     of trace rows, or the synthetic prompt lengths. Every cell of an
//     experiment serves the same prompts, as re-running one benchmark
//     dataset does.
//   - The cell seed (derived from the spec seed and the repeat, never the
//     sweep point) draws what differs between real runs: output lengths
//     (sampling at temperature > 0: each trace output length times a
//     lognormal factor of mean 1 and σ output_variation, default 0.25;
//     synthetic outputs re-drawn from their distribution), the Poisson
//     arrival times, and a normal jitter (σ arrival.jitter, default 10 ms) on
//     trace timestamps. All points of one repeat therefore see identical
//     requests (common random numbers across thresholds); repeats differ.
//
// Each random quantity has its own PCG stream, so changing one setting does
// not reshuffle the others.
package workload

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/schedlab/schedlab/lab/internal/sim/sched"
	"github.com/schedlab/schedlab/lab/spec"
)

// traces are the shipped request traces with their README (source and
// license attribution), embedded so the binary is self-contained.
//
//go:embed traces
var traces embed.FS

// Traces maps the names a spec may use to the shipped files.
var Traces = map[string]string{
	"splitwise_conv":      "traces/splitwise_conv.csv",
	"arxiv_summarization": "traces/arxiv_summarization_stats_llama2_tokenizer_filtered_v2.csv",
}

// Defaults for the repeat-to-repeat variation.
const (
	DefaultOutputVariation = 0.25
	DefaultJitter          = 0.01 // seconds
)

// Row is one request of a trace.
type Row struct {
	Arrived        float64 // seconds; 0 when the trace has no arrived_at
	Prompt, Output int
}

// Source is a loaded workload definition; Requests draws one run from it.
type Source struct {
	cfg      spec.WorkloadConfig
	name     string // trace name or path, for messages
	rows     []Row
	hasTimes bool
	digest   string
}

// Open loads the workload of cfg. A trace that is not a shipped name is a
// CSV path, relative to baseDir (the spec file's folder) when not absolute.
func Open(cfg spec.WorkloadConfig, baseDir string) (*Source, error) {
	s := &Source{cfg: cfg}
	if cfg.Requests < 1 {
		return nil, fieldErr("workload.requests", "%d, expected ≥ 1", cfg.Requests)
	}
	switch {
	case cfg.Trace != "" && cfg.Lengths != nil:
		return nil, fieldErr("workload", "give either a trace or synthetic lengths, not both")
	case cfg.Lengths != nil:
		if err := checkDist(cfg.Lengths.Prompt, "prompt"); err != nil {
			return nil, err
		}
		if err := checkDist(cfg.Lengths.Output, "output"); err != nil {
			return nil, err
		}
		s.name = "synthetic"
	case cfg.Trace != "":
		var data []byte
		var err error
		if f, ok := Traces[cfg.Trace]; ok {
			data, err = traces.ReadFile(f)
			s.name = cfg.Trace
		} else {
			p := cfg.Trace
			if !filepath.IsAbs(p) && baseDir != "" {
				p = filepath.Join(baseDir, p)
			}
			s.name = p
			data, err = os.ReadFile(p)
			if err != nil {
				return nil, fieldErr("workload.trace", "%q is neither a shipped trace (splitwise_conv, arxiv_summarization) nor a readable CSV: %v", cfg.Trace, err)
			}
		}
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		s.digest = hex.EncodeToString(sum[:])
		if s.rows, s.hasTimes, err = parseTrace(s.name, data); err != nil {
			return nil, err
		}
		if len(s.rows) < cfg.Requests {
			return nil, fieldErr("workload.requests", "%d, but trace %s has only %d rows", cfg.Requests, s.name, len(s.rows))
		}
	default:
		return nil, fieldErr("workload", "expected a trace or synthetic lengths")
	}
	switch cfg.Arrival.Process {
	case "", "offline":
	case "poisson":
		if !(cfg.Arrival.QPS > 0) || math.IsInf(cfg.Arrival.QPS, 0) {
			return nil, fieldErr("workload.arrival.qps", "%v, expected a rate > 0 for poisson arrivals", cfg.Arrival.QPS)
		}
	case "trace":
		if !s.hasTimes {
			return nil, fieldErr("workload.arrival.process", "trace, but %s has no arrived_at column", s.name)
		}
	default:
		return nil, fieldErr("workload.arrival.process", "%q, expected offline, poisson or trace", cfg.Arrival.Process)
	}
	return s, nil
}

// Overrides are workload fields set per sweep point (nil: keep the
// configured value). See With.
type Overrides struct {
	Requests, MaxTokens, MaxPromptTokens *int
	QPS                                  *float64
}

// With returns a copy of s with o applied, checked as Open checks them: the
// trace must have enough rows, a Poisson rate must be > 0 and the process
// must be poisson for a rate to mean anything. Requests drawn from the copy
// use the same random streams, so points that differ only in the arrival
// rate see the same prompts and outputs (common random numbers); a
// different request count draws a different trace window, and for synthetic
// lengths the first n requests of the longer run.
func (s *Source) With(o Overrides) (*Source, error) {
	c := *s
	if v := o.Requests; v != nil {
		if *v < 1 {
			return nil, fmt.Errorf("requests = %d: expected ≥ 1", *v)
		}
		if len(s.rows) > 0 && len(s.rows) < *v {
			return nil, fmt.Errorf("requests = %d, but trace %s has only %d rows", *v, s.name, len(s.rows))
		}
		c.cfg.Requests = *v
	}
	if v := o.MaxTokens; v != nil {
		if *v < 0 {
			return nil, fmt.Errorf("max_tokens = %d: expected ≥ 0 (0: no cap)", *v)
		}
		c.cfg.MaxTokens = *v
	}
	if v := o.MaxPromptTokens; v != nil {
		if *v < 0 {
			return nil, fmt.Errorf("max_prompt_tokens = %d: expected ≥ 0 (0: no cap)", *v)
		}
		c.cfg.MaxPromptTokens = *v
	}
	if v := o.QPS; v != nil {
		if p := c.cfg.Arrival.Process; p != "poisson" {
			if p == "" {
				p = "offline"
			}
			return nil, fmt.Errorf("qps = %v: the arrival process is %s; a rate needs arrival.process: poisson", *v, p)
		}
		if !(*v > 0) || math.IsInf(*v, 0) {
			return nil, fmt.Errorf("qps = %v: expected a rate > 0", *v)
		}
		c.cfg.Arrival.QPS = *v
	}
	return &c, nil
}

// Digest is the SHA-256 of the trace file's content ("" for synthetic
// lengths): a cell's identity depends on the data, not on where it lives.
func (s *Source) Digest() string { return s.digest }

// Rows is the number of rows in the trace (0 for synthetic lengths).
func (s *Source) Rows() int { return len(s.rows) }

// stream constants: one PCG stream per random quantity.
const (
	streamSelect = 0x5e1ec7
	streamOutput = 0x0b7
	streamArrive = 0xa77
	streamPrompt = 0x9707
)

func rng(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}

// Requests draws the requests of one run: which requests from specSeed,
// what varies between runs from cellSeed (see the package doc). IDs are
// 0..n−1 in the order drawn.
func (s *Source) Requests(specSeed, cellSeed int64) ([]sched.Request, error) {
	n := s.cfg.Requests
	reqs := make([]sched.Request, n)
	var times []float64 // trace timestamps of the drawn rows
	outRNG := rng(cellSeed, streamOutput)
	if s.cfg.Lengths != nil {
		pr := rng(specSeed, streamPrompt)
		for i := range reqs {
			reqs[i] = sched.Request{ID: i, PromptTokens: draw(pr, s.cfg.Lengths.Prompt), OutputTokens: draw(outRNG, s.cfg.Lengths.Output)}
		}
	} else {
		// A contiguous window keeps the trace's own arrival pattern.
		start := rng(specSeed, streamSelect).IntN(len(s.rows) - n + 1)
		window := s.rows[start : start+n]
		sigma := DefaultOutputVariation
		if v := s.cfg.OutputVariation; v != nil {
			sigma = *v
		}
		times = make([]float64, n)
		for i, r := range window {
			out := r.Output
			if sigma > 0 {
				f := math.Exp(sigma*outRNG.NormFloat64() - sigma*sigma/2)
				out = int(math.Round(float64(out) * f))
			}
			reqs[i] = sched.Request{ID: i, PromptTokens: r.Prompt, OutputTokens: max(out, 1)}
			times[i] = r.Arrived
		}
	}
	for i := range reqs {
		if c := s.cfg.MaxPromptTokens; c > 0 && reqs[i].PromptTokens > c {
			reqs[i].PromptTokens = c // truncated, as a tokenizer with truncation does
		}
		if c := s.cfg.MaxTokens; c > 0 && reqs[i].OutputTokens > c {
			reqs[i].OutputTokens = c
		}
	}
	ar := rng(cellSeed, streamArrive)
	switch s.cfg.Arrival.Process {
	case "poisson":
		t := 0.0
		for i := range reqs {
			reqs[i].Arrival = t
			t += ar.ExpFloat64() / s.cfg.Arrival.QPS
		}
	case "trace":
		scale := s.cfg.Arrival.Scale
		if scale == 0 {
			scale = 1
		}
		jitter := DefaultJitter
		if j := s.cfg.Arrival.Jitter; j != nil {
			jitter = *j
		}
		t0 := times[0]
		for _, t := range times {
			t0 = math.Min(t0, t)
		}
		for i := range reqs {
			a := (times[i]-t0)*scale + jitter*ar.NormFloat64()
			reqs[i].Arrival = math.Max(a, 0)
		}
	}
	return reqs, nil
}

// maxDrawnLength bounds an uncapped lognormal draw: far past any model's
// context, so the request is ignored as too long rather than wrapped.
const maxDrawnLength = 1 << 40

// draw samples a length ≥ 1 from d.
func draw(r *rand.Rand, d spec.Distribution) int {
	var v int
	switch d.Kind {
	case "fixed":
		v = d.Value
	case "uniform":
		v = d.Min + r.IntN(d.Max-d.Min+1)
	case "lognormal":
		// Capped in floating point: a wide sigma can draw past int64, whose
		// conversion would wrap to a negative length (then silently 1).
		f := math.Exp(d.Mu + d.Sigma*r.NormFloat64())
		if d.Max > 0 {
			f = min(f, float64(d.Max))
		}
		v = int(math.Round(min(f, maxDrawnLength)))
		v = max(v, d.Min)
	}
	return max(v, 1)
}

func checkDist(d spec.Distribution, what string) error {
	switch d.Kind {
	case "fixed":
		if d.Value < 1 {
			return fieldErr("workload.lengths."+what+".value", "%d, expected ≥ 1", d.Value)
		}
	case "uniform":
		if d.Min < 1 || d.Max < d.Min {
			return fieldErr("workload.lengths."+what, "min %d, max %d, expected 1 ≤ min ≤ max", d.Min, d.Max)
		}
	case "lognormal":
		if d.Sigma < 0 || math.IsNaN(d.Mu) || math.IsInf(d.Mu, 0) || d.Mu > 20 {
			return fieldErr("workload.lengths."+what, "lognormal mu %v sigma %v, expected sigma ≥ 0 and a finite mu ≤ 20 (the log of a length)", d.Mu, d.Sigma)
		}
	default:
		return fieldErr("workload.lengths."+what+".kind", "%q, expected fixed, uniform or lognormal", d.Kind)
	}
	return nil
}

// parseTrace reads a trace CSV: columns found by name, num_prefill_tokens
// and num_decode_tokens required (integers ≥ 1; a value like "374.0" is
// accepted), arrived_at optional (seconds, non-decreasing not required).
func parseTrace(name string, data []byte) ([]Row, bool, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return nil, false, fmt.Errorf("%s: reading the header: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	pi, ok1 := col["num_prefill_tokens"]
	oi, ok2 := col["num_decode_tokens"]
	if !ok1 || !ok2 {
		return nil, false, fmt.Errorf("%s:1: expected columns num_prefill_tokens and num_decode_tokens (and optionally arrived_at), found %q", name, strings.Join(header, ","))
	}
	ai, hasTimes := col["arrived_at"]
	var rows []Row
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", name, err)
		}
		var row Row
		if row.Prompt, err = tokens(rec, pi); err != nil {
			return nil, false, fmt.Errorf("%s:%d: num_prefill_tokens: %v", name, line, err)
		}
		if row.Output, err = tokens(rec, oi); err != nil {
			return nil, false, fmt.Errorf("%s:%d: num_decode_tokens: %v", name, line, err)
		}
		if hasTimes {
			v, err := strconv.ParseFloat(strings.TrimSpace(rec[ai]), 64)
			if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, false, fmt.Errorf("%s:%d: arrived_at: %q, expected seconds ≥ 0", name, line, rec[ai])
			}
			row.Arrived = v
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, false, fmt.Errorf("%s: no rows", name)
	}
	return rows, hasTimes, nil
}

func tokens(rec []string, i int) (int, error) {
	s := strings.TrimSpace(rec[i])
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v != math.Trunc(v) || v < 1 || v > 1e7 {
		return 0, fmt.Errorf("%q, expected a whole number of tokens ≥ 1", s)
	}
	return int(v), nil
}

// fieldErr is a problem with one field of the workload block, as a typed
// spec.FieldError (field relative to the engine's block) so that the spec
// can point at the field's line and column.
func fieldErr(field, format string, args ...any) error {
	return spec.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}
