package spec

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a spec, with the position of the YAML node that
// caused it. Line and Col are 1-based; 0 means the position is unknown (a
// spec built in Go rather than parsed).
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *Error) Error() string {
	file := e.File
	if file == "" {
		file = "<spec>"
	}
	if e.Line <= 0 {
		return file + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d:%d: %s", file, e.Line, e.Col, e.Msg)
}

// Errors is every problem found in one spec, sorted by position. Parse and
// Validate return it (never an empty one) so that a user fixes all problems
// in one edit instead of one per run.
type Errors []*Error

// Error joins the problems, one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find the individual *Error values.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// sortErrors orders problems by position, then message, and drops exact
// duplicates (the same problem reached twice, e.g. through a YAML alias).
func sortErrors(es Errors) Errors {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Col != b.Col {
			return a.Col < b.Col
		}
		return a.Msg < b.Msg
	})
	out := es[:0]
	for i, e := range es {
		if i > 0 && *e == *es[i-1] {
			continue
		}
		out = append(out, e)
	}
	return out
}

// ErrorAt is the problem msg about field — a dotted path from the top of the
// spec as in Parse's messages, e.g. "engine.sim.workload.trace" — positioned
// like a parse error (file:line:col: field: msg) at that field, or at the
// nearest enclosing one present in the file. It is for problems found after
// parsing, such as an engine that cannot open the trace the spec names, so
// that they read like every other spec error. Without positions (a spec
// built in Go) it names the file only.
func (s *Spec) ErrorAt(field, msg string) error {
	d := &decoder{file: s.Path, nodes: s.nodes}
	path := "$." + field
	at := d.at(path)
	return Errors{{File: s.Path, Line: at.line, Col: at.col, Msg: fieldName(path) + ": " + msg}}
}
