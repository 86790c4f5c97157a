package analysis

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// A sweep of several parameters is one grid of points; these types lay a
// selection and its significance out over that grid (Joint), and cut a
// table into one sub-table per condition (Conditions) so that a knob can
// be chosen separately where conditions differ. The numbers are the
// selection's and the significance's own: nothing is recomputed here, so
// a grid cell, a slice row and the selection's row for the same point
// always agree.

// GridCell is one point of a two-parameter grid.
type GridCell struct {
	// Present is false where the sweep has no results at this point.
	Present bool
	Point   Point // in the selection's parameter order
	// Score is the selection's aggregated score; Ratio and CI the paired
	// score ratio to the baseline and its interval (NaN when not
	// comparable); Verdict the significance verdict.
	Score   float64
	Ratio   float64
	CI      [2]float64
	Verdict Verdict
	// Baseline, Decided and Lowest mark the comparison baseline, the
	// decision and the old script's lowest score.
	Baseline, Decided, Lowest bool
	// Blocked is why the decision did not take this point although it
	// looked like a candidate (a Blocked kind: a guard was worse or
	// inconclusive, or the lowest score was not significant); "" otherwise.
	Blocked string
}

// Grid is the selection over two parameters: X across, Y down. With more
// than two swept parameters the others are held at At (their values at the
// decision): a slice of the sweep, labelled by AtParams and At.
type Grid struct {
	X, Y             string
	XValues, YValues []float64
	AtParams         []string
	At               []float64
	// Cells[iy][ix] is the point (XValues[ix], YValues[iy]).
	Cells [][]GridCell
}

// SliceRow is one point of a one-parameter slice.
type SliceRow struct {
	Value float64
	GridCell
}

// Slice is the selection along one parameter with every other parameter
// held at its value at the decision (AtParams, At).
type Slice struct {
	Param    string
	AtParams []string
	At       []float64
	Rows     []SliceRow
}

// Joint is the joint analysis of a sweep of two or more parameters: the
// decision is a point (a value per parameter), every pair of parameters
// gets a grid through the decision, and every parameter a slice through
// it.
type Joint struct {
	Decision *Decision
	Params   []string
	Baseline Point
	Decided  Point
	Lowest   Point
	Grids    []*Grid
	Slices   []Slice
}

// NewJoint lays out s, sig (its significance) and d (the decision made
// from them) around the decided point. It needs at least two parameters.
func NewJoint(s *Selection, sig *Significance, d *Decision) (*Joint, error) {
	decided := d.Point
	n := len(s.Params)
	if n < 2 {
		return nil, fmt.Errorf("analysis: a joint analysis needs two or more swept parameters, have %d", n)
	}
	if len(sig.Points) != len(s.Rows) {
		return nil, fmt.Errorf("analysis: significance of %d points for a selection of %d", len(sig.Points), len(s.Rows))
	}
	if s.rowIndex(decided) < 0 {
		return nil, fmt.Errorf("analysis: the decision %v is not a point of the selection", decided)
	}
	j := &Joint{Decision: d, Params: slices.Clone(s.Params), Baseline: sig.Baseline, Decided: decided, Lowest: d.LowestScore.Point}
	values := s.paramValues()
	for x := 0; x < n; x++ {
		for y := x + 1; y < n; y++ {
			j.Grids = append(j.Grids, j.grid(s, sig, values, x, y))
		}
	}
	for p := 0; p < n; p++ {
		sl := Slice{Param: s.Params[p]}
		sl.AtParams, sl.At = others(s.Params, decided, p, -1)
		for _, v := range values[p] {
			pt := slices.Clone(decided)
			pt[p] = v
			sl.Rows = append(sl.Rows, SliceRow{Value: v, GridCell: j.cell(s, sig, pt)})
		}
		j.Slices = append(j.Slices, sl)
	}
	return j, nil
}

func (j *Joint) grid(s *Selection, sig *Significance, values [][]float64, x, y int) *Grid {
	g := &Grid{X: s.Params[x], Y: s.Params[y], XValues: values[x], YValues: values[y]}
	g.AtParams, g.At = others(s.Params, j.Decided, x, y)
	g.Cells = make([][]GridCell, len(g.YValues))
	for iy, vy := range g.YValues {
		g.Cells[iy] = make([]GridCell, len(g.XValues))
		for ix, vx := range g.XValues {
			pt := slices.Clone(j.Decided)
			pt[x], pt[y] = vx, vy
			g.Cells[iy][ix] = j.cell(s, sig, pt)
		}
	}
	return g
}

// cell is the grid cell of point pt (absent when the selection lacks it).
func (j *Joint) cell(s *Selection, sig *Significance, pt Point) GridCell {
	c := GridCell{Point: pt, Score: math.NaN(), Ratio: math.NaN(), CI: [2]float64{math.NaN(), math.NaN()}}
	i := s.rowIndex(pt)
	if i < 0 {
		return c
	}
	ps := &sig.Points[i]
	c.Present, c.Score, c.Ratio, c.CI, c.Verdict = true, s.Rows[i].Score, ps.ScoreRatio, ps.ScoreCI, ps.Verdict
	c.Baseline = pt.Compare(j.Baseline) == 0
	c.Decided = pt.Compare(j.Decided) == 0
	c.Lowest = pt.Compare(j.Lowest) == 0
	for _, b := range j.Decision.Blocked {
		if b.Point.Compare(pt) == 0 {
			c.Blocked = b.Kind
		}
	}
	return c
}

// others are the parameters other than indices a and b, with their values
// in pt.
func others(params []string, pt Point, a, b int) ([]string, []float64) {
	var names []string
	var vals []float64
	for i, p := range params {
		if i != a && i != b {
			names = append(names, p)
			vals = append(vals, pt[i])
		}
	}
	return names, vals
}

// rowIndex is the index of p in s.Rows, or -1.
func (s *Selection) rowIndex(p Point) int {
	i, ok := slices.BinarySearchFunc(s.Rows, p, func(r Row, p Point) int { return r.Point.Compare(p) })
	if !ok {
		return -1
	}
	return i
}

// paramValues are each parameter's distinct values among the rows, sorted.
func (s *Selection) paramValues() [][]float64 {
	out := make([][]float64, len(s.Params))
	for k := range s.Params {
		for _, r := range s.Rows {
			out[k] = append(out[k], r.Point[k])
		}
		slices.Sort(out[k])
		out[k] = slices.Compact(out[k])
	}
	return out
}

// Label names the slice a grid or slice is taken at: "" for none, else
// "at max_num_seqs = 64, qps = 8".
func Label(params []string, at []float64) string {
	if len(params) == 0 {
		return ""
	}
	parts := make([]string, len(params))
	for i, p := range params {
		parts[i] = p + " = " + Point{at[i]}.String()
	}
	return "at " + strings.Join(parts, ", ")
}

// Sub is the table restricted to the points whose parameters named in at
// have those values, with those parameters dropped: the table of the
// remaining parameters under one condition. The cells are shared with t;
// t's warnings are not repeated.
func (t *Table) Sub(at map[string]float64) (*Table, error) {
	var keep []int
	for name := range at {
		if !slices.Contains(t.Params, name) {
			return nil, fmt.Errorf("analysis: %q is not a parameter of the table (%s)", name, strings.Join(t.Params, ", "))
		}
	}
	var params []string
	for i, p := range t.Params {
		if _, fixed := at[p]; !fixed {
			keep = append(keep, i)
			params = append(params, p)
		}
	}
	if len(keep) == 0 {
		return nil, fmt.Errorf("analysis: fixing every parameter (%s) leaves nothing to choose", strings.Join(t.Params, ", "))
	}
	var src []int
	var pts []Point
	for pi, p := range t.Points {
		match := true
		for i, name := range t.Params {
			if v, fixed := at[name]; fixed && p[i] != v {
				match = false
				break
			}
		}
		if match {
			src = append(src, pi)
			pts = append(pts, project(p, keep))
		}
	}
	if len(pts) == 0 {
		return nil, fmt.Errorf("analysis: no point of the table has %s", formatAt(t.Params, at))
	}
	sub := NewTable(params, pts, t.Repeats)
	for k, pi := range src {
		di := sub.PointIndex(pts[k])
		for r := range t.Cells {
			sub.Cells[r][di] = t.Cells[r][pi]
		}
	}
	return sub, nil
}

func project(p Point, keep []int) Point {
	out := make(Point, len(keep))
	for k, i := range keep {
		out[k] = p[i]
	}
	return out
}

func formatAt(params []string, at map[string]float64) string {
	var parts []string
	for _, p := range params {
		if v, ok := at[p]; ok {
			parts = append(parts, p+" = "+Point{v}.String())
		}
	}
	return strings.Join(parts, ", ")
}

// Conditions are the distinct combinations of the values of the by
// parameters among t's points, each in by order, sorted.
func (t *Table) Conditions(by []string) ([]Point, error) {
	idx := make([]int, len(by))
	for k, name := range by {
		idx[k] = slices.Index(t.Params, name)
		if idx[k] < 0 {
			return nil, fmt.Errorf("analysis: condition %q is not a swept parameter (%s)", name, strings.Join(t.Params, ", "))
		}
	}
	var out []Point
	for _, p := range t.Points {
		out = append(out, project(p, idx))
	}
	slices.SortFunc(out, Point.Compare)
	return slices.CompactFunc(out, func(a, b Point) bool { return a.Compare(b) == 0 }), nil
}

// JointJSON is the JSON form of a Joint (summary.json's "joint"): points
// as arrays in "params" order, grid matrices indexed [y][x], null where the
// sweep has no result or a number does not exist.
type JointJSON struct {
	DecisionFieldsJSON
	Params   []string    `json:"params"`
	Baseline PointJSON   `json:"baseline"`
	Decided  PointJSON   `json:"decided"`
	Lowest   PointJSON   `json:"lowest_score"`
	Grids    []GridJSON  `json:"grids"`
	Slices   []SliceJSON `json:"slices"`
}

// GridJSON is one grid: the score, the score ratio to the baseline and the
// verdict at every (x, y).
type GridJSON struct {
	X       string             `json:"x"`
	Y       string             `json:"y"`
	XValues []float64          `json:"x_values"`
	YValues []float64          `json:"y_values"`
	At      map[string]float64 `json:"at,omitempty"`
	Score   [][]*float64       `json:"score"`
	Ratio   [][]*float64       `json:"score_ratio"`
	Verdict [][]string         `json:"verdict"`
	// Blocked is the Blocked kind of a point the decision passed over ("").
	Blocked [][]string `json:"blocked"`
}

// SliceJSON is one slice through the decision.
type SliceJSON struct {
	Param   string             `json:"param"`
	At      map[string]float64 `json:"at"`
	Values  []float64          `json:"values"`
	Score   []*float64         `json:"score"`
	Ratio   []RatioJSON        `json:"score_ratio"`
	Verdict []string           `json:"verdict"`
}

func num(v float64) *float64 {
	if math.IsNaN(v) {
		return nil
	}
	return &v
}

func atMap(params []string, at []float64) map[string]float64 {
	if len(params) == 0 {
		return nil
	}
	m := make(map[string]float64, len(params))
	for i, p := range params {
		m[p] = at[i]
	}
	return m
}

// JSON returns j's JSON form.
func (j *Joint) JSON() JointJSON {
	out := JointJSON{DecisionFieldsJSON: j.Decision.JSON(), Params: j.Params, Baseline: PointJSON(j.Baseline), Decided: PointJSON(j.Decided), Lowest: PointJSON(j.Lowest)}
	for _, g := range j.Grids {
		gj := GridJSON{X: g.X, Y: g.Y, XValues: g.XValues, YValues: g.YValues, At: atMap(g.AtParams, g.At)}
		for _, row := range g.Cells {
			var s, r []*float64
			var v, bl []string
			for _, c := range row {
				s, r = append(s, num(c.Score)), append(r, num(c.Ratio))
				v, bl = append(v, string(c.Verdict)), append(bl, c.Blocked)
			}
			gj.Score, gj.Ratio, gj.Verdict = append(gj.Score, s), append(gj.Ratio, r), append(gj.Verdict, v)
			gj.Blocked = append(gj.Blocked, bl)
		}
		out.Grids = append(out.Grids, gj)
	}
	for _, sl := range j.Slices {
		sj := SliceJSON{Param: sl.Param, At: atMap(sl.AtParams, sl.At)}
		for _, r := range sl.Rows {
			sj.Values = append(sj.Values, r.Value)
			sj.Score = append(sj.Score, num(r.Score))
			sj.Ratio = append(sj.Ratio, ratioJSON(r.Ratio, r.CI))
			sj.Verdict = append(sj.Verdict, string(r.Verdict))
		}
		out.Slices = append(out.Slices, sj)
	}
	return out
}
