package experiment

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/spec"
)

// What an engine finds wrong with its block after parsing (a trace it
// cannot open, a trace shorter than the requests) is reported like a parse
// error: file:line:col of the field, its name, what was expected.
func TestNewEngineErrorsHavePositions(t *testing.T) {
	const text = `name: pos
engine:
  sim:
    model: llama-3-8b
    gpu: h200
    scheduler: {chunk_size: 256, max_num_seqs: 10}
    workload:
      trace: %TRACE%
      requests: %N%
sweep:
  min_chunk_threshold: [0, 1]
`
	tests := []struct{ trace, n, want string }{
		{"no-such.csv", "10", `:8:14: engine.sim.workload.trace: "no-such.csv" is neither a shipped trace`},
		{"splitwise_conv", "100000000", ":9:17: engine.sim.workload.requests: 100000000, but trace splitwise_conv has only"},
	}
	for _, tc := range tests {
		path := filepath.Join(t.TempDir(), "pos.yaml")
		os.WriteFile(path, []byte(strings.NewReplacer("%TRACE%", tc.trace, "%N%", tc.n).Replace(text)), 0o666)
		s, err := spec.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = NewEngine(s)
		if err == nil || !strings.HasPrefix(err.Error(), path+tc.want) {
			t.Errorf("NewEngine: %v\nwant prefix %s%s", err, path, tc.want)
		}
	}
}
