package exec

import (
	"fmt"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/engine"
	"github.com/schedlab/schedlab/lab/internal/engine/enginetest"
)

// This package's tests parse exec specs: register the kind as the
// registration list does (the list itself imports this package).
func init() { engine.Register(Kind) }

func TestConformance(t *testing.T) {
	text := fmt.Sprintf(`name: conformance
engine:
  exec:
    command: [%q, --out, "{{.OutputDir}}", --threshold, "{{.min_chunk_threshold}}", --seed, "{{.Seed}}"]
sweep:
  min_chunk_threshold: [0, 8]
`, fake)
	enginetest.Run(t, enginetest.Case{
		Spec:    text,
		Changed: strings.Replace(text, `--seed, "{{.Seed}}"`, `--seed, "{{.Seed}}", --requests, "80"`, 1),
		Failing: strings.Replace(text, `--seed,`, `--fail, "7", --seed,`, 1),
		Reason:  "7",
		Slow:    strings.Replace(text, `--seed,`, `--hang, --seed,`, 1),
	})
}
