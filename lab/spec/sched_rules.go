package spec

import (
	"slices"
)

// ForkThresholdLimit is the fork's own limit on the threshold: its
// configuration rejects min_chunk_threshold ≥ ForkThresholdLimit ×
// chunk_size. Results beyond it describe a scheduler the fork never runs.
const ForkThresholdLimit = 0.3

// Chunking rules of the scheduler (SchedulerConfig.Chunking).
var chunkingRules = []string{"greedy", "time_budget"}

// defaultChunkSize is the sim and gpu engines' chunk_size when none is
// given (their resolved default).
const defaultChunkSize = 256

// validateSchedRules checks the scheduler rules that need the whole spec (a
// swept value counts like a fixed one): the fork's threshold limit, and
// the time-budget chunking fields.
func validateSchedRules(s *Spec, report reportFunc) {
	kind := s.Engine.Kind()
	var sc SchedulerConfig
	switch c := s.Engine.Config.(type) {
	case *SimConfig:
		sc = c.Scheduler
	case *GPUConfig:
		sc = c.Scheduler
	default:
		return
	}
	base := "$.engine." + kind + ".scheduler."
	swept := func(name string) *Param {
		for i := range s.Sweep {
			if s.Sweep[i].Name == name {
				return &s.Sweep[i]
			}
		}
		return nil
	}

	// The threshold limit. The sweep is a grid, so the worst pair is the
	// largest threshold with the smallest chunk size.
	if !sc.AllowBeyondForkLimits {
		th, thPath := float64(sc.MinChunkThreshold), base+"min_chunk_threshold"
		if p := swept("min_chunk_threshold"); p != nil && len(p.Values) > 0 {
			th, thPath = slices.Max(p.Values), "$.sweep.min_chunk_threshold"
		}
		chunk, chunkSwept := float64(sc.ChunkSize), false
		if chunk == 0 {
			chunk = defaultChunkSize
		}
		if p := swept("chunk_size"); p != nil && len(p.Values) > 0 {
			chunk, chunkSwept = slices.Min(p.Values), true
		}
		// The fork's comparison, in float64: threshold ≥ 0.3 × chunk_size.
		if limit := ForkThresholdLimit * chunk; chunk > 0 && th >= limit {
			path := thPath
			if chunkSwept && thPath != "$.sweep.min_chunk_threshold" {
				path = "$.sweep.chunk_size"
			}
			report(path, "min_chunk_threshold %s with chunk_size %s breaks the fork's limit min_chunk_threshold < %g × chunk_size (%s): the fork refuses this configuration; keep the threshold below it, or set %sallow_beyond_fork_limits: true for a what-if study",
				formatNum(th), formatNum(chunk), ForkThresholdLimit, formatNum(limit), "scheduler.")
		}
	}

	// Time-budget chunking.
	switch sc.Chunking {
	case "", "greedy":
		for _, f := range []struct {
			name string
			set  bool
		}{{"target_time", sc.TargetTime != 0 || swept("target_time") != nil}, {"chunk_search_granularity", sc.ChunkSearchGranularity != 0 || swept("chunk_search_granularity") != nil}} {
			if f.set {
				report(base+f.name, "only time_budget chunking reads it; set chunking: time_budget, or remove it")
			}
		}
	case "time_budget":
		if kind == "gpu" {
			report(base+"chunking", "time_budget chunking needs a latency predictor, which only the sim engine has (its performance model); use the sim engine, or greedy")
		}
		if p := swept("target_time"); p != nil {
			for _, v := range p.Values {
				if !(v > 0) {
					report("$.sweep.target_time", "expected seconds per iteration > 0, got %s", formatNum(v))
					break
				}
			}
		} else if !(sc.TargetTime > 0) {
			report(base+"target_time", "required with chunking: time_budget: the time one iteration may take, in seconds (e.g. 0.03), > 0; got %s", formatNum(sc.TargetTime))
		}
		if sc.ChunkSearchGranularity < 0 {
			report(base+"chunk_search_granularity", "expected a grid step ≥ 1 token (0: the default, 32), got %d", sc.ChunkSearchGranularity)
		}
	default:
		report(base+"chunking", "unknown chunking %q; expected one of: greedy, time_budget", sc.Chunking)
	}
}
