package sched

import (
	"errors"
	"fmt"
	"math"
)

// Policy names.
const (
	FCFS  = "fcfs"
	SPF   = "spf"
	SRTF  = "srtf"
	Aging = "aging"
)

// Policies lists the known policies, in documentation order.
var Policies = []string{FCFS, SPF, SRTF, Aging}

// DefaultBlockSize is the KV block size in tokens (vLLM and Sarathi's default).
const DefaultBlockSize = 16

// Watermark is the fraction of the KV blocks an admission must leave free
// (Sarathi's block manager default): floor(Watermark × NumBlocks) blocks.
const Watermark = 0.01

// Chunking rules (Config.Chunking).
const (
	// Greedy gives a prefill chunk all the budget left (up to its
	// remaining prompt): Sarathi-Serve's rule.
	Greedy = "greedy"
	// TimeBudget sizes each chunk with a latency Predictor against
	// Config.TargetTime (grid search over ChunkSearchGranularity).
	TimeBudget = "time_budget"
)

// Stop rules (Config.StopRule): when a sequence that was preempted for
// recompute has generated enough tokens.
const (
	// StopTotal: once its tokens over all attempts reach OutputTokens, so
	// every request produces exactly OutputTokens.
	StopTotal = "total"
	// StopPerAttempt: once the tokens of the current attempt reach
	// OutputTokens, so a request preempted after k tokens produces
	// k + OutputTokens in all (an older state of the fork's stop check).
	StopPerAttempt = "per_attempt"
)

// DefaultChunkSearchGranularity is the grid step of the time-budget chunk
// search when none is given.
const DefaultChunkSearchGranularity = 32

// Config configures one scheduler run.
type Config struct {
	// ChunkSize is the token budget of one iteration (decodes count one each).
	ChunkSize int
	// MaxNumSeqs bounds the running sequences (decoding or mid-prefill).
	MaxNumSeqs int
	// MinChunkThreshold: when the budget left is below it, no further
	// prefill chunk is added this iteration. 0 is plain Sarathi.
	MinChunkThreshold int
	// BlockSize is the KV block size in tokens; NumBlocks the KV capacity.
	BlockSize, NumBlocks int
	// MaxModelLen: a waiting sequence longer than this (its prompt, plus
	// the tokens generated before a recompute preemption) is dropped as
	// ignored when it reaches the head of the queue. Outputs are not capped:
	// a running sequence decodes past it, as Sarathi's does.
	MaxModelLen int
	// Policy is fcfs, spf, srtf or aging; TimeWeight and PromptWeight are
	// AGING's weights.
	Policy                   string
	TimeWeight, PromptWeight float64
	// OrderWaiting orders the waiting queue by the policy too (default:
	// arrival order, preempted sequences first).
	OrderWaiting bool
	// Chunking is Greedy ("" too) or TimeBudget. With TimeBudget, a
	// Predictor (WithPredictor) sizes chunks so that the batch's predicted
	// time stays ≤ TargetTime, in the Predictor's unit (seconds in the
	// simulator), trying 1, the multiples of ChunkSearchGranularity and the
	// largest chunk the budget allows.
	Chunking               string
	TargetTime             float64
	ChunkSearchGranularity int
	// StopRule is StopTotal ("" too) or StopPerAttempt.
	StopRule string
}

// WatermarkBlocks is the number of KV blocks an admission must leave free.
func (c *Config) WatermarkBlocks() int { return int(Watermark * float64(c.NumBlocks)) }

// Validate reports every problem of c (joined), each naming its field.
func (c *Config) Validate() error {
	var errs []error
	if c.ChunkSize < 1 {
		errs = append(errs, fmt.Errorf("chunk_size: %d, expected ≥ 1", c.ChunkSize))
	}
	if c.MaxNumSeqs < 1 {
		errs = append(errs, fmt.Errorf("max_num_seqs: %d, expected ≥ 1", c.MaxNumSeqs))
	}
	if c.MinChunkThreshold < 0 {
		errs = append(errs, fmt.Errorf("min_chunk_threshold: %d, expected ≥ 0", c.MinChunkThreshold))
	} else if c.ChunkSize >= 1 && c.MinChunkThreshold >= c.ChunkSize {
		errs = append(errs, fmt.Errorf("min_chunk_threshold: %d, expected < chunk_size (%d): a threshold ≥ chunk_size starves every prefill", c.MinChunkThreshold, c.ChunkSize))
	}
	if c.BlockSize < 1 {
		errs = append(errs, fmt.Errorf("block_size: %d, expected ≥ 1", c.BlockSize))
	}
	if c.NumBlocks < 1 {
		errs = append(errs, fmt.Errorf("num_blocks: %d, expected ≥ 1 (KV capacity in blocks)", c.NumBlocks))
	}
	if c.MaxModelLen < 1 {
		errs = append(errs, fmt.Errorf("max_model_len: %d, expected ≥ 1", c.MaxModelLen))
	}
	switch c.Policy {
	case FCFS, SPF, SRTF, Aging:
	default:
		errs = append(errs, fmt.Errorf("policy: %q, expected one of fcfs, spf, srtf, aging", c.Policy))
	}
	for _, w := range []struct {
		name string
		v    float64
	}{{"time_weight", c.TimeWeight}, {"prompt_weight", c.PromptWeight}} {
		if math.IsNaN(w.v) || math.IsInf(w.v, 0) {
			errs = append(errs, fmt.Errorf("%s: %v, expected a finite number", w.name, w.v))
		}
	}
	switch c.Chunking {
	case "", Greedy:
	case TimeBudget:
		if !(c.TargetTime > 0) || math.IsInf(c.TargetTime, 0) {
			errs = append(errs, fmt.Errorf("target_time: %v, expected a finite time > 0 (time_budget chunking)", c.TargetTime))
		}
		if c.ChunkSearchGranularity < 1 {
			errs = append(errs, fmt.Errorf("chunk_search_granularity: %d, expected ≥ 1 (time_budget chunking)", c.ChunkSearchGranularity))
		}
	default:
		errs = append(errs, fmt.Errorf("chunking: %q, expected greedy or time_budget", c.Chunking))
	}
	switch c.StopRule {
	case "", StopTotal, StopPerAttempt:
	default:
		errs = append(errs, fmt.Errorf("stop_rule: %q, expected total or per_attempt", c.StopRule))
	}
	return errors.Join(errs...)
}
