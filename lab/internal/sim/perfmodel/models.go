package perfmodel

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ModelInfo is what the KV-cache sizing needs to know about a model: the
// shapes from the profile README (bf16 weights and KV cache).
type ModelInfo struct {
	Name                     string
	Layers, KVHeads, HeadDim int
	// Params is the parameter count (published model sizes).
	Params float64
	// MaxModelLen is the context length the model was trained for.
	MaxModelLen int
}

// KVBytesPerToken is K and V, every layer, every KV head, in bf16.
func (m ModelInfo) KVBytesPerToken() int { return 2 * m.Layers * m.KVHeads * m.HeadDim * 2 }

// WeightBytes is the bf16 weights' size.
func (m ModelInfo) WeightBytes() float64 { return 2 * m.Params }

var models = map[string]ModelInfo{
	"llama-3-8b": {Name: "llama-3-8b", Layers: 32, KVHeads: 8, HeadDim: 128, Params: 8.03e9, MaxModelLen: 8192},
	"llama-2-7b": {Name: "llama-2-7b", Layers: 32, KVHeads: 32, HeadDim: 128, Params: 6.74e9, MaxModelLen: 4096},
	"qwen3-8b":   {Name: "qwen3-8b", Layers: 36, KVHeads: 8, HeadDim: 128, Params: 8.19e9, MaxModelLen: 32768},
}

// LookupModel returns a model's description.
func LookupModel(name string) (ModelInfo, error) {
	m, ok := models[name]
	if !ok {
		var names []string
		for n := range models {
			names = append(names, n)
		}
		sort.Strings(names)
		return m, fmt.Errorf("unknown model %q; known: %s", name, strings.Join(names, ", "))
	}
	return m, nil
}

// MemoryBytes is the GPU's memory as nvidia-smi reported it in the device
// file ("NVIDIA H200, 580.159.04, 143771 MiB, 1980 MHz").
func (d Device) MemoryBytes() (float64, error) {
	for _, f := range strings.Split(d.NvidiaSMI, ",") {
		f = strings.TrimSpace(f)
		if v, ok := strings.CutSuffix(f, " MiB"); ok {
			mib, err := strconv.ParseFloat(v, 64)
			if err == nil && mib > 0 {
				return mib * (1 << 20), nil
			}
		}
	}
	return 0, fmt.Errorf("device %s: no memory size in %q", d.GPU, d.NvidiaSMI)
}

// ActivationReserve is the memory kept for activations, the CUDA context
// and the sampler when sizing the KV cache (vLLM profiles a forward pass to
// find it; 2 GiB covers chunk sizes up to a few thousand tokens on 8B
// models).
const ActivationReserve = 2 << 30

// KVBlocks sizes the KV cache as vLLM does: GPU memory × utilization −
// weights − ActivationReserve, in blocks of blockSize tokens.
func KVBlocks(gpu string, m ModelInfo, utilization float64, blockSize int) (int, error) {
	dev, err := LoadDevice(gpu)
	if err != nil {
		return 0, err
	}
	mem, err := dev.MemoryBytes()
	if err != nil {
		return 0, err
	}
	free := mem*utilization - m.WeightBytes() - ActivationReserve
	blocks := int(free / float64(m.KVBytesPerToken()*blockSize))
	if blocks < 1 {
		return 0, fmt.Errorf("%s on %s at gpu_memory_utilization %g: %.1f GiB of memory, %.1f GiB of weights: no room for a KV cache", m.Name, gpu, utilization, mem*utilization/(1<<30), m.WeightBytes()/(1<<30))
	}
	return blocks, nil
}
