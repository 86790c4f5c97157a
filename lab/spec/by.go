package spec

import (
	"fmt"
	"slices"
	"strings"
)

// validateBy checks select.by: every name a swept parameter, none twice,
// and at least one swept parameter left over as the knob to choose.
func validateBy(s *Spec, report reportFunc) {
	by := s.Select.By
	if len(by) == 0 {
		return
	}
	params := s.ParamNames()
	seen := map[string]bool{}
	for i, n := range by {
		p := fmt.Sprintf("$.select.by[%d]", i)
		switch {
		case seen[n]:
			report(p, "%q is given twice", n)
		case !slices.Contains(params, n):
			report(p, "%q is not a swept parameter; a condition must be swept (swept: %s)", n, strings.Join(params, ", "))
		}
		seen[n] = true
	}
	knobs := 0
	for _, p := range params {
		if !seen[p] {
			knobs++
		}
	}
	if knobs == 0 {
		report("$.select.by", "every swept parameter is a condition; leave at least one swept parameter out of by, as the knob chosen per condition")
	}
}

// Knobs are the swept parameters that are not conditions (select.by), in
// sweep order: what the analysis chooses.
func (s *Spec) Knobs() []string {
	var out []string
	for _, p := range s.ParamNames() {
		if !slices.Contains(s.Select.By, p) {
			out = append(out, p)
		}
	}
	return out
}
