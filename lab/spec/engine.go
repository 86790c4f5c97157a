package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/goccy/go-yaml/ast"
)

// Engine holds the configuration of the one engine a spec declares: the
// decoded block under `engine: <kind>:`.
type Engine struct {
	Config EngineConfig
}

// Kind is the engine kind ("sim", "exec", "gpu", …; "" when none is set).
func (e Engine) Kind() string {
	if e.Config == nil {
		return ""
	}
	return e.Config.EngineKind()
}

// EngineConfig is one engine kind's block. The registered EngineSchema says
// which Go type a kind's block decodes into; the type validates itself.
type EngineConfig interface {
	// EngineKind is the kind the block belongs to (its key under engine:).
	EngineKind() string
	// Validate reports the block's problems: FieldError.Field is relative
	// to the block, or a path from the top starting with "$." (a swept
	// parameter the engine does not read). sweep is the spec's sweep.
	Validate(sweep Sweep) []FieldError
}

// EngineSchema tells Parse how to read one engine kind's block. Engines
// register theirs through engine.Register, which forwards it here.
type EngineSchema struct {
	Kind string
	// New returns a pointer to a zero configuration of the kind's Go type;
	// the block is decoded into it strictly (unknown keys and wrong types
	// are errors with their positions).
	New func() EngineConfig
	// Check, when set, adds the problems only the engine can see (a model
	// it has no profile for) to those of EngineConfig.Validate; same
	// FieldError conventions.
	Check func(cfg EngineConfig, sweep Sweep) []FieldError
}

var engineSchemas struct {
	sync.RWMutex
	order []string
	byKey map[string]EngineSchema
}

// RegisterEngine makes a kind known to Parse and Validate. It panics when
// the kind is empty, has no New or is registered twice: those are
// programming errors of the registration list.
func RegisterEngine(s EngineSchema) {
	engineSchemas.Lock()
	defer engineSchemas.Unlock()
	if s.Kind == "" || s.New == nil {
		panic("spec.RegisterEngine: a schema needs a Kind and New")
	}
	if engineSchemas.byKey == nil {
		engineSchemas.byKey = map[string]EngineSchema{}
	}
	if _, dup := engineSchemas.byKey[s.Kind]; dup {
		panic("spec.RegisterEngine: engine kind " + s.Kind + " registered twice")
	}
	engineSchemas.byKey[s.Kind] = s
	engineSchemas.order = append(engineSchemas.order, s.Kind)
}

// EngineKinds lists the registered kinds in registration order.
func EngineKinds() []string {
	engineSchemas.RLock()
	defer engineSchemas.RUnlock()
	return append([]string(nil), engineSchemas.order...)
}

func engineSchema(kind string) (EngineSchema, bool) {
	engineSchemas.RLock()
	defer engineSchemas.RUnlock()
	s, ok := engineSchemas.byKey[kind]
	return s, ok
}

// kindList is "sim, exec or gpu" for messages.
func kindList() string {
	ks := EngineKinds()
	switch len(ks) {
	case 0:
		return "(no engine is registered)"
	case 1:
		return ks[0]
	}
	return strings.Join(ks[:len(ks)-1], ", ") + " or " + ks[len(ks)-1]
}

// decodeEngine reads `engine:`: a mapping with exactly one key, the kind,
// whose value decodes into the kind's registered configuration type.
func decodeEngine(d *decoder, n ast.Node, path string, v reflect.Value) {
	es, ok := d.entries(n, path)
	if !ok {
		return
	}
	switch {
	case len(es) == 0:
		return // validate reports the missing engine
	case len(es) > 1:
		d.failf(path, d.at(path), "%s: exactly one of %s may be given, found %d", fieldName(path), kindList(), len(es))
		return
	}
	e := es[0]
	p := path + "." + e.key
	d.record(p, e.keyAt, e.value)
	schema, ok := engineSchema(e.key)
	if !ok {
		d.failf(path, e.keyAt, "%s: unknown engine %q; expected one of: %s", fieldName(path), e.key, kindList())
		return
	}
	cfg := schema.New()
	d.decode(e.value, p, reflect.ValueOf(cfg).Elem())
	v.Set(reflect.ValueOf(Engine{Config: cfg}))
}

// validateEngine reports the engine block's problems at their positions.
func validateEngine(s *Spec, report reportFunc) {
	kind := s.Engine.Kind()
	if kind == "" {
		report("$.engine", "required: exactly one of %s", kindList())
		return
	}
	errs := s.Engine.Config.Validate(s.Sweep)
	if schema, ok := engineSchema(kind); ok && schema.Check != nil {
		errs = append(errs, schema.Check(s.Engine.Config, s.Sweep)...)
	}
	for _, fe := range errs {
		report(FieldPath(kind, fe.Field), "%s", fe.Msg)
	}
	validateSchedRules(s, report)
}

// FieldPath is the path from the top of the spec ("$.engine.sim.model") of
// field, a FieldError.Field of engine kind's block.
func FieldPath(kind, field string) string {
	p := "$.engine." + kind
	switch {
	case strings.HasPrefix(field, "$."):
		return field
	case field == "":
		return p
	case strings.HasPrefix(field, "["):
		return p + field
	}
	return p + "." + field
}

// legacyEngineKeys are the JSON keys under which the sim, exec and gpu
// blocks have always been encoded (see MarshalJSON).
var legacyEngineKeys = []struct{ kind, key string }{{"sim", "Sim"}, {"exec", "Exec"}, {"gpu", "GPU"}}

// MarshalJSON encodes the engine as {"Sim": …, "Exec": …, "GPU": …} with
// the unset kinds null, and another kind's block under its own kind name
// after those. This is the encoding Spec.Hash hashes: it is kept so that
// the experiment hash of every existing spec stays the same.
func (e Engine) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	kind := e.Kind()
	legacy := false
	for i, lk := range legacyEngineKeys {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:", lk.key)
		if lk.kind != kind {
			b.WriteString("null")
			continue
		}
		legacy = true
		if err := encodeJSON(&b, e.Config); err != nil {
			return nil, err
		}
	}
	if kind != "" && !legacy {
		fmt.Fprintf(&b, ",%q:", kind)
		if err := encodeJSON(&b, e.Config); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func encodeJSON(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}
