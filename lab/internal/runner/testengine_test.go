package runner

import (
	"testing"

	"github.com/schedlab/schedlab/lab/internal/engine"
	"github.com/schedlab/schedlab/lab/internal/engine/enginetest"
	"github.com/schedlab/schedlab/lab/spec"
)

// goConfig is the spec block of the in-process test engine (goEngine). It
// registers like every real engine: its own config type, its factory, one
// engine.Register call. Tests that need per-cell behaviour build a
// goEngine directly; specs get the uniform behaviour their block asks for.
type goConfig struct {
	ID    string        `yaml:"id"`
	Fail  int           `yaml:"fail,omitempty"` // exit code of every cell; 0: succeed
	Sleep spec.Duration `yaml:"sleep,omitempty"`
}

func (*goConfig) EngineKind() string { return "test" }

func (c *goConfig) Validate(spec.Sweep) []spec.FieldError {
	if c.ID == "" {
		return []spec.FieldError{{Field: "id", Msg: "required: the engine's identity"}}
	}
	return nil
}

var goKind = engine.Kind{
	Name:   "test",
	Config: func() spec.EngineConfig { return new(goConfig) },
	New: func(s *spec.Spec) (engine.Engine, error) {
		cfg := s.Engine.Config.(*goConfig)
		e := newGoEngine(func(spec.Cell, int) behaviour { return behaviour{fail: cfg.Fail, sleep: cfg.Sleep.Duration} })
		e.id = cfg.ID
		return e, nil
	},
}

func init() { engine.Register(goKind) }

func TestGoEngineConformance(t *testing.T) {
	const text = "name: conformance\nengine:\n  test: {id: a}\nsweep:\n  t: [0, 1]\n"
	enginetest.Run(t, enginetest.Case{
		Spec:    text,
		Changed: "name: conformance\nengine:\n  test: {id: b}\nsweep:\n  t: [0, 1]\n",
		Failing: "name: conformance\nengine:\n  test: {id: a, fail: 3}\nsweep:\n  t: [0, 1]\n",
		Reason:  "exited with status 3",
		Slow:    "name: conformance\nengine:\n  test: {id: a, sleep: 1h}\nsweep:\n  t: [0, 1]\n",
	})
}
