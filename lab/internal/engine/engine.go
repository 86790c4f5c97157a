// Package engine defines what runs one cell of an experiment and the
// registry of engine kinds. Each implementation is its own package (sim,
// exec, gpu) that describes itself with a Kind; the registration list in
// lab/internal/engine/engines makes them known to spec parsing and to New.
package engine

import (
	"context"
	"io"

	"github.com/schedlab/schedlab/lab/spec"
)

// Engine runs cells.
type Engine interface {
	// Kind is the name the engine is registered under ("sim", "exec", …),
	// the key of its block under engine: in a spec.
	Kind() string
	// Identity is a JSON-encodable value describing everything about the
	// engine that determines a cell's result (resolved config, model
	// version, profile digest) and nothing else: no timestamps, no paths
	// that do not matter. The store hashes it into the cell's address, so
	// the same configuration must give an equal Identity in every process.
	Identity() any
	// Run runs one cell. It writes its metric CSVs under
	// req.Dir/replica_0/plots/ (sarathi.PlotsDir) and may write other
	// files into req.Dir; the engine's own output goes to req.Stdout and
	// req.Stderr. A non-nil error marks the cell failed and its message is
	// the recorded reason; Run must return promptly when ctx is cancelled,
	// having stopped everything it started.
	Run(ctx context.Context, req Request) error
}

// Request is everything the runner hands an engine for one cell. An engine
// that has no use for a field ignores it.
type Request struct {
	Cell spec.Cell
	// Dir is the cell's folder in the store transaction.
	Dir            string
	Stdout, Stderr io.Writer
	// GPU is the CUDA_VISIBLE_DEVICES slot the runner gave this cell ("":
	// the runner manages no GPUs and the engine inherits the environment).
	GPU string
	// LockDir is a folder shared by every process that uses the same store
	// (root/locks on a shared filesystem for a cluster), where an engine may
	// keep lock files that must hold across processes and hosts ("": the
	// engine picks a local one).
	LockDir string
	// Queued, when set, stops the cell's time limit while the engine waits
	// for a shared resource (see Queue).
	Queued func() (done func())
}

// Queue tells the runner that the engine is about to wait for a resource
// other cells share (the output root of an exec engine, a GPU); call the
// returned function once it has it. The per-cell timeout does not run
// meanwhile: a cell that waited its turn is not killed for having waited.
func (r Request) Queue() (done func()) {
	if r.Queued != nil {
		return r.Queued()
	}
	return func() {}
}

// ExitError is returned by Run when the engine process exited non-zero, so
// the store can record the exit code.
type ExitError struct {
	Code   int
	Reason string
}

func (e *ExitError) Error() string { return e.Reason }
