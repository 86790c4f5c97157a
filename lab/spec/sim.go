package spec

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// SimConfig configures the embedded simulator engine (lab help simulator).
// Zero values mean the documented default.
type SimConfig struct {
	Model string `yaml:"model"`          // llama-3-8b | llama-2-7b | qwen3-8b
	GPU   string `yaml:"gpu"`            // h200 | h100
	Mode  string `yaml:"mode,omitempty"` // graph (default) | eager
	// KVBlocks is the KV cache capacity in blocks; 0 sizes it as vLLM does:
	// GPU memory × scheduler.gpu_memory_utilization − weights − activation
	// reserve, over the model's KV bytes per token.
	KVBlocks  int `yaml:"kv_blocks,omitempty"`
	BlockSize int `yaml:"block_size,omitempty"` // default 16
	// MaxModelLen: longer prompts are ignored and counted; default the
	// model's context length.
	MaxModelLen int `yaml:"max_model_len,omitempty"`
	// Noise scales the iteration-time noise measured on the GPU (1, the
	// default, is the measured spread; 0 turns it off).
	Noise *float64 `yaml:"noise,omitempty"`
	// TBTPerToken also writes Sarathi's per-token time-between-tokens file,
	// decode_token_execution_plus_preemption_time.csv (one row per decode
	// token, ~6 MB per 1,000 requests). omitempty in JSON keeps the
	// experiment hash of every spec without it unchanged.
	TBTPerToken bool            `yaml:"tbt_per_token,omitempty" json:",omitempty"`
	Scheduler   SchedulerConfig `yaml:"scheduler"`
	Workload    WorkloadConfig  `yaml:"workload"`
}

// SchedulerConfig is the chunked-prefill scheduler's configuration, shared by
// the sim and gpu engines. Swept parameters with these names override it.
// Zero means the default: chunk_size 256, max_num_seqs 128, policy fcfs,
// and for aging time_weight 1 and prompt_weight −0.01 (so a literal 0 weight
// in YAML reads as the default; a swept value 0 is a true 0).
type SchedulerConfig struct {
	ChunkSize            int     `yaml:"chunk_size"`
	MaxNumSeqs           int     `yaml:"max_num_seqs"`
	Policy               string  `yaml:"policy"` // fcfs | spf | srtf | aging
	TimeWeight           float64 `yaml:"time_weight,omitempty"`
	PromptWeight         float64 `yaml:"prompt_weight,omitempty"`
	MinChunkThreshold    int     `yaml:"min_chunk_threshold,omitempty"`
	OrderWaiting         bool    `yaml:"order_waiting,omitempty"`
	GPUMemoryUtilization float64 `yaml:"gpu_memory_utilization,omitempty"`
	// Chunking is greedy (default) or time_budget: chunks sized by the
	// performance model so that an iteration is predicted to take at most
	// TargetTime seconds, searched on a grid of ChunkSearchGranularity
	// tokens (default 32). See sched_rules.go and `lab help simulator`.
	Chunking               string  `yaml:"chunking,omitempty" json:",omitempty"`
	TargetTime             float64 `yaml:"target_time,omitempty" json:",omitempty"`
	ChunkSearchGranularity int     `yaml:"chunk_search_granularity,omitempty" json:",omitempty"`
	// AllowBeyondForkLimits lifts the fork's own configuration limits
	// (min_chunk_threshold < 0.3 × chunk_size) for what-if studies.
	AllowBeyondForkLimits bool `yaml:"allow_beyond_fork_limits,omitempty" json:",omitempty"`
}

// WorkloadConfig describes the requests of one run (lab help simulator).
type WorkloadConfig struct {
	Trace           string   `yaml:"trace,omitempty"` // splitwise_conv | arxiv_summarization | a CSV path
	Lengths         *Lengths `yaml:"lengths,omitempty"`
	Requests        int      `yaml:"requests"`
	MaxTokens       int      `yaml:"max_tokens,omitempty"`
	MaxPromptTokens int      `yaml:"max_prompt_tokens,omitempty"`
	Arrival         Arrival  `yaml:"arrival,omitempty"`
	// OutputVariation is the σ of the lognormal factor (mean 1) that
	// re-draws each trace request's output length per repeat, as sampling at
	// temperature > 0 does; default 0.25, 0 keeps the trace's lengths.
	OutputVariation *float64 `yaml:"output_variation,omitempty"`
}

// Lengths are synthetic prompt and output lengths.
type Lengths struct {
	Prompt Distribution `yaml:"prompt"`
	Output Distribution `yaml:"output"`
}

// Distribution of a length: fixed, uniform or lognormal.
type Distribution struct {
	Kind  string  `yaml:"kind"` // fixed | uniform | lognormal
	Value int     `yaml:"value,omitempty"`
	Min   int     `yaml:"min,omitempty"`
	Max   int     `yaml:"max,omitempty"`
	Mu    float64 `yaml:"mu,omitempty"`
	Sigma float64 `yaml:"sigma,omitempty"`
}

// Arrival process of the requests.
type Arrival struct {
	Process string  `yaml:"process,omitempty"` // offline (default) | poisson | trace
	QPS     float64 `yaml:"qps,omitempty"`
	Scale   float64 `yaml:"scale,omitempty"` // trace: multiplies the inter-arrival times (default 1)
	// Jitter is the standard deviation, in seconds, of the normal noise added
	// to each trace arrival per repeat; default 0.01 for process trace.
	Jitter *float64 `yaml:"jitter,omitempty"`
}

// SimModels are the models the simulator has profiles for.
var SimModels = []string{"llama-2-7b", "llama-3-8b", "qwen3-8b"}

// validate is the simulator's hook (see validate_engines.go): the profile
// must be measured, the scheduler consistent, the workload complete.
func (c *SimConfig) validate(params []string, report func(field, msg string)) {
	// Whether the simulator has a measured profile for the model, GPU and
	// mode is the sim engine's own check (its registered schema's Check).
	switch {
	case c.Model == "":
		report("model", "required: the model, one of "+strings.Join(SimModels, ", "))
	case c.GPU == "":
		report("gpu", "required: the GPU, h200 or h100")
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"kv_blocks", c.KVBlocks}, {"block_size", c.BlockSize}, {"max_model_len", c.MaxModelLen}} {
		if f.v < 0 {
			report(f.name, fmt.Sprintf("must be ≥ 0 (0: the default), got %d", f.v))
		}
	}
	if c.Noise != nil && (*c.Noise < 0 || math.IsNaN(*c.Noise) || math.IsInf(*c.Noise, 0)) {
		report("noise", fmt.Sprintf("expected a scale ≥ 0 of the measured noise (1: as measured, 0: none), got %v", *c.Noise))
	}
	sc := c.Scheduler
	chunk := sc.ChunkSize
	if chunk == 0 {
		chunk = 256
	}
	if !slices.Contains(params, "min_chunk_threshold") && !slices.Contains(params, "chunk_size") && sc.MinChunkThreshold >= chunk {
		report("scheduler.min_chunk_threshold", fmt.Sprintf("%d ≥ chunk_size %d: no prefill chunk could ever be scheduled; expected < chunk_size", sc.MinChunkThreshold, chunk))
	}
	if sc.Policy == "aging" && sc.TimeWeight < 0 {
		report("scheduler.time_weight", fmt.Sprintf("expected ≥ 0 (waiting raises the priority), got %v", sc.TimeWeight))
	}
	w := c.Workload
	if w.Requests == 0 && !slices.Contains(params, "requests") {
		report("workload.requests", "required: the number of requests, ≥ 1 (or requests swept)")
	}
	if w.Trace == "" && w.Lengths == nil {
		report("workload", "required: a trace (splitwise_conv, arxiv_summarization or a CSV path) or synthetic lengths")
	}
	if w.Trace != "" && w.Lengths != nil {
		report("workload.lengths", "give either a trace or synthetic lengths, not both")
	}
	if w.Arrival.Process == "trace" && w.Lengths != nil {
		report("workload.arrival.process", "trace arrivals need a trace with an arrived_at column, not synthetic lengths")
	}
	if v := w.OutputVariation; v != nil && (*v < 0 || *v > 2 || math.IsNaN(*v)) {
		report("workload.output_variation", fmt.Sprintf("expected a lognormal σ in [0, 2], got %v", *v))
	}
	if j := w.Arrival.Jitter; j != nil && (*j < 0 || math.IsNaN(*j) || math.IsInf(*j, 0)) {
		report("workload.arrival.jitter", fmt.Sprintf("expected seconds ≥ 0, got %v", *j))
	}
}

// EngineKind implements EngineConfig.
func (*SimConfig) EngineKind() string { return "sim" }

// WorkloadSweepable are the workload fields a sim or gpu sweep may set,
// named as in the workload block: requests, max_tokens, max_prompt_tokens
// and qps (workload.arrival.qps, the Poisson rate). No scheduler field has
// any of these names.
var WorkloadSweepable = []string{"max_prompt_tokens", "max_tokens", "qps", "requests"}

// schedSweepable is what a sim or gpu sweep may set: the scheduler's
// numeric fields and WorkloadSweepable, sorted.
func schedSweepable() []string {
	s := append(schedulerNumericFields(), WorkloadSweepable...)
	slices.Sort(s)
	return s
}

// sweepable: the scheduler's numeric fields and the workload's.
func (c *SimConfig) sweepable() []string { return schedSweepable() }
