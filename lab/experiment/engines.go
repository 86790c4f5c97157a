package experiment

import (
	"github.com/schedlab/schedlab/lab/internal/engine"
	_ "github.com/schedlab/schedlab/lab/internal/engine/engines" // every engine kind
	"github.com/schedlab/schedlab/lab/internal/runner"
	"github.com/schedlab/schedlab/lab/internal/store"
	"github.com/schedlab/schedlab/lab/spec"
)

// NewEngine builds the engine a spec declares (see engine.New).
func NewEngine(s *spec.Spec) (engine.Engine, error) { return engine.New(s) }

// CellInputs is what determines cell c's result under engine e (its store
// address is store.HashInputs of it).
func CellInputs(s *spec.Spec, e engine.Engine, c spec.Cell) store.Inputs {
	return runner.CellInputs(s, e, c)
}

// CellHashes returns the store address of every cell of s, in the order of
// s.Cells().
func CellHashes(s *spec.Spec) ([]string, error) {
	e, err := NewEngine(s)
	if err != nil {
		return nil, err
	}
	plan, err := runner.Plan(s, e)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(plan))
	for i, p := range plan {
		out[i] = p.Hash
	}
	return out, nil
}

func specName(s *spec.Spec) string {
	if s.Path != "" {
		return s.Path
	}
	return "spec " + s.Name
}
