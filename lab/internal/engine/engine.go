// Package engine defines what runs one cell of an experiment. Each
// implementation is a sibling package: sim (the embedded simulator), exec
// (the user's own benchmark command) and gpu (the PyTorch worker driven by
// lab/internal/sim/sched).
package engine

import (
	"context"
	"io"

	"github.com/schedlab/schedlab/lab/spec"
)

// Engine runs cells.
type Engine interface {
	// Kind is "sim", "exec" or "gpu".
	Kind() string
	// Identity is a JSON-encodable value describing everything about the
	// engine that determines a cell's result (resolved config, model
	// version, profile digest) and nothing else: no timestamps, no paths
	// that do not matter. The store hashes it into the cell's address.
	Identity() any
	// Run runs one cell. It writes its metric CSVs under
	// dir/replica_0/plots/ (sarathi.PlotsDir) and may write other files
	// into dir; the engine's own output goes to stdout and stderr. A
	// non-nil error marks the cell failed; Run must return promptly when
	// ctx is cancelled, having stopped everything it started.
	Run(ctx context.Context, cell spec.Cell, dir string, stdout, stderr io.Writer) error
}

// ExitError is returned by Run when the engine process exited non-zero, so
// the store can record the exit code.
type ExitError struct {
	Code   int
	Reason string
}

func (e *ExitError) Error() string { return e.Reason }

// RunEnv is what the runner hands an engine for one cell besides the cell
// itself. It travels in the context so that the Engine interface stays the
// same for every engine; an engine that has no use for a field ignores it.
type RunEnv struct {
	// CUDAVisibleDevices is the GPU slot the runner gave this cell ("" when
	// the runner manages no GPUs: the engine inherits the environment).
	CUDAVisibleDevices string
	// LockDir is a folder shared by every process that uses the same store
	// (root/locks on a shared filesystem for a cluster), where an engine may
	// keep lock files that must hold across processes and hosts.
	LockDir string
	// Queued, when set, stops the cell's time limit while the engine waits
	// for a shared resource (see Queue).
	Queued func() (done func())
}

// Queue tells the runner that the engine is about to wait for a resource
// other cells share (the output root of an exec engine, a GPU); call the
// returned function once it has it. The per-cell timeout does not run
// meanwhile: a cell that waited its turn is not killed for having waited.
func Queue(ctx context.Context) (done func()) {
	if q := RunEnvFrom(ctx).Queued; q != nil {
		return q()
	}
	return func() {}
}

type runEnvKey struct{}

// WithRunEnv returns ctx carrying env.
func WithRunEnv(ctx context.Context, env RunEnv) context.Context {
	return context.WithValue(ctx, runEnvKey{}, env)
}

// RunEnvFrom returns the RunEnv in ctx (the zero value when there is none).
func RunEnvFrom(ctx context.Context) RunEnv {
	env, _ := ctx.Value(runEnvKey{}).(RunEnv)
	return env
}
