package engine

import (
	"errors"
	"fmt"
	"sync"

	"github.com/schedlab/schedlab/lab/spec"
)

// Kind describes one engine kind: the Go type of its spec block, the checks
// only it can make, and its factory. An engine package exports its Kind
// and the registration list (lab/internal/engine/engines) registers it.
type Kind struct {
	// Name is the block's key under engine: in a spec.
	Name string
	// Config returns a pointer to a zero configuration, which the block is
	// decoded into (see spec.EngineSchema.New).
	Config func() spec.EngineConfig
	// Check, optional, reports problems of a block that only the engine
	// can see, as typed field errors (see spec.EngineSchema.Check).
	Check func(cfg spec.EngineConfig, sweep spec.Sweep) []spec.FieldError
	// New builds the engine for a parsed spec whose engine block is of this
	// kind. A problem with one field of the block is returned as a
	// spec.FieldError (or wraps one), so New can place it at the field's
	// line and column.
	New func(s *spec.Spec) (Engine, error)
}

var registry struct {
	sync.RWMutex
	kinds map[string]Kind
}

// Register makes k known to spec parsing and to New. It panics on an
// incomplete Kind or a name registered twice (a mistake in the
// registration list, found by any test).
func Register(k Kind) {
	if k.Name == "" || k.Config == nil || k.New == nil {
		panic(fmt.Sprintf("engine.Register: kind %q needs a Name, Config and New", k.Name))
	}
	registry.Lock()
	defer registry.Unlock()
	if registry.kinds == nil {
		registry.kinds = map[string]Kind{}
	}
	if _, dup := registry.kinds[k.Name]; dup {
		panic("engine.Register: kind " + k.Name + " registered twice")
	}
	spec.RegisterEngine(spec.EngineSchema{Kind: k.Name, New: k.Config, Check: k.Check})
	registry.kinds[k.Name] = k
}

// Lookup returns the registered kind called name.
func Lookup(name string) (Kind, bool) {
	registry.RLock()
	defer registry.RUnlock()
	k, ok := registry.kinds[name]
	return k, ok
}

// New builds the engine a spec declares. Everything that hashes or runs
// cells gets its engine here, so all of them compute the same cell
// addresses. Errors name the spec file; a problem with one field of the
// engine block is placed at that field (file:line:col), as parse errors
// are.
func New(s *spec.Spec) (Engine, error) {
	kind := s.Engine.Kind()
	if kind == "" {
		return nil, fmt.Errorf("%s: no engine: expected one of %v", specName(s), spec.EngineKinds())
	}
	k, ok := Lookup(kind)
	if !ok {
		return nil, fmt.Errorf("%s: unknown engine kind %q; registered: %v", specName(s), kind, spec.EngineKinds())
	}
	e, err := k.New(s)
	if err != nil {
		var fe spec.FieldError
		if errors.As(err, &fe) {
			return nil, s.ErrorAt(spec.FieldPath(kind, fe.Field)[2:], fe.Msg)
		}
		return nil, fmt.Errorf("%s: %w", specName(s), err)
	}
	return e, nil
}

func specName(s *spec.Spec) string {
	if s.Path != "" {
		return s.Path
	}
	return "spec " + s.Name
}
