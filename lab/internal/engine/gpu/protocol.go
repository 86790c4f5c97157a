package gpu

import (
	"encoding/json"
	"fmt"
)

// ProtocolVersion is the line protocol's version; the worker reports its own
// in probe and init answers and the two must match.
const ProtocolVersion = 1

// The line protocol: one JSON object per line on the worker's stdin, one
// answer per line on its stdout (see the docstring of worker.py). Every
// answer has "ok"; a false one carries "error" and the worker exits.

// InitRequest loads a model shape and allocates the KV cache.
type InitRequest struct {
	Op         string  `json:"op"` // "init"
	Model      string  `json:"model"`
	Device     string  `json:"device"` // auto | cuda | cpu
	DType      string  `json:"dtype,omitempty"`
	Seed       int64   `json:"seed"`
	KVBlocks   int     `json:"kv_blocks"` // 0: sized from GPUMemoryUtilization
	BlockSize  int     `json:"block_size"`
	GPUMemUtil float64 `json:"gpu_memory_utilization,omitempty"`
	Checkpoint string  `json:"checkpoint,omitempty"`
}

// DeviceInfo is what probe and init answer about the device.
type DeviceInfo struct {
	Device       string `json:"device"`      // cuda | cpu
	DeviceName   string `json:"device_name"` // e.g. "NVIDIA H200", "cpu"
	DeviceMemory int64  `json:"device_memory,omitempty"`
	Torch        string `json:"torch"`
	CUDA         string `json:"cuda"`
	DType        string `json:"dtype"`
	Protocol     int    `json:"protocol"`
}

// InitReply is the answer to init.
type InitReply struct {
	DeviceInfo
	KVBlocks        int     `json:"kv_blocks"`
	BlockSize       int     `json:"block_size"`
	Params          int64   `json:"params"`
	KVBytesPerToken int64   `json:"kv_bytes_per_token"`
	Attention       string  `json:"attention"` // matmul | sdpa[,enable_gqa][,causal_lower_right]
	InitSeconds     float64 `json:"init_seconds"`
}

// StepRequest is one forward pass: Free is applied first, then every chunk
// and decode runs in one pass.
type StepRequest struct {
	Op       string   `json:"op"`       // "step"
	Prefills [][3]int `json:"prefills"` // [seq, new_tokens, cached]
	Decodes  [][2]int `json:"decodes"`  // [seq, cached]
	Free     []int    `json:"free"`
	// WantLogits asks for each sequence's last-token logits (tests).
	WantLogits bool `json:"want_logits,omitempty"`
}

// StepReply is the answer to step.
type StepReply struct {
	MS           float64     `json:"ms"`      // the forward pass (CUDA events on a GPU)
	WallMS       float64     `json:"wall_ms"` // host wall clock of the same
	Tokens       int         `json:"tokens"`
	KVBlocksUsed int         `json:"kv_blocks_used"`
	Logits       [][]float64 `json:"logits,omitempty"`
}

// reply is the envelope every answer shares.
type reply struct {
	OK    *bool  `json:"ok"`
	Error string `json:"error"`
}

// decodeReply checks the envelope of line and decodes it into v.
func decodeReply(line []byte, v any) error {
	var r reply
	if err := json.Unmarshal(line, &r); err != nil {
		return fmt.Errorf("answer is not JSON (%v): %q", err, truncate(string(line), 200))
	}
	if r.OK == nil {
		return fmt.Errorf("answer has no \"ok\" field: %q", truncate(string(line), 200))
	}
	if !*r.OK {
		if r.Error == "" {
			r.Error = "failed without a message"
		}
		return &ReportedError{Msg: r.Error}
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(line, v); err != nil {
		return fmt.Errorf("answer %q: %w", truncate(string(line), 200), err)
	}
	return nil
}

// ReportedError is an error the worker itself reported (its JSON error
// line): a bookkeeping violation, an unknown model, a device problem.
type ReportedError struct{ Msg string }

func (e *ReportedError) Error() string { return e.Msg }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
