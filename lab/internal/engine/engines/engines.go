// Package engines is the registration list: importing it makes every engine
// kind known to spec parsing and to engine.New. Adding an engine is one
// line here plus its own package.
package engines

import (
	"github.com/schedlab/schedlab/lab/internal/engine"
	"github.com/schedlab/schedlab/lab/internal/engine/exec"
	"github.com/schedlab/schedlab/lab/internal/engine/gpu"
	"github.com/schedlab/schedlab/lab/internal/engine/sim"
)

// The order is the order in which messages list the kinds.
func init() {
	engine.Register(sim.Kind)
	engine.Register(exec.Kind)
	engine.Register(gpu.Kind)
}
