// Package notebooks_test executes the Go notebooks headless (through
// .ci/notebooks, exactly what `just notebooks` runs) and checks what they
// print against the `lab` command on the same data.
//
// The notebooks print machine-checkable lines beside their tables:
//
//	CHOICE <preset> <aggregation> <param>=<value>      (01: one per preset × aggregation)
//	ROW threshold=<t> runs=<n> request_ratio=<f> …      (03: the old script's table)
//	RECOMMENDED <t>                                     (03)
//
// Floats are printed with strconv's shortest round-trip format, so they are
// compared exactly.
//
// Without Jupyter the tests skip, except under CI=true, where they fail:
// CI must execute the notebooks.
package notebooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// repoRoot is the repository root (this package is notebooks/).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// needJupyter skips the test when Jupyter is not installed, unless CI is
// set, where a missing Jupyter is a failure.
func needJupyter(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("jupyter"); err != nil {
		if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
			t.Fatalf("CI=%s but jupyter is not installed (.ci/setup installs it): %v", ci, err)
		}
		t.Skipf("jupyter not installed (run .ci/setup); set CI=true to make this a failure")
	}
}

// runNotebooks runs .ci/notebooks on the given notebooks (all when none)
// with executed copies written to out; it returns the combined output and
// the exit error.
func runNotebooks(t *testing.T, out string, env []string, nbs ...string) (string, error) {
	t.Helper()
	root := repoRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(root, ".ci", "notebooks"), nbs...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "SCHEDLAB_ROOT="+root, "NOTEBOOKS_OUT="+out)
	cmd.Env = append(cmd.Env, env...)
	var buf bytes.Buffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	err := cmd.Run()
	return buf.String(), err
}

// notebook is the part of an executed .ipynb the tests read.
type notebook struct {
	Cells []struct {
		CellType string `json:"cell_type"`
		Outputs  []struct {
			OutputType string          `json:"output_type"`
			Name       string          `json:"name"`
			Text       json.RawMessage `json:"text"`
		} `json:"outputs"`
	} `json:"cells"`
}

// stdoutLines returns every stdout line printed by the executed notebook.
func stdoutLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var nb notebook
	if err := json.Unmarshal(data, &nb); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var lines []string
	for _, c := range nb.Cells {
		for _, o := range c.Outputs {
			if o.OutputType != "stream" || o.Name != "stdout" {
				continue
			}
			// nbformat stores text as a string or a list of strings.
			var s string
			var parts []string
			if err := json.Unmarshal(o.Text, &parts); err == nil {
				s = strings.Join(parts, "")
			} else if err := json.Unmarshal(o.Text, &s); err != nil {
				t.Fatalf("%s: stream text: %v", path, err)
			}
			lines = append(lines, strings.Split(strings.TrimRight(s, "\n"), "\n")...)
		}
	}
	return lines
}

// withPrefix returns the lines starting with prefix+" ", without it.
func withPrefix(lines []string, prefix string) []string {
	var r []string
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, prefix+" "); ok {
			r = append(r, rest)
		}
	}
	return r
}

// TestHarnessCatchesFailures checks that .ci/notebooks fails on every way a
// GoNB cell can fail — a compile error (an error reply), a panic and a
// failing shell line (both only an "exit status" line on stderr) — and
// passes a notebook that works, so the notebook tests cannot pass vacuously.
func TestHarnessCatchesFailures(t *testing.T) {
	needJupyter(t)
	out := t.TempDir()
	nbs := []string{
		"notebooks/testdata/ok.ipynb",
		"notebooks/testdata/compile-error.ipynb",
		"notebooks/testdata/panic.ipynb",
		"notebooks/testdata/shell-error.ipynb",
	}
	log, err := runNotebooks(t, out, nil, nbs...)
	if err == nil {
		t.Fatalf(".ci/notebooks passed on failing notebooks:\n%s", log)
	}
	m := regexp.MustCompile(`(?m)^notebooks: FAILED: (.*)$`).FindStringSubmatch(log)
	if m == nil {
		t.Fatalf("no FAILED line in the output:\n%s", log)
	}
	got := strings.Fields(m[1])
	sort.Strings(got)
	want := []string{nbs[1], nbs[2], nbs[3]}
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("failed notebooks = %v, want %v\n%s", got, want, log)
	}
	if l := withPrefix(stdoutLines(t, filepath.Join(out, "ok.ipynb")), "SMOKE"); len(l) != 1 || !strings.HasPrefix(l[0], "ok ") {
		t.Errorf("ok.ipynb printed %q, want one SMOKE ok line", l)
	}
	if n := canvases(t, filepath.Join(out, "ok.html")); n != 1 {
		t.Errorf("ok.html draws %d chart canvases in chromium, want 1", n)
	}
}

// canvases opens an HTML file in headless chromium (no network) and counts
// the <canvas> elements the scripts drew: ECharts draws one per chart, so
// this checks that the inlined library loads and the charts render with no
// network (host names do not resolve). It
// returns -1 (and logs) when chromium is not installed outside CI.
func canvases(t *testing.T, html string) int {
	t.Helper()
	if _, err := os.Stat(html); err != nil {
		t.Fatalf("no HTML: %v", err)
	}
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
			t.Fatalf("CI=%s but chromium is not installed: %v", ci, err)
		}
		t.Logf("chromium not installed: charts not checked")
		return -1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--no-first-run", "--host-resolver-rules=MAP * ~NOTFOUND", "--user-data-dir="+t.TempDir(),
		"--virtual-time-budget=5000",
		"--dump-dom", "file://"+html)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom %s: %v\n%s", html, err, stderr.String())
	}
	return bytes.Count(dom, []byte("<canvas"))
}

// buildLab builds the lab command into a temporary directory.
func buildLab(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "lab")
	cmd := exec.Command("go", "build", "-o", bin, "./lab/cmd/lab")
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./lab/cmd/lab: %v\n%s", err, out)
	}
	return bin
}

// labJSON runs the lab command and decodes its JSON output into v.
func labJSON(t *testing.T, bin string, env []string, v any, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("lab %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("lab %s: decoding JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}
