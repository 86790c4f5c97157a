package gpu

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/engine/enginetest"
)

// TestConformance runs the suite on the tiny shape on the CPU (skipped
// without torch, failed in CI).
func TestConformance(t *testing.T) {
	py := testPython(t)
	text := strings.Replace(sweepSpec, "    device: cpu\n", "    device: cpu\n    python: "+py+"\n", 1)
	missing := filepath.Join(t.TempDir(), "missing.safetensors")
	enginetest.Run(t, enginetest.Case{
		Spec:    text,
		Changed: strings.Replace(text, "kv_blocks: 64", "kv_blocks: 96", 1),
		Failing: strings.Replace(text, "    device: cpu\n", "    device: cpu\n    checkpoint: "+missing+"\n", 1),
		Reason:  "checkpoint",
		Slow:    strings.Replace(text, "requests: 16", "requests: 5000", 1),
	})
}
