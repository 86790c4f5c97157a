package spec

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// This file is a small strict decoder from goccy/go-yaml's AST into Go
// values. goccy's own decoder stops at the first problem and truncates
// non-integral floats given for integer fields; walking the AST ourselves
// lets Parse report every unknown field and wrong type at once, each with
// its line and column, and remember where every value came from so that the
// semantic checks (validate.go) can point at the offending node too.

// pos is a 1-based line and column in the YAML text (0 when unknown).
type pos struct{ line, col int }

func tokenPos(tk *token.Token) pos {
	if tk == nil || tk.Position == nil {
		return pos{}
	}
	return pos{tk.Position.Line, tk.Position.Column}
}

// nodeInfo is where a value (and, for a mapping entry, its key) sits.
type nodeInfo struct {
	key, value pos
	collection bool // the value is a mapping or a list
}

// decoder collects problems and node positions while decoding.
type decoder struct {
	file  string
	errs  Errors
	nodes map[string]nodeInfo // by path: "$", "$.sweep.x.step", "$.engine.exec.command[2]"
	// bad marks paths whose value could not be decoded: semantic checks
	// of those paths (and below) would only repeat the problem.
	bad     map[string]bool
	depth   int // nesting of decode/merge calls: bounds recursive aliases
	anchors map[string]ast.Node
	// hooks decode a Go type by hand (the sweep, the baseline, the
	// presets): the YAML shape and the Go shape differ there.
	hooks map[reflect.Type]func(d *decoder, n ast.Node, path string, v reflect.Value)
}

func newDecoder(file string) *decoder {
	return &decoder{
		file:    file,
		nodes:   map[string]nodeInfo{},
		bad:     map[string]bool{},
		anchors: map[string]ast.Node{},
		hooks:   map[reflect.Type]func(*decoder, ast.Node, string, reflect.Value){},
	}
}

func (d *decoder) errorf(p pos, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: p.line, Col: p.col, Msg: fmt.Sprintf(format, args...)})
}

// fieldName turns a path into the dotted name users see in messages.
func fieldName(path string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(path, "$"), ".")
	if s == "" {
		return "the spec"
	}
	return s
}

// at returns the best position for a problem about path: the value of a
// scalar, the key of a mapping or list, or else the nearest enclosing node
// that is present in the file (a missing field is reported at its parent).
func (d *decoder) at(path string) pos {
	for p := path; ; {
		if info, ok := d.nodes[p]; ok {
			if info.collection && info.key.line > 0 {
				return info.key
			}
			if info.value.line > 0 {
				return info.value
			}
			return info.key
		}
		if p == "$" {
			return pos{} // a spec built in Go: no positions
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			p = "$"
			continue
		}
		p = p[:i]
	}
}

// has reports whether path was given in the file.
func (d *decoder) has(path string) bool {
	_, ok := d.nodes[path]
	return ok
}

// collectAnchors records every anchor in the document so aliases resolve
// wherever they are used.
func (d *decoder) collectAnchors(root ast.Node) {
	ast.Walk(anchorVisitor{d}, root)
}

type anchorVisitor struct{ d *decoder }

func (v anchorVisitor) Visit(n ast.Node) ast.Visitor {
	if a, ok := n.(*ast.AnchorNode); ok && a.Name != nil {
		v.d.anchors[a.Name.GetToken().Value] = a.Value
	}
	return v
}

// resolve strips tags, anchors and aliases, returning the node holding the
// value (nil for an absent value).
func (d *decoder) resolve(n ast.Node) ast.Node {
	for depth := 0; n != nil && depth < 64; depth++ {
		switch t := n.(type) {
		case *ast.TagNode:
			n = t.Value
		case *ast.AnchorNode:
			n = t.Value
		case *ast.AliasNode:
			name := ""
			if t.Value != nil {
				name = t.Value.GetToken().Value
			}
			target, ok := d.anchors[name]
			if !ok {
				d.errorf(tokenPos(t.GetToken()), "unknown alias *%s", name)
				return nil
			}
			n = target
		case *ast.DocumentNode:
			n = t.Body
		default:
			return n
		}
	}
	return n
}

// describe names a node's kind and value for "got …" in messages.
func describe(n ast.Node) string {
	switch t := n.(type) {
	case nil, *ast.NullNode:
		return "nothing (null)"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode:
		return strconv.Quote(t.Value)
	case *ast.LiteralNode:
		return "a block string"
	case *ast.BoolNode:
		return strconv.FormatBool(t.Value)
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "the number " + n.GetToken().Value
	}
	return n.Type().String()
}

// entry is one key: value of a mapping.
type entry struct {
	key   string
	keyAt pos
	value ast.Node
}

// entries lists a mapping's entries in file order, applying YAML merge keys
// (<<: *base; explicit keys win) and reporting duplicate keys. ok is false
// (and a problem recorded) when n is not a mapping.
func (d *decoder) entries(n ast.Node, path string) ([]entry, bool) {
	if !d.enter(n, path) {
		return nil, false
	}
	defer d.leave()
	var values []*ast.MappingValueNode
	switch t := n.(type) {
	case *ast.MappingNode:
		values = t.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{t}
	default:
		d.failf(path, d.posOf(n), "%s: expected a mapping, got %s", fieldName(path), describe(n))
		return nil, false
	}
	var merged, explicit []entry
	seen := map[string]pos{}
	for _, mv := range values {
		if mv.Key != nil && mv.Key.IsMergeKey() {
			src := d.resolve(mv.Value)
			var srcs []ast.Node
			if seq, ok := src.(*ast.SequenceNode); ok {
				for _, s := range seq.Values {
					srcs = append(srcs, d.resolve(s))
				}
			} else {
				srcs = append(srcs, src)
			}
			for _, s := range srcs {
				es, ok := d.entries(s, path)
				if ok {
					merged = append(merged, es...)
				}
			}
			continue
		}
		key, kp, ok := d.keyOf(mv, path)
		if !ok {
			continue
		}
		if first, dup := seen[key]; dup {
			d.errorf(kp, "%s: duplicate key %q (first given at line %d)", fieldName(path), key, first.line)
			continue
		}
		seen[key] = kp
		explicit = append(explicit, entry{key, kp, mv.Value})
	}
	out := explicit
	for i := len(merged) - 1; i >= 0; i-- {
		if _, over := seen[merged[i].key]; !over {
			seen[merged[i].key] = merged[i].keyAt
			out = append([]entry{merged[i]}, out...)
		}
	}
	return out, true
}

func (d *decoder) keyOf(mv *ast.MappingValueNode, path string) (string, pos, bool) {
	kn := d.resolve(mv.Key)
	kp := d.posOf(mv.Key)
	sc, ok := kn.(ast.ScalarNode)
	if !ok || kn.Type() == ast.NullType {
		d.errorf(kp, "%s: keys must be plain names, got %s", fieldName(path), describe(kn))
		return "", kp, false
	}
	switch v := sc.GetValue().(type) {
	case string:
		return v, kp, true
	default:
		return kn.GetToken().Value, kp, true
	}
}

// posOf is a node's position; for a mapping it is its first key.
func (d *decoder) posOf(n ast.Node) pos {
	if n == nil {
		return pos{}
	}
	if m, ok := n.(*ast.MappingNode); ok && len(m.Values) > 0 && m.Values[0].Key != nil {
		return tokenPos(m.Values[0].Key.GetToken())
	}
	if mv, ok := n.(*ast.MappingValueNode); ok && mv.Key != nil {
		return tokenPos(mv.Key.GetToken())
	}
	if s, ok := n.(*ast.SequenceNode); ok && s.Start != nil {
		return tokenPos(s.Start)
	}
	return tokenPos(n.GetToken())
}

func (d *decoder) record(path string, key pos, n ast.Node) {
	info := nodeInfo{key: key, value: d.posOf(n)}
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode, *ast.SequenceNode:
		info.collection = true
	}
	d.nodes[path] = info
}

var (
	astNodeType = reflect.TypeOf((*ast.Node)(nil)).Elem()
	// goccy's unmarshaler interfaces: a type that has one (a schema
	// extension may add one) is decoded by goccy itself.
	unmarshalerTypes = []reflect.Type{
		reflect.TypeOf((*yaml.BytesUnmarshaler)(nil)).Elem(),
		reflect.TypeOf((*yaml.BytesUnmarshalerContext)(nil)).Elem(),
		reflect.TypeOf((*yaml.InterfaceUnmarshaler)(nil)).Elem(),
		reflect.TypeOf((*yaml.InterfaceUnmarshalerContext)(nil)).Elem(),
		reflect.TypeOf((*yaml.NodeUnmarshaler)(nil)).Elem(),
		reflect.TypeOf((*yaml.NodeUnmarshalerContext)(nil)).Elem(),
	}
)

func hasUnmarshaler(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	for _, u := range unmarshalerTypes {
		if pt.Implements(u) {
			return true
		}
	}
	return false
}

// maxDepth bounds nesting; only a recursive alias (a: &a [*a]) reaches it.
const maxDepth = 64

// enter counts one level of nesting and reports false (with a problem)
// past maxDepth; the caller must call d.leave when enter returns true.
func (d *decoder) enter(n ast.Node, path string) bool {
	if d.depth >= maxDepth {
		d.failf(path, d.posOf(n), "%s: nested too deeply (a recursive alias?)", fieldName(path))
		return false
	}
	d.depth++
	return true
}

func (d *decoder) leave() { d.depth-- }

// decode stores node n (at path) into v, recording problems.
func (d *decoder) decode(n ast.Node, path string, v reflect.Value) {
	if !d.enter(n, path) {
		return
	}
	defer d.leave()
	n = d.resolve(n)
	if hook, ok := d.hooks[v.Type()]; ok {
		hook(d, n, path, v)
		return
	}
	d.decodeValue(n, path, v)
}

// decodeValue decodes a resolved node without consulting the hooks.
func (d *decoder) decodeValue(n ast.Node, path string, v reflect.Value) {
	if v.Type() == astNodeType {
		if n != nil {
			v.Set(reflect.ValueOf(n))
		}
		return
	}
	if n == nil || n.Type() == ast.NullType {
		v.Set(reflect.Zero(v.Type()))
		return
	}
	if hasUnmarshaler(v.Type()) {
		if err := yaml.NodeToValue(n, v.Addr().Interface(), yaml.Strict()); err != nil {
			d.goccyError(err, n, path)
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		d.decode(n, path, p.Elem())
		v.Set(p)
	case reflect.Struct:
		d.decodeStruct(n, path, v)
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			d.failf(path, d.posOf(n), "%s: internal error: map key type %s", fieldName(path), v.Type().Key())
			return
		}
		es, ok := d.entries(n, path)
		if !ok {
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), len(es))
		for _, e := range es {
			p := path + "." + e.key
			d.record(p, e.keyAt, d.resolve(e.value))
			ev := reflect.New(v.Type().Elem()).Elem()
			d.decode(e.value, p, ev)
			m.SetMapIndex(reflect.ValueOf(e.key).Convert(v.Type().Key()), ev)
		}
		v.Set(m)
	case reflect.Slice:
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			d.failf(path, d.posOf(n), "%s: expected a list, got %s", fieldName(path), describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(seq.Values), len(seq.Values))
		for i, en := range seq.Values {
			p := fmt.Sprintf("%s[%d]", path, i)
			d.record(p, pos{}, d.resolve(en))
			d.decode(en, p, s.Index(i))
		}
		v.Set(s)
	case reflect.String:
		sc, ok := n.(ast.ScalarNode)
		if !ok {
			d.failf(path, d.posOf(n), "%s: expected a string, got %s", fieldName(path), describe(n))
			return
		}
		if lit, isLit := n.(*ast.LiteralNode); isLit && lit.Value != nil {
			// A block scalar (| or >): GetValue would include the
			// indicator; the content is the inner string node.
			v.SetString(lit.Value.Value)
		} else if s, isStr := sc.GetValue().(string); isStr {
			v.SetString(s)
		} else {
			// Unquoted numbers and booleans are accepted as their text
			// (command: [python, --n, 4]).
			v.SetString(n.GetToken().Value)
		}
	case reflect.Bool:
		b, ok := n.(*ast.BoolNode)
		if !ok {
			d.failf(path, d.posOf(n), "%s: expected true or false, got %s", fieldName(path), describe(n))
			return
		}
		v.SetBool(b.Value)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		d.decodeInt(n, path, v)
	case reflect.Float32, reflect.Float64:
		f, ok := d.number(n, path)
		if ok {
			v.SetFloat(f)
		}
	case reflect.Interface:
		var x any
		if err := yaml.NodeToValue(n, &x); err != nil {
			d.goccyError(err, n, path)
			return
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
	default:
		d.failf(path, d.posOf(n), "%s: internal error: cannot decode into %s", fieldName(path), v.Type())
	}
}

// failf records a problem with the value at path and marks the path bad:
// the value could not be decoded, so semantic checks of it (and of what is
// below it) would only repeat the problem.
func (d *decoder) failf(path string, p pos, format string, args ...any) {
	d.bad[path] = true
	d.errorf(p, format, args...)
}

// isBad reports whether path or an enclosing path failed to decode.
func (d *decoder) isBad(path string) bool {
	for p := path; p != ""; {
		if d.bad[p] {
			return true
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			return false
		}
		p = p[:i]
	}
	return false
}

// yamlFloat is YAML 1.2's core-schema float without a dot: "1e-2", "-1E3".
// goccy/go-yaml reads such plain scalars as strings (it wants a dot), so
// `margin: 1e-2` would be rejected as text.
var yamlFloat = regexp.MustCompile(`^[-+]?[0-9]+[eE][-+]?[0-9]+$`)

// plainNumber reads n as a number when it is an unquoted scalar that YAML
// 1.2 calls a number but goccy left a string: an exponent without a dot
// ("1e-2"), or an integer too long for int64 / uint64. Quoted scalars stay
// strings ("'3'" is text). err is non-nil when the number does not fit a
// float64 ("1e400").
func plainNumber(n ast.Node) (f float64, ok bool, err error) {
	s, isStr := n.(*ast.StringNode)
	if !isStr || s.Token == nil || s.Token.Type != token.StringType {
		return 0, false, nil
	}
	if !yamlFloat.MatchString(s.Value) && !decimalInt.MatchString(s.Value) {
		return 0, false, nil
	}
	f, err = strconv.ParseFloat(s.Value, 64)
	return f, true, err
}

var decimalInt = regexp.MustCompile(`^[-+]?[0-9]+$`)

// number reads a finite number (integer or float) from n.
func (d *decoder) number(n ast.Node, path string) (float64, bool) {
	if f, ok, err := plainNumber(n); ok {
		if err != nil {
			d.failf(path, d.posOf(n), "%s: %s is out of range for a number (float64)", fieldName(path), n.GetToken().Value)
			return 0, false
		}
		return f, true
	}
	switch t := n.(type) {
	case *ast.IntegerNode:
		switch iv := t.Value.(type) {
		case int64:
			return float64(iv), true
		case uint64:
			return float64(iv), true
		}
	case *ast.FloatNode:
		return t.Value, true
	case *ast.InfinityNode, *ast.NanNode:
		d.failf(path, d.posOf(n), "%s: expected a finite number, got %s", fieldName(path), describe(n))
		return 0, false
	}
	d.failf(path, d.posOf(n), "%s: expected a number, got %s", fieldName(path), describe(n))
	return 0, false
}

func (d *decoder) decodeInt(n ast.Node, path string, v reflect.Value) {
	var (
		i        int64
		u        uint64
		neg, big bool
	)
	outOfRange := func() {
		d.failf(path, d.posOf(n), "%s: %s is out of range for %s", fieldName(path), n.GetToken().Value, v.Type())
	}
	fromFloat := func(f float64) bool {
		if f != math.Trunc(f) || math.Abs(f) >= 1<<63 {
			d.failf(path, d.posOf(n), "%s: expected an integer, got %s", fieldName(path), describe(n))
			return false
		}
		i, neg = int64(f), f < 0
		u = uint64(i)
		return true
	}
	switch t := n.(type) {
	case *ast.IntegerNode:
		switch iv := t.Value.(type) {
		case int64:
			i, neg = iv, iv < 0
			u = uint64(iv)
		case uint64:
			u, big = iv, iv > math.MaxInt64
			i = int64(iv)
		}
	case *ast.FloatNode:
		if !fromFloat(t.Value) {
			return
		}
	default:
		f, ok, err := plainNumber(n)
		switch {
		case !ok:
			d.failf(path, d.posOf(n), "%s: expected an integer, got %s", fieldName(path), describe(n))
			return
		case err != nil || math.Abs(f) >= 1<<63:
			outOfRange()
			return
		case !fromFloat(f):
			return
		}
	}
	switch v.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if neg || v.OverflowUint(u) {
			outOfRange()
			return
		}
		v.SetUint(u)
	default:
		if big || v.OverflowInt(i) {
			outOfRange()
			return
		}
		v.SetInt(i)
	}
}

// structFields maps YAML names to field indexes of t.
func structFields(t reflect.Type) (map[string]int, []string) {
	byName := map[string]int{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		byName[name] = i
		names = append(names, name)
	}
	sort.Strings(names)
	return byName, names
}

// decodeStruct decodes a mapping into struct v, rejecting unknown keys.
// extra names keys a hook handles itself, for the "expected one of" list.
func (d *decoder) decodeStruct(n ast.Node, path string, v reflect.Value, extra ...string) {
	es, ok := d.entries(n, path)
	if !ok {
		return
	}
	d.decodeEntries(es, path, v, extra...)
}

// decodeEntries decodes mapping entries into struct v (see decodeStruct).
func (d *decoder) decodeEntries(es []entry, path string, v reflect.Value, extra ...string) {
	byName, names := structFields(v.Type())
	if len(extra) > 0 {
		names = append(append([]string(nil), names...), extra...)
		sort.Strings(names)
	}
	for _, e := range es {
		idx, known := byName[e.key]
		if !known {
			where := "at the top level"
			if path != "$" {
				where = "in " + fieldName(path)
			}
			d.errorf(e.keyAt, "unknown field %q %s; expected one of: %s", e.key, where, strings.Join(names, ", "))
			continue
		}
		p := path + "." + e.key
		d.record(p, e.keyAt, d.resolve(e.value))
		d.decode(e.value, p, v.Field(idx))
	}
}

// goccyError converts an error from goccy's decoder (used for types with
// their own unmarshaler) into a positioned problem.
func (d *decoder) goccyError(err error, n ast.Node, path string) {
	p := d.posOf(n)
	msg := err.Error()
	if ye, ok := err.(yaml.Error); ok {
		if tp := tokenPos(ye.GetToken()); tp.line > 0 {
			p = tp
		}
		msg = ye.GetMessage()
	}
	d.failf(path, p, "%s: %s", fieldName(path), msg)
}
