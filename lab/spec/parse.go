package spec

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Defaults applied by Parse when a field is absent (README "Experiment spec
// reference" documents each).
const (
	DefaultRepeats     = 1
	DefaultAggregation = "mean"
	DefaultMargin      = 0.01
	// DefaultPresetName is the preset used when select.presets is absent;
	// its weights are DefaultWeights.
	DefaultPresetName = "default"
	// MaxSweepValues bounds the values one range may expand to, so that a
	// typo such as step: 0.0001 fails loudly instead of planning a million
	// cells.
	MaxSweepValues = 10000
)

// Aggregations are the accepted select.aggregation values.
var Aggregations = []string{"mean", "median", "p90", "max"}

// PromptWeightStats are the accepted prompt_weight.stats values, in their
// default order.
var PromptWeightStats = []string{"mean", "median", "p80"}

// Parse decodes a spec from YAML text, applies defaults and validates it.
// path names the file in errors. Text over MaxSpecBytes or nested deeper
// than MaxSpecDepth is refused before parsing. The error, when not nil, is an Errors
// listing every problem found, sorted by position.
func Parse(path string, data []byte) (*Spec, error) {
	d := newDecoder(path)
	// A UTF-8 byte order mark (some Windows editors write one) is not
	// YAML content; positions are unaffected.
	text := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if err := checkLimits(path, text); err != nil {
		return nil, Errors{err}
	}
	file, err := parser.ParseBytes(text, 0)
	if err != nil {
		p := pos{1, 1}
		msg := err.Error()
		if ye, ok := err.(yaml.Error); ok {
			if tp := tokenPos(ye.GetToken()); tp.line > 0 {
				p = tp
			}
			msg = ye.GetMessage()
		}
		d.errorf(p, "YAML syntax error: %s", msg)
		return nil, sortErrors(d.errs)
	}
	if len(file.Docs) > 1 {
		// The "---" that starts it, else its first token; a document of
		// nothing after a "---" has no Body (GetToken would panic).
		at := pos{1, 1}
		switch doc := file.Docs[1]; {
		case doc.Start != nil:
			at = tokenPos(doc.Start)
		case doc.Body != nil:
			at = tokenPos(doc.Body.GetToken())
		}
		if at.line == 0 {
			at = pos{1, 1}
		}
		d.errorf(at, "a spec file holds one YAML document, found %d", len(file.Docs))
	}
	var body ast.Node
	if len(file.Docs) > 0 {
		body = file.Docs[0].Body
	}
	if body != nil {
		d.collectAnchors(body)
	}
	body = d.resolve(body)
	if body == nil || body.Type() == ast.NullType {
		d.errorf(pos{1, 1}, "empty spec: expected a mapping with at least name, engine and sweep")
		return nil, sortErrors(d.errs)
	}

	s := &Spec{Path: path, Source: data}
	st := &parseState{skip: map[string]bool{}}
	d.hooks[reflect.TypeOf(Duration{})] = decodeDuration
	d.hooks[reflect.TypeOf(Sweep{})] = st.decodeSweep
	d.hooks[reflect.TypeOf(Point{})] = func(d *decoder, n ast.Node, path string, v reflect.Value) {
		if path != "$.baseline" {
			d.decodeValue(n, path, v) // a Point elsewhere: a plain mapping
			return
		}
		st.baseline, st.baselinePath = n, path // needs the sweep: resolved below
	}
	d.hooks[reflect.TypeOf(Select{})] = st.decodeSelect
	d.hooks[reflect.TypeOf(Engine{})] = decodeEngine
	d.record("$", pos{}, body)
	d.decodeStruct(body, "$", reflect.ValueOf(s).Elem())

	if len(d.errs) == 0 || st.baseline != nil {
		st.decodeBaseline(d, s)
	}
	applyDefaults(s, d)
	validate(s, d, st.skip)
	if len(d.errs) > 0 {
		return nil, sortErrors(d.errs)
	}
	s.nodes = d.nodes
	return s, nil
}

// parseState carries what the hooks learn for the later steps.
type parseState struct {
	baseline     ast.Node
	baselinePath string
	// skip names what was already checked (or reported broken) while
	// parsing, so validate does not report it again: "sweep:NAME" (a
	// parameter's values), "sweep:*" (the sweep itself), "preset:NAME".
	skip map[string]bool
}

// decodeSweep reads `sweep:`: a mapping, in file order, of parameter name to
// a list of numbers or a {from, to, step} range.
func (st *parseState) decodeSweep(d *decoder, n ast.Node, path string, v reflect.Value) {
	if n == nil || n.Type() == ast.NullType {
		return
	}
	es, ok := d.entries(n, path)
	if !ok {
		st.skip["sweep:*"] = true
		return
	}
	var sw Sweep
	for _, e := range es {
		p := path + "." + e.key
		val := d.resolve(e.value)
		d.record(p, e.keyAt, val)
		param := Param{Name: e.key}
		switch t := val.(type) {
		case *ast.SequenceNode:
			// Lists are checked here, where each element's position is
			// known; validate skips them.
			st.skip["sweep:"+e.key] = true
			if len(t.Values) == 0 {
				d.errorf(d.posOf(t), "%s: empty list; give at least one value", fieldName(p))
			}
			param.Values = make([]float64, 0, len(t.Values))
			first := map[float64]int{}
			for i, en := range t.Values {
				ep := fmt.Sprintf("%s[%d]", p, i)
				en = d.resolve(en)
				d.record(ep, pos{}, en)
				f, ok := d.number(en, ep)
				if !ok {
					continue
				}
				if j, dup := first[f]; dup {
					d.errorf(d.posOf(en), "%s: duplicate value %s (already at position %d of the list)", fieldName(p), formatNum(f), j+1)
					continue
				}
				first[f] = i
				param.Values = append(param.Values, f)
			}
		case *ast.MappingNode, *ast.MappingValueNode:
			vals, ok := st.decodeRange(d, val, p)
			if !ok {
				st.skip["sweep:"+e.key] = true
			}
			param.Values = vals
		default:
			d.failf(p, d.posOf(val), "%s: expected a list of values or a range {from, to, step}, got %s", fieldName(p), describe(val))
			st.skip["sweep:"+e.key] = true
		}
		sw = append(sw, param)
	}
	v.Set(reflect.ValueOf(sw))
}

// rangeSpec is the {from, to, step} form of a swept parameter.
type rangeSpec struct {
	From *float64 `yaml:"from"`
	To   *float64 `yaml:"to"`
	Step *float64 `yaml:"step"`
}

func (st *parseState) decodeRange(d *decoder, n ast.Node, path string) ([]float64, bool) {
	var r rangeSpec
	before := len(d.errs)
	d.decodeStruct(n, path, reflect.ValueOf(&r).Elem())
	if len(d.errs) > before {
		return nil, false
	}
	var missing []string
	if r.From == nil {
		missing = append(missing, "from")
	}
	if r.To == nil {
		missing = append(missing, "to")
	}
	if r.Step == nil {
		missing = append(missing, "step")
	}
	if len(missing) > 0 {
		d.errorf(d.at(path), "%s: a range needs from, to and step; missing %s", fieldName(path), strings.Join(missing, ", "))
		return nil, false
	}
	vals, err := expandRange(*r.From, *r.To, *r.Step)
	if err != nil {
		at := path + ".to"
		if *r.Step <= 0 || err == errTooMany {
			at = path + ".step"
		}
		d.errorf(d.at(at), "%s: %v", fieldName(path), err)
		return nil, false
	}
	return vals, true
}

var errTooMany = fmt.Errorf("the range has more than %d values; use a larger step", MaxSweepValues)

// expandRange lists from, from+step, … up to and including to. Each value
// is computed as from + i*step (no accumulated error) and rounded to the
// number of decimals written in from and step, so 0.1 steps give 0.3, not
// 0.30000000000000004. A final value within 1e-9 steps of to is included.
func expandRange(from, to, step float64) ([]float64, error) {
	if step <= 0 {
		return nil, fmt.Errorf("step must be greater than 0, got %s", formatNum(step))
	}
	if to < from {
		return nil, fmt.Errorf("empty range: to (%s) is below from (%s); a range counts up from `from` to `to` inclusive", formatNum(to), formatNum(from))
	}
	k := (to - from) / step
	if k+1 > MaxSweepValues {
		return nil, errTooMany
	}
	n := int(math.Floor(k+1e-9)) + 1
	dec := max(decimals(from), decimals(step))
	vals := make([]float64, n)
	for i := range vals {
		x := from + float64(i)*step
		if dec < 15 {
			x, _ = strconv.ParseFloat(strconv.FormatFloat(x, 'f', dec, 64), 64)
		}
		vals[i] = x
	}
	return vals, nil
}

// decimals is the number of digits after the decimal point in the shortest
// representation of x (15 or more means "do not round").
func decimals(x float64) int {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}

// formatNum prints a number the way users write it: 6, 0.25, -0.01.
func formatNum(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// decodeBaseline reads `baseline:` once the sweep is known.
func (st *parseState) decodeBaseline(d *decoder, s *Spec) {
	n := st.baseline
	if n == nil || n.Type() == ast.NullType {
		return
	}
	path := st.baselinePath
	es, ok := d.entries(n, path)
	if !ok {
		return
	}
	s.Baseline = Point{}
	for _, e := range es {
		p := path + "." + e.key
		val := d.resolve(e.value)
		d.record(p, e.keyAt, val)
		if _, swept := s.Sweep.Param(e.key); !swept {
			d.errorf(e.keyAt, "baseline: %q is not a swept parameter; expected one of: %s", e.key, strings.Join(s.ParamNames(), ", "))
			continue
		}
		if f, ok := d.number(val, p); ok {
			s.Baseline[e.key] = f
		}
	}
}

// decodeSelect reads `select:`. Presets is a mapping in YAML but an
// ordered list in Go (file order is the order of the report's columns).
func (st *parseState) decodeSelect(d *decoder, n ast.Node, path string, v reflect.Value) {
	if n == nil || n.Type() == ast.NullType {
		return
	}
	es, ok := d.entries(n, path)
	if !ok {
		return
	}
	var rest []entry
	sel := v.Addr().Interface().(*Select)
	for _, e := range es {
		if e.key != "presets" {
			continue
		}
		p := path + ".presets"
		val := d.resolve(e.value)
		d.record(p, e.keyAt, val)
		sel.Presets = []Preset{} // given, even if empty: validate says so
		if val == nil || val.Type() == ast.NullType {
			continue
		}
		pes, ok := d.entries(val, p)
		if !ok {
			continue
		}
		for _, pe := range pes {
			pp := p + "." + pe.key
			pv := d.resolve(pe.value)
			d.record(pp, pe.keyAt, pv)
			pr := Preset{Name: pe.key}
			if pv == nil || pv.Type() == ast.NullType {
				d.errorf(pe.keyAt, "%s: expected a mapping of weights (request, prefill, prefill_exec_norm, request_exec_norm, decode), got nothing", fieldName(pp))
			} else {
				before := len(d.errs)
				d.decode(pv, pp, reflect.ValueOf(&pr.Weights).Elem())
				if len(d.errs) > before {
					st.skip["preset:"+pe.key] = true
				}
			}
			sel.Presets = append(sel.Presets, pr)
		}
	}
	// Every other key is decoded generically (and unknown ones rejected).
	for _, e := range es {
		switch e.key {
		case "presets":
		case "guards":
			decodeGuards(d, sel, e, path)
		default:
			rest = append(rest, e)
		}
	}
	presets := sel.Presets
	d.decodeEntries(rest, path, v, "presets", "guards")
	sel.Presets = presets
}

// applyDefaults fills fields that were absent from the file.
func applyDefaults(s *Spec, d *decoder) {
	if !d.has("$.repeats") {
		s.Repeats = DefaultRepeats
	}
	if !d.has("$.select.aggregation") {
		s.Select.Aggregation = DefaultAggregation
	}
	if !d.has("$.select.margin") {
		s.Select.Margin = DefaultMargin
	}
	if !d.has("$.select.presets") {
		s.Select.Presets = []Preset{{Name: DefaultPresetName, Weights: DefaultWeights}}
	}
	if !d.has("$.prompt_weight.stats") {
		s.PromptWeight.Stats = append([]string(nil), PromptWeightStats...)
	}
	if !d.has("$.baseline") {
		s.Baseline = s.Sweep.smallest()
	}
}

// SetDefaults fills the zero-valued optional fields of a spec built in Go
// (Parse already applies defaults by presence): repeats 1, aggregation
// mean, margin 1%, the default preset, all prompt_weight stats, and the
// baseline at each parameter's smallest value.
func (s *Spec) SetDefaults() {
	if s.Repeats == 0 {
		s.Repeats = DefaultRepeats
	}
	if s.Select.Aggregation == "" {
		s.Select.Aggregation = DefaultAggregation
	}
	if s.Select.Margin == 0 {
		s.Select.Margin = DefaultMargin
	}
	if len(s.Select.Presets) == 0 {
		s.Select.Presets = []Preset{{Name: DefaultPresetName, Weights: DefaultWeights}}
	}
	if len(s.PromptWeight.Stats) == 0 {
		s.PromptWeight.Stats = append([]string(nil), PromptWeightStats...)
	}
	if len(s.Baseline) == 0 {
		s.Baseline = s.Sweep.smallest()
	}
}

// smallest is the point with every parameter at its smallest value (nil
// when the sweep is empty).
func (sw Sweep) smallest() Point {
	if len(sw) == 0 {
		return nil
	}
	p := Point{}
	for _, prm := range sw {
		if len(prm.Values) == 0 {
			continue
		}
		m := prm.Values[0]
		for _, v := range prm.Values[1:] {
			m = math.Min(m, v)
		}
		p[prm.Name] = m
	}
	return p
}

// Param returns the swept parameter called name.
func (sw Sweep) Param(name string) (Param, bool) {
	for _, p := range sw {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}
