package present

import (
	"bytes"
	"math"
	"testing"
)

func TestFormatting(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct{ got, want string }{
		{Change(0.969), "−3.1%"}, {Change(1.005), "+0.50%"}, {Change(0.99999), "0.00%"}, {Change(0.9988), "−0.12%"}, {Change(1.01), "+1.0%"},
		{ChangeN(0.99999, 1), "0.0%"}, {ChangeN(0.9988, 1), "−0.1%"},
		{PValue(0.0039), "0.004"}, {PValue(0.25), "0.25"}, {PValue(0.0625), "0.062"}, {PValue(0.0004), "< 0.001"},
		{WholePercent(0.873), "87%"}, {Percent(0.01), "1%"}, {Percent(0.005), "0.5%"}, {Percent(0.95), "95%"},
		{PercentN(0.875, 2), "87.50%"},
		{Num(1.23456789), "1.23457"}, {Num(nan), "–"}, {Interval([2]float64{0.5, 2}), "[0.5, 2]"}, {Interval([2]float64{nan, 1}), "–"},
		{Fixed(0.1, 6), "0.100000"}, {Short(0.000123456), "0.0001235"}, {Exact(0.1), "0.1"},
		{Value(2e6), "2000000"}, {Value(0.25), "0.25"}, {Value(1e22), "1e+22"},
		{Point([]float64{6, 0.25}), "6,0.25"},
		{PointName([]string{"min_chunk_threshold"}, []float64{2e6}), "min_chunk_threshold = 2000000"},
		{PointName([]string{"a", "b"}, []float64{4, -0.01}), "a = 4, b = -0.01"},
		{PointValue([]float64{6}), "6"}, {PointValue([]float64{4, -0.01}), "(4, -0.01)"},
		{PointList([]string{"t"}, [][]float64{{4}, {8}}), "t = 4, 8"},
		{PointList([]string{"a", "b"}, [][]float64{{1, 2}, {3, 4}}), "a, b = (1, 2), (3, 4)"},
		{Capitalize("keep 0"), "Keep 0"}, {Capitalize(""), ""},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestWriteColumns(t *testing.T) {
	var b bytes.Buffer
	if err := WriteColumns(&b, [][]string{{"x", "10", "2"}, {"name", "a", "−bb"}}, "  "); err != nil {
		t.Fatal(err)
	}
	// Right-aligned by runes (the true minus is one column), no trailing blanks.
	want := " x  name\n10     a\n 2   −bb\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}
