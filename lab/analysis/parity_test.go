package analysis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/treegen"
	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

// parityCase is one invocation of the reference script.
type parityCase struct {
	baseline int
	agg      string
	w        spec.Weights
}

func (c parityCase) args(root string, pwAt Point) []string {
	return []string{"--root", root, "--json",
		"--baseline", strconv.Itoa(c.baseline), "--run_agg", c.agg,
		"--w_request", fmtArg(c.w.Request), "--w_prefill", fmtArg(c.w.Prefill),
		"--w_prefill_exec_norm", fmtArg(c.w.PrefillExecNorm), "--w_request_exec_norm", fmtArg(c.w.RequestExecNorm),
		"--w_decode", fmtArg(c.w.Decode), "--prompt_weight_threshold", pwAt.String()}
}

func fmtArg(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// TestParityWithReference runs the reference select_threshold.py and the Go
// selection on the same trees (the hand-made ones and generated ones with
// missing files, extra folders, ≥ 8 repeats so numpy's pairwise mean kicks
// in, and files longer than numpy's 8192-value block) under every
// aggregation, another baseline, a baseline no run has, and other weights,
// and compares every number: the JSON schema key by key, numbers to 1e-12
// relative (in practice they are identical; the test logs any that are
// not), the prompt_weight statistics, and the printed table byte for byte.
func TestParityWithReference(t *testing.T) {
	py := python(t)
	gen := t.TempDir()
	genTrees := map[string]treegen.Options{
		"gen_missing": {Thresholds: 13, Repeats: 9, Rows: 301, Seed: 11, DropFile: 0.15, Extra: true},
		"gen_long":    {Thresholds: 3, Repeats: 2, Rows: 9001, Seed: 12},
	}
	roots := map[string]string{}
	for _, n := range treeNames {
		roots[n] = treeDir(n)
	}
	for name, o := range genTrees {
		roots[name] = filepath.Join(gen, name)
		if err := treegen.Generate(roots[name], o); err != nil {
			t.Fatal(err)
		}
	}
	names := make([]string, 0, len(roots))
	for n := range roots {
		names = append(names, n)
	}
	sort.Strings(names)
	custom := spec.Weights{Request: 0.25, Prefill: 0.25, PrefillExecNorm: 0.35, RequestExecNorm: 0.05, Decode: 0.1}
	cases := []parityCase{
		{0, "mean", spec.DefaultWeights}, {0, "median", spec.DefaultWeights},
		{0, "p90", spec.DefaultWeights}, {0, "max", spec.DefaultWeights},
		{1, "median", custom}, // another baseline: runs have 1 or fall back
		{99, "mean", custom},  // absent everywhere: every run falls back
	}
	type job struct {
		ctx  string
		tab  *Table
		sel  *Selection
		args []string
	}
	var jobs []job
	for _, name := range names {
		tab, err := LoadLegacy(roots[name])
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			sel, err := Select(tab, Options{Baseline: Point{float64(c.baseline)}, Weights: c.w, Agg: c.agg})
			if err != nil {
				t.Fatal(err)
			}
			jobs = append(jobs, job{fmt.Sprintf("%s baseline=%d agg=%s", name, c.baseline, c.agg), tab, sel,
				c.args(roots[name], sel.Recommended())})
		}
	}
	var stdin bytes.Buffer
	for _, j := range jobs {
		for i, a := range j.args {
			if i > 0 {
				stdin.WriteByte(' ')
			}
			stdin.WriteString(strconv.Quote(a)) // shlex reads Go's quoting of plain paths
		}
		stdin.WriteByte('\n')
	}
	cmd := exec.Command(py, filepath.Join(legacyDir, "select_threshold.py"), "--batch")
	cmd.Stdin = &stdin
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reference: %v\n%s", err, stderrOf(err))
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	for _, j := range jobs {
		var want map[string]any
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("%s: reading the reference's output: %v", j.ctx, err)
		}
		// The printed table, byte for byte.
		var text bytes.Buffer
		WriteTable(&text, j.sel)
		WriteRecommendation(&text, j.sel)
		if text.String() != want["text"] {
			t.Errorf("%s: printed table differs\nGo:\n%s\nreference:\n%s", j.ctx, text.String(), want["text"])
		}
		delete(want, "text")
		// prompt_weight statistics at the recommended threshold.
		files, err := j.tab.Files(j.sel.Recommended(), sarathi.PrefillExecPlusPreemptNorm)
		if err != nil {
			t.Fatal(err)
		}
		pw, err := SecondsPerPrefillToken(files, PromptWeightOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantPW := want["prompt_weight"].(map[string]any)
		delete(want, "prompt_weight")
		compareNumber(t, j.ctx+" prompt_weight n", float64(pw.N), wantPW["n"])
		for _, s := range pw.Stats {
			compareNumber(t, j.ctx+" prompt_weight "+s.Stat, s.Seconds, wantPW[s.Stat])
		}
		// The selection JSON, key by key.
		b, err := json.Marshal(j.sel.JSON())
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		compareJSON(t, j.ctx, got, want)
	}
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// compareJSON requires the same keys and types everywhere and numbers equal
// to 1e-12 relative; it logs numbers that are close but not identical.
func compareJSON(t *testing.T, path string, got, want any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: got %T, want an object", path, got)
			return
		}
		for k := range w {
			if _, ok := g[k]; !ok {
				t.Errorf("%s: key %q missing", path, k)
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				t.Errorf("%s: extra key %q", path, k)
				continue
			}
			compareJSON(t, path+"."+k, g[k], w[k])
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			t.Errorf("%s: got %v, want %d elements", path, got, len(w))
			return
		}
		for i := range w {
			compareJSON(t, fmt.Sprintf("%s[%d]", path, i), g[i], w[i])
		}
	case float64:
		g, ok := got.(float64)
		if !ok {
			t.Errorf("%s: got %T %v, want number %v", path, got, got, w)
			return
		}
		compareNumber(t, path, g, w)
	default:
		if got != want {
			t.Errorf("%s: got %v, want %v", path, got, want)
		}
	}
}

func compareNumber(t *testing.T, path string, got float64, want any) {
	t.Helper()
	w, ok := want.(float64)
	if !ok {
		t.Errorf("%s: reference gave %T %v, want a number", path, want, want)
		return
	}
	if got == w {
		return
	}
	rel := math.Abs(got-w) / math.Max(math.Abs(w), math.SmallestNonzeroFloat64)
	if rel > 1e-12 {
		t.Errorf("%s: Go %v, reference %v (relative difference %.3g)", path, got, w, rel)
	} else {
		t.Logf("%s: Go %v, reference %v: equal to %.3g relative but not identical", path, got, w, rel)
	}
}
