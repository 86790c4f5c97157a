package paper

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// HeatmapData is a value over a 2-D grid: Z[j][i] is the value at (X[i],
// Y[j]); NaN marks a cell without a value (drawn light grey).
type HeatmapData struct {
	X, Y []float64
	Z    [][]float64
	// XLabel, YLabel and ZLabel name the quantities with their units (the
	// Z label titles the colour bar).
	XLabel, YLabel, ZLabel string
	// Mark, when set, rings the cell at X index Mark[0], Y index Mark[1]
	// (e.g. the chosen point).
	Mark *[2]int
	// Annotate prints each cell's value in it (only when the grid has at
	// most annotateMax cells per side, where the digits fit).
	Annotate bool
}

// annotateMax is the largest side of a grid whose cells get their value
// printed at column width.
const annotateMax = 8

// Heatmap returns the figure of d: the grid as equal cells (the axes are
// categorical, labelled with the X and Y values, so unevenly spaced sweeps
// stay readable), a viridis colour scale and a colour bar.
func Heatmap(name string, d *HeatmapData) (*Figure, error) {
	zmin, zmax, err := d.check()
	if err != nil {
		return nil, fmt.Errorf("paper: heatmap %s: %w", name, err)
	}
	if zmin == zmax {
		zmin, zmax = zmin-0.5, zmax+0.5
	}
	pal := viridis(64)
	p := newPlot()
	p.X.Label.Text, p.Y.Label.Text = d.XLabel, d.YLabel
	p.X.Tick.Marker = categoryTicks(numberLabels(d.X))
	p.Y.Tick.Marker = categoryTicks(numberLabels(d.Y))
	h := plotter.NewHeatMap(grid{d}, pal)
	h.Min, h.Max = zmin, zmax
	h.NaN = color.Gray{0xdd}
	p.Add(h)
	if d.Annotate && len(d.X) <= annotateMax && len(d.Y) <= annotateMax {
		var xy plotter.XYs
		var labels []string
		var styles []text.Style
		for j := range d.Y {
			for i := range d.X {
				z := d.Z[j][i]
				if math.IsNaN(z) {
					continue
				}
				xy = append(xy, plotter.XY{X: float64(i), Y: float64(j)})
				labels = append(labels, strconv.FormatFloat(z, 'g', 3, 64))
				st := text.Style{Font: font.From(typeface, 5.5), XAlign: draw.XCenter, YAlign: draw.YCenter, Handler: plot.DefaultTextHandler, Color: Black}
				if (z-zmin)/(zmax-zmin) < 0.55 {
					st.Color = color.White
				}
				styles = append(styles, st)
			}
		}
		if len(xy) > 0 {
			l, err := plotter.NewLabels(plotter.XYLabels{XYs: xy, Labels: labels})
			if err != nil {
				return nil, fmt.Errorf("paper: heatmap %s: %w", name, err)
			}
			l.TextStyle = styles
			p.Add(l)
		}
	}
	if d.Mark != nil {
		sc, err := plotter.NewScatter(plotter.XYs{{X: float64(d.Mark[0]), Y: float64(d.Mark[1])}})
		if err != nil {
			return nil, fmt.Errorf("paper: heatmap %s: %w", name, err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Shape: draw.RingGlyph{}, Radius: vg.Points(9), Color: OkabeIto[3]}
		p.Add(sc)
	}
	p.X.Min, p.X.Max = -0.5, float64(len(d.X))-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(len(d.Y))-0.5

	// The colour bar: a one-column heat map of evenly spaced values.
	bar := newPlot()
	bar.HideX()
	bar.Y.Label.Text = d.ZLabel
	bar.Y.Tick.Marker = numberTicks{}
	const steps = 64
	bh := plotter.NewHeatMap(barGrid{zmin, zmax, steps}, pal)
	bh.Min, bh.Max = zmin, zmax
	// One image, not 64 rectangles: anti-aliased rectangle edges showed
	// as seams between the bands.
	bh.Rasterized = true
	bar.Add(bh)
	bar.Y.Min, bar.Y.Max = zmin, zmax

	f := &Figure{Name: name, Heatmap: d, Width: ColumnWidth, Height: ColumnHeight}
	f.draw = func(dc draw.Canvas) {
		w := dc.Max.X - dc.Min.X
		barW := w * 0.2
		p.Draw(draw.Crop(dc, 0, -barW, 0, 0))
		bar.Draw(draw.Crop(dc, w-barW+vg.Points(4), 0, 0, 0))
	}
	return f, nil
}

func (d *HeatmapData) check() (zmin, zmax float64, err error) {
	if len(d.X) == 0 || len(d.Y) == 0 {
		return 0, 0, errors.New("empty grid")
	}
	if len(d.Z) != len(d.Y) {
		return 0, 0, fmt.Errorf("%d rows of values for %d y values", len(d.Z), len(d.Y))
	}
	zmin, zmax = math.Inf(1), math.Inf(-1)
	for j, row := range d.Z {
		if len(row) != len(d.X) {
			return 0, 0, fmt.Errorf("row %d has %d values for %d x values", j, len(row), len(d.X))
		}
		for _, z := range row {
			if math.IsInf(z, 0) {
				return 0, 0, fmt.Errorf("row %d holds %v", j, z)
			}
			if !math.IsNaN(z) {
				zmin, zmax = math.Min(zmin, z), math.Max(zmax, z)
			}
		}
	}
	if math.IsInf(zmin, 1) {
		return 0, 0, errors.New("no cell has a value")
	}
	if d.Mark != nil && (d.Mark[0] < 0 || d.Mark[0] >= len(d.X) || d.Mark[1] < 0 || d.Mark[1] >= len(d.Y)) {
		return 0, 0, fmt.Errorf("mark %v outside the %d×%d grid", *d.Mark, len(d.X), len(d.Y))
	}
	return zmin, zmax, nil
}

func numberLabels(vs []float64) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = formatNumber(v)
	}
	return out
}

// grid adapts HeatmapData to plotter.GridXYZ on index coordinates.
type grid struct{ d *HeatmapData }

func (g grid) Dims() (c, r int)      { return len(g.d.X), len(g.d.Y) }
func (g grid) Z(c, r int) float64    { return g.d.Z[r][c] }
func (g grid) X(c int) float64       { return float64(c) }
func (g grid) Y(r int) float64       { return float64(r) }
func (b barGrid) Dims() (c, r int)   { return 1, b.n }
func (b barGrid) Z(_, r int) float64 { return b.Y(r) }
func (barGrid) X(int) float64        { return 0 }
func (b barGrid) Y(r int) float64    { return b.lo + (float64(r)+0.5)*(b.hi-b.lo)/float64(b.n) }

type barGrid struct {
	lo, hi float64
	n      int
}

// viridisAnchors are matplotlib's viridis at 10 evenly spaced positions.
var viridisAnchors = []color.NRGBA{
	{0x44, 0x01, 0x54, 0xff}, {0x48, 0x28, 0x78, 0xff}, {0x3e, 0x49, 0x89, 0xff}, {0x31, 0x68, 0x8e, 0xff},
	{0x26, 0x82, 0x8e, 0xff}, {0x1f, 0x9e, 0x89, 0xff}, {0x35, 0xb7, 0x79, 0xff}, {0x6e, 0xce, 0x58, 0xff},
	{0xb5, 0xde, 0x2b, 0xff}, {0xfd, 0xe7, 0x25, 0xff},
}

type colors []color.Color

func (c colors) Colors() []color.Color { return c }

// viridis returns n colours of viridis, linearly interpolated between the
// anchors.
func viridis(n int) palette.Palette {
	out := make(colors, n)
	last := len(viridisAnchors) - 1
	for i := range out {
		t := float64(i) / float64(n-1) * float64(last)
		k := min(int(t), last-1)
		f := t - float64(k)
		a, b := viridisAnchors[k], viridisAnchors[k+1]
		mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x)*(1-f) + float64(y)*f)) }
		out[i] = color.NRGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 0xff}
	}
	return out
}
