package notebook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/experiment"
	"github.com/schedlab/schedlab/lab/internal/labtest"
	"github.com/schedlab/schedlab/lab/legacy"

	"github.com/schedlab/schedlab/lab/report"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/spec"
)

func writeGoMod(t *testing.T, dir, module string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module "+module+"\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRoot(t *testing.T) {
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	ours := t.TempDir()
	writeGoMod(t, ours, ModulePath)
	other := t.TempDir()
	writeGoMod(t, other, "example.com/other")
	for _, tc := range []struct {
		name, env, want, err string
	}{
		{name: "env", env: ours, want: ours},
		{name: "env other module", env: other, err: "module example.com/other, expected " + ModulePath},
		{name: "env missing", env: filepath.Join(ours, "nope"), err: "$SCHEDLAB_ROOT"},
		// Without the variable, the search goes up from the working
		// directory (this package: lab/notebook/) to the repository.
		{name: "walk up", want: repo},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(RootEnv, tc.env)
			got, err := Root()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Root() = %q, %v; want an error containing %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Root() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestStoreDir(t *testing.T) {
	t.Setenv("LAB_STORE", "")
	if got, want := StoreDir("/repo"), filepath.Join("/repo", ".lab"); got != want {
		t.Errorf("StoreDir without LAB_STORE = %q, want %q", got, want)
	}
	t.Setenv("LAB_STORE", "/shared/store")
	if got := StoreDir("/repo"); got != "/shared/store" {
		t.Errorf("StoreDir with LAB_STORE = %q, want /shared/store", got)
	}
}

// optionOf extracts the option JSON a ChartHTML fragment draws.
func optionOf(t *testing.T, frag string) map[string]any {
	t.Helper()
	const start, end = "chart.setOption(", ", true);"
	i := strings.Index(frag, start)
	j := strings.LastIndex(frag, end)
	if i < 0 || j < i {
		t.Fatalf("no setOption call in:\n%s", frag)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(frag[i+len(start):j]), &m); err != nil {
		t.Fatalf("option is not JSON: %v\n%s", err, frag[i+len(start):j])
	}
	return m
}

func TestChartHTML(t *testing.T) {
	build := func(title string) *charts.Line {
		l := charts.NewLine()
		l.SetGlobalOptions(charts.WithTitleOpts(opts.Title{Title: title}))
		l.SetXAxis([]string{"0", "1"}).AddSeries("a", []opts.LineData{{Value: 1.5}, {Value: 2}})
		return l
	}
	hostile := `</script><script>alert(1)</script>`
	frag, err := ChartHTML(build(hostile))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(frag, "</script>"); n != 1 {
		t.Errorf("fragment has %d </script> tags, want 1 (the title must not close the script):\n%s", n, frag)
	}
	m := optionOf(t, frag)
	if title, _ := m["title"].(map[string]any); title["text"] != hostile {
		t.Errorf("title round trip: got %v, want %q", m["title"], hostile)
	}
	again, err := ChartHTML(build(hostile))
	if err != nil || again != frag {
		t.Errorf("same chart rendered twice differs (ids must be deterministic)")
	}
	other, err := ChartHTML(build("other"))
	if err != nil {
		t.Fatal(err)
	}
	id := func(s string) string { return s[strings.Index(s, `id="`)+4 : strings.Index(s, `" class`)] }
	if id(other) == id(frag) {
		t.Errorf("two different charts share the element id %s", id(frag))
	}

	// A report chart draws its own option in a container of its height.
	sel, err := analysis.Select(labtest.SmallTable("threshold", [2]string{"a", "b"}), analysis.Options{Baseline: analysis.Point{0}, Weights: spec.DefaultWeights, Agg: "mean", Preset: "default"})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := report.ScoreChart("scores", []*analysis.Selection{sel})
	if err != nil {
		t.Fatal(err)
	}
	rh, err := ChartHTML(rc)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(rc.Option)
	if got, _ := json.Marshal(optionOf(t, rh)); !bytes.Equal(got, want) {
		t.Errorf("report chart drawn with option\n%s\nwant\n%s", got, want)
	}
	if h := fmt.Sprintf("height:%dpx", rc.Height); !strings.Contains(rh, h) {
		t.Errorf("report chart container lacks %q:\n%.300s", h, rh)
	}

	fn := charts.NewLine()
	fn.SetGlobalOptions(charts.WithTooltipOpts(opts.Tooltip{Formatter: opts.FuncOpts("function (p) { return p; }")}))
	if _, err := ChartHTML(fn); err == nil || !strings.Contains(err.Error(), "JavaScript function") {
		t.Errorf("chart with a JS function: err = %v, want a JavaScript function error", err)
	}
}

func TestEChartsHTML(t *testing.T) {
	h, err := EChartsHTML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "<script") || !strings.Contains(h, report.EChartsJS()) || len(h) < 100_000 {
		t.Errorf("EChartsHTML: not the inlined library (%d bytes, starts %.40q)", len(h), h)
	}
}

func TestPrintRowsAndChoices(t *testing.T) {
	tab := labtest.SmallTable("threshold", [2]string{"a", "b"})
	sel, err := analysis.Select(tab, analysis.Options{Baseline: analysis.Point{0}, Weights: spec.DefaultWeights, Agg: "mean", Preset: "default"})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := PrintRows(&b, sel); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != len(sel.Rows)+1 {
		t.Fatalf("PrintRows wrote %d lines, want %d:\n%s", len(lines), len(sel.Rows)+1, b.String())
	}
	for i, r := range sel.Rows {
		f := strings.Fields(lines[i])
		if f[0] != "ROW" || f[1] != "threshold="+r.Point.String() || f[2] != "runs="+strconv.Itoa(r.Runs) {
			t.Errorf("line %d = %q", i, lines[i])
			continue
		}
		want := []float64{r.Ratios.Request, r.Ratios.RequestExecNorm, r.Ratios.Prefill, r.Ratios.PrefillExecNorm, r.Ratios.Decode, r.Score}
		for k, kv := range f[3:] {
			_, v, _ := strings.Cut(kv, "=")
			got, err := strconv.ParseFloat(v, 64)
			if err != nil || got != want[k] {
				t.Errorf("line %d field %q reads back as %v, want exactly %v", i, kv, got, want[k])
			}
		}
	}
	if want := "RECOMMENDED threshold=" + sel.Recommended().String(); lines[len(lines)-1] != want {
		t.Errorf("last line %q, want %q", lines[len(lines)-1], want)
	}
	// Point 1 is 10% and 15% below the baseline: it wins.
	if sel.Recommended().String() != "1" {
		t.Errorf("recommended %s, want 1", sel.Recommended())
	}

	sels, err := analysis.SelectAll(tab, []spec.Preset{{Name: "p", Weights: spec.DefaultWeights}}, analysis.Point{0})
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if err := PrintChoices(&b, sels); err != nil {
		t.Fatal(err)
	}
	want := "CHOICE p mean threshold=1\nCHOICE p median threshold=1\nCHOICE p p90 threshold=1\nCHOICE p max threshold=1\n"
	if b.String() != want {
		t.Errorf("PrintChoices:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestFrames(t *testing.T) {
	tab := labtest.SmallTable("threshold", [2]string{"a", "b"})
	sel, err := analysis.Select(tab, analysis.Options{Baseline: analysis.Point{0}, Weights: spec.DefaultWeights, Agg: "max", Preset: "default"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		df         dataframe.DataFrame
		rows, cols int
		first      []string
	}{
		// 5 present cells; repeat, threshold, 5 metrics, requests.
		{"summary", SummaryFrame(tab), 5, 8, []string{"repeat", "threshold", "request_p95"}},
		// 5 present cells; repeat, threshold, baseline, 5 ratios, score.
		{"ratios", RatioFrame(sel), 5, 9, []string{"repeat", "threshold", "baseline", "request_ratio"}},
		// 3 points; threshold, runs, 5 ratios, score, chosen.
		{"selection", SelectionFrame(sel), 3, 9, []string{"threshold", "runs", "request_ratio"}},
		// 3 points + the choice row; label and one score column.
		{"scores", ScoresFrame([]*analysis.Selection{sel}), 4, 2, []string{"threshold", "score(default/max)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.df.Err != nil {
				t.Fatal(tc.df.Err)
			}
			r, c := tc.df.Dims()
			if r != tc.rows || c != tc.cols {
				t.Errorf("dims %d×%d, want %d×%d\n%v", r, c, tc.rows, tc.cols, tc.df)
			}
			names := tc.df.Names()
			for i, n := range tc.first {
				if names[i] != n {
					t.Errorf("column %d = %q, want %q (columns %v)", i, names[i], n, names)
				}
			}
		})
	}
	rf := RatioFrame(sel)
	for i, v := range rf.Col("request_ratio").Float() {
		if rf.Col("threshold").Float()[i] == 0 && v != 1 {
			t.Errorf("baseline row %d has request_ratio %v, want 1", i, v)
		}
	}
	chosen := SelectionFrame(sel).Col("chosen").Records()
	if chosen[sel.Best] != "*" || strings.Count(strings.Join(chosen, ""), "*") != 1 {
		t.Errorf("chosen column %q, want one * at row %d", chosen, sel.Best)
	}
}

func TestFrameHTML(t *testing.T) {
	df := dataframe.New(
		series.New([]string{"<b>", "x&y"}, series.String, "name<"),
		series.New([]float64{math.NaN(), 1.0 / 3}, series.Float, "v"),
	)
	h := FrameHTML(df, "a <caption>")
	for _, want := range []string{"&lt;b&gt;", "x&amp;y", "name&lt;", "a &lt;caption&gt;", "0.333333", `<td style="padding:2px 8px;white-space:nowrap;text-align:right"></td>`} {
		if !strings.Contains(h, want) {
			t.Errorf("FrameHTML lacks %q:\n%s", want, h)
		}
	}
	if strings.Contains(h, "NaN") || strings.Contains(h, "<b>") {
		t.Errorf("FrameHTML shows NaN or unescaped HTML:\n%s", h)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestImportLegacy checks that a legacy tree imported into a store selects
// exactly as the tree read directly (what notebook 03 shows).
func TestImportLegacy(t *testing.T) {
	tree := filepath.Join("..", "..", "testdata", "legacy", "trees", "unsorted_extra")
	direct, err := legacy.LoadTable(tree)
	if err != nil {
		t.Fatal(err)
	}
	want, err := analysis.Select(direct, analysis.Options{Baseline: analysis.Point{0}, Weights: spec.DefaultWeights, Agg: "mean"})
	if err != nil {
		t.Fatal(err)
	}
	storeDir := t.TempDir()
	x, res, text, err := ImportLegacy(context.Background(), tree, storeDir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(text, []byte("name: unsorted_extra")) {
		t.Errorf("spec text:\n%s", text)
	}
	if res.Imported != 8 || len(res.Skipped) == 0 {
		t.Errorf("import: %d cells imported, skipped %q; want 8 (2 repeats × 4 thresholds) and the skipped folders", res.Imported, res.Skipped)
	}
	a, err := x.Analyze(experiment.AnalyzeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := a.Headline
	if got.Agg != "mean" || len(got.Rows) != len(want.Rows) {
		t.Fatalf("imported headline %s with %d rows, want mean with %d", got.Agg, len(got.Rows), len(want.Rows))
	}
	for i := range want.Rows {
		g, w := got.Rows[i], want.Rows[i]
		if g.Point.Compare(w.Point) != 0 || g.Runs != w.Runs || g.Ratios != w.Ratios || g.Score != w.Score {
			t.Errorf("row %d: imported %+v, direct %+v", i, g, w)
		}
	}
	// Importing again finds every cell present.
	_, again, _, err := ImportLegacy(context.Background(), tree, storeDir)
	if err != nil || again.Imported != 0 || again.Present != 8 {
		t.Errorf("second import: %+v, %v; want 0 imported, 8 present", again, err)
	}
}
