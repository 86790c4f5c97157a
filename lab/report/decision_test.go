package report

import (
	"strings"
	"testing"
)

// The prompt_weight section shows the confirmation when it ran, and why
// not otherwise; summary.json carries either.
func TestConfirmationShown(t *testing.T) {
	for _, tc := range []struct {
		name string
		cf   *Confirmation
		note string
		want []string
	}{
		{"ran", &Confirmation{Sentence: "derived prompt_weight -5e-05 (mean): same vs the configured -0.01",
			Header: []string{"prompt_weight", "", "preemptions per cell", "score", "ratio", "ci", "p", "verdict", "guards not ok"},
			Rows:   [][]string{{"-0.01", "configured", "68.2", "1", "1", "[1, 1]", "–", "baseline", ""}}, Mark: []bool{true},
			JSON: map[string]string{"sentence": "x"}},
			"", []string{"Confirmation: the derived weight, run", "derived prompt_weight -5e-05 (mean): same vs the configured -0.01.", "preemptions per cell"}},
		{"not run", nil, "the prompt_weight confirmation has not run", []string{"Not confirmed by a run: the prompt_weight confirmation has not run."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := inputFromTree(t, goldenTree)
			in.Confirmation, in.ConfirmationNote = tc.cf, tc.note
			var b strings.Builder
			if err := RenderHTML(&b, in); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("the page lacks %q", w)
				}
			}
			s := buildSummary(in)
			if (s.Confirmation != nil) != (tc.cf != nil) || s.ConfirmationNote != tc.note {
				t.Errorf("summary confirmation %v, note %q", s.Confirmation, s.ConfirmationNote)
			}
		})
	}
}
