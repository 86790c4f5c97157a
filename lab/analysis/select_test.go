package analysis

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/schedlab/schedlab/lab/metrics"

	"github.com/schedlab/schedlab/lab/spec"
)

func loadTree(t testing.TB, name string) *Table {
	t.Helper()
	tab, err := LoadLegacy(treeDir(name))
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func selectOrFail(t testing.TB, tab *Table, agg string, baseline Point) *Selection {
	t.Helper()
	s, err := Select(tab, Options{Baseline: baseline, Weights: spec.DefaultWeights, Agg: agg})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

// Expectations worked out by hand from testdata/legacy/make_trees.py: every
// metric of a cell is a base list times the cell's factor, so each ratio is
// the factor over the baseline's, and with weights summing to 1 the score
// equals that ratio.
func TestSelectByHand(t *testing.T) {
	tests := []struct {
		tree, agg string
		scores    map[float64]float64 // threshold → score
		runs      map[float64]int
		want      float64
		fellBack  []string
	}{
		// basic: t1 ratios 0.8, 0.9; t2 0.9, 0.95.
		{tree: "basic", agg: "mean", scores: map[float64]float64{0: 1, 1: 0.85, 2: 0.925}, want: 1},
		{tree: "basic", agg: "median", scores: map[float64]float64{0: 1, 1: 0.85, 2: 0.925}, want: 1},
		{tree: "basic", agg: "p90", scores: map[float64]float64{0: 1, 1: 0.89, 2: 0.945}, want: 1},
		{tree: "basic", agg: "max", scores: map[float64]float64{0: 1, 1: 0.9, 2: 0.95}, want: 1},
		// ties: 1 and 2 identical: the smaller wins.
		{tree: "ties", agg: "mean", scores: map[float64]float64{0: 1, 1: 0.9, 2: 0.9, 3: 1.2}, want: 1},
		// missing_baseline: run_b normalizes by its threshold 1.
		{tree: "missing_baseline", agg: "mean", scores: map[float64]float64{0: 1, 1: 0.95, 2: 0.9},
			runs: map[float64]int{0: 1, 1: 2, 2: 2}, want: 2, fellBack: []string{"run_b"}},
		// under max, 0 and 1 tie at exactly 1: the smaller wins.
		{tree: "missing_baseline", agg: "max", scores: map[float64]float64{0: 1, 1: 1, 2: 1.1}, want: 0, fellBack: []string{"run_b"}},
		// missing_file: run_b's 2 is skipped, so 2 has one run.
		{tree: "missing_file", agg: "mean", scores: map[float64]float64{0: 1, 1: 0.925, 2: 0.85},
			runs: map[float64]int{0: 2, 1: 2, 2: 1}, want: 2},
	}
	for _, tc := range tests {
		tab := loadTree(t, tc.tree)
		s := selectOrFail(t, tab, tc.agg, Point{0})
		if got := s.Recommended()[0]; got != tc.want {
			t.Errorf("%s/%s: recommended %v, want %v", tc.tree, tc.agg, got, tc.want)
		}
		if !slices.Equal(s.FellBack, tc.fellBack) {
			t.Errorf("%s/%s: fell back %v, want %v", tc.tree, tc.agg, s.FellBack, tc.fellBack)
		}
		if len(s.Rows) != len(tc.scores) {
			t.Errorf("%s/%s: %d rows, want %d", tc.tree, tc.agg, len(s.Rows), len(tc.scores))
		}
		for _, r := range s.Rows {
			if want := tc.scores[r.Point[0]]; !near(r.Score, want) {
				t.Errorf("%s/%s: score(%v) = %v, want %v", tc.tree, tc.agg, r.Point, r.Score, want)
			}
			if want, ok := tc.runs[r.Point[0]]; ok && r.Runs != want {
				t.Errorf("%s/%s: runs(%v) = %d, want %d", tc.tree, tc.agg, r.Point, r.Runs, want)
			}
		}
	}
}

// The hand-computed summaries of one cell: P95 of 1..5 = 4.8, P95 of
// 0.5…3 = 2.875, and the means of the normalized metrics.
func TestSummarizeByHand(t *testing.T) {
	s, err := Summarize(filepath.Join(treeDir("basic"), "run_a", "0"))
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{RequestP95: 4.8, PrefillP95: 2.875, RequestExecNorm: 0.025, PrefillExecNorm: 0.002, DecodeNorm: 0.03, Requests: 5}
	got := s.Values()
	for i, w := range want.Values() {
		if !near(got[i], w) {
			t.Errorf("%s = %v, want %v", metrics.All[i].Label(), got[i], w)
		}
	}
	if s.Requests != 5 {
		t.Errorf("requests = %d, want 5", s.Requests)
	}
	// Vidur's leading index column, an empty value and CRLF endings.
	v, err := Summarize(filepath.Join(treeDir("formats"), "run_a", "0"))
	if err != nil {
		t.Fatal(err)
	}
	if !near(v.RequestP95, 4.8) || v.Requests != 5 {
		t.Errorf("Vidur-style file: P95 %v over %d values, want 4.8 over 5", v.RequestP95, v.Requests)
	}
}

func TestUnsortedAndExtraFolders(t *testing.T) {
	tab := loadTree(t, "unsorted_extra")
	if want := []string{"20250101_235959", "20250102_090000"}; !slices.Equal(tab.Repeats, want) {
		t.Errorf("repeats %v, want %v (name order)", tab.Repeats, want)
	}
	var pts []float64
	for _, p := range tab.Points {
		pts = append(pts, p[0])
	}
	if want := []float64{0, 2, 7, 10}; !slices.Equal(pts, want) {
		t.Errorf("points %v, want %v (numeric order)", pts, want)
	}
	// "07" comes before "7" by name and wins (factor 0.5).
	c := tab.Cells[0][tab.PointIndex(Point{7})]
	if filepath.Base(c.Dir) != "07" || !near(c.Summary.RequestP95, 2.4) {
		t.Errorf("threshold 7 of the first repeat read from %s (P95 %v), want folder 07 (P95 2.4)", c.Dir, c.Summary.RequestP95)
	}
	if len(tab.Warnings) == 0 {
		t.Error("no warnings for the skipped folders")
	}
}

type goldenDoc struct {
	Warnings   []string        `json:"warnings"`
	Selections []goldenSelJSON `json:"selections"`
}

type goldenSelJSON struct {
	SelectionJSON
	FellBack        []string    `json:"fell_back"`
	RepeatBaselines []PointJSON `json:"repeat_baselines"`
	PerRepeatScores [][]any     `json:"per_repeat_scores"` // per row: score or null per repeat
}

// TestGolden pins every number of every hand-made tree under all four
// aggregations (the same numbers the parity test checks against the
// reference). Rerun with -update after an intended change.
func TestGolden(t *testing.T) {
	for _, name := range treeNames {
		tab := loadTree(t, name)
		sels, err := SelectAll(tab, []spec.Preset{{Name: "default", Weights: spec.DefaultWeights}}, Point{0})
		if err != nil {
			t.Fatal(err)
		}
		doc := goldenDoc{Warnings: tab.Warnings}
		for _, s := range sels {
			g := goldenSelJSON{SelectionJSON: s.JSON(), FellBack: s.FellBack}
			g.Preset, g.Param = s.Preset, s.Param
			for _, b := range s.RepeatBaselines {
				g.RepeatBaselines = append(g.RepeatBaselines, PointJSON(b))
			}
			for _, r := range s.Rows {
				var per []any
				for _, rr := range r.PerRepeat {
					if rr.Present {
						per = append(per, rr.Score)
					} else {
						per = append(per, nil)
					}
				}
				g.PerRepeatScores = append(g.PerRepeatScores, per)
			}
			doc.Selections = append(doc.Selections, g)
		}
		got, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		path := filepath.Join("testdata", "golden", name+".json")
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s (rerun with -update if intended):\n%s", name, path, got)
		}
	}
}

// Points print as the old script's table prints thresholds: whole numbers
// in full, fractions in their shortest exact form.
func TestPointString(t *testing.T) {
	for _, tc := range []struct {
		p    Point
		want string
	}{
		{Point{6}, "6"}, {Point{-1}, "-1"}, {Point{2000000}, "2000000"}, {Point{1e21}, "1e+21"},
		{Point{0.5}, "0.5"}, {Point{1e-05}, "1e-05"}, {Point{1234567.5}, "1.2345675e+06"},
		{Point{6, 0.25}, "6,0.25"}, {Point{4096, -0.01}, "4096,-0.01"},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("%v: %q, want %q", []float64(tc.p), got, tc.want)
		}
	}
}
