package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/internal/golden"
	"github.com/schedlab/schedlab/lab/sarathi"
)

var update = golden.Update // -update

// goldenTree is small enough to check by eye: 6 thresholds × 3 repeats,
// repeat 2 without the baseline (it falls back to its smallest point) and
// threshold 4 missing in repeat 1.
var goldenTree = tree{thresholds: 6, repeats: 3, rows: 40, seed: 1, skip: map[string]bool{"2/0": true, "1/4": true}}

func writeReport(t *testing.T, in *Input) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), in.Name)
	if err := Write(dir, in); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSummaryGolden(t *testing.T) {
	root := mustTreeRoot(t, goldenTree)
	dir := writeReport(t, inputFromRoot(t, root))
	for _, name := range []string{JSONFile, CSVFile} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		// The prompt_weight files are named by absolute path.
		got = bytes.ReplaceAll(got, []byte(root), []byte("$ROOT"))
		golden := filepath.Join("testdata", "golden", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s (run go test -update after checking the change):\n%s", name, golden, firstDiff(got, want))
		}
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + gl + "\nwant: " + wl
		}
	}
	return "(no line differs)"
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestSummaryContent checks the golden tree's summary against what the
// analysis says, so the golden file is not the only guard.
func TestSummaryContent(t *testing.T) {
	in := inputFromTree(t, goldenTree)
	s := buildSummary(in)
	h := in.headline()
	if s.Headline.Preset != "default" || s.Headline.Aggregation != "mean" {
		t.Errorf("headline = %s/%s, want default/mean", s.Headline.Preset, s.Headline.Aggregation)
	}
	if s.Headline.Point.Compare(h.Recommended()) != 0 || s.Headline.Score != h.Rows[h.Best].Score {
		t.Errorf("headline %v %v, analysis chose %v %v", s.Headline.Point, s.Headline.Score, h.Recommended(), h.Rows[h.Best].Score)
	}
	if got, want := len(s.Selections), len(testPresets)*len(analysis.Aggregations); got != want {
		t.Errorf("%d selections, want %d", got, want)
	}
	if len(s.CellSummaries) != 6*3-2 {
		t.Errorf("%d cell summaries, want 16 (18 cells, 2 missing)", len(s.CellSummaries))
	}
	if len(h.FellBack) != 1 || h.FellBack[0] != "20250101_120002" {
		t.Errorf("fell back = %v, want repeat 20250101_120002", h.FellBack)
	}
	for _, sel := range s.Selections {
		chosen := 0
		for _, r := range sel.Thresholds {
			if r.Chosen {
				chosen++
				if analysis.Point(r.Threshold).Compare(analysis.Point(sel.Recommended)) != 0 {
					t.Errorf("%s/%s: chosen row %v ≠ recommended %v", sel.Preset, sel.RunAgg, r.Threshold, sel.Recommended)
				}
			}
			if (r.RowJSON != nil) != (sel.Preset == "default" && sel.RunAgg == "mean") {
				t.Errorf("%s/%s: statistics present = %v, want them on the headline only", sel.Preset, sel.RunAgg, r.RowJSON != nil)
			}
		}
		if chosen != 1 {
			t.Errorf("%s/%s: %d chosen rows", sel.Preset, sel.RunAgg, chosen)
		}
	}
	if s.PromptWeight == nil || len(s.PromptWeight.Quantiles) != cdfQuantiles || s.PromptWeight.N != 3*40-40 {
		t.Errorf("prompt_weight summary = %+v, want %d quantiles over the 2 repeats × 40 requests at the choice", s.PromptWeight, cdfQuantiles)
	}
}

// TestDeterministic: the same input gives byte-identical files.
func TestDeterministic(t *testing.T) {
	root := mustTreeRoot(t, goldenTree)
	a, b := writeReport(t, inputFromRoot(t, root)), writeReport(t, inputFromRoot(t, root))
	for _, name := range []string{HTMLFile, JSONFile, CSVFile} {
		x, err := os.ReadFile(filepath.Join(a, name))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two reports of the same data:\n%s", name, firstDiff(x, y))
		}
	}
}

func mustTreeRoot(t *testing.T, tr tree) string {
	root := t.TempDir()
	tr.generate(t, root)
	return root
}

// externalRef finds attributes and CSS that would load something from
// another host.
var externalRef = regexp.MustCompile(`(?i)(\b(src|href|action|poster|data)\s*=\s*["']?\s*(https?:|//))|url\(\s*["']?\s*(https?:|//)|@import`)

// TestReportInBrowser opens a report of a 21-point sweep in chromium.
func TestReportInBrowser(t *testing.T) {
	in := inputFromTree(t, tree{thresholds: 21, repeats: 4, rows: 60, seed: 7, skip: map[string]bool{"3/5": true}})
	dir := writeReport(t, in)
	page := filepath.Join(dir, HTMLFile)
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if m := externalRef.Find(html); m != nil {
		t.Errorf("the page refers to another host: %q", m)
	}
	if !bytes.Contains(html, []byte(echartsJS[:2000])) {
		t.Error("the page does not inline the echarts library")
	}
	res := openInBrowser(t, page)
	checkClean(t, res)
	// Raw, normalized and aggregated per metric, a score chart per preset,
	// the score ratio and win probability, the prompt_weight CDF.
	want := 3*len(metricViews) + len(testPresets) + 2 + 1
	checkCharts(t, res, want)
}

// TestReportSize: a 101 × 10 sweep stays well under 3 MB, and its page
// (charts with zoom sliders) renders in the browser.
func TestReportSize(t *testing.T) {
	in := inputFromTree(t, tree{thresholds: 101, repeats: 10, rows: 20, seed: 3})
	dir := writeReport(t, in)
	st, err := os.Stat(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	const limit = 3 << 20
	t.Logf("index.html for 101 points × 10 repeats: %d bytes (library %d)", st.Size(), len(echartsJS))
	if st.Size() > limit {
		t.Errorf("index.html is %d bytes, want ≤ %d", st.Size(), limit)
	}
	res := openInBrowser(t, filepath.Join(dir, HTMLFile))
	checkClean(t, res)
	checkCharts(t, res, 3*len(metricViews)+len(testPresets)+2+1)
}

func TestInputErrors(t *testing.T) {
	good := inputFromTree(t, tree{thresholds: 3, repeats: 2, rows: 10, seed: 2})
	cases := []struct {
		name   string
		modify func(in *Input)
		want   string
	}{
		{"no name", func(in *Input) { in.Name = "" }, "no name"},
		{"no table", func(in *Input) { in.Table = nil }, "no results"},
		{"no selections", func(in *Input) { in.Selections = nil }, "no selection"},
		{"unknown headline", func(in *Input) { in.Headline = Headline{Preset: "nope", Aggregation: "mean"} }, `preset "nope"`},
		{"mismatched repeats", func(in *Input) { in.Table = &analysis.Table{Points: in.Table.Points} }, "has 2 repeats, the table 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := *good
			c.modify(&in)
			err := Write(t.TempDir(), &in)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Write error = %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestEChartsAsset(t *testing.T) {
	if got := sha256Hex([]byte(echartsJS)); got != echartsSHA256 {
		t.Errorf("assets/echarts.min.js has sha256 %s, want %s (update EChartsVersion and echartsSHA256 together)", got, echartsSHA256)
	}
	if strings.Contains(strings.ToLower(echartsJS), "</script") {
		t.Error("echarts.min.js contains </script and cannot be inlined")
	}
	if !strings.Contains(echartsNotice, "Apache ECharts") {
		t.Error("assets/NOTICE is not the echarts notice")
	}
}

// gridInput is a two-parameter sweep (min_chunk_threshold × prompt_weight,
// 3 × 3 points, 3 repeats) loaded with analysis.NewTable/Load, as the store
// loader does for a grid spec.
func gridInput(t *testing.T) *Input {
	t.Helper()
	root := t.TempDir()
	params := []string{"min_chunk_threshold", "prompt_weight"}
	var points []analysis.Point
	for _, th := range []float64{0, 4, 8} {
		for _, pw := range []float64{-0.02, -0.01, -0.001} {
			points = append(points, analysis.Point{th, pw})
		}
	}
	repeats := []string{"repeat 0", "repeat 1", "repeat 2"}
	var cells []analysis.CellFiles
	rows := make([]sarathi.Row, 30)
	for r := range repeats {
		for i, p := range points {
			dir := filepath.Join(root, strconv.Itoa(r), strconv.Itoa(i))
			for mi, m := range sarathi.Required {
				for k := range rows {
					v := (1 + 0.01*float64(mi) + 0.02*math.Abs(p[0]-4) + 3*math.Abs(p[1]+0.01)) * (1 + 0.001*float64(k+r))
					rows[k] = sarathi.Row{RequestID: "0_" + strconv.Itoa(k), Value: v / 1000}
				}
				if err := sarathi.Write(dir, m, rows); err != nil {
					t.Fatal(err)
				}
			}
			cells = append(cells, analysis.CellFiles{Repeat: r, Point: p, Dir: dir})
		}
	}
	tab := analysis.NewTable(params, points, repeats)
	if err := tab.Load(cells); err != nil {
		t.Fatal(err)
	}
	sels, err := analysis.SelectAll(tab, testPresets[:1], analysis.Point{0, -0.01})
	if err != nil {
		t.Fatal(err)
	}
	files, err := tab.Files(sels[0].Recommended(), sarathi.PrefillExecPlusPreemptNorm)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := analysis.SecondsPerPrefillToken(files, analysis.PromptWeightOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &Input{Name: "grid", Table: tab, Selections: sels, PromptWeight: pw, Generated: fixedTime}
}

// TestGridReport: a grid sweep that includes prompt_weight gets point
// labels with both values and the score curve against prompt_weight.
func TestGridReport(t *testing.T) {
	in := gridInput(t)
	if got := in.Selections[0].Recommended(); got.Compare(analysis.Point{4, -0.01}) != 0 {
		t.Fatalf("the grid's optimum is %v, want [4 -0.01]", got)
	}
	dir := writeReport(t, in)
	html, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"4,-0.01"`, "chart-pw-score", "Score against prompt_weight", "min_chunk_threshold = 4, prompt_weight = -0.01"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	csv, err := os.ReadFile(filepath.Join(dir, CSVFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(csv, []byte("preset,aggregation,min_chunk_threshold,prompt_weight,runs,")) {
		t.Errorf("summary.csv header: %q", bytes.SplitN(csv, []byte("\n"), 2)[0])
	}
	// No statistics here (Significance nil): raw, normalized, aggregated,
	// one preset's scores, the prompt_weight CDF and its score curve.
	res := openInBrowser(t, filepath.Join(dir, HTMLFile))
	checkClean(t, res)
	checkCharts(t, res, 3*len(metricViews)+1+2)
}

// TestChoiceStatesStatistics: the first section states the decision and
// whether the statistics back the lowest score, so a reader who stops
// there is not misled.
func TestChoiceStatesStatistics(t *testing.T) {
	in := inputFromTree(t, goldenTree)
	var buf bytes.Buffer
	if err := RenderHTML(&buf, in); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	raw := strings.Index(html, `<section id="raw">`)
	for _, want := range []string{"Decision: " + in.Decision.Reason[:20], "Score alone (section 6): " + in.Significance.Conclusion[:20]} {
		if i := strings.Index(html, want); i < 0 || raw < 0 || i > raw {
			t.Errorf("section 1 does not state %q before section 2 (at %d, raw at %d)", want, i, raw)
		}
	}
}

// TestSmallSweeps: degenerate experiments (one point, one repeat, no
// repeat with the baseline) still give a complete, valid report.
func TestSmallSweeps(t *testing.T) {
	cases := []struct {
		name string
		tr   tree
	}{
		{"one point one repeat", tree{thresholds: 1, repeats: 1, rows: 5, seed: 1}},
		{"two points one repeat", tree{thresholds: 2, repeats: 1, rows: 5, seed: 2}},
		{"no repeat has the baseline", tree{thresholds: 3, repeats: 2, rows: 5, seed: 3, skip: map[string]bool{"0/0": true, "1/0": true}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := inputFromTree(t, c.tr)
			dir := writeReport(t, in)
			html, err := os.ReadFile(filepath.Join(dir, HTMLFile))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(bytes.Replace(html, []byte(echartsJS), nil, 1), []byte("NaN")) {
				t.Error("the page prints NaN")
			}
			var s map[string]any
			b, err := os.ReadFile(filepath.Join(dir, JSONFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &s); err != nil {
				t.Fatalf("summary.json: %v", err)
			}
		})
	}
}
