// Package notebook holds the helpers of the Go notebooks under notebooks/
// (GoNB kernel): locate the repository and its store, open an experiment
// (lab/experiment does the work), and lay results out for display as gota
// DataFrames, HTML tables and ECharts charts. A notebook cell is compiled
// as its own small program in a temporary module that replaces
// github.com/schedlab/schedlab with this repository, so it can import the
// public packages (experiment, analysis, report, spec, legacy, notebook)
// but none under lab/internal. Every number comes from the packages the
// lab command calls; this package only lays them out. The lab command
// does not import it, so its binary links neither gota nor x/net/html.
package notebook

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/schedlab/schedlab/lab/experiment"
	"github.com/schedlab/schedlab/lab/report"

	"github.com/schedlab/schedlab/lab/analysis"
	labversion "github.com/schedlab/schedlab/lab/internal/version"
	"github.com/schedlab/schedlab/lab/legacy"
	"github.com/schedlab/schedlab/lab/metrics"
	"github.com/schedlab/schedlab/lab/present"
	"github.com/schedlab/schedlab/lab/spec"
)

// ModulePath is this module's import path; the notebooks' temporary module
// replaces it with the repository on disk.
const ModulePath = "github.com/schedlab/schedlab"

// RootEnv names the environment variable that points notebooks at the
// repository (.ci/notebooks sets it).
const RootEnv = "SCHEDLAB_ROOT"

// Root returns the repository a notebook works in: $SCHEDLAB_ROOT
// when set; else the directory the running program's go.mod replaced this
// module with (a GoNB cell is built against exactly that tree); else the
// nearest directory at or above the working directory whose go.mod declares
// this module. The result is absolute.
func Root() (string, error) {
	if r := os.Getenv(RootEnv); r != "" {
		if err := checkModuleRoot(r); err != nil {
			return "", fmt.Errorf("$%s: %w", RootEnv, err)
		}
		return filepath.Abs(r)
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == ModulePath && d.Replace != nil && filepath.IsAbs(d.Replace.Path) {
				if checkModuleRoot(d.Replace.Path) == nil {
					return d.Replace.Path, nil
				}
			}
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if checkModuleRoot(dir) == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	return "", fmt.Errorf("no %s checkout found: set $%s to the repository root (searched upwards from %s)", ModulePath, RootEnv, wd)
}

// checkModuleRoot reports whether dir/go.mod declares this module.
func checkModuleRoot(dir string) error {
	name := filepath.Join(dir, "go.mod")
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if mod, ok := strings.CutPrefix(line, "module "); ok {
			if strings.Trim(strings.TrimSpace(mod), `"`) == ModulePath {
				return nil
			}
			return fmt.Errorf("%s: module %s, expected %s", name, strings.TrimSpace(mod), ModulePath)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return errors.New(name + ": no module line")
}

// StoreDir is the store a notebook opens: $LAB_STORE when set (as
// for the CLI), else root/.lab — the store `just run` fills when run from
// the repository root, rather than a .lab beside the notebook.
func StoreDir(root string) string {
	if s := os.Getenv("LAB_STORE"); s != "" {
		return s
	}
	return filepath.Join(root, ".lab")
}

// EChartsHTML returns a <script> element holding the Apache ECharts library
// that lab/report vendors and embeds (report.EChartsJS: one copy of it), for
// a notebook to display once, in its first cells: every chart of ChartHTML
// draws with it. Nothing is loaded from the network, so executed notebooks
// and their HTML work offline like the report.
func EChartsHTML() (string, error) {
	js := report.EChartsJS()
	if strings.Contains(js, "</script") {
		return "", fmt.Errorf("lab/report's echarts library holds a </script> tag; cannot inline it")
	}
	var b strings.Builder
	b.WriteString("<script type=\"text/javascript\">\n")
	b.WriteString(js)
	b.WriteString("\n</script>\n<div style=\"color:#666;font-size:small\">Apache ECharts (lab/report/assets) loaded: charts below draw offline.</div>\n")
	return b.String(), nil
}

// Chart is what every go-echarts chart provides (charts.Line, charts.Bar,
// charts.Scatter, charts.BoxPlot …), and so does a report.Chart: the
// notebooks display the report's own charts (report.NormalizationChart,
// AggregationChart, ScoreChart, PromptWeightChart), built once in
// lab/report.
type Chart interface {
	Validate()
	JSON() map[string]any
}

// ChartHTML renders a go-echarts chart as an HTML fragment for a notebook
// output (GoNB's gonbui.DisplayHTML): a <div> and a script that draws the
// chart's option with the ECharts library EChartsHTML loaded. go-echarts'
// own snippet references the library on a CDN and declares page-global
// variables, which clash when a cell runs twice; this draws inside a
// function scope instead. When the library is missing (the first cells not
// run after reopening a notebook) the chart says so rather than failing.
func ChartHTML(c Chart) (string, error) {
	c.Validate()
	opt, err := json.Marshal(c.JSON())
	if err != nil {
		return "", fmt.Errorf("chart option: %w", err)
	}
	if bytes.Contains(opt, []byte("__f__")) {
		// go-echarts marks JavaScript functions this way; they do not survive JSON.
		return "", errors.New("chart option holds a JavaScript function; notebooks draw plain options only")
	}
	// The id comes from the option, so output is deterministic; the same
	// chart displayed twice in one page draws only the first time.
	sum := sha256.Sum256(opt)
	id := "schedlab-chart-" + hex.EncodeToString(sum[:8])
	// A report chart knows the height its legend and subtitle need.
	height := 420
	if rc, ok := c.(*report.Chart); ok && rc.Height > 0 {
		height = rc.Height
	}
	// </ must not end the script early; \u003c keeps the JSON valid.
	optJS := strings.ReplaceAll(string(opt), "</", `\u003c/`)
	return fmt.Sprintf(`<div id="%[1]s" class="schedlab-chart" style="width:100%%;max-width:960px;height:%[4]dpx"></div>
<script type="text/javascript">
(function () {
  var el = document.getElementById(%[2]q);
  if (!el) { return; }
  if (typeof echarts === "undefined") {
    el.style.height = "auto";
    el.textContent = "ECharts is not loaded: run the notebook's first cells (lab.EChartsHTML), then this one.";
    return;
  }
  var chart = echarts.getInstanceByDom(el) || echarts.init(el);
  chart.setOption(%[3]s, true);
  window.addEventListener("resize", function () { chart.resize(); });
})();
</script>
`, id, id, optJS, height), nil
}

// Version is the lab's version, for a notebook to print.
func Version() string { return labversion.String() }

// Open opens the experiment of the spec at specPath (relative to the
// repository root Root finds) on the notebook's store (StoreDir). It runs
// nothing: call RunMissing, or Experiment.Run, to run what the store lacks.
func Open(specPath string) (*experiment.Experiment, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	if !filepath.IsAbs(specPath) {
		specPath = filepath.Join(root, specPath)
	}
	return experiment.Open(specPath, StoreDir(root), experiment.Options{})
}

// RunMissing runs the cells of x the store lacks, as `lab run` does, with
// one job per CPU and progress lines to progress (nil: discarded); a
// complete experiment is only looked up. A failed cell is an error: a
// selection over a partial sweep would differ from the CLI's without
// saying so.
func RunMissing(ctx context.Context, x *experiment.Experiment, progress io.Writer) (*experiment.RunResult, error) {
	if progress == nil {
		progress = io.Discard
	}
	res, err := x.Run(ctx, experiment.RunOptions{Jobs: runtime.GOMAXPROCS(0), Progress: progress})
	if err != nil {
		return nil, fmt.Errorf("running %s: %w", x.Name(), err)
	}
	if res.Failed > 0 {
		return nil, fmt.Errorf("%s: %d of %d cells failed (see `lab status %s --store %s`)", x.Name(), res.Failed, res.Total, x.Name(), x.Store.Root())
	}
	return res, nil
}

// Confirm runs the prompt_weight confirmation at a's decision as `lab run`
// does (the cells the store lacks, as many at once as the machine has
// cores) and returns it.
func Confirm(ctx context.Context, x *experiment.Experiment, a *experiment.Analysis) (*experiment.Confirmation, error) {
	return x.Confirm(ctx, a, experiment.ConfirmOptions{Run: true, RunOptions: experiment.RunOptions{Jobs: runtime.GOMAXPROCS(0)}})
}

// PrintChoices writes one machine-checkable line per selection:
// "CHOICE <preset> <aggregation> <param>=<value>" (the notebook tests
// compare them with `lab select SPEC --json`).
func PrintChoices(w io.Writer, sels []*analysis.Selection) error {
	for _, s := range sels {
		if _, err := fmt.Fprintf(w, "CHOICE %s %s %s=%s\n", s.Preset, s.Agg, s.Param, s.Recommended()); err != nil {
			return err
		}
	}
	return nil
}

// PrintRows writes one machine-checkable line per row of sel, every number
// in its shortest exact form: "ROW <param>=<value> runs=<n>
// request_ratio=<f> request_exec_norm_ratio=<f> prefill_ratio=<f>
// prefill_exec_norm_ratio=<f> decode_ratio=<f> score=<f>", then
// "RECOMMENDED <param>=<value>".
func PrintRows(w io.Writer, sel *analysis.Selection) error {
	g := present.Exact
	for _, r := range sel.Rows {
		q := r.Ratios
		if _, err := fmt.Fprintf(w, "ROW %s=%s runs=%d request_ratio=%s request_exec_norm_ratio=%s prefill_ratio=%s prefill_exec_norm_ratio=%s decode_ratio=%s score=%s\n",
			sel.Param, r.Point, r.Runs, g(q.Request), g(q.RequestExecNorm), g(q.Prefill), g(q.PrefillExecNorm), g(q.Decode), g(r.Score)); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "RECOMMENDED %s=%s\n", sel.Param, sel.Recommended())
	return err
}

// pointColumns returns one float column per swept parameter.
func pointColumns(params []string, points []analysis.Point) []series.Series {
	cols := make([]series.Series, len(params))
	for i, name := range params {
		v := make([]float64, len(points))
		for j, p := range points {
			v[j] = p[i]
		}
		cols[i] = series.New(v, series.Float, name)
	}
	return cols
}

// SummaryFrame is the per-cell summaries of t as a DataFrame: one row per
// repeat × point with results (step 1 of the selection), columns repeat,
// the swept parameters, the five summary metrics and the request count.
func SummaryFrame(t *analysis.Table) dataframe.DataFrame {
	var repeats []string
	var points []analysis.Point
	var vals [5][]float64
	var requests []int
	for r, row := range t.Cells {
		for p, c := range row {
			if !c.Present {
				continue
			}
			repeats = append(repeats, t.Repeats[r])
			points = append(points, t.Points[p])
			s := c.Summary
			for k, v := range s.Values() {
				vals[k] = append(vals[k], v)
			}
			requests = append(requests, s.Requests)
		}
	}
	cols := []series.Series{series.New(repeats, series.String, "repeat")}
	cols = append(cols, pointColumns(t.Params, points)...)
	for k, m := range metrics.All {
		cols = append(cols, series.New(vals[k], series.Float, m.Summary))
	}
	cols = append(cols, series.New(requests, series.Int, "requests"))
	return dataframe.New(cols...)
}

// RatioFrame is the normalization step of sel as a DataFrame: one row per
// repeat × point, the point's five metrics divided by that repeat's
// baseline, and the repeat's own score.
func RatioFrame(sel *analysis.Selection) dataframe.DataFrame {
	var repeats, baselines []string
	var points []analysis.Point
	var vals [5][]float64
	var scores []float64
	for r, name := range sel.Repeats {
		for _, row := range sel.Rows {
			pr := row.PerRepeat[r]
			if !pr.Present {
				continue
			}
			repeats = append(repeats, name)
			baselines = append(baselines, sel.RepeatBaselines[r].String())
			points = append(points, row.Point)
			for k, v := range pr.Ratios.Values() {
				vals[k] = append(vals[k], v)
			}
			scores = append(scores, pr.Score)
		}
	}
	cols := []series.Series{series.New(repeats, series.String, "repeat")}
	cols = append(cols, pointColumns(sel.Params, points)...)
	cols = append(cols, series.New(baselines, series.String, "baseline"))
	for k, m := range metrics.All {
		cols = append(cols, series.New(vals[k], series.Float, m.Ratio()))
	}
	cols = append(cols, series.New(scores, series.Float, "score"))
	return dataframe.New(cols...)
}

// SelectionFrame is sel's result table (the old script's columns): per
// point the number of runs, the aggregated ratios and the score, with the
// chosen point marked.
func SelectionFrame(sel *analysis.Selection) dataframe.DataFrame {
	points := make([]analysis.Point, len(sel.Rows))
	runs := make([]int, len(sel.Rows))
	var vals [5][]float64
	scores := make([]float64, len(sel.Rows))
	chosen := make([]string, len(sel.Rows))
	for i, r := range sel.Rows {
		points[i], runs[i], scores[i] = r.Point, r.Runs, r.Score
		for k, v := range r.Ratios.Values() {
			vals[k] = append(vals[k], v)
		}
		if i == sel.Best {
			chosen[i] = "*"
		}
	}
	cols := pointColumns(sel.Params, points)
	cols = append(cols, series.New(runs, series.Int, "runs"))
	for k, m := range metrics.All {
		cols = append(cols, series.New(vals[k], series.Float, m.Ratio()))
	}
	cols = append(cols, series.New(scores, series.Float, "score"), series.New(chosen, series.String, "chosen"))
	return dataframe.New(cols...)
}

// ScoresFrame puts the scores of several selections of one table side by
// side: per point one column "score(<preset>/<agg>)" each, and a last row
// "choice" naming each one's chosen point.
func ScoresFrame(sels []*analysis.Selection) dataframe.DataFrame {
	if len(sels) == 0 {
		return dataframe.New()
	}
	rows := sels[0].Rows
	labels := make([]string, len(rows)+1)
	for i, r := range rows {
		labels[i] = r.Point.String()
	}
	labels[len(rows)] = "choice"
	cols := []series.Series{series.New(labels, series.String, sels[0].Param)}
	for _, s := range sels {
		// Rows are matched by point, so selections over different tables
		// line up (a point a selection lacks shows empty), never panic.
		score := map[string]string{}
		for i, r := range s.Rows {
			score[r.Point.String()] = present.Fixed(r.Score, 6)
			if i == s.Best {
				score[r.Point.String()] += " *"
			}
		}
		v := make([]string, len(rows)+1)
		for i := range rows {
			v[i] = score[labels[i]]
		}
		v[len(rows)] = s.Recommended().String()
		cols = append(cols, series.New(v, series.String, "score("+s.Preset+"/"+s.Agg+")"))
	}
	return dataframe.New(cols...)
}

// SignificanceFrame is the comparison of every point with the baseline:
// pairs, score ratio with its interval, Holm-adjusted p, verdict and how
// often the point wins under resampling.
func SignificanceFrame(sel *analysis.Selection, sig *analysis.Significance) dataframe.DataFrame {
	n := len(sig.Points)
	points := make([]analysis.Point, n)
	pairs := make([]int, n)
	ratio, lo, hi, p, win := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	verdicts := make([]string, n)
	for i, ps := range sig.Points {
		points[i], pairs[i] = ps.Point, ps.Pairs
		ratio[i], lo[i], hi[i], p[i], win[i] = ps.ScoreRatio, ps.ScoreCI[0], ps.ScoreCI[1], ps.P, ps.WinProbability
		verdicts[i] = string(ps.Verdict)
		if ps.Baseline {
			verdicts[i] = "baseline"
		}
	}
	cols := pointColumns(sel.Params, points)
	cols = append(cols,
		series.New(pairs, series.Int, "pairs"),
		series.New(ratio, series.Float, "score_ratio"),
		series.New(lo, series.Float, "ci_low"),
		series.New(hi, series.Float, "ci_high"),
		series.New(p, series.Float, "p_holm"),
		series.New(verdicts, series.String, "verdict"),
		series.New(win, series.Float, "win_probability"))
	return dataframe.New(cols...)
}

// FrameHTML renders a DataFrame as an HTML table with every row (gota's
// String() shows only the first ten), floats with six significant digits,
// NaN as an empty cell, cells on one line ("repeat 0" did wrap); a long or
// wide table scrolls inside a box.
func FrameHTML(df dataframe.DataFrame, caption string) string {
	var b strings.Builder
	b.WriteString(`<div style="max-height:480px;overflow:auto">`)
	b.WriteString(`<table class="schedlab-frame" style="border-collapse:collapse;font-family:monospace;font-size:12px">`)
	if caption != "" {
		fmt.Fprintf(&b, `<caption style="text-align:left;font-weight:bold;padding:4px 0">%s</caption>`, html.EscapeString(caption))
	}
	names := df.Names()
	b.WriteString("<thead><tr>")
	for _, n := range names {
		fmt.Fprintf(&b, `<th style="padding:2px 8px;white-space:nowrap;border-bottom:1px solid #999;text-align:right">%s</th>`, html.EscapeString(n))
	}
	b.WriteString("</tr></thead><tbody>")
	cells := make([][]string, len(names))
	for j, n := range names {
		s := df.Col(n)
		if s.Type() == series.Float {
			for _, v := range s.Float() {
				if math.IsNaN(v) {
					cells[j] = append(cells[j], "")
				} else {
					cells[j] = append(cells[j], present.Num(v))
				}
			}
		} else {
			cells[j] = s.Records()
		}
	}
	rows, _ := df.Dims()
	for i := 0; i < rows; i++ {
		b.WriteString("<tr>")
		for j := range names {
			fmt.Fprintf(&b, `<td style="padding:2px 8px;white-space:nowrap;text-align:right">%s</td>`, html.EscapeString(cells[j][i]))
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table></div>\n")
	return b.String()
}

// PromptWeightFrame lays out a prompt_weight derivation: per statistic the
// seconds per prefill token with its 95% interval and the AGING
// weights in both conventions (time_weight = 1, prompt_weight = −s; and
// time_weight = 1/s, prompt_weight = −1), then the engine default.
func PromptWeightFrame(r *analysis.PromptWeightResult) dataframe.DataFrame {
	n := len(r.Stats) + 1
	stat := make([]string, n)
	sec, lo, hi := make([]float64, n), make([]float64, n), make([]float64, n)
	tw1pw, tw1tw, pw1tw, pw1pw := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i, s := range r.Stats {
		stat[i], sec[i], lo[i], hi[i] = s.Stat, s.Seconds, s.CI95[0], s.CI95[1]
		tw1tw[i], tw1pw[i] = s.TimeWeightOne.TimeWeight, s.TimeWeightOne.PromptWeight
		pw1tw[i], pw1pw[i] = s.PromptWeightOne.TimeWeight, s.PromptWeightOne.PromptWeight
	}
	i := n - 1
	stat[i] = "engine default"
	ds := r.Default.SecondsPerToken()
	dtw1, dpw1 := analysis.WeightingsFor(ds)
	sec[i], lo[i], hi[i] = ds, math.NaN(), math.NaN()
	tw1tw[i], tw1pw[i] = dtw1.TimeWeight, dtw1.PromptWeight
	pw1tw[i], pw1pw[i] = dpw1.TimeWeight, dpw1.PromptWeight
	return dataframe.New(
		series.New(stat, series.String, "statistic"),
		series.New(sec, series.Float, "seconds_per_token"),
		series.New(lo, series.Float, "ci95_low"),
		series.New(hi, series.Float, "ci95_high"),
		series.New(tw1tw, series.Float, "time_weight (A)"),
		series.New(tw1pw, series.Float, "prompt_weight (A)"),
		series.New(pw1tw, series.Float, "time_weight (B)"),
		series.New(pw1pw, series.Float, "prompt_weight (B)"),
	)
}

// ImportLegacy does what `lab import DIR --store storeDir` does — scan the
// legacy threshold_output tree (legacy.Scan), describe it as an experiment
// (experiment.LegacySpecYAML) and commit one cell per complete (repeat,
// threshold) folder (Experiment.ImportLegacy) — without writing the spec
// file. It returns the opened experiment and the spec text, for display.
func ImportLegacy(ctx context.Context, dir, storeDir string) (*experiment.Experiment, *experiment.ImportResult, []byte, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	tree, err := legacy.Scan(abs)
	if err != nil {
		return nil, nil, nil, err
	}
	name := experiment.LegacySpecName(filepath.Base(abs))
	text := experiment.LegacySpecYAML(tree, name, abs)
	// The spec is not written; its path only names it in messages.
	s, err := spec.Parse(filepath.Join(storeDir, name+".yaml"), text)
	if err != nil {
		return nil, nil, nil, err
	}
	x, err := experiment.OpenSpec(s, storeDir, experiment.Options{})
	if err != nil {
		return nil, nil, nil, err
	}
	res, err := x.ImportLegacy(ctx, tree)
	if err != nil {
		return nil, nil, nil, err
	}
	return x, res, text, nil
}
