package sim

import (
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/engine/enginetest"
)

func TestConformance(t *testing.T) {
	const text = `name: conformance
engine:
  sim:
    model: llama-3-8b
    gpu: h200
    scheduler: {chunk_size: 256, max_num_seqs: 16}
    workload: {trace: splitwise_conv, requests: 50}
sweep:
  min_chunk_threshold: [0, 8]
`
	enginetest.Run(t, enginetest.Case{
		Spec:    text,
		Changed: strings.Replace(text, "max_num_seqs: 16", "max_num_seqs: 32", 1),
		Failing: strings.Replace(text, "gpu: h200", "gpu: h200\n    max_model_len: 1", 1),
		Reason:  "all 50 requests ignored",
	})
}
