package paper

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func lineChart() *Chart {
	nan := math.NaN()
	return &Chart{
		X: Axis{Label: "min_chunk_threshold (tokens)"},
		Y: Axis{Label: "score (weighted ratio, 1)", Include: []float64{1}},
		Series: []Series{
			{Name: "mean", X: []float64{0, 1, 2, 3}, Y: []float64{1, 0.99, nan, 0.98}},
			{Name: "median", X: []float64{0, 1, 2, 3}, Y: []float64{1, 0.995, 0.99, 0.985}, Color: 1},
			{X: []float64{0, 1, 2, 3}, Y: []float64{1, 1.01, 1, 0.99}, Style: Thin},
			{Name: "ratio", X: []float64{0, 1, 2, 3}, Y: []float64{1, 0.99, 0.98, nan}, Lo: []float64{1, 0.98, nan, nan},
				Hi: []float64{1, 1.0, nan, nan}, Style: Points, Color: 2},
			{Name: "curve", X: []float64{0, 3}, Y: []float64{0.97, 1.02}, Style: Curve, Color: 3},
		},
		HLines: []HLine{{Y: 1, Label: "baseline"}},
		Marks:  []Mark{{X: 3, Y: 0.98, Label: "choice"}},
		Legend: true,
	}
}

// svgText parses b as XML (failing the test on a syntax error) and returns
// the text of its <text> elements.
func svgText(t *testing.T, b []byte) string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	var text strings.Builder
	root := ""
	inText := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG does not parse as XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = el.Name.Local
			}
			inText = el.Name.Local == "text"
		case xml.CharData:
			if inText {
				text.Write(el)
				text.WriteByte('\n')
			}
		case xml.EndElement:
			inText = false
		}
	}
	if root != "svg" {
		t.Fatalf("SVG root element is %q", root)
	}
	return text.String()
}

// pdfPage matches a page object of a PDF (not the /Pages tree).
var pdfPage = regexp.MustCompile(`/Type /Page\b[^s]`)

// checkPDF checks a PDF's header, trailer and page count, and with
// pdftotext (poppler-utils) that the text is extractable.
func checkPDF(t *testing.T, b []byte, pages int, texts ...string) {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("%PDF-1.")) || !bytes.Contains(b[len(b)-64:], []byte("%%EOF")) {
		t.Fatalf("not a complete PDF: starts %q, ends %q", b[:min(8, len(b))], b[max(0, len(b)-16):])
	}
	if n := len(pdfPage.FindAll(b, -1)); n != pages {
		t.Errorf("PDF has %d pages, want %d", n, pages)
	}
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdftotext not found (poppler-utils; .ci/setup installs it)")
		}
		t.Log("pdftotext not found: PDF text not checked")
		return
	}
	path := filepath.Join(t.TempDir(), "f.pdf")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v: %s", err, out)
	}
	if info, err := exec.Command(filepath.Join(filepath.Dir(bin), "pdfinfo"), path).CombinedOutput(); err == nil {
		if !regexp.MustCompile(`(?m)^Pages:\s+` + strconv.Itoa(pages) + `$`).Match(info) {
			t.Errorf("pdfinfo does not report %d pages:\n%s", pages, info)
		}
	}
	for _, want := range texts {
		if !strings.Contains(string(out), want) {
			t.Errorf("PDF text lacks %q:\n%s", want, out)
		}
	}
}

func TestLineFormats(t *testing.T) {
	f, err := Line("test", lineChart())
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			b, err := f.Bytes(format)
			if err != nil {
				t.Fatal(err)
			}
			again, err := f.Bytes(format)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, again) {
				t.Errorf("two encodings of the same figure differ")
			}
			switch format {
			case "svg":
				text := svgText(t, b)
				for _, want := range []string{"min_chunk_threshold (tokens)", "score (weighted ratio, 1)", "mean", "baseline", "choice", "curve"} {
					if !strings.Contains(text, want) {
						t.Errorf("SVG text lacks %q:\n%s", want, text)
					}
				}
			case "pdf":
				checkPDF(t, b, 1, "min_chunk_threshold (tokens)", "baseline")
			case "png":
				img, err := png.Decode(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				w, h := img.Bounds().Dx(), img.Bounds().Dy()
				if want := int(math.Round(3.3 * PNGDPI)); w != want || h != int(math.Round(2.3*PNGDPI)) {
					t.Errorf("PNG is %d×%d px, want %d×%d", w, h, want, int(math.Round(2.3*PNGDPI)))
				}
			}
		})
	}
	if _, err := f.Bytes("eps"); err == nil || !strings.Contains(err.Error(), `unknown format "eps"`) {
		t.Errorf("eps: err %v", err)
	}
}

// TestPDFDate: the PDF's dates are the figure's, not the clock's, so a
// report is byte-identical whenever it is written.
func TestPDFDate(t *testing.T) {
	f, err := Line("d", lineChart())
	if err != nil {
		t.Fatal(err)
	}
	f.PDFDate = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b, err := f.Bytes("pdf")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/CreationDate (D:20260102030405)", "/ModDate (D:20260102030405)"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("PDF lacks %s", want)
		}
	}
}

// TestLegendHeadroom: a legend at the top gets headroom above the data
// (so it covers none); one at the bottom does not.
func TestLegendHeadroom(t *testing.T) {
	for _, tc := range []struct {
		bottom   bool
		min, max float64
	}{{false, 1.025, 1.2}, {true, 1.02, 1.02}} {
		c := lineChart()
		c.LegendBottom = tc.bottom
		p, err := linePlot("b", c)
		if err != nil {
			t.Fatal(err)
		}
		// The data reach 1.02 (the curve series).
		if p.Y.Max < tc.min || p.Y.Max > tc.max {
			t.Errorf("bottom %v: y axis up to %v, want within [%v, %v]", tc.bottom, p.Y.Max, tc.min, tc.max)
		}
	}
}

func TestLineErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(c *Chart)
		want string
	}{
		{"no series", func(c *Chart) { c.Series = nil }, "no series"},
		{"lengths", func(c *Chart) { c.Series[0].Y = c.Series[0].Y[:2] }, `series "mean": 4 x values, 2 y values`},
		{"NaN x", func(c *Chart) { c.Series[1].X = []float64{0, math.NaN(), 2, 3} }, `series "median": x value 1 is NaN`},
		{"Inf y", func(c *Chart) { c.Series[1].Y = []float64{0, math.Inf(1), 2, 3} }, `y value 1 is +Inf`},
		{"intervals", func(c *Chart) { c.Series[3].Lo = c.Series[3].Lo[:1] }, "intervals 1 and 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := lineChart()
			tc.edit(c)
			_, err := Line("bad", c)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "figure bad") {
				t.Errorf("err %v, want it to name the figure and say %q", err, tc.want)
			}
		})
	}
}

// sweep2D is a 3 × 4 two-parameter sweep with one missing cell.
func sweep2D() *HeatmapData {
	nan := math.NaN()
	return &HeatmapData{
		X: []float64{0, 4, 8}, Y: []float64{-0.02, -0.01, -0.005, -0.001},
		Z: [][]float64{
			{1.02, 1.01, 1.03},
			{1.0, 0.97, 0.99},
			{1.01, nan, 1.0},
			{1.04, 1.02, 1.05},
		},
		XLabel: "min_chunk_threshold (tokens)", YLabel: "prompt_weight (s/token)", ZLabel: "score (1)",
		Mark: &[2]int{1, 1}, Annotate: true,
	}
}

func TestHeatmap(t *testing.T) {
	f, err := Heatmap("grid", sweep2D())
	if err != nil {
		t.Fatal(err)
	}
	if f.Heatmap == nil || f.Chart != nil {
		t.Fatal("a heatmap figure keeps its data in Heatmap")
	}
	svg, err := f.Bytes("svg")
	if err != nil {
		t.Fatal(err)
	}
	text := svgText(t, svg)
	// Axis labels, the colour bar's label, tick labels (x and y values)
	// and the annotated cell values; the missing cell has none.
	for _, want := range []string{"min_chunk_threshold (tokens)", "prompt_weight (s/token)", "score (1)", "-0.005", "0.97", "1.05"} {
		if !strings.Contains(text, want) {
			t.Errorf("heatmap SVG text lacks %q:\n%s", want, text)
		}
	}
	pdf, err := f.Bytes("pdf")
	if err != nil {
		t.Fatal(err)
	}
	checkPDF(t, pdf, 1, "prompt_weight (s/token)", "score (1)")
	if _, err := f.Bytes("png"); err != nil {
		t.Fatal(err)
	}
}

func TestHeatmapErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(d *HeatmapData)
		want string
	}{
		{"empty", func(d *HeatmapData) { d.X = nil }, "empty grid"},
		{"rows", func(d *HeatmapData) { d.Z = d.Z[:2] }, "2 rows of values for 4 y values"},
		{"ragged", func(d *HeatmapData) { d.Z[2] = d.Z[2][:1] }, "row 2 has 1 values for 3 x values"},
		{"inf", func(d *HeatmapData) { d.Z[0][0] = math.Inf(-1) }, "row 0 holds -Inf"},
		{"all NaN", func(d *HeatmapData) {
			for _, r := range d.Z {
				for i := range r {
					r[i] = math.NaN()
				}
			}
		}, "no cell has a value"},
		{"mark", func(d *HeatmapData) { d.Mark = &[2]int{3, 0} }, "mark [3 0] outside the 3×4 grid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := sweep2D()
			tc.edit(d)
			_, err := Heatmap("h", d)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
}

// TestConstantHeatmap: a grid whose cells are all equal still draws (the
// colour scale gets a width).
func TestConstantHeatmap(t *testing.T) {
	d := &HeatmapData{X: []float64{1, 2}, Y: []float64{1}, Z: [][]float64{{3, 3}}, ZLabel: "z"}
	f, err := Heatmap("c", d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Bytes("svg"); err != nil {
		t.Fatal(err)
	}
}

func TestWriteFiles(t *testing.T) {
	f, err := Line("fig", lineChart())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	paths, err := f.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, format := range Formats {
		if want := filepath.Join(dir, "fig."+format); paths[i] != want {
			t.Errorf("path %d: %s, want %s", i, paths[i], want)
		}
		if st, err := os.Stat(paths[i]); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", paths[i], err)
		}
	}
}
