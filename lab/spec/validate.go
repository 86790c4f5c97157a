package spec

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
)

var (
	// nameRE: the experiment name becomes a folder under reports/.
	nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	// paramRE: swept parameters are template fields ({{.name}}) and keys
	// of cell inputs.
	paramRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// reservedParams are the template fields every cell already has.
	reservedParams = []string{"Repeat", "Seed", "OutputDir"}
)

// MaxRepeats bounds repeats and MaxCells the whole plan (typo guards, like
// MaxSweepValues: a lab runs tens to thousands of cells, never millions).
const (
	MaxRepeats = 100000
	MaxCells   = 100000
)

// Validate checks a spec built in Go (Parse validates already). Problems
// carry no line numbers. Call SetDefaults first for the optional fields.
func (s *Spec) Validate() error {
	d := newDecoder(s.Path)
	validate(s, d, nil)
	if len(d.errs) > 0 {
		return sortErrors(d.errs)
	}
	return nil
}

// validate records every semantic problem of s. skip names what Parse
// already checked (see parseState.skip); nil for a spec built in Go.
func validate(s *Spec, d *decoder, skip map[string]bool) {
	report := func(path, format string, args ...any) {
		if d.isBad(path) {
			return // already reported as undecodable
		}
		d.errorf(d.at(path), "%s: %s", fieldName(path), fmt.Sprintf(format, args...))
	}

	switch {
	case s.Name == "":
		report("$.name", "required: a short name such as min-chunk-threshold (it names the report folder)")
	case len(s.Name) > MaxNameBytes:
		report("$.name", "%d bytes long; expected at most %d (it names the report's folder, and a file name holds 255 bytes)", len(s.Name), MaxNameBytes)
	case !nameRE.MatchString(s.Name):
		report("$.name", "%q is not a valid name; expected lower-case letters, digits, '.', '_' or '-', starting with a letter or digit", s.Name)
	}

	validateSweep(s, d, report, skip)

	if s.Repeats < 1 || s.Repeats > MaxRepeats {
		report("$.repeats", "expected an integer from 1 to %d, got %d", MaxRepeats, s.Repeats)
	}

	validateBaseline(s, report)
	validateSelect(s, report, skip)
	validateBy(s, report)
	validateGuards(s, report)

	seen := map[string]bool{}
	if len(s.PromptWeight.Stats) == 0 {
		report("$.prompt_weight.stats", "empty list; expected some of: %s (omit the field for all three)", strings.Join(PromptWeightStats, ", "))
	}
	for i, st := range s.PromptWeight.Stats {
		p := fmt.Sprintf("$.prompt_weight.stats[%d]", i)
		switch {
		case !slices.Contains(PromptWeightStats, st):
			report(p, "unknown statistic %q; expected one of: %s", st, strings.Join(PromptWeightStats, ", "))
		case seen[st]:
			report(p, "%q is listed twice", st)
		}
		seen[st] = true
	}

	validateEngine(s, report)
	if c, ok := s.Engine.Config.(*ExecConfig); ok {
		validateReaderWeights(s, d, c, report)
	}
}

type reportFunc func(path, format string, args ...any)

func validateSweep(s *Spec, d *decoder, report reportFunc, skip map[string]bool) {
	if len(s.Sweep) == 0 {
		if !skip["sweep:*"] {
			report("$.sweep", "required: at least one swept parameter, e.g. min_chunk_threshold: {from: 0, to: 10, step: 1}")
		}
		return
	}
	names := map[string]bool{}
	cells := 1.0
	for _, prm := range s.Sweep {
		p := "$.sweep." + prm.Name
		switch {
		case !paramRE.MatchString(prm.Name):
			report(p, "%q is not a valid parameter name; expected letters, digits and '_', not starting with a digit (it is used as {{.%s}} in templates)", prm.Name, prm.Name)
		case slices.Contains(reservedParams, prm.Name):
			report(p, "%q is reserved (templates already have .Repeat, .Seed and .OutputDir)", prm.Name)
		case names[prm.Name]:
			report(p, "parameter %q is swept twice", prm.Name)
		}
		names[prm.Name] = true
		if skip["sweep:"+prm.Name] {
			cells *= float64(max(len(prm.Values), 1))
			continue
		}
		if len(prm.Values) == 0 {
			report(p, "no values; give a non-empty list or a range {from, to, step}")
			continue
		}
		first := map[float64]int{}
		for i, v := range prm.Values {
			ep := fmt.Sprintf("%s[%d]", p, i)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				report(ep, "expected a finite number, got %v", v)
				continue
			}
			if j, dup := first[v]; dup {
				report(ep, "duplicate value %s (already at position %d of the list)", formatNum(v), j+1)
				continue
			}
			first[v] = i
		}
		cells *= float64(len(prm.Values))
	}
	if total := cells * float64(max(s.Repeats, 1)); total > MaxCells {
		report("$.sweep", "the grid has %.0f points × %d repeats = %.0f cells; at most %d are allowed (each cell is one engine run)", cells, max(s.Repeats, 1), total, MaxCells)
	}
}

func validateBaseline(s *Spec, report reportFunc) {
	if len(s.Sweep) == 0 {
		return
	}
	if s.Baseline == nil {
		report("$.baseline", "expected a value for every swept parameter (%s)", strings.Join(s.ParamNames(), ", "))
		return
	}
	for _, name := range sortedKeys(s.Baseline) {
		// Parse drops unknown keys (reported at the key); this catches a
		// spec built in Go.
		if _, ok := s.Sweep.Param(name); !ok {
			report("$.baseline."+name, "%q is not a swept parameter; expected one of: %s", name, strings.Join(s.ParamNames(), ", "))
		}
	}
	for _, prm := range s.Sweep {
		if len(prm.Values) == 0 {
			continue // reported with the sweep
		}
		v, ok := s.Baseline[prm.Name]
		if !ok {
			report("$.baseline."+prm.Name, "missing; the baseline gives every swept parameter a value")
			continue
		}
		if !slices.Contains(prm.Values, v) {
			report("$.baseline."+prm.Name, "%s is not one of the swept values of %s (%s)", formatNum(v), prm.Name, listValues(prm.Values))
		}
	}
}

// listValues prints values for a message, eliding the middle of long lists.
func listValues(vs []float64) string {
	var parts []string
	for i, v := range vs {
		if len(vs) > 12 && i == 5 {
			parts = append(parts, "…")
		}
		if len(vs) > 12 && i >= 5 && i < len(vs)-5 {
			continue
		}
		parts = append(parts, formatNum(v))
	}
	return strings.Join(parts, ", ")
}

func validateSelect(s *Spec, report reportFunc, skip map[string]bool) {
	if !slices.Contains(Aggregations, s.Select.Aggregation) {
		report("$.select.aggregation", "unknown aggregation %q; expected one of: %s", s.Select.Aggregation, strings.Join(Aggregations, ", "))
	}
	// A margin of 0 would make every significant difference, however
	// small, a verdict; the analysis needs a positive one (Criterion's noise
	// threshold plays the same role).
	if !(s.Select.Margin > 0 && s.Select.Margin < 1) {
		report("$.select.margin", "expected a fraction with 0 < margin < 1 (e.g. 0.01 for 1%%), got %s", formatNum(s.Select.Margin))
	}
	if len(s.Select.Presets) == 0 {
		report("$.select.presets", "no presets; give at least one (omit the field for the default weights)")
	}
	seen := map[string]bool{}
	for _, pr := range s.Select.Presets {
		p := "$.select.presets." + pr.Name
		if pr.Name == "" {
			report("$.select.presets", "a preset has an empty name")
		}
		if seen[pr.Name] {
			report(p, "preset %q is given twice", pr.Name)
		}
		seen[pr.Name] = true
		w := pr.Weights
		ws := []struct {
			key string
			v   float64
		}{
			{"request", w.Request}, {"prefill", w.Prefill}, {"prefill_exec_norm", w.PrefillExecNorm},
			{"request_exec_norm", w.RequestExecNorm}, {"decode", w.Decode},
		}
		sum := 0.0
		bad := false
		for _, kv := range ws {
			if kv.v < 0 || math.IsNaN(kv.v) || math.IsInf(kv.v, 0) {
				report(p+"."+kv.key, "weights must be finite and ≥ 0, got %s", formatNum(kv.v))
				bad = true
			}
			sum += kv.v
		}
		if !bad && sum == 0 && !skip["preset:"+pr.Name] {
			report(p, "all weights are zero; at least one of request, prefill, prefill_exec_norm, request_exec_norm, decode must be > 0")
		}
	}
}

func sortedKeys(p Point) []string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
