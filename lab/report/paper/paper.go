// Package paper draws static, publication-style figures and writes tables
// for papers: SVG and PDF (vector, text as text) and PNG (for slides),
// drawn with gonum.org/v1/plot without a browser, and tables as LaTeX
// (booktabs) and Markdown.
//
// The package knows nothing about experiments: a figure is described by its
// data (Chart, HeatmapData) and a table by its cells (Table). lab/report
// maps summary.json onto these descriptions; the notebooks call the same
// mapping. Keeping the described data on the Figure lets tests compare what
// is drawn with the numbers it came from.
//
// Style: a figure is one column wide (ColumnWidth, 3.3 in) at the size it
// is printed, so its 7–8 pt text stays readable without scaling; lines and
// markers use the Okabe–Ito palette, which stays distinct under the common
// colour-vision deficiencies, and dash patterns and marker shapes as a
// second cue (a greyscale print still separates the series). Heatmaps use
// a perceptually uniform, colour-blind-safe sequential map (viridis).
//
// Output is deterministic: the same description gives byte-identical
// files (the PDF's creation and modification dates are fixed, see
// PDFDate).
package paper

import (
	"bytes"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Sizes of a figure: one column of a two-column paper.
const (
	ColumnWidth  = 3.3 * vg.Inch
	ColumnHeight = 2.3 * vg.Inch
	// PNGDPI is the resolution of the PNG files: sharp on a projector and
	// when a slide is zoomed.
	PNGDPI = 200
)

// Formats are the file formats Figure.WriteFiles writes, in that order.
var Formats = []string{"svg", "pdf", "png"}

// OkabeIto is the Okabe–Ito colour-blind-safe palette (black last).
var OkabeIto = []color.NRGBA{
	{0x00, 0x72, 0xB2, 0xff}, // blue
	{0xE6, 0x9F, 0x00, 0xff}, // orange
	{0x00, 0x9E, 0x73, 0xff}, // bluish green
	{0xD5, 0x5E, 0x00, 0xff}, // vermillion
	{0xCC, 0x79, 0xA7, 0xff}, // reddish purple
	{0x56, 0xB4, 0xE9, 0xff}, // sky blue
	{0xF0, 0xE4, 0x42, 0xff}, // yellow
	{0x00, 0x00, 0x00, 0xff}, // black
}

// Grey is the colour of context lines (e.g. one line per repeat).
var Grey = color.NRGBA{0x99, 0x99, 0x99, 0xff}

// Black is the colour of reference lines and emphasis.
var Black = color.NRGBA{0, 0, 0, 0xff}

// Font sizes (points) at ColumnWidth.
const (
	tickSize   = 7
	labelSize  = 8
	legendSize = 7
)

// typeface is Liberation Sans, metric-compatible with Helvetica/Arial: a
// viewer without it substitutes one of those without changing the layout.
var typeface = font.Font{Typeface: "Liberation", Variant: "Sans"}

func init() {
	// The PDF library orders its internal catalogs by map iteration unless
	// told to sort them; sorted catalogs keep the files byte-identical.
	fpdf.SetDefaultCatalogSort(true)
}

// Figure is one drawn figure: its file name stem, what it shows and the
// plot that draws it.
type Figure struct {
	// Name is the file stem: Name.svg, Name.pdf, Name.png.
	Name string
	// Caption describes the figure in one sentence (the tables' README and
	// notebooks print it).
	Caption string
	// Chart is the data drawn (nil for a heatmap); Heatmap likewise.
	Chart   *Chart
	Heatmap *HeatmapData

	Width, Height vg.Length
	// PDFDate is written as the PDF's creation and modification date (the
	// zero time: 2000-01-01), so the file depends on its data only.
	PDFDate time.Time

	draw func(c draw.Canvas)
}

// Encode writes the figure in format ("svg", "pdf" or "png") to w.
func (f *Figure) Encode(w io.Writer, format string) error {
	var c interface {
		vg.CanvasSizer
		io.WriterTo
	}
	switch format {
	case "svg":
		c = vgsvg.NewWith(vgsvg.UseWH(f.Width, f.Height), vgsvg.EmbedFonts(false))
	case "pdf":
		pc := vgpdf.New(f.Width, f.Height)
		pc.EmbedFonts(true)
		c = pc
	case "png":
		c = fastPNG{vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(PNGDPI),
			vgimg.UseBackgroundColor(color.White))}
	default:
		return fmt.Errorf("paper: figure %s: unknown format %q, want svg, pdf or png", f.Name, format)
	}
	f.draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return fmt.Errorf("paper: figure %s (%s): %w", f.Name, format, err)
	}
	b := buf.Bytes()
	if format == "pdf" {
		b = fixPDFDates(b, f.PDFDate)
	}
	_, err := w.Write(b)
	return err
}

// fastPNG encodes with the fastest compression: a few percent larger
// files, about a third of the encoding time (which dominated the paper
// outputs' cost).
type fastPNG struct{ *vgimg.Canvas }

func (c fastPNG) WriteTo(w io.Writer) (int64, error) {
	wc := &countWriter{w: w}
	err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(wc, c.Image())
	return wc.n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// pdfDate matches the dates the PDF library writes (time.Now); both are
// replaced by a date of the same length, so no offset in the file moves.
var pdfDate = regexp.MustCompile(`/(Creation|Mod)Date \(D:\d{14}\)`)

func fixPDFDates(b []byte, t time.Time) []byte {
	if t.IsZero() {
		t = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	d := t.UTC().Format("20060102150405")
	return pdfDate.ReplaceAllFunc(b, func(m []byte) []byte {
		out := bytes.Clone(m)
		copy(out[len(out)-15:], d)
		return out
	})
}

// Bytes returns the figure encoded in format.
func (f *Figure) Bytes(format string) ([]byte, error) {
	var b bytes.Buffer
	err := f.Encode(&b, format)
	return b.Bytes(), err
}

// WriteFiles writes Name.svg, Name.pdf and Name.png into dir (which must
// exist) and returns their paths.
func (f *Figure) WriteFiles(dir string) ([]string, error) {
	var paths []string
	for _, format := range Formats {
		b, err := f.Bytes(format)
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, f.Name+"."+format)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, fmt.Errorf("paper: %w", err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// newPlot returns an empty plot in the paper style.
func newPlot() *plot.Plot {
	p := plot.New()
	p.BackgroundColor = color.Transparent
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = font.From(typeface, labelSize)
		ax.Tick.Label.Font = font.From(typeface, tickSize)
		ax.Tick.Length = vg.Points(3)
		ax.LineStyle.Width = vg.Points(0.5)
		ax.Tick.LineStyle.Width = vg.Points(0.5)
		ax.Padding = vg.Points(2)
	}
	p.Legend.TextStyle.Font = font.From(typeface, legendSize)
	p.Legend.Top = true
	p.Legend.ThumbnailWidth = vg.Points(14)
	p.Legend.Padding = vg.Points(1)
	return p
}

// formatNumber prints a tick or cell value in at most 4 significant
// digits, without exponent for the usual magnitudes.
func formatNumber(v float64) string {
	if v == 0 {
		return "0"
	}
	a := math.Abs(v)
	if a >= 1e-3 && a < 1e5 {
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	return strconv.FormatFloat(v, 'e', 2, 64)
}
