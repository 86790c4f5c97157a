package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// benchResult has the keys, in the order, that vLLM's `vllm bench serve
// --save-result --save-detailed` (vllm/benchmarks/serve.py) writes; SGLang's
// bench_serving --output-details writes the same per-request lists and no
// latencies, start_times or failed.
type benchResult struct {
	Date              string      `json:"date,omitempty"`
	Backend           string      `json:"backend"`
	ModelID           string      `json:"model_id,omitempty"`
	NumPrompts        int         `json:"num_prompts,omitempty"`
	RequestRate       any         `json:"request_rate"`
	Duration          float64     `json:"duration"`
	Completed         int         `json:"completed"`
	Failed            *int        `json:"failed,omitempty"`
	TotalInputTokens  int         `json:"total_input_tokens"`
	TotalOutputTokens int         `json:"total_output_tokens"`
	RequestThroughput float64     `json:"request_throughput"`
	InputLens         []int       `json:"input_lens"`
	OutputLens        []int       `json:"output_lens"`
	TTFTs             []float64   `json:"ttfts"`
	ITLs              [][]float64 `json:"itls"`
	Latencies         []float64   `json:"latencies,omitempty"`
	StartTimes        []float64   `json:"start_times,omitempty"`
	GeneratedTexts    []string    `json:"generated_texts"`
	Errors            []string    `json:"errors"`
}

// texts cycle through generated texts, unicode and empty ones included.
var texts = []string{"The answer is 42.", "日本語の応答 ✓", "", "Ünïcödé — ok", "emoji 🚀 end"}

// writeBench writes a benchmark client's result for n requests whose
// latencies follow the same U in the threshold as the Sarathi CSVs, the
// first `failed` of every 8 requests failing the way the clients record it.
func writeBench(format, dir string, threshold float64, seed int64, n, failed int) error {
	rng := rand.New(rand.NewPCG(uint64(seed), 0xbe4c))
	factor := 1 + 0.004*(threshold-4)*(threshold-4)
	r := benchResult{Backend: "vllm", RequestRate: "inf", NumPrompts: n}
	if format == "sglang-bench" {
		r.Backend, r.RequestRate = "sglang", 8.0
	} else {
		r.Date, r.ModelID = "20250101-000000", "meta-llama/Llama-3.1-8B-Instruct"
	}
	start, end := 0.0, 0.0
	round := func(v float64) float64 { return math.Round(v*1e9) / 1e9 }
	for i := 0; i < n; i++ {
		prompt := 100 + rng.IntN(900)
		out := 2 + rng.IntN(60)
		st := round(float64(i) * 0.05)
		fail := i < failed
		if fail {
			r.InputLens = append(r.InputLens, prompt)
			r.OutputLens = append(r.OutputLens, 0)
			r.TTFTs = append(r.TTFTs, 0)
			r.ITLs = append(r.ITLs, []float64{})
			r.Latencies = append(r.Latencies, 0)
			r.StartTimes = append(r.StartTimes, st)
			r.GeneratedTexts = append(r.GeneratedTexts, "")
			r.Errors = append(r.Errors, "Traceback (most recent call last):\n  File \"x.py\", line 1\naiohttp.client_exceptions.ServerDisconnectedError: Server disconnected")
			continue
		}
		ttft := round(float64(prompt)*1.2e-4*factor*(1+0.03*rng.NormFloat64()) + 0.2*rng.Float64()*factor)
		itl := make([]float64, out-1)
		lat := ttft
		for j := range itl {
			itl[j] = round(0.018 * (1 + 0.002*threshold) * (1 + 0.1*rng.Float64()))
			lat += itl[j]
		}
		lat = round(lat + 0.001)
		r.InputLens = append(r.InputLens, prompt)
		r.OutputLens = append(r.OutputLens, out)
		r.TTFTs = append(r.TTFTs, ttft)
		r.ITLs = append(r.ITLs, itl)
		r.Latencies = append(r.Latencies, lat)
		r.StartTimes = append(r.StartTimes, st)
		r.GeneratedTexts = append(r.GeneratedTexts, texts[i%len(texts)])
		r.Errors = append(r.Errors, "")
		r.Completed++
		r.TotalInputTokens += prompt
		r.TotalOutputTokens += out
		end = max(end, st+lat)
	}
	r.Duration = round(end - start + 0.01)
	r.RequestThroughput = float64(r.Completed) / r.Duration
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	switch format {
	case "vllm-bench":
		r.Failed = &failed
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, "vllm-result.json"), b, 0o644)
	case "sglang-bench":
		r.Latencies, r.StartTimes = nil, nil
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, "sglang.jsonl"), append(b, '\n'), 0o644)
	}
	return fmt.Errorf("unknown --format %q; expected sarathi, vllm-bench or sglang-bench", format)
}
