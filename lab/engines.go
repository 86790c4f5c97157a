package lab

import (
	"fmt"

	"github.com/schedlab/schedlab/lab/engine"
	"github.com/schedlab/schedlab/lab/engine/exec"
	"github.com/schedlab/schedlab/lab/engine/gpu"
	"github.com/schedlab/schedlab/lab/engine/sim"
	"github.com/schedlab/schedlab/lab/runner"
	"github.com/schedlab/schedlab/lab/spec"
	"github.com/schedlab/schedlab/lab/store"
)

// NewEngine builds the engine a spec declares. Everything that hashes or
// runs cells (run, plan, status, select, gc, the report) gets its engine
// here, so all of them compute the same cell addresses.
func NewEngine(s *spec.Spec) (engine.Engine, error) {
	switch k := s.Engine.Kind(); k {
	case "exec":
		e, err := exec.New(s.Engine.Exec, s.Path, s.ParamNames())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", specName(s), err)
		}
		return e, nil
	case "sim":
		e, err := sim.New(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", specName(s), err)
		}
		return e, nil
	case "gpu":
		e, err := gpu.New(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", specName(s), err)
		}
		return e, nil
	case "":
		return nil, fmt.Errorf("%s: no engine: expected one of sim, exec, gpu", specName(s))
	default:
		return nil, fmt.Errorf("%s: unknown engine kind %q", specName(s), k)
	}
}

func specName(s *spec.Spec) string {
	if s.Path != "" {
		return s.Path
	}
	return "spec " + s.Name
}

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
