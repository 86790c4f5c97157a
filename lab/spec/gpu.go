package spec

import (
	"fmt"
	"slices"
	"strings"
)

// GPUConfig configures the gpu engine: the Go scheduler (lab/internal/sim/sched)
// driving a PyTorch worker process (lab/internal/engine/gpu).
type GPUConfig struct {
	Model      string `yaml:"model"`                // llama-3-8b | llama-2-7b | tiny
	Device     string `yaml:"device,omitempty"`     // auto (default: cuda when present) | cuda | cpu
	DType      string `yaml:"dtype,omitempty"`      // default bfloat16 on cuda, float32 on cpu
	Checkpoint string `yaml:"checkpoint,omitempty"` // optional local safetensors file or folder
	Python     string `yaml:"python,omitempty"`     // interpreter, default $LAB_PYTHON or /usr/bin/python3
	// KVBlocks is the KV cache capacity in blocks of BlockSize tokens; 0
	// sizes it from scheduler.gpu_memory_utilization (default 0.9) as vLLM
	// does: device memory × utilization − weights − an activation reserve.
	KVBlocks  int `yaml:"kv_blocks,omitempty"`
	BlockSize int `yaml:"block_size,omitempty"` // default 16
	// MaxModelLen: longer prompts are ignored; default the model's context
	// (llama-3-8b 8192, llama-2-7b 4096, tiny 4096).
	MaxModelLen int `yaml:"max_model_len,omitempty"`
	// TBTPerToken: as SimConfig.TBTPerToken.
	TBTPerToken bool            `yaml:"tbt_per_token,omitempty" json:",omitempty"`
	Scheduler   SchedulerConfig `yaml:"scheduler"`
	Workload    WorkloadConfig  `yaml:"workload"`
}

// GPUModels are the model shapes the gpu engine's worker knows.
var GPUModels = []string{"llama-3-8b", "llama-2-7b", "tiny"}

// GPUDevices are the accepted gpu.device values ("" means auto).
var GPUDevices = []string{"auto", "cuda", "cpu"}

// GPUDTypes are the accepted gpu.dtype values ("" means the device default).
var GPUDTypes = []string{"bfloat16", "float16", "float32"}

// validate is the gpu engine's hook (see validate_engines.go).
func (c *GPUConfig) validate(params []string, report func(field, msg string)) {
	switch {
	case c.Model == "":
		report("model", "required: the model shape, one of "+strings.Join(GPUModels, ", "))
	case !slices.Contains(GPUModels, c.Model):
		report("model", fmt.Sprintf("unknown model shape %q; expected one of: %s", c.Model, strings.Join(GPUModels, ", ")))
	}
	if c.Device != "" && !slices.Contains(GPUDevices, c.Device) {
		report("device", fmt.Sprintf("unknown device %q; expected one of: %s", c.Device, strings.Join(GPUDevices, ", ")))
	}
	if c.DType != "" && !slices.Contains(GPUDTypes, c.DType) {
		report("dtype", fmt.Sprintf("unknown dtype %q; expected one of: %s", c.DType, strings.Join(GPUDTypes, ", ")))
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"kv_blocks", c.KVBlocks}, {"block_size", c.BlockSize}, {"max_model_len", c.MaxModelLen}} {
		if f.v < 0 {
			report(f.name, fmt.Sprintf("must be ≥ 0 (0: the default), got %d", f.v))
		}
	}
	if c.Workload.Requests == 0 && !slices.Contains(params, "requests") {
		report("workload.requests", "required: the number of requests, ≥ 1 (or requests swept)")
	}
}

// EngineKind implements EngineConfig.
func (*GPUConfig) EngineKind() string { return "gpu" }

// sweepable: as the simulator's.
func (c *GPUConfig) sweepable() []string { return schedSweepable() }
