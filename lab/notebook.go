package lab

// Helpers for the Go notebooks under notebooks/ (GoNB kernel). A notebook
// cell is compiled as its own small program in a temporary module that
// replaces github.com/schedlab/schedlab with this repository, so these
// helpers only locate the repository and its store and lay out results for
// display; every number comes from the same packages the CLI calls.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// ModulePath is this module's import path; the notebooks' temporary module
// replaces it with the repository on disk.
const ModulePath = "github.com/schedlab/schedlab"

// RootEnv names the environment variable that points notebooks at the
// repository (.ci/notebooks sets it).
const RootEnv = "SCHEDLAB_ROOT"

// NotebookRoot returns the repository a notebook works in: $SCHEDLAB_ROOT
// when set; else the directory the running program's go.mod replaced this
// module with (a GoNB cell is built against exactly that tree); else the
// nearest directory at or above the working directory whose go.mod declares
// this module. The result is absolute.
func NotebookRoot() (string, error) {
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

// NotebookStoreDir is the store a notebook opens: $LAB_STORE when set (as
// for the CLI), else root/.lab — the store `just run` fills when run from
// the repository root, rather than a .lab beside the notebook.
func NotebookStoreDir(root string) string {
	if s := os.Getenv("LAB_STORE"); s != "" {
		return s
	}
	return filepath.Join(root, ".lab")
}

// EChartsHTML returns a <script> element holding the Apache ECharts library
// that lab/report vendors (lab/report/assets/echarts.min.js, read from the
// checkout at root so there is one copy of it), for a notebook to display
// once, in its first cells: every chart of ChartHTML draws with it. Nothing
// is loaded from the network, so executed notebooks and their HTML work
// offline like the report.
func EChartsHTML(root string) (string, error) {
	name := filepath.Join(root, "lab", "report", "assets", "echarts.min.js")
	js, err := os.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("echarts library: %w", err)
	}
	if bytes.Contains(js, []byte("</script")) {
		return "", fmt.Errorf("%s: holds a </script> tag; cannot inline it", name)
	}
	var b strings.Builder
	b.WriteString("<script type=\"text/javascript\">\n")
	b.Write(js)
	b.WriteString("\n</script>\n<div style=\"color:#666;font-size:small\">Apache ECharts (lab/report/assets) loaded: charts below draw offline.</div>\n")
	return b.String(), nil
}

// Chart is what every go-echarts chart provides (charts.Line, charts.Bar,
// charts.Scatter, charts.BoxPlot …).
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
	// </ must not end the script early; \u003c keeps the JSON valid.
	optJS := strings.ReplaceAll(string(opt), "</", `\u003c/`)
	return fmt.Sprintf(`<div id="%[1]s" class="schedlab-chart" style="width:100%%;max-width:960px;height:420px"></div>
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
`, id, id, optJS), nil
}
