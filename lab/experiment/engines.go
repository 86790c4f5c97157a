package experiment

import (
	"fmt"
	"regexp"

	"github.com/schedlab/schedlab/lab/internal/engine"
	"github.com/schedlab/schedlab/lab/internal/engine/exec"
	"github.com/schedlab/schedlab/lab/internal/engine/gpu"
	"github.com/schedlab/schedlab/lab/internal/engine/sim"
	"github.com/schedlab/schedlab/lab/internal/runner"
	"github.com/schedlab/schedlab/lab/internal/store"
	"github.com/schedlab/schedlab/lab/spec"
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
			return nil, engineError(s, err)
		}
		return e, nil
	case "gpu":
		e, err := gpu.New(s)
		if err != nil {
			return nil, engineError(s, err)
		}
		return e, nil
	case "":
		return nil, fmt.Errorf("%s: no engine: expected one of sim, exec, gpu", specName(s))
	default:
		return nil, fmt.Errorf("%s: unknown engine kind %q", specName(s), k)
	}
}

// engineField matches an engine error about one field of its block:
// "sim.workload.trace: msg" (the sim and gpu engines name fields so).
var engineField = regexp.MustCompile(`^(sim|gpu)\.([A-Za-z0-9_.\[\]]+): `)

// engineError places an engine's complaint about a field of its block at
// that field in the spec file (file:line:col, as parse errors are): the
// trace it cannot open, a trace with fewer rows than requests.
func engineError(s *spec.Spec, err error) error {
	msg := err.Error()
	if m := engineField.FindStringSubmatch(msg); m != nil {
		return s.ErrorAt("engine."+m[1]+"."+m[2], msg[len(m[0]):])
	}
	return fmt.Errorf("%s: %w", specName(s), err)
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
