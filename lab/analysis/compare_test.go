package analysis

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// compareTable is a one-parameter table with every cell present: each
// metric is base × factor(point, metric) × a small per-repeat noise drawn
// from seed.
func compareTable(points []float64, repeats int, seed uint64, factor func(p float64, k int) float64) *Table {
	pts := make([]Point, len(points))
	for i, p := range points {
		pts[i] = Point{p}
	}
	names := make([]string, repeats)
	for r := range names {
		names[r] = "repeat " + strconv.Itoa(r)
	}
	t := NewTable([]string{"min_chunk_threshold"}, pts, names)
	rng := rand.New(rand.NewPCG(seed, 1))
	for r := range names {
		for i, p := range points {
			var v [5]float64
			for k := range v {
				v[k] = float64(k+1) * factor(p, k) * (1 + 0.002*rng.NormFloat64())
			}
			t.Cells[r][i] = Cell{Present: true, Summary: Summary{RequestP95: v[0], RequestExecNorm: v[1], PrefillP95: v[2], PrefillExecNorm: v[3], DecodeNorm: v[4]}}
		}
	}
	return t
}

func one(float64, int) float64 { return 1 }

func TestCompare(t *testing.T) {
	a := compareTable([]float64{0, 1, 2}, 10, 1, one)
	// B: at point 1 prefill (k = 2) is 20% faster; point 2 is missing in
	// B, point 3 only in B; everything else is A's noise drawn again.
	b := compareTable([]float64{0, 1, 3}, 10, 2, func(p float64, k int) float64 {
		if p == 1 && k == 2 {
			return 0.8
		}
		return 1
	})
	c, err := Compare(a, b, SignificanceOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Points) != 2 || c.Points[0].Point[0] != 0 || c.Points[1].Point[0] != 1 {
		t.Fatalf("points %v", c.Points)
	}
	if !reflect.DeepEqual(c.OnlyA, []Point{{2}}) || !reflect.DeepEqual(c.OnlyB, []Point{{3}}) {
		t.Errorf("only A %v, only B %v", c.OnlyA, c.OnlyB)
	}
	if c.Compared != 10 || len(c.Repeats) != 10 {
		t.Errorf("compared %d tests over %d repeats, want 10 over 10", c.Compared, len(c.Repeats))
	}
	for _, p := range c.Points {
		for k, m := range p.Metrics {
			want := Same
			if p.Point[0] == 1 && k == 2 {
				want = Better
				if math.Abs(m.Ratio-0.8) > 0.01 || !(m.CI[0] < m.Ratio && m.Ratio < m.CI[1]) || m.CI[1] > 0.99 {
					t.Errorf("prefill at 1: ratio %v %v, want ≈ 0.8 inside a narrow interval", m.Ratio, m.CI)
				}
			}
			if m.Verdict != want || m.Pairs != 10 {
				t.Errorf("point %v %s: verdict %s over %d pairs, want %s over 10 (ratio %v %v, p %v)", p.Point, MetricNames()[k], m.Verdict, m.Pairs, want, m.Ratio, m.CI, m.P)
			}
			if !(m.P >= m.RawP) {
				t.Errorf("Holm-adjusted p %v below the raw %v", m.P, m.RawP)
			}
		}
	}
	if got := c.Counts(); got[Better] != 1 || got[Same] != 9 || got[Worse] != 0 {
		t.Errorf("counts %v", got)
	}
	again, err := Compare(a, b, SignificanceOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.JSON(), again.JSON()) {
		t.Error("the same seed gives a different comparison")
	}
	j := c.JSON()
	if j.Points[1].Metrics[2].Metric != "prefill" || j.Points[1].Metrics[2].Verdict != Better || *j.Points[1].Metrics[2].Ratio != c.Points[1].Metrics[2].Ratio {
		t.Errorf("JSON %+v", j.Points[1].Metrics[2])
	}
}

// TestCompareSameData: an experiment against itself has every ratio 1.
func TestCompareSameData(t *testing.T) {
	a := compareTable([]float64{0, 1}, 5, 1, one)
	c, err := Compare(a, a, SignificanceOptions{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Points {
		for k, m := range p.Metrics {
			if m.Ratio != 1 || m.Verdict != Same {
				t.Errorf("point %v %s: ratio %v verdict %s, want 1 and same", p.Point, MetricNames()[k], m.Ratio, m.Verdict)
			}
		}
	}
}

func TestCompareErrors(t *testing.T) {
	a := compareTable([]float64{0, 1}, 3, 1, one)
	grid := NewTable([]string{"min_chunk_threshold", "prompt_weight"}, []Point{{0, 1}}, []string{"repeat 0"})
	other := compareTable([]float64{0, 1}, 3, 1, one)
	other.Repeats = []string{"x", "y", "z"}
	disjoint := compareTable([]float64{5}, 3, 1, one)
	zero := compareTable([]float64{0, 1}, 3, 1, one)
	zero.Cells[1][1].Summary.DecodeNorm = 0
	for _, tc := range []struct {
		name string
		b    *Table
		want string
		is   error
	}{
		{"params", grid, "experiment A sweeps (min_chunk_threshold), B sweeps (min_chunk_threshold, prompt_weight)", nil},
		{"repeats", other, "no repeat name in both experiments", nil},
		{"points", disjoint, "no sweep point has a result in both", nil},
		{"not positive", zero, "point 1, repeat 1: decode is", ErrNotPositive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compare(a, tc.b, SignificanceOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
}
