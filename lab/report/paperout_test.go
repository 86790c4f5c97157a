package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/report/paper"
)

// figureByName finds a figure or fails the test.
func figureByName(t *testing.T, figs []*paper.Figure, name string) *paper.Figure {
	t.Helper()
	for _, f := range figs {
		if f.Name == name {
			return f
		}
	}
	var names []string
	for _, f := range figs {
		names = append(names, f.Name)
	}
	t.Fatalf("no figure %q among %v", name, names)
	return nil
}

// sameFloats compares drawn values with expected ones exactly (NaN equals
// NaN: a gap).
func sameFloats(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
			t.Errorf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// TestPaperFiguresAreTheSummary: the figures draw exactly the numbers of
// summary.json, and drawing them from summary.json read back gives the
// same files as Write wrote.
func TestPaperFiguresAreTheSummary(t *testing.T) {
	in := inputFromRoot(t, mustTreeRoot(t, goldenTree))
	dir := writeReport(t, in)
	sum, err := ReadSummary(filepath.Join(dir, JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	figs, err := PaperFigures(sum)
	if err != nil {
		t.Fatal(err)
	}
	head := in.headline()
	points := in.Table.Points
	// x: the threshold values.
	xs := make([]float64, len(points))
	for i, p := range points {
		xs[i] = p[0]
	}
	// at returns f of head's row at each table point (NaN: no row).
	at := func(sel *analysis.Selection, f func(analysis.Row) float64) []float64 {
		out := make([]float64, len(points))
		for i, p := range points {
			out[i] = math.NaN()
			for _, r := range sel.Rows {
				if r.Point.Compare(p) == 0 {
					out[i] = f(r)
				}
			}
		}
		return out
	}
	for _, m := range metricViews {
		f := figureByName(t, figs, "normalization-"+m.key)
		for r := range in.Table.Repeats {
			s := f.Chart.Series[r]
			sameFloats(t, f.Name+" x", s.X, xs)
			sameFloats(t, f.Name+" repeat "+in.Table.Repeats[r], s.Y, at(head, func(row analysis.Row) float64 {
				if !row.PerRepeat[r].Present {
					return math.NaN()
				}
				return m.ratio(row.PerRepeat[r].Ratios)
			}))
		}
		sameFloats(t, f.Name+" aggregate", f.Chart.Series[len(in.Table.Repeats)].Y, at(head, func(row analysis.Row) float64 { return m.ratio(row.Ratios) }))

		f = figureByName(t, figs, "aggregation-"+m.key)
		for k, sel := range (&builder{in: in}).presetSelections(head.Preset) {
			if f.Chart.Series[k].Name != sel.Agg {
				t.Errorf("%s series %d is %q, want %q", f.Name, k, f.Chart.Series[k].Name, sel.Agg)
			}
			sameFloats(t, f.Name+" "+sel.Agg, f.Chart.Series[k].Y, at(sel, func(row analysis.Row) float64 { return m.ratio(row.Ratios) }))
		}
	}
	for _, preset := range []string{"default", "prefill-efficiency"} {
		f := figureByName(t, figs, "score-"+preset)
		sels := (&builder{in: in}).presetSelections(preset)
		for k, sel := range sels {
			sameFloats(t, f.Name+" "+sel.Agg, f.Chart.Series[k].Y, at(sel, func(row analysis.Row) float64 { return row.Score }))
			best := sel.Rows[sel.Best]
			if m := f.Chart.Marks[k]; m.X != best.Point[0] || m.Y != best.Score {
				t.Errorf("%s mark %d at (%v, %v), want the choice (%v, %v)", f.Name, k, m.X, m.Y, best.Point[0], best.Score)
			}
		}
	}
	// Statistics: every point's ratio and interval appear once, under its verdict.
	f := figureByName(t, figs, "statistics")
	seen := 0
	for i, ps := range in.Significance.Points {
		p := slices.IndexFunc(points, func(q analysis.Point) bool { return q.Compare(ps.Point) == 0 })
		for _, s := range f.Chart.Series {
			if s.Name != string(ps.Verdict) || math.IsNaN(ps.ScoreRatio) {
				continue
			}
			seen++
			if s.Y[p] != ps.ScoreRatio {
				t.Errorf("statistics point %d: %v, want %v", i, s.Y[p], ps.ScoreRatio)
			}
			if !math.IsNaN(ps.ScoreCI[0]) && (s.Lo[p] != ps.ScoreCI[0] || s.Hi[p] != ps.ScoreCI[1]) {
				t.Errorf("statistics point %d: interval [%v, %v], want %v", i, s.Lo[p], s.Hi[p], ps.ScoreCI)
			}
		}
	}
	if seen == 0 {
		t.Error("the statistics figure draws no point")
	}
	pw := figureByName(t, figs, "prompt-weight-cdf")
	sameFloats(t, "prompt_weight CDF", pw.Chart.Series[0].X, cdf(in.PromptWeight.Sorted))

	// The files Write wrote are the figures of summary.json read back.
	for _, f := range figs {
		f.PDFDate = fixedTime
		for _, format := range paper.Formats {
			want, err := f.Bytes(format)
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(dir, FiguresDir, f.Name+"."+format))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s.%s differs from the figure drawn from summary.json", f.Name, format)
			}
		}
	}
}

// checkSVG fails unless b parses as XML with an <svg> root.
func checkSVG(t *testing.T, name string, b []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	first := true
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("%s: not XML: %v", name, err)
		}
		if el, ok := tok.(xml.StartElement); ok && first {
			first = false
			if el.Name.Local != "svg" {
				t.Fatalf("%s: root element %s", name, el.Name.Local)
			}
		}
	}
}

var pdfPage = regexp.MustCompile(`/Type /Page\b[^s]`)

// TestPaperFiles: Write leaves every figure in three formats and every
// table in two, each well-formed; files it no longer makes are removed.
func TestPaperFiles(t *testing.T) {
	in := inputFromRoot(t, mustTreeRoot(t, goldenTree))
	dir := writeReport(t, in)
	stale := filepath.Join(dir, FiguresDir, "heatmap-score.svg")
	if err := os.WriteFile(stale, []byte("<svg/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(dir, FiguresDir, "notes.txt")
	if err := os.WriteFile(keep, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, in); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a figure the report no longer makes was kept (%v)", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("a file the report did not make was removed: %v", err)
	}
	var wantFigs []string
	for _, m := range metricViews {
		wantFigs = append(wantFigs, "normalization-"+m.key, "aggregation-"+m.key)
	}
	wantFigs = append(wantFigs, "score-default", "score-prefill-efficiency", "statistics", "prompt-weight-cdf")
	for _, name := range wantFigs {
		for _, format := range paper.Formats {
			p := filepath.Join(dir, FiguresDir, name+"."+format)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			switch format {
			case "svg":
				checkSVG(t, p, b)
			case "pdf":
				if !bytes.HasPrefix(b, []byte("%PDF-")) || len(pdfPage.FindAll(b, -1)) != 1 {
					t.Errorf("%s: not a one-page PDF", p)
				}
			case "png":
				if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
					t.Errorf("%s: not a PNG", p)
				}
			}
		}
	}
	for _, name := range []string{"decision", "statistics", "prompt-weight"} {
		for _, ext := range []string{".tex", ".md"} {
			b, err := os.ReadFile(filepath.Join(dir, TablesDir, name+ext))
			if err != nil {
				t.Fatal(err)
			}
			if ext == ".tex" && (!bytes.Contains(b, []byte(`\toprule`)) || bytes.Count(b, []byte(`\begin{`)) != bytes.Count(b, []byte(`\end{`))) {
				t.Errorf("%s%s is not a booktabs table:\n%s", name, ext, b)
			}
		}
	}
}

// TestPaperTables: the decision table marks the headline, the statistics
// table the choice, with the numbers of summary.json; names with LaTeX's
// special characters come out escaped.
func TestPaperTables(t *testing.T) {
	in := inputFromRoot(t, mustTreeRoot(t, goldenTree))
	in.Name = "exp_1 50% & co"
	for _, s := range in.Selections {
		if s.Preset == "prefill-efficiency" {
			s.Preset = "w_1 #2"
		}
	}
	sum := buildSummary(in)
	tabs, err := PaperTables(sum)
	if err != nil {
		t.Fatal(err)
	}
	var tex, md bytes.Buffer
	if err := tabs[0].WriteLaTeX(&tex); err != nil {
		t.Fatal(err)
	}
	if err := tabs[0].WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	head := in.headline()
	best := head.Rows[head.Best]
	for _, want := range []string{`experiment exp\_1 50\% \& co`, `w\_1 \#2 & mean`,
		`\textbf{default} & \textbf{mean} & \textbf{` + best.Point.String() + `} & \textbf{` + tnum(best.Score) + `}`} {
		if !strings.Contains(tex.String(), want) {
			t.Errorf("decision.tex lacks %q:\n%s", want, tex.String())
		}
	}
	if want := "| **default** | **mean** | **" + best.Point.String() + "** |"; !strings.Contains(md.String(), want) {
		t.Errorf("decision.md lacks %q:\n%s", want, md.String())
	}
	stats := tabs[1]
	if stats.Label != "statistics" || len(stats.Rows) != len(head.Rows) {
		t.Fatalf("statistics table %q with %d rows, want %d", stats.Label, len(stats.Rows), len(head.Rows))
	}
	// The statistics table marks the decision, not the lowest score.
	for i, row := range stats.Rows {
		ps := in.Significance.Points[i]
		decided := in.Decision != nil && ps.Point.Compare(in.Decision.Point) == 0
		if stats.Marked[i] != decided || row[0] != ps.Point.String() || row[5] != string(ps.Verdict) {
			t.Errorf("statistics row %d: %v (marked %v), want point %s verdict %s marked %v", i, row, stats.Marked[i], ps.Point, ps.Verdict, decided)
		}
	}
	if in.Decision != nil && !strings.Contains(tabs[0].Caption, "Decision: ") {
		t.Errorf("decision table caption %q does not state the decision", tabs[0].Caption)
	}
}

// TestPaperGrid: a two-parameter sweep gets a heatmap of the headline
// score whose cells are the summary's scores, the choice ringed.
func TestPaperGrid(t *testing.T) {
	in := gridInput(t)
	dir := writeReport(t, in)
	sum, err := ReadSummary(filepath.Join(dir, JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	figs, err := PaperFigures(sum)
	if err != nil {
		t.Fatal(err)
	}
	h := figureByName(t, figs, "heatmap-score").Heatmap
	sameFloats(t, "heatmap x", h.X, []float64{0, 4, 8})
	sameFloats(t, "heatmap y", h.Y, []float64{-0.02, -0.01, -0.001})
	for _, r := range in.Selections[0].Rows {
		i, j := slices.Index(h.X, r.Point[0]), slices.Index(h.Y, r.Point[1])
		if h.Z[j][i] != r.Score {
			t.Errorf("heatmap at %v: %v, want the score %v", r.Point, h.Z[j][i], r.Score)
		}
	}
	if h.Mark == nil || h.X[h.Mark[0]] != 4 || h.Y[h.Mark[1]] != -0.01 {
		t.Errorf("heatmap mark %v, want the choice (4, -0.01)", h.Mark)
	}
	b, err := os.ReadFile(filepath.Join(dir, FiguresDir, "heatmap-score.svg"))
	if err != nil {
		t.Fatal(err)
	}
	checkSVG(t, "heatmap-score.svg", b)
	// Without statistics there is no statistics figure or table.
	if _, err := os.Stat(filepath.Join(dir, FiguresDir, "statistics.svg")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("statistics figure without statistics (%v)", err)
	}
}

// TestPaperDeterministic: the same input gives byte-identical figures and
// tables.
func TestPaperDeterministic(t *testing.T) {
	root := mustTreeRoot(t, goldenTree)
	a, b := writeReport(t, inputFromRoot(t, root)), writeReport(t, inputFromRoot(t, root))
	for _, sub := range []string{FiguresDir, TablesDir} {
		es, err := os.ReadDir(filepath.Join(a, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			x, _ := os.ReadFile(filepath.Join(a, sub, e.Name()))
			y, err := os.ReadFile(filepath.Join(b, sub, e.Name()))
			if err != nil || !bytes.Equal(x, y) {
				t.Errorf("%s/%s differs between two reports of the same data (%v)", sub, e.Name(), err)
			}
		}
	}
}

func TestReadSummaryErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, body, want string }{
		{"syntax", "{", "unexpected end of JSON input"},
		{"schema", `{"schema": "other/v9"}`, `schema "other/v9", want "schedlab.report.summary/v1"`},
		{"empty", `{"schema": "schedlab.report.summary/v1"}`, "no selections or points"},
		{"point", `{"schema": "schedlab.report.summary/v1", "selections": [{"recommended": "x"}]}`, "point: want a number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".json")
			if err := os.WriteFile(p, []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadSummary(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("err %v, want the path and %q", err, tc.want)
			}
		})
	}
}

func TestPaperFigure(t *testing.T) {
	in := inputFromRoot(t, mustTreeRoot(t, goldenTree))
	f, err := PaperFigure(in, "statistics")
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.Bytes("svg")
	if err != nil {
		t.Fatal(err)
	}
	checkSVG(t, "statistics.svg", b)
	if _, err := PaperFigure(in, "nope"); err == nil || !strings.Contains(err.Error(), `no figure "nope"; the figures are normalization-request,`) {
		t.Errorf("unknown figure: %v", err)
	}
}
