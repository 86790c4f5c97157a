// Package simcfg resolves the parts of a spec the sim and gpu engines share
// (the scheduler and the workload) into their full configuration, every
// default filled in, so that one spec means the same scheduler and the same
// requests on both engines.
package simcfg

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/schedlab/schedlab/lab/internal/sim/sched"
	"github.com/schedlab/schedlab/lab/internal/sim/workload"
	"github.com/schedlab/schedlab/lab/spec"
)

// Defaults of the resolved scheduler configuration.
const (
	DefaultChunkSize    = 256
	DefaultMaxNumSeqs   = 128
	DefaultPolicy       = sched.FCFS
	DefaultTimeWeight   = 1.0
	DefaultPromptWeight = -0.01
	DefaultGPUMemUtil   = 0.9
)

// Scheduling is the scheduler part of a resolved configuration, every
// default filled in. The sim and gpu engines share it (embedded in their
// Resolved), so one spec means the same scheduler on both.
type Scheduling struct {
	ChunkSize    int     `json:"chunk_size"`
	MaxNumSeqs   int     `json:"max_num_seqs"`
	Policy       string  `json:"policy"`
	TimeWeight   float64 `json:"time_weight"`
	PromptWeight float64 `json:"prompt_weight"`
	MinChunk     int     `json:"min_chunk_threshold"`
	OrderWaiting bool    `json:"order_waiting"`
	GPUMemUtil   float64 `json:"gpu_memory_utilization"`
	// Chunking is greedy or time_budget; TargetTime (seconds) and
	// ChunkSearchGranularity (tokens) only for time_budget.
	Chunking               string  `json:"chunking"`
	TargetTime             float64 `json:"target_time,omitempty"`
	ChunkSearchGranularity int     `json:"chunk_search_granularity,omitempty"`
}

// ResolveScheduling fills the defaults of a spec's scheduler section. A
// literal 0 weight reads as the default (a swept 0 is a true 0: sweeps are
// applied per point, after this).
func ResolveScheduling(c spec.SchedulerConfig) Scheduling {
	r := Scheduling{
		ChunkSize: c.ChunkSize, MaxNumSeqs: c.MaxNumSeqs, Policy: c.Policy,
		TimeWeight: c.TimeWeight, PromptWeight: c.PromptWeight, MinChunk: c.MinChunkThreshold,
		OrderWaiting: c.OrderWaiting, GPUMemUtil: c.GPUMemoryUtilization,
		Chunking: c.Chunking,
	}
	if r.Chunking == "" {
		r.Chunking = sched.Greedy
	}
	if r.Chunking == sched.TimeBudget {
		r.TargetTime = c.TargetTime
		r.ChunkSearchGranularity = c.ChunkSearchGranularity
		if r.ChunkSearchGranularity == 0 {
			r.ChunkSearchGranularity = sched.DefaultChunkSearchGranularity
		}
	}
	if r.ChunkSize == 0 {
		r.ChunkSize = DefaultChunkSize
	}
	if r.MaxNumSeqs == 0 {
		r.MaxNumSeqs = DefaultMaxNumSeqs
	}
	if r.Policy == "" {
		r.Policy = DefaultPolicy
	}
	if r.TimeWeight == 0 {
		r.TimeWeight = DefaultTimeWeight
	}
	if r.PromptWeight == 0 {
		r.PromptWeight = DefaultPromptWeight
	}
	if r.GPUMemUtil == 0 {
		r.GPUMemUtil = DefaultGPUMemUtil
	}
	return r
}

// Load is the workload part of a resolved configuration.
type Load struct {
	Trace           string        `json:"trace,omitempty"` // shipped name, or "" for a user CSV (see TraceDigest)
	TraceDigest     string        `json:"trace_sha256,omitempty"`
	Lengths         *spec.Lengths `json:"lengths,omitempty"`
	Requests        int           `json:"requests"`
	MaxTokens       int           `json:"max_tokens"`
	MaxPromptTokens int           `json:"max_prompt_tokens"`
	Arrival         string        `json:"arrival"`
	QPS             float64       `json:"qps,omitempty"`
	Scale           float64       `json:"scale,omitempty"`
	Jitter          float64       `json:"jitter"`
	OutputVariation float64       `json:"output_variation"`
}

// OpenLoad resolves a spec's workload section (defaults filled in) and opens
// its request source; a user CSV path is relative to baseDir (the spec
// file's folder). A problem with a field is a spec.FieldError relative to
// the engine's block ("workload.trace").
//
// swept are the sweep's parameter names: a workload field that is swept
// (WorkloadSweepable) and left out of the spec is opened with a placeholder
// (1 request, 1 request/s) so the source can be checked; each point then
// sets its own value (LoadAt). The Load keeps the spec's literal values, so
// the engine identity does not depend on the swept values, which the cell
// address carries already.
func OpenLoad(c spec.WorkloadConfig, baseDir string, swept []string) (Load, *workload.Source, error) {
	r := Load{
		Lengths: c.Lengths, Requests: c.Requests, MaxTokens: c.MaxTokens,
		MaxPromptTokens: c.MaxPromptTokens, Arrival: c.Arrival.Process, QPS: c.Arrival.QPS,
		Scale: c.Arrival.Scale, OutputVariation: workload.DefaultOutputVariation,
	}
	if r.Arrival == "" {
		r.Arrival = "offline"
	}
	if r.Arrival == "trace" {
		if r.Scale == 0 {
			r.Scale = 1
		}
		r.Jitter = workload.DefaultJitter
		if j := c.Arrival.Jitter; j != nil {
			r.Jitter = *j
		}
	}
	if v := c.OutputVariation; v != nil {
		r.OutputVariation = *v
	}
	if r.Lengths != nil {
		r.OutputVariation = 0 // synthetic outputs are re-drawn instead
	}
	wl := c
	if slices.Contains(swept, "requests") && wl.Requests == 0 {
		wl.Requests = 1
	}
	if slices.Contains(swept, "qps") && wl.Arrival.QPS == 0 {
		wl.Arrival.QPS = 1
	}
	wl.OutputVariation = &r.OutputVariation
	if r.Arrival == "trace" {
		wl.Arrival.Jitter = &r.Jitter
		wl.Arrival.Scale = r.Scale
	}
	src, err := workload.Open(wl, baseDir)
	if err != nil {
		return r, nil, err
	}
	if _, shipped := workload.Traces[c.Trace]; shipped {
		r.Trace = c.Trace
	}
	r.TraceDigest = src.Digest()
	return r, src, nil
}

// BlockSize fills a block size of 0 with the default.
func BlockSize(n int) int {
	if n == 0 {
		return sched.DefaultBlockSize
	}
	return n
}

// SchedConfig is the scheduler configuration of one sweep point: the
// resolved Scheduling with the point's swept parameters applied (in name
// order; integer fields must be given whole numbers), and the
// gpu_memory_utilization that sizes the KV cache. The caller fills in
// BlockSize, NumBlocks and MaxModelLen, which depend on the engine.
func (r Scheduling) SchedConfig(pt spec.Point) (sched.Config, float64, error) {
	cfg := sched.Config{
		ChunkSize: r.ChunkSize, MaxNumSeqs: r.MaxNumSeqs, MinChunkThreshold: r.MinChunk,
		Policy: r.Policy, TimeWeight: r.TimeWeight, PromptWeight: r.PromptWeight, OrderWaiting: r.OrderWaiting,
		Chunking: r.Chunking, TargetTime: r.TargetTime, ChunkSearchGranularity: r.ChunkSearchGranularity,
	}
	util := r.GPUMemUtil
	names := make([]string, 0, len(pt))
	for n := range pt {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := pt[n]
		asInt := func(dst *int) error {
			if v != math.Trunc(v) || math.Abs(v) > 1<<30 {
				return fmt.Errorf("%s = %v: expected a whole number", n, v)
			}
			*dst = int(v)
			return nil
		}
		var err error
		switch n {
		case "chunk_size":
			err = asInt(&cfg.ChunkSize)
		case "max_num_seqs":
			err = asInt(&cfg.MaxNumSeqs)
		case "min_chunk_threshold":
			err = asInt(&cfg.MinChunkThreshold)
		case "prompt_weight":
			cfg.PromptWeight = v
		case "time_weight":
			cfg.TimeWeight = v
		case "target_time":
			cfg.TargetTime = v
		case "chunk_search_granularity":
			err = asInt(&cfg.ChunkSearchGranularity)
		case "gpu_memory_utilization":
			if !(v > 0 && v <= 1) {
				err = fmt.Errorf("gpu_memory_utilization = %v: expected a fraction in (0, 1]", v)
			}
			util = v
		default:
			if slices.Contains(WorkloadSweepable, n) {
				continue // LoadAt applies it
			}
			err = fmt.Errorf("cannot set %q; sweepable: %s", n, strings.Join(Sweepable, ", "))
		}
		if err != nil {
			return cfg, 0, err
		}
	}
	return cfg, util, nil
}

// SchedulerSweepable are the scheduler fields a sweep may set, by their
// spec names.
// Each overrides the scheduler field of the same name.
var SchedulerSweepable = []string{"chunk_search_granularity", "chunk_size", "gpu_memory_utilization", "max_num_seqs", "min_chunk_threshold", "prompt_weight", "target_time", "time_weight"}

// WorkloadSweepable are the workload fields a sweep may set (see
// spec.WorkloadSweepable): qps is the Poisson arrival rate and needs
// arrival.process: poisson.
var WorkloadSweepable = spec.WorkloadSweepable

// Sweepable are the parameters a sweep may set on the sim and gpu
// engines: the scheduler's and the workload's, sorted.
var Sweepable = func() []string {
	s := append(slices.Clone(SchedulerSweepable), WorkloadSweepable...)
	slices.Sort(s)
	return s
}()

// LoadAt is src with the point's workload values applied (src itself when
// the point sets none). Integer fields must get whole numbers.
func LoadAt(src *workload.Source, pt spec.Point) (*workload.Source, error) {
	var o workload.Overrides
	set := false
	for _, n := range WorkloadSweepable {
		v, ok := pt[n]
		if !ok {
			continue
		}
		set = true
		if n == "qps" {
			o.QPS = &v
			continue
		}
		if v != math.Trunc(v) || math.Abs(v) > 1<<30 {
			return nil, fmt.Errorf("%s = %v: expected a whole number", n, v)
		}
		i := int(v)
		switch n {
		case "requests":
			o.Requests = &i
		case "max_tokens":
			o.MaxTokens = &i
		case "max_prompt_tokens":
			o.MaxPromptTokens = &i
		}
	}
	if !set {
		return src, nil
	}
	return src.With(o)
}
