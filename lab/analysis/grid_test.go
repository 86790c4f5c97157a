package analysis

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/spec"
)

// A two-parameter sweep: points are tuples sorted lexicographically, the
// baseline is a point, JSON writes points as arrays, text as "a,b".
func TestGridSelection(t *testing.T) {
	pts := []Point{{8, 0.5}, {0, 1}, {0, 0.5}, {8, 1}}
	tab := NewTable([]string{"min_chunk_threshold", "prompt_weight"}, pts, []string{"r0", "r1"})
	if tab.Param != "min_chunk_threshold,prompt_weight" || tab.Points[0].Compare(Point{0, 0.5}) != 0 || tab.Points[3].Compare(Point{8, 1}) != 0 {
		t.Fatalf("points %v (param %q), want sorted tuples", tab.Points, tab.Param)
	}
	factor := map[string]float64{"0,0.5": 1, "0,1": 0.9, "8,0.5": 0.8, "8,1": 0.95}
	for r := range tab.Repeats {
		for p, pt := range tab.Points {
			f := factor[pt.String()] * (1 + 0.1*float64(r))
			tab.Cells[r][p] = Cell{Present: true, Summary: Summary{RequestP95: f, PrefillP95: f, RequestExecNorm: f, PrefillExecNorm: f, DecodeNorm: f}}
		}
	}
	sels, err := SelectAll(tab, []spec.Preset{{Name: "a", Weights: spec.DefaultWeights}, {Name: "b", Weights: spec.Weights{Decode: 1}}}, Point{0, 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if len(sels) != 8 {
		t.Fatalf("%d selections, want 2 presets × 4 aggregations", len(sels))
	}
	for _, s := range sels {
		if got := s.Recommended(); got.Compare(Point{8, 0.5}) != 0 {
			t.Errorf("%s/%s: recommended %v, want 8,0.5", s.Preset, s.Agg, got)
		}
	}
	b, err := json.Marshal(sels[0].JSON())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"recommended":[8,0.5]`) || !strings.Contains(string(b), `"baseline":[0,0.5]`) {
		t.Errorf("grid JSON: %s", b)
	}
	var text bytes.Buffer
	if err := WriteSideBySide(&text, sels); err != nil {
		t.Fatal(err)
	}
	out := text.String()
	for _, want := range []string{"preset a", "preset b", "8,0.5", "score(p90)", "lowest score: mean → 8,0.5, median → 8,0.5, p90 → 8,0.5, max → 8,0.5"} {
		if !strings.Contains(out, want) {
			t.Errorf("side-by-side output lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "*") != 8 {
		t.Errorf("want one mark per preset × aggregation:\n%s", out)
	}
}
