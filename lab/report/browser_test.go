package report

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium, which .ci/setup installs.
const chromiumPath = "/usr/bin/chromium"

// chartState is what the page reports about one chart container.
type chartState struct {
	ID string `json:"id"`
	// Canvas is false when the container holds no canvas.
	Canvas bool `json:"canvas"`
	Width  int  `json:"width"`
	Height int  `json:"height"`
	// Painted counts the canvas's non-transparent pixels (sampled), so a
	// canvas that exists but stayed blank is caught.
	Painted int `json:"painted"`
	// Series is the number of series echarts holds for the chart.
	Series int `json:"series"`
}

// browserResult is what opening a report in chromium showed.
type browserResult struct {
	Charts     []chartState
	Screenshot string // path of the full-page PNG
	// Problems are console errors and warnings, uncaught exceptions,
	// browser log errors and requests for anything but local files.
	Problems []string
}

// chartsProbe runs in the page: for every .chart container, its canvas,
// size, a pixel count and the number of series echarts drew.
const chartsProbe = `(() => Array.from(document.querySelectorAll('div.chart')).map(el => {
  const c = el.querySelector('canvas');
  const inst = echarts.getInstanceByDom(el);
  const opt = inst ? inst.getOption() : null;
  let painted = 0;
  if (c && c.width > 0 && c.height > 0) {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < d.length; i += 4 * 7) { if (d[i] !== 0) painted++; }
  }
  return {id: el.id, canvas: !!c, width: c ? c.width : 0, height: c ? c.height : 0,
          painted: painted, series: opt && opt.series ? opt.series.length : 0};
}))()`

// outputDir is where a test leaves files for people to look at:
// $TEST_OUTPUT/<test name> when set (CI keeps it), else the test's artifact
// directory (kept with go test -artifacts).
func outputDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("TEST_OUTPUT"); d != "" {
		dir := filepath.Join(d, strings.ReplaceAll(t.Name(), "/", "_"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.ArtifactDir()
}

// openInBrowser opens the HTML file at path in a headless chromium with no
// network, collects every console error, uncaught exception, browser log
// error and request for anything but a local file, reads what the page
// reports about its charts and saves a full-page screenshot.
func openInBrowser(t *testing.T, path string) browserResult {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found (run .ci/setup): the browser test must run in CI", chromiumPath)
		}
		t.Skipf("%s not found: install Debian's chromium (.ci/setup does) to run the browser test", chromiumPath)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	pageURL := (&url.URL{Scheme: "file", Path: abs}).String()

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// No network: every host name fails to resolve and anything that
		// still tries goes to a closed local port. The listener below
		// fails the test on any such request, whether it succeeded or not.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"),
		chromedp.Flag("proxy-server", "127.0.0.1:9"),
		chromedp.WindowSize(1280, 1000),
	)
	defer acancel()

	var mu sync.Mutex
	var problems []string
	report := func(format string, a ...any) {
		mu.Lock()
		problems = append(problems, fmt.Sprintf(format, a...))
		mu.Unlock()
	}
	tctx, tcancel := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			u := ev.Request.URL
			if !strings.HasPrefix(u, "file:") && !strings.HasPrefix(u, "data:") {
				report("the page requested %s", u)
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert ||
				ev.Type == runtime.ConsoleAPICalledTypeWarning {
				var parts []string
				for _, a := range ev.Args {
					var v any
					if len(a.Value) > 0 && json.Unmarshal(a.Value, &v) == nil {
						parts = append(parts, fmt.Sprint(v))
					} else {
						parts = append(parts, a.Description)
					}
				}
				report("console.%s: %s", ev.Type, strings.Join(parts, " "))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			report("uncaught exception at %d:%d: %s", d.LineNumber+1, d.ColumnNumber+1, msg)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				report("browser log error (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		}
	}))
	defer tcancel()

	if err := chromedp.Do(tctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("opening %s in chromium: %v", pageURL, err)
	}
	// echarts draws on the next animation frame; wait until every
	// container has a canvas, then a little longer for the paint.
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](
		`Array.from(document.querySelectorAll("div.chart")).every(el => el.querySelector("canvas"))`, chromedp.WithPollingTimeout(30*time.Second),
	)); err != nil {
		t.Fatalf("waiting for the charts' canvases: %v", err)
	}
	raw, err := chromedp.Run(tctx, chromedp.Evaluate[[]byte](`new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(`+chartsProbe+`))))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("probing the charts: %v", err)
	}
	var res browserResult
	if err := json.Unmarshal(raw, &res.Charts); err != nil {
		t.Fatalf("decoding the chart probe %s: %v", raw, err)
	}
	png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	res.Screenshot = filepath.Join(outputDir(t), "report.png")
	if err := os.WriteFile(res.Screenshot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", res.Screenshot)

	tcancel()
	mu.Lock()
	defer mu.Unlock()
	res.Problems = append([]string(nil), problems...)
	return res
}

// checkClean fails the test for every problem the page showed.
func checkClean(t *testing.T, res browserResult) {
	t.Helper()
	for _, p := range res.Problems {
		t.Errorf("in the browser: %s", p)
	}
}

// checkCharts fails the test unless every chart container holds a painted
// canvas of non-zero size with at least one series, and there are want
// charts (want < 0: any number but zero).
func checkCharts(t *testing.T, res browserResult, want int) {
	t.Helper()
	if len(res.Charts) == 0 || (want >= 0 && len(res.Charts) != want) {
		t.Errorf("page has %d chart containers, want %d", len(res.Charts), want)
	}
	for _, c := range res.Charts {
		switch {
		case !c.Canvas:
			t.Errorf("chart %s: no canvas in its container", c.ID)
		case c.Width == 0 || c.Height == 0:
			t.Errorf("chart %s: canvas is %d×%d", c.ID, c.Width, c.Height)
		case c.Painted < 200:
			t.Errorf("chart %s: canvas is (nearly) blank: %d sampled pixels painted", c.ID, c.Painted)
		case c.Series == 0:
			t.Errorf("chart %s: echarts holds no series", c.ID)
		}
	}
}

// TestChartBuildersInBrowser renders one chart of each builder in a page
// and checks it in chromium, independently of any experiment data.
func TestChartBuildersInBrowser(t *testing.T) {
	labels := []string{"0", "1", "2", "3"}
	nan := func() float64 { var z float64; return z / z }()
	p := &page{Title: "builders", Subtitle: "test page"}
	s := &section{ID: "s", Title: "Charts"}
	s.add(block{Chart: lineChart("c-line", frame{Title: "Line", Subtitle: "two series, one gap", XName: "x (unit)", YName: "y (s)", Legend: true}, labels, []lineSeries{
		{Name: "a", Y: []float64{1, 1.1, nan, 0.9}, HLines: []hline{{Label: "baseline", Y: 1}}, Marks: []mark{{Label: "min", X: "3", Y: 0.9}}},
		{Name: "b", Y: []float64{1, 0.95, 0.97, 1.02}, Dashed: true},
	})})
	s.add(block{Chart: boxChart("c-box", frame{Title: "Box", XName: "x", YName: "y (s)", Legend: true}, labels,
		[][5]float64{{1, 2, 3, 4, 5}, {2, 3, 4, 5, 6}, {nan, nan, nan, nan, nan}, {1, 1, 1, 1, 1}},
		[][]float64{{1, 2, nan, 1}, {5, 6, nan, 1}}, []string{"r0", "r1"})})
	s.add(block{Chart: xyLineChart("c-xy", frame{Title: "XY", XName: "seconds per token (s)", YName: "fraction", YMin: 0, LogX: true, Legend: true}, [][]float64{{1e-5, 2e-5, 3e-3}, {2e-5, 2e-5}},
		[]lineSeries{{Name: "cdf", Y: []float64{0, 0.5, 1}, Symbol: "none"}, {Name: "median", Y: []float64{0, 1}, Dashed: true, Symbol: "none"}})})
	s.add(block{Table: &table{Header: []string{"a", "b"}, Rows: [][]string{{"1", "2"}}, Mark: []bool{true}, Num: []bool{false, true}}})
	p.Sections = []*section{s}
	path := filepath.Join(t.TempDir(), "index.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.render(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	res := openInBrowser(t, path)
	checkClean(t, res)
	checkCharts(t, res, 3)
}

// TestBrowserCheckCatchesProblems shows that the browser harness sees what
// it must reject: a request to another host, a console error, an uncaught
// exception, and a chart container left without a canvas.
func TestBrowserCheckCatchesProblems(t *testing.T) {
	html := `<!DOCTYPE html><html><head><meta charset="utf-8"><title>bad</title></head><body>
<div class="chart" id="empty" style="height:100px"></div>
<img src="http://schedlab-test.invalid/pixel.png" alt="">
<script>var echarts = {getInstanceByDom: function () { return null; }};
console.error("boom");</script>
<script>throw new Error("uncaught on purpose");</script>
<script>setTimeout(function () { var c = document.createElement("canvas"); c.width = 0; c.height = 0; document.getElementById("empty").appendChild(c); }, 50);</script>
</body></html>`
	path := filepath.Join(t.TempDir(), "bad.html")
	if err := os.WriteFile(path, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	res := openInBrowser(t, path)
	joined := strings.Join(res.Problems, "\n")
	for _, want := range []string{"requested http://schedlab-test.invalid/pixel.png", "console.error: boom", "uncaught on purpose"} {
		if !strings.Contains(joined, want) {
			t.Errorf("problems do not mention %q; got:\n%s", want, joined)
		}
	}
	if len(res.Charts) != 1 || res.Charts[0].Width != 0 {
		t.Errorf("chart probe = %+v, want one zero-size canvas", res.Charts)
	}
}
