package spec

import (
	"strings"
	"testing"
)

// TestSimValidation: the simulator's hook reports its problems with the
// position of the offending field.
func TestSimValidation(t *testing.T) {
	const head = "name: s\nengine:\n  sim:\n"
	for _, tc := range []struct {
		body string
		want []string
	}{
		{
			"    model: llama-3-8b\n    gpu: h200\n    mode: eager\n    scheduler: {chunk_size: 64, min_chunk_threshold: 64}\n    workload: {trace: splitwise_conv, requests: 10}\nsweep: {prompt_weight: [-0.01, 0]}\n",
			[]string{"s.yaml:7:", "min_chunk_threshold: 64 ≥ chunk_size 64"},
		},
		{
			"    model: llama-3-8b\n    gpu: h200\n    noise: -1\n    workload: {requests: 0, output_variation: 3}\nsweep: {min_chunk_threshold: [0]}\n",
			[]string{"noise: expected a scale ≥ 0", "requests: required", "output_variation: expected a lognormal σ in [0, 2]", "a trace (splitwise_conv"},
		},
		{
			"    model: llama-3-8b\n    gpu: h200\n    workload: {trace: splitwise_conv, requests: 10}\nsweep: {block_size: [8, 16]}\n",
			[]string{`sweep.block_size: this engine does not read "block_size"`},
		},
		{
			"    model: llama-3-8b\n    gpu: h200\n    workload:\n      requests: 10\n      lengths: {prompt: {kind: fixed, value: 10}, output: {kind: fixed, value: 2}}\n      arrival: {process: trace}\nsweep: {min_chunk_threshold: [0]}\n",
			[]string{"trace arrivals need a trace"},
		},
	} {
		_, err := Parse("s.yaml", []byte(head+tc.body))
		if err == nil {
			t.Errorf("accepted:\n%s", tc.body)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q\nwant it to contain %q", err, w)
			}
		}
	}
	good := head + "    model: llama-3-8b\n    gpu: h200\n    scheduler: {chunk_size: 256, policy: aging}\n    workload: {trace: splitwise_conv, requests: 10, arrival: {process: trace, jitter: 0}}\nsweep: {min_chunk_threshold: {from: 0, to: 16, step: 1}}\n"
	if _, err := Parse("s.yaml", []byte(good)); err != nil {
		t.Errorf("good spec rejected: %v", err)
	}
}

// TestTBTPerToken: engine.sim/gpu.tbt_per_token parses as a bool, is
// rejected with another type, and changes the experiment hash only when set
// (omitted from the canonical JSON when false, so every existing spec keeps
// its hash).
func TestTBTPerToken(t *testing.T) {
	const sim = "name: s\nengine:\n  sim:\n    model: llama-3-8b\n    gpu: h200\n%s    workload: {trace: splitwise_conv, requests: 10}\nsweep: {min_chunk_threshold: [0]}\n"
	const gpu = "name: s\nengine:\n  gpu:\n    model: tiny\n%s    workload: {trace: splitwise_conv, requests: 10}\nsweep: {min_chunk_threshold: [0]}\n"
	for _, tc := range []struct {
		name, tmpl string
		on         func(*Spec) bool
	}{
		{"sim", sim, func(s *Spec) bool { return s.Engine.Config.(*SimConfig).TBTPerToken }},
		{"gpu", gpu, func(s *Spec) bool { return s.Engine.Config.(*GPUConfig).TBTPerToken }},
	} {
		hash := map[string]string{}
		for _, line := range []string{"", "    tbt_per_token: false\n", "    tbt_per_token: true\n"} {
			s, err := Parse("s.yaml", []byte(strings.Replace(tc.tmpl, "%s", line, 1)))
			if err != nil {
				t.Fatalf("%s %q: %v", tc.name, line, err)
			}
			if want := strings.Contains(line, "true"); tc.on(s) != want {
				t.Errorf("%s %q: tbt_per_token = %v", tc.name, line, tc.on(s))
			}
			hash[line] = s.Hash()
		}
		if hash[""] != hash["    tbt_per_token: false\n"] || hash[""] == hash["    tbt_per_token: true\n"] {
			t.Errorf("%s: hashes %v: want false = absent ≠ true", tc.name, hash)
		}
		_, err := Parse("s.yaml", []byte(strings.Replace(tc.tmpl, "%s", "    tbt_per_token: 1\n", 1)))
		if err == nil || !strings.Contains(err.Error(), "tbt_per_token") {
			t.Errorf("%s: tbt_per_token: 1 gave %v, want an error naming the field", tc.name, err)
		}
	}
}
