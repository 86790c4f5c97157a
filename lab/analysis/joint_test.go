package analysis

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/spec"
)

// synthTable is a deterministic table over the cartesian product of
// values: every metric of a point is effect(point) × a repeat factor × a
// small per-cell wobble, so that differences are real where effect says
// so and the statistics have noise to work with.
func synthTable(params []string, values [][]float64, repeats int, effect func(p Point) float64) *Table {
	pts := []Point{{}}
	for _, vs := range values {
		var next []Point
		for _, p := range pts {
			for _, v := range vs {
				next = append(next, append(append(Point{}, p...), v))
			}
		}
		pts = next
	}
	var names []string
	for r := range repeats {
		names = append(names, "r"+string(rune('0'+r)))
	}
	t := NewTable(params, pts, names)
	for r := range t.Repeats {
		for i, p := range t.Points {
			wobble := 1 + 0.004*math.Sin(float64(7*r+13*i+1))
			f := effect(p) * (1 + 0.05*float64(r)) * wobble
			t.Cells[r][i] = Cell{Present: true, Summary: Summary{RequestP95: f, PrefillP95: f, RequestExecNorm: f, PrefillExecNorm: f, DecodeNorm: f}}
		}
	}
	return t
}

// jointEffect: threshold 8 is 5% better at prompt_weight −0.01, 2% worse
// elsewhere; other points are the baseline's equal.
func jointEffect(p Point) float64 {
	switch {
	case p[0] == 8 && p[1] == -0.01:
		return 0.95
	case p[0] == 8:
		return 1.02
	}
	return 1
}

func jointSelection(t *testing.T) (*Table, *Selection, *Significance) {
	t.Helper()
	tab := synthTable([]string{"min_chunk_threshold", "prompt_weight"}, [][]float64{{0, 8, 16}, {-0.1, -0.01}}, 10, jointEffect)
	s, err := Select(tab, Options{Baseline: Point{0, -0.01}, Weights: spec.DefaultWeights})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := s.Significance(SignificanceOptions{Seed: 1, Resamples: 2000, WinResamples: 200})
	if err != nil {
		t.Fatal(err)
	}
	return tab, s, sig
}

// noGuards decides on the score's statistics alone (these tables have no
// guard metrics).
func noGuards(t *Table, s *Selection, sig *Significance) (*Decision, error) {
	return Decide(t, s, sig, nil)
}

func checkGolden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "joint", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (rerun with -update if intended):\n%s", name, path, got)
	}
}

// TestJointGrid: a 3 × 2 grid lays the selection's own numbers out by
// (x, y), marks the baseline, the decision and the lowest score, and
// slices through the decision; pinned by a golden file.
func TestJointGrid(t *testing.T) {
	tab, s, sig := jointSelection(t)
	d, err := noGuards(tab, s, sig)
	if err != nil {
		t.Fatal(err)
	}
	if d.Verdict != Change || d.Point.Compare(Point{8, -0.01}) != 0 {
		t.Fatalf("decision %+v, want a change to (8, -0.01)", d)
	}
	j, err := NewJoint(s, sig, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Grids) != 1 || len(j.Slices) != 2 {
		t.Fatalf("%d grids, %d slices; want 1 and 2", len(j.Grids), len(j.Slices))
	}
	g := j.Grids[0]
	if g.X != "min_chunk_threshold" || g.Y != "prompt_weight" || len(g.XValues) != 3 || len(g.YValues) != 2 || g.AtParams != nil {
		t.Fatalf("grid %s × %s over %v × %v at %v", g.X, g.Y, g.XValues, g.YValues, g.AtParams)
	}
	marks := map[string]int{}
	for iy, row := range g.Cells {
		for ix, c := range row {
			i := s.rowIndex(Point{g.XValues[ix], g.YValues[iy]})
			if !c.Present || c.Score != s.Rows[i].Score || c.Ratio != sig.Points[i].ScoreRatio || c.Verdict != sig.Points[i].Verdict {
				t.Errorf("cell (%v, %v) = %+v, disagrees with the selection's row %d", g.XValues[ix], g.YValues[iy], c, i)
			}
			for name, on := range map[string]bool{"baseline": c.Baseline, "decided": c.Decided, "lowest": c.Lowest} {
				if on {
					marks[name]++
				}
			}
		}
	}
	if marks["baseline"] != 1 || marks["decided"] != 1 || marks["lowest"] != 1 {
		t.Errorf("marks %v, want one of each", marks)
	}
	if c := g.Cells[1][1]; !c.Decided || c.Verdict != Better {
		t.Errorf("cell (8, -0.01) = %+v, want the better decision", c)
	}
	if c := g.Cells[0][1]; c.Verdict != Worse {
		t.Errorf("cell (8, -0.1) = %+v, want worse", c)
	}
	sl := j.Slices[0]
	if sl.Param != "min_chunk_threshold" || Label(sl.AtParams, sl.At) != "at prompt_weight = -0.01" || len(sl.Rows) != 3 || !sl.Rows[1].Decided {
		t.Errorf("slice %+v", sl)
	}
	checkGolden(t, "grid.json", j.JSON())
}

// TestJointThreeParams: with three parameters each pair gets a grid held
// at the decision's value of the third, labelled so.
func TestJointThreeParams(t *testing.T) {
	tab := synthTable([]string{"a", "b", "c"}, [][]float64{{0, 1}, {0, 1, 2}, {5, 6}}, 4, func(p Point) float64 { return 1 - 0.03*p[0]*p[1] })
	s, err := Select(tab, Options{Baseline: Point{0, 0, 5}, Weights: spec.DefaultWeights})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := s.Significance(SignificanceOptions{Seed: 1, WinResamples: 100})
	if err != nil {
		t.Fatal(err)
	}
	j, err := NewJoint(s, sig, &Decision{Point: Point{1, 2, 6}})
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, g := range j.Grids {
		labels = append(labels, g.X+"×"+g.Y+" "+Label(g.AtParams, g.At))
	}
	if got := strings.Join(labels, "; "); got != "a×b at c = 6; a×c at b = 2; b×c at a = 1" {
		t.Errorf("grids %q", got)
	}
	if _, err := NewJoint(s, sig, &Decision{Point: Point{1, 2, 7}}); err == nil || !strings.Contains(err.Error(), "not a point of the selection") {
		t.Errorf("decision off the grid: %v", err)
	}
	one := synthTable([]string{"a"}, [][]float64{{0, 1}}, 2, func(Point) float64 { return 1 })
	s1, _ := Select(one, Options{Weights: spec.DefaultWeights})
	if _, err := NewJoint(s1, &Significance{Points: make([]PointSignificance, 2)}, &Decision{Point: Point{0}}); err == nil || !strings.Contains(err.Error(), "two or more") {
		t.Errorf("one parameter: %v", err)
	}
}

// TestByCondition: the knob is chosen per condition against its own
// baseline within the condition; it matters only where the effect says so.
// Pinned by a golden file.
func TestByCondition(t *testing.T) {
	// threshold 8 helps by 6% at qps 8 with max_num_seqs 64, hurts by 3% at
	// qps 8 with 16, and does nothing at qps 2.
	eff := func(p Point) float64 {
		qps, seqs, th := p[0], p[1], p[2]
		switch {
		case qps == 8 && seqs == 64 && th == 8:
			return 0.94
		case qps == 8 && seqs == 16 && th == 8:
			return 1.03
		}
		return 1 + 0.2*qps/100 // conditions differ from each other, not within
	}
	tab := synthTable([]string{"qps", "max_num_seqs", "min_chunk_threshold"}, [][]float64{{2, 8}, {16, 64}, {0, 8}}, 6, eff)
	c, err := ByCondition(tab, []string{"qps", "max_num_seqs"}, Options{Baseline: Point{2, 16, 0}, Weights: spec.DefaultWeights},
		SignificanceOptions{Seed: 1, WinResamples: 200}, noGuards)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Results) != 4 || strings.Join(c.Knobs, ",") != "min_chunk_threshold" {
		t.Fatalf("%d conditions, knobs %v", len(c.Results), c.Knobs)
	}
	want := map[string]string{"2,16": "keep 0", "2,64": "keep 0", "8,16": "keep 0", "8,64": "change 8"}
	for _, r := range c.Results {
		got := string(r.Decision.Verdict) + " " + r.Decision.Point.String()
		if want[r.Values.String()] != got {
			t.Errorf("condition %v: %s, want %s (%s)", r.Values, got, want[r.Values.String()], r.Decision.Reason)
		}
		if r.Significance.Baseline.Compare(Point{0}) != 0 {
			t.Errorf("condition %v compared with %v, want the knob's baseline 0", r.Values, r.Significance.Baseline)
		}
		if len(r.Table.Points) != 2 || r.Table.Param != "min_chunk_threshold" {
			t.Errorf("condition %v: sub-table %s over %v", r.Values, r.Table.Param, r.Table.Points)
		}
	}
	if r := c.Results[3]; !(r.Effect < 0.95 && r.EffectCI[1] < 0.99) {
		t.Errorf("qps 8, 64 seqs: effect %v %v, want about 0.94 with an interval below 0.99", r.Effect, r.EffectCI)
	}
	if r := c.Results[0]; r.Effect != 1 || r.EffectCI != [2]float64{1, 1} {
		t.Errorf("a kept baseline has effect %v %v, want 1 [1, 1]", r.Effect, r.EffectCI)
	}
	checkGolden(t, "conditions.json", c.JSON())

	for _, tc := range []struct {
		by   []string
		want string
	}{
		{[]string{"qps", "max_num_seqs", "min_chunk_threshold"}, "one must remain as the knob"},
		{[]string{"chunk_size"}, `condition "chunk_size" is not a swept parameter`},
	} {
		if _, err := ByCondition(tab, tc.by, Options{Weights: spec.DefaultWeights}, SignificanceOptions{}, noGuards); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("by %v: %v, want %q", tc.by, err, tc.want)
		}
	}
}

// TestSub: a sub-table keeps the cells of its condition and drops the fixed
// parameters.
func TestSub(t *testing.T) {
	tab := synthTable([]string{"a", "b"}, [][]float64{{1, 2}, {10, 20, 30}}, 2, func(p Point) float64 { return p[0] + p[1] })
	sub, err := tab.Sub(map[string]float64{"a": 2})
	if err != nil {
		t.Fatal(err)
	}
	if sub.Param != "b" || len(sub.Points) != 3 || len(sub.Repeats) != 2 {
		t.Fatalf("sub-table %s over %v × %v", sub.Param, sub.Points, sub.Repeats)
	}
	for r := range sub.Repeats {
		for i, p := range sub.Points {
			if got, want := sub.Cells[r][i].Summary, tab.Cells[r][tab.PointIndex(Point{2, p[0]})].Summary; !reflect.DeepEqual(got, want) {
				t.Errorf("repeat %d, b = %v: %+v, want %+v", r, p[0], got, want)
			}
		}
	}
	for _, tc := range []struct {
		at   map[string]float64
		want string
	}{
		{map[string]float64{"c": 1}, `"c" is not a parameter`},
		{map[string]float64{"a": 3}, "no point of the table has a = 3"},
		{map[string]float64{"a": 1, "b": 10}, "leaves nothing to choose"},
	} {
		if _, err := tab.Sub(tc.at); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Sub(%v): %v, want %q", tc.at, err, tc.want)
		}
	}
}
