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
	// MaxModelLen: prompts longer than this are ignored (counted, not run),
	// and outputs are capped so that prompt+output ≤ MaxModelLen.
	MaxModelLen int
	// Policy is fcfs, spf, srtf or aging; TimeWeight and PromptWeight are
	// AGING's weights.
	Policy                   string
	TimeWeight, PromptWeight float64
	// OrderWaiting orders the waiting queue by the policy too (default:
	// arrival order, preempted sequences first).
	OrderWaiting bool
}

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
	return errors.Join(errs...)
}
