// Package notebooks_test executes the Go notebooks headless (through
// .ci/notebooks, exactly what `just notebooks` runs) and checks what they
// print against the `lab` command on the same data.
//
// The notebooks print machine-checkable lines beside their tables:
//
//	CHOICE <preset> <aggregation> <param>=<value>      (01: one per preset × aggregation)
//	DECISION <change|keep> <param>=<value>             (01: the decision)
//	PROMPT_WEIGHT <stat> <param>=<value> …             (02: at the decided point)
//	CONFIRM <change|keep> prompt_weight=<value>        (02: the confirmation's decision)
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
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
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
	// The notebook's module resolves dependencies at go.mod's versions.
	cmd := exec.Command("go", "list", "-m", "github.com/go-gota/gota", "github.com/go-echarts/go-echarts/v2",
		"github.com/janpfeifer/gonb", "gonum.org/v1/gonum")
	cmd.Dir = repoRoot(t)
	mods, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	want = strings.Split(strings.TrimSpace(string(mods)), "\n")
	if got := withPrefix(stdoutLines(t, filepath.Join(out, "ok.ipynb")), "MODULE"); !slices.Equal(got, want) {
		t.Errorf("notebook module versions %q, want go.mod's %q", got, want)
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

// The experiments and the legacy tree the notebooks read (the tests compare
// the notebooks with `lab select` on the same data).
const (
	thresholdSpec = "experiments/min-chunk-threshold.yaml"
	promptSpec    = "experiments/prompt-weight.yaml"
	legacyTree    = "testdata/legacy/trees/unsorted_extra"
)

// selectJSON is the part of `lab select SPEC --json` the tests compare.
type selectJSON struct {
	Param string `json:"param"`
	// Conclusion is the headline selection's significance verdict,
	// Robustness whether the choice changes across presets × aggregations.
	Conclusion  string          `json:"conclusion"`
	Robustness  string          `json:"robustness"`
	Preset      string          `json:"preset"`
	Aggregation string          `json:"aggregation"`
	Recommended json.RawMessage `json:"recommended"`
	Selections  []selectionJSON `json:"selections"`
	Decision    struct {
		Verdict string          `json:"verdict"`
		Point   json.RawMessage `json:"point"`
	} `json:"decision"`
	Confirmation *struct {
		Decision struct {
			Verdict string    `json:"verdict"`
			Point   []float64 `json:"point"`
		} `json:"decision"`
	} `json:"prompt_weight_confirmation"`
	PromptWeight *struct {
		Stats []struct {
			Stat          string  `json:"stat"`
			Seconds       float64 `json:"seconds_per_token"`
			TimeWeightOne struct {
				PromptWeight float64 `json:"prompt_weight"`
			} `json:"time_weight_one"`
			PromptWeightOne struct {
				TimeWeight float64 `json:"time_weight"`
			} `json:"prompt_weight_minus_one"`
		} `json:"stats"`
	} `json:"prompt_weight"`
}

type selectionJSON struct {
	Preset      string          `json:"preset"`
	Param       string          `json:"param"`
	RunAgg      string          `json:"run_agg"`
	Recommended json.RawMessage `json:"recommended"`
	Thresholds  []struct {
		Threshold       json.RawMessage `json:"threshold"`
		Runs            int             `json:"runs"`
		Request         float64         `json:"request_ratio"`
		RequestExecNorm float64         `json:"request_exec_norm_ratio"`
		Prefill         float64         `json:"prefill_ratio"`
		PrefillExecNorm float64         `json:"prefill_exec_norm_ratio"`
		Decode          float64         `json:"decode_ratio"`
		Score           float64         `json:"score"`
	} `json:"thresholds"`
}

// g formats a float as the notebooks print it (shortest exact form).
func g(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// point formats a JSON point (a number for one parameter) as the
// notebooks print it.
func point(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("point %s: want a number: %v", raw, err)
	}
	return g(v)
}

// TestNotebooks executes every notebook (as `just notebooks` does) with a
// fresh store, so notebook 01 runs the default experiment itself, and
// compares what they print with the lab command on the same store and tree.
func TestNotebooks(t *testing.T) {
	needJupyter(t)
	if testing.Short() {
		t.Skip("executes every notebook and runs the default experiment: skipped with -short")
	}
	root := repoRoot(t)
	out := t.TempDir()
	storeDir := t.TempDir()
	env := []string{"LAB_STORE=" + storeDir}
	log, err := runNotebooks(t, out, env)
	if err != nil {
		t.Fatalf(".ci/notebooks: %v\n%s", err, log)
	}
	lab := buildLab(t)
	nbs, err := filepath.Glob(filepath.Join(root, "notebooks", "*.ipynb"))
	if err != nil || len(nbs) == 0 {
		t.Fatalf("no notebooks: %v", err)
	}
	for _, nb := range nbs {
		name := strings.TrimSuffix(filepath.Base(nb), ".ipynb")
		html := filepath.Join(out, name+".html")
		t.Run(name+"/charts", func(t *testing.T) {
			data, err := os.ReadFile(html)
			if err != nil {
				t.Fatal(err)
			}
			want := bytes.Count(data, []byte(`<div id="schedlab-chart-`))
			if want == 0 {
				t.Fatalf("%s shows no chart", name)
			}
			if got := canvases(t, html); got >= 0 && got != want {
				t.Errorf("%s: %d charts drawn in chromium, want %d", name, got, want)
			}
		})
	}

	t.Run("01-choices", func(t *testing.T) {
		lines := stdoutLines(t, filepath.Join(out, "01-min-chunk-threshold.ipynb"))
		var j selectJSON
		labJSON(t, lab, env, &j, "select", thresholdSpec, "--json", "--store", storeDir)
		var want []string
		for _, s := range j.Selections {
			want = append(want, fmt.Sprintf("%s %s %s=%s", s.Preset, s.RunAgg, s.Param, point(t, s.Recommended)))
		}
		if got := withPrefix(lines, "CHOICE"); !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("notebook 01 CHOICE lines:\n%s\nlab select --json:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		head := fmt.Sprintf("%s %s %s=%s", j.Preset, j.Aggregation, j.Param, point(t, j.Recommended))
		if got := withPrefix(lines, "HEADLINE"); len(got) != 1 || got[0] != head {
			t.Errorf("notebook 01 HEADLINE %q, lab select: %q", got, head)
		}
		hasLines(t, "notebook 01", lines, "score alone: "+j.Conclusion, j.Robustness)
		dec := fmt.Sprintf("%s %s=%s", j.Decision.Verdict, j.Param, point(t, j.Decision.Point))
		if got := withPrefix(lines, "DECISION"); len(got) != 1 || got[0] != dec {
			t.Errorf("notebook 01 DECISION %q, lab select: %q", got, dec)
		}
	})

	t.Run("02-prompt-weight", func(t *testing.T) {
		lines := stdoutLines(t, filepath.Join(out, "02-prompt-weight.ipynb"))
		var j selectJSON
		labJSON(t, lab, env, &j, "select", thresholdSpec, "--json", "--store", storeDir)
		if j.PromptWeight == nil || len(j.PromptWeight.Stats) == 0 {
			t.Fatalf("lab select --json has no prompt_weight block")
		}
		var want []string
		for _, s := range j.PromptWeight.Stats {
			want = append(want, fmt.Sprintf("%s %s=%s seconds_per_token=%s prompt_weight=%s time_weight=%s",
				s.Stat, j.Param, point(t, j.Decision.Point), g(s.Seconds), g(s.TimeWeightOne.PromptWeight), g(s.PromptWeightOne.TimeWeight)))
		}
		if got := withPrefix(lines, "PROMPT_WEIGHT"); !slices.Equal(got, want) {
			t.Errorf("notebook 02 PROMPT_WEIGHT lines:\n%s\nlab select --json:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// The notebook ran the confirmation; lab select shows the same.
		if j.Confirmation == nil {
			t.Fatal("lab select --json has no prompt_weight_confirmation after notebook 02 ran it")
		}
		cd := j.Confirmation.Decision
		conf := fmt.Sprintf("%s prompt_weight=%s", cd.Verdict, g(cd.Point[len(cd.Point)-1]))
		if got := withPrefix(lines, "CONFIRM"); len(got) != 1 || got[0] != conf {
			t.Errorf("notebook 02 CONFIRM %q, lab select: %q", got, conf)
		}
		var pj selectJSON
		labJSON(t, lab, env, &pj, "select", promptSpec, "--json", "--store", storeDir)
		var choices []string
		for _, s := range pj.Selections {
			choices = append(choices, fmt.Sprintf("%s %s %s=%s", s.Preset, s.RunAgg, s.Param, point(t, s.Recommended)))
		}
		if got := withPrefix(lines, "CHOICE"); !slices.Equal(got, choices) || len(choices) == 0 {
			t.Errorf("notebook 02 CHOICE lines:\n%s\nlab select %s --json:\n%s", strings.Join(got, "\n"), promptSpec, strings.Join(choices, "\n"))
		}
		hasLines(t, "notebook 02", lines, "score alone: "+pj.Conclusion, pj.Robustness)
	})

	t.Run("04-joint", func(t *testing.T) {
		lines := stdoutLines(t, filepath.Join(out, "04-joint.ipynb"))
		var j struct {
			Joint struct {
				Decision struct {
					Point   []float64 `json:"point"`
					Verdict string    `json:"verdict"`
					Reason  string    `json:"reason"`
				} `json:"decision"`
			} `json:"joint"`
		}
		labJSON(t, lab, env, &j, "select", "experiments/joint.yaml", "--json", "--store", storeDir)
		d := j.Joint.Decision
		var parts []string
		for _, v := range d.Point {
			parts = append(parts, g(v))
		}
		want := fmt.Sprintf("decision %s %s (min_chunk_threshold, prompt_weight)", d.Verdict, strings.Join(parts, ","))
		if got := withPrefix(lines, "JOINT"); len(got) != 1 || got[0] != want || d.Reason == "" {
			t.Errorf("notebook 04 %q, lab select: %q", got, want)
		}
		hasLines(t, "notebook 04", lines, d.Reason)
		var c struct {
			Conditions []struct {
				Decision struct {
					Verdict string  `json:"verdict"`
					Point   float64 `json:"point"`
				} `json:"decision"`
			} `json:"conditions"`
		}
		labJSON(t, lab, env, &c, "select", "experiments/regime-map.yaml", "--json", "--store", storeDir)
		got := withPrefix(lines, "CONDITION")
		if len(got) != len(c.Conditions) || len(got) == 0 {
			t.Fatalf("notebook 04: %d CONDITION lines, lab select: %d conditions", len(got), len(c.Conditions))
		}
		for i, cd := range c.Conditions {
			if w := fmt.Sprintf(": %s %s", cd.Decision.Verdict, g(cd.Decision.Point)); !strings.Contains(got[i], w) {
				t.Errorf("notebook 04 %q, lab select: %q", got[i], w)
			}
		}
	})

	t.Run("03-legacy-table", func(t *testing.T) {
		lines := stdoutLines(t, filepath.Join(out, "03-legacy-import.ipynb"))
		// The printed table, character for character.
		cmd := exec.Command(lab, "select", "--root", legacyTree)
		cmd.Dir = root
		text, err := cmd.Output()
		if err != nil {
			t.Fatalf("lab select --root: %v", err)
		}
		if got, want := tableBlock(lines), tableBlock(strings.Split(string(text), "\n")); len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("notebook 03 table:\n%s\nlab select --root:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// Every number at full precision.
		var j selectionJSON
		labJSON(t, lab, nil, &j, "select", "--root", legacyTree, "--json")
		var want []string
		for _, r := range j.Thresholds {
			want = append(want, fmt.Sprintf("threshold=%s runs=%d request_ratio=%s request_exec_norm_ratio=%s prefill_ratio=%s prefill_exec_norm_ratio=%s decode_ratio=%s score=%s",
				point(t, r.Threshold), r.Runs, g(r.Request), g(r.RequestExecNorm), g(r.Prefill), g(r.PrefillExecNorm), g(r.Decode), g(r.Score)))
		}
		// Rows of the tree read directly (threshold=…), then of the same
		// tree imported into a store (min_chunk_threshold=…): both equal
		// the CLI's numbers.
		rows := withPrefix(lines, "ROW")
		for _, param := range []string{"threshold", "min_chunk_threshold"} {
			var got []string
			for _, r := range rows {
				if rest, ok := strings.CutPrefix(r, param+"="); ok {
					got = append(got, "threshold="+rest)
				}
			}
			if !slices.Equal(got, want) || len(want) == 0 {
				t.Errorf("notebook 03 ROW lines of %s:\n%s\nlab select --root --json:\n%s", param, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
		rec := point(t, j.Recommended)
		if got, want := withPrefix(lines, "RECOMMENDED"), []string{"threshold=" + rec, "min_chunk_threshold=" + rec}; !slices.Equal(got, want) {
			t.Errorf("notebook 03 RECOMMENDED %q, lab select: %q", got, want)
		}
		// The choice under each aggregation.
		var choices []string
		for _, agg := range []string{"mean", "median", "p90", "max"} {
			var a selectionJSON
			labJSON(t, lab, nil, &a, "select", "--root", legacyTree, "--run_agg", agg, "--json")
			choices = append(choices, fmt.Sprintf("default %s threshold=%s", agg, point(t, a.Recommended)))
		}
		if got := withPrefix(lines, "CHOICE"); !slices.Equal(got, choices) {
			t.Errorf("notebook 03 CHOICE lines:\n%s\nlab select --root --run_agg:\n%s", strings.Join(got, "\n"), strings.Join(choices, "\n"))
		}
	})
}

// hasLines checks that every one of want is a whole line of lines: the
// sentences `lab select --json` reports, printed by the notebook through
// the same functions.
func hasLines(t *testing.T, what string, lines []string, want ...string) {
	t.Helper()
	for _, w := range want {
		if w == "" {
			t.Errorf("%s: lab select --json gave an empty sentence", what)
			continue
		}
		if !slices.Contains(lines, w) {
			t.Errorf("%s does not print lab select's line %q", what, w)
		}
	}
}

// tableBlock returns the old script's table in lines: from its header (the
// line starting " threshold") through the "Recommended threshold:" line.
func tableBlock(lines []string) []string {
	start := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, " threshold ") })
	if start < 0 {
		return nil
	}
	for i := start; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "Recommended threshold:") {
			return lines[start : i+1]
		}
	}
	return nil
}

// TestCommittedWithoutOutputs keeps outputs (megabytes of inlined ECharts,
// machine-specific paths) out of the repository: `just notebooks` writes
// executed copies under reports/notebooks/ instead.
func TestCommittedWithoutOutputs(t *testing.T) {
	nbs, err := filepath.Glob(filepath.Join(repoRoot(t), "notebooks", "*.ipynb"))
	if err != nil || len(nbs) == 0 {
		t.Fatalf("no notebooks: %v", err)
	}
	for _, nb := range nbs {
		data, err := os.ReadFile(nb)
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Metadata struct {
				Kernelspec struct {
					Name string `json:"name"`
				} `json:"kernelspec"`
			} `json:"metadata"`
			Cells []struct {
				CellType       string            `json:"cell_type"`
				ExecutionCount *int              `json:"execution_count"`
				Outputs        []json.RawMessage `json:"outputs"`
			} `json:"cells"`
		}
		if err := json.Unmarshal(data, &v); err != nil {
			t.Errorf("%s: %v", nb, err)
			continue
		}
		if v.Metadata.Kernelspec.Name != "gonb" {
			t.Errorf("%s: kernel %q, want gonb", nb, v.Metadata.Kernelspec.Name)
		}
		for i, c := range v.Cells {
			if len(c.Outputs) > 0 || c.ExecutionCount != nil {
				t.Errorf("%s: cell %d is committed with outputs (clear them before committing)", nb, i)
			}
		}
	}
}

// TestNotebookArguments checks how .ci/notebooks resolves its arguments: a
// name under notebooks/ works with or without .ipynb from any folder (what
// `just notebooks 03-legacy-import` passes), and an unknown one stops with
// exit status 2 and the list of notebooks before Jupyter starts.
func TestNotebookArguments(t *testing.T) {
	root := repoRoot(t)
	script := filepath.Join(root, ".ci", "notebooks")
	run := func(dir string, args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(script, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "SCHEDLAB_ROOT="+root, "NOTEBOOKS_OUT="+t.TempDir())
		b, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return string(b), 0
		case errors.As(err, &ee):
			return string(b), ee.ExitCode()
		}
		t.Fatalf(".ci/notebooks %v: %v", args, err)
		return "", 0
	}
	out, code := run(t.TempDir(), "03-legacy-import", "no-such-notebook")
	if code != 2 || !strings.Contains(out, `no notebook "no-such-notebook"`) || !strings.Contains(out, "03-legacy-import") || strings.Contains(out, "executing") {
		t.Errorf("unknown notebook: exit %d, output %q; want exit 2 naming it and listing the notebooks, nothing executed", code, out)
	}
	needJupyter(t)
	for _, arg := range []string{"testdata/ok", "testdata/ok.ipynb"} {
		out, code := run(t.TempDir(), arg)
		if code != 0 || !strings.Contains(out, "notebooks: executing notebooks/testdata/ok.ipynb") {
			t.Errorf(".ci/notebooks %s from another folder: exit %d, want 0 executing notebooks/testdata/ok.ipynb:\n%s", arg, code, out)
		}
	}
}

// TestHarnessIsQuiet checks that .ci/notebooks prints only its own lines
// for a notebook that passes, and Jupyter's and GoNB's log for one that
// fails.
func TestHarnessIsQuiet(t *testing.T) {
	needJupyter(t)
	tests := []struct {
		nb       string
		wantFail bool
	}{
		{"notebooks/testdata/ok.ipynb", false},
		{"notebooks/testdata/compile-error.ipynb", true},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.nb), func(t *testing.T) {
			log, err := runNotebooks(t, t.TempDir(), nil, tc.nb)
			if (err != nil) != tc.wantFail {
				t.Fatalf(".ci/notebooks: %v, want failure %v\n%s", err, tc.wantFail, log)
			}
			var foreign []string
			for _, l := range strings.Split(strings.TrimSpace(log), "\n") {
				if !strings.HasPrefix(l, "notebooks: ") {
					foreign = append(foreign, l)
				}
			}
			switch {
			case !tc.wantFail && len(foreign) > 0:
				t.Errorf("a passing notebook printed %d lines besides the harness's own:\n%s", len(foreign), log)
			case tc.wantFail && !strings.Contains(log, "Jupyter's log:") || tc.wantFail && len(foreign) == 0:
				t.Errorf("a failing notebook's log is not shown:\n%s", log)
			}
		})
	}
}
