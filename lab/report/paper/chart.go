package paper

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Axis describes one axis of a Chart.
type Axis struct {
	// Label names the quantity with its unit: "min_chunk_threshold (tokens)".
	Label string
	// Ticks, when set, makes the axis categorical: data coordinate i is
	// labelled Ticks[i] (some labels are skipped when there are many).
	Ticks []string
	// Log draws a logarithmic axis (every value must be positive).
	Log bool
	// Include are values the axis range must include (e.g. 0, or 1 for a
	// ratio's reference).
	Include []float64
}

// Style of a series.
type Style int

const (
	// Lines draws a line (broken at NaN values) with small markers.
	Lines Style = iota
	// Thin draws a thin grey line without markers: context such as one
	// line per repeat.
	Thin
	// Points draws markers only, with the interval as error bars when Lo
	// and Hi are set.
	Points
	// Curve draws a line without markers (a dense curve such as a CDF, or
	// a vertical reference).
	Curve
)

// Series is one set of values on a Chart. A NaN Y is a gap.
type Series struct {
	// Name is the legend entry ("" for none).
	Name  string
	X, Y  []float64
	Style Style
	// Lo and Hi are an interval around each Y (optional; NaN: none).
	Lo, Hi []float64
	// Color indexes OkabeIto (taken modulo its length); the same index
	// also picks the dash pattern and marker shape.
	Color int
}

// HLine is a horizontal reference line (dashed, black).
type HLine struct {
	Y     float64
	Label string
}

// Mark highlights one data point with an open circle (e.g. a chosen
// point).
type Mark struct {
	X, Y  float64
	Label string
}

// Chart is a 2-D chart: series over two axes, reference lines and marks.
type Chart struct {
	X, Y   Axis
	Series []Series
	HLines []HLine
	Marks  []Mark
	// Legend draws the legend (top right inside the frame, with headroom
	// added above the data); LegendBottom puts it bottom right instead (for
	// curves that fill the top right, such as a CDF).
	Legend       bool
	LegendBottom bool
}

// dashes are the dash patterns paired with the palette's colours.
var dashes = [][]vg.Length{
	nil,
	{vg.Points(3), vg.Points(1.5)},
	{vg.Points(1), vg.Points(1.2)},
	{vg.Points(4), vg.Points(1.2), vg.Points(1), vg.Points(1.2)},
}

var glyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.PlusGlyph{}, draw.CrossGlyph{}, draw.RingGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}}

func paletteColor(i int) color.Color {
	n := len(OkabeIto)
	return OkabeIto[((i%n)+n)%n]
}

// Line returns the figure of c, one column wide.
func Line(name string, c *Chart) (*Figure, error) {
	p, err := linePlot(name, c)
	if err != nil {
		return nil, err
	}
	f := &Figure{Name: name, Chart: c, Width: ColumnWidth, Height: ColumnHeight}
	f.draw = func(dc draw.Canvas) { p.Draw(dc) }
	return f, nil
}

func linePlot(name string, c *Chart) (*plot.Plot, error) {
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("paper: figure %s: %w", name, err)
	}
	p := newPlot()
	p.X.Label.Text, p.Y.Label.Text = c.X.Label, c.Y.Label
	if err := applyAxis(&p.X, c.X); err != nil {
		return nil, fmt.Errorf("paper: figure %s: x axis: %w", name, err)
	}
	if err := applyAxis(&p.Y, c.Y); err != nil {
		return nil, fmt.Errorf("paper: figure %s: y axis: %w", name, err)
	}
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	grid.Horizontal.Color = color.Gray{0xe0}
	grid.Horizontal.Width = vg.Points(0.4)
	p.Add(grid)
	for _, h := range c.HLines {
		l := plotter.NewFunction(func(float64) float64 { return h.Y })
		l.Color, l.Width, l.Dashes = Black, vg.Points(0.6), []vg.Length{vg.Points(2), vg.Points(2)}
		p.Add(l)
		if c.Legend && h.Label != "" {
			p.Legend.Add(h.Label, l)
		}
	}
	for _, s := range c.Series {
		if err := addSeries(p, s, c.Legend); err != nil {
			return nil, fmt.Errorf("paper: figure %s: series %q: %w", name, s.Name, err)
		}
	}
	for _, m := range c.Marks {
		sc, err := plotter.NewScatter(plotter.XYs{{X: m.X, Y: m.Y}})
		if err != nil {
			return nil, fmt.Errorf("paper: figure %s: mark %q: %w", name, m.Label, err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Shape: draw.RingGlyph{}, Radius: vg.Points(3.2), Color: Black}
		p.Add(sc)
		if c.Legend && m.Label != "" {
			p.Legend.Add(m.Label, sc)
		}
	}
	include(&p.X, c.X)
	include(&p.Y, c.Y)
	p.Legend.Top = !c.LegendBottom
	if n := c.legendEntries(); n > 0 && !c.LegendBottom && !c.Y.Log && p.Y.Max > p.Y.Min {
		// Headroom for the legend (top right, one row of ~7% of the plot
		// height per entry), so it does not cover the data.
		f := math.Min(0.07*float64(n), 0.5)
		p.Y.Max = p.Y.Min + (p.Y.Max-p.Y.Min)/(1-f)
	}
	return p, nil
}

// legendEntries counts the entries the legend will have.
func (c *Chart) legendEntries() int {
	if !c.Legend {
		return 0
	}
	n := 0
	for _, h := range c.HLines {
		if h.Label != "" {
			n++
		}
	}
	for _, m := range c.Marks {
		if m.Label != "" {
			n++
		}
	}
	for _, s := range c.Series {
		if s.Name != "" && slices.ContainsFunc(s.Y, func(y float64) bool { return !math.IsNaN(y) }) {
			n++
		}
	}
	return n
}

func (c *Chart) check() error {
	if len(c.Series) == 0 {
		return errors.New("no series")
	}
	for _, s := range c.Series {
		if len(s.X) != len(s.Y) {
			return fmt.Errorf("series %q: %d x values, %d y values", s.Name, len(s.X), len(s.Y))
		}
		if (s.Lo != nil || s.Hi != nil) && (len(s.Lo) != len(s.Y) || len(s.Hi) != len(s.Y)) {
			return fmt.Errorf("series %q: %d values, intervals %d and %d", s.Name, len(s.Y), len(s.Lo), len(s.Hi))
		}
		for i, x := range s.X {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("series %q: x value %d is %v", s.Name, i, x)
			}
			if math.IsInf(s.Y[i], 0) {
				return fmt.Errorf("series %q: y value %d is %v", s.Name, i, s.Y[i])
			}
		}
	}
	return nil
}

// applyAxis sets the range, scale and ticks of a.
func applyAxis(a *plot.Axis, ax Axis) error {
	if ax.Log {
		a.Scale = plot.LogScale{}
		a.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	if len(ax.Ticks) > 0 {
		a.Tick.Marker = categoryTicks(ax.Ticks)
		a.Min, a.Max = -0.5, float64(len(ax.Ticks))-0.5
	} else if !ax.Log {
		a.Tick.Marker = numberTicks{}
	}
	return nil
}

// include widens a to the values of ax.Include (after the data is added).
func include(a *plot.Axis, ax Axis) {
	for _, v := range ax.Include {
		if !math.IsNaN(v) && (!ax.Log || v > 0) {
			a.Min, a.Max = math.Min(a.Min, v), math.Max(a.Max, v)
		}
	}
}

// numberTicks are plot's default ticks, labelled with formatNumber.
type numberTicks struct{}

func (numberTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = formatNumber(ts[i].Value)
		}
	}
	return ts
}

// categoryTicks label data coordinate i with its category; at most about
// eight labels are printed (every k-th), every category gets a minor tick.
type categoryTicks []string

func (c categoryTicks) Ticks(min, max float64) []plot.Tick {
	step := (len(c) + 7) / 8
	ts := make([]plot.Tick, len(c))
	for i, l := range c {
		ts[i].Value = float64(i)
		if i%step == 0 {
			ts[i].Label = l
		}
	}
	return ts
}

// addSeries adds s to p: a line broken at NaNs and/or markers with
// intervals.
func addSeries(p *plot.Plot, s Series, legend bool) error {
	col := paletteColor(s.Color)
	ls := draw.LineStyle{Color: col, Width: vg.Points(1), Dashes: dashes[((s.Color%len(dashes))+len(dashes))%len(dashes)]}
	gs := draw.GlyphStyle{Color: col, Radius: vg.Points(1.6), Shape: glyphs[((s.Color%len(glyphs))+len(glyphs))%len(glyphs)]}
	if s.Style == Thin {
		ls = draw.LineStyle{Color: Grey, Width: vg.Points(0.5)}
	}
	var legendThumb []plot.Thumbnailer
	if s.Style != Points {
		for _, seg := range segments(s.X, s.Y) {
			l, err := plotter.NewLine(seg)
			if err != nil {
				return err
			}
			l.LineStyle = ls
			p.Add(l)
			if legendThumb == nil {
				legendThumb = append(legendThumb, l)
			}
		}
	}
	if s.Style != Thin && s.Style != Curve {
		var pts plotter.XYs
		var errs plotter.YErrors
		var ex plotter.XYs
		for i := range s.Y {
			if math.IsNaN(s.Y[i]) {
				continue
			}
			pts = append(pts, plotter.XY{X: s.X[i], Y: s.Y[i]})
			if s.Lo != nil && !math.IsNaN(s.Lo[i]) && !math.IsNaN(s.Hi[i]) {
				ex = append(ex, plotter.XY{X: s.X[i], Y: s.Y[i]})
				errs = append(errs, struct{ Low, High float64 }{s.Y[i] - s.Lo[i], s.Hi[i] - s.Y[i]})
			}
		}
		if len(ex) > 0 {
			eb, err := plotter.NewYErrorBars(errorBars{ex, errs})
			if err != nil {
				return err
			}
			eb.LineStyle = draw.LineStyle{Color: col, Width: vg.Points(0.7)}
			eb.CapWidth = vg.Points(3)
			p.Add(eb)
		}
		if len(pts) > 0 {
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				return err
			}
			sc.GlyphStyle = gs
			if s.Style == Points {
				sc.GlyphStyle.Radius = vg.Points(2)
			}
			p.Add(sc)
			legendThumb = append(legendThumb, sc)
		}
	}
	if legend && s.Name != "" && len(legendThumb) > 0 {
		p.Legend.Add(s.Name, legendThumb...)
	}
	return nil
}

type errorBars struct {
	plotter.XYs
	plotter.YErrors
}

// segments splits a line at NaN values.
func segments(xs, ys []float64) []plotter.XYs {
	var out []plotter.XYs
	var cur plotter.XYs
	for i := range ys {
		if math.IsNaN(ys[i]) {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, plotter.XY{X: xs[i], Y: ys[i]})
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
