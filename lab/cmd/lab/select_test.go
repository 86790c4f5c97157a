package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/legacy"
	"github.com/schedlab/schedlab/lab/spec"
)

const legacyTrees = "../../../testdata/legacy/trees"

// --json has the documented schema with every number at full precision.
func TestSelectRootJSON(t *testing.T) {
	root := filepath.Join(legacyTrees, "even_odd")
	code, out, stderr := runLab(t, "select", "--root", root, "--json", "--run_agg", "p90")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"recommended", "baseline", "run_agg", "runs", "weights", "thresholds"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("key %q missing", k)
		}
	}
	var got struct {
		Recommended int            `json:"recommended"` // an int, as the schema says
		Baseline    int            `json:"baseline"`
		RunAgg      string         `json:"run_agg"`
		Runs        int            `json:"runs"`
		Weights     spec.Weights   `json:"weights"`
		Thresholds  []thresholdRow `json:"thresholds"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("schema: %v", err)
	}
	tab, err := legacy.LoadTable(root)
	if err != nil {
		t.Fatal(err)
	}
	sel, err := analysis.Select(tab, analysis.Options{Baseline: analysis.Point{0}, Weights: spec.DefaultWeights, Agg: "p90"})
	if err != nil {
		t.Fatal(err)
	}
	if got.RunAgg != "p90" || got.Runs != 4 || got.Baseline != 0 || got.Weights != spec.DefaultWeights ||
		float64(got.Recommended) != sel.Recommended()[0] || len(got.Thresholds) != len(sel.Rows) {
		t.Fatalf("header %+v, want the selection's", got)
	}
	for i, r := range sel.Rows {
		g := got.Thresholds[i]
		if float64(g.Threshold) != r.Point[0] || g.Runs != r.Runs || g.Score != r.Score || g.Request != r.Ratios.Request ||
			g.ReqNorm != r.Ratios.RequestExecNorm || g.Prefill != r.Ratios.Prefill || g.PreNorm != r.Ratios.PrefillExecNorm ||
			g.Decode != r.Ratios.Decode {
			t.Errorf("row %d: %+v, want %+v (full precision)", i, g, r)
		}
	}
	if !slices.IsSortedFunc(got.Thresholds, func(a, b thresholdRow) int { return a.Threshold - b.Threshold }) {
		t.Error("thresholds not sorted")
	}
}

// thresholdRow is a threshold object of the --json schema.
type thresholdRow struct {
	Threshold int     `json:"threshold"`
	Runs      int     `json:"runs"`
	Request   float64 `json:"request_ratio"`
	ReqNorm   float64 `json:"request_exec_norm_ratio"`
	Prefill   float64 `json:"prefill_ratio"`
	PreNorm   float64 `json:"prefill_exec_norm_ratio"`
	Decode    float64 `json:"decode_ratio"`
	Score     float64 `json:"score"`
}

// The old script's flags: single or double dash, "=" or a separate value.
func TestSelectOldFlags(t *testing.T) {
	root := filepath.Join(legacyTrees, "even_odd")
	_, a, _ := runLab(t, "select", "--root", root, "--run_agg", "median", "--w_decode", "0.5", "--baseline", "1")
	_, b, _ := runLab(t, "select", "-root="+root, "-run_agg=median", "-w_decode=0.5", "-baseline=1")
	if a != b || !strings.Contains(a, "run_agg=median, baseline=1") {
		t.Errorf("flag spellings disagree or were ignored:\n%s\n%s", a, b)
	}
	_, c, _ := runLab(t, "select", "--root", root)
	if c == a {
		t.Error("weights, baseline and aggregation changed nothing")
	}
}

func TestSelectErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"select"}, 2, "expected one SPEC or --root DIR"},
		{[]string{"select", "--root", filepath.Join(dir, "nope")}, 1, "no such file"},
		{[]string{"select", "--root", dir}, 1, "no complete threshold folder"},
		{[]string{"select", "--root", filepath.Join(legacyTrees, "basic"), "--run_agg", "p95"}, 2, `unknown aggregation "p95"`},
		// Checked before the tree is read.
		{[]string{"select", "--root", filepath.Join(dir, "nope"), "--run_agg", "p95"}, 2, `unknown aggregation "p95"`},
		// Usage errors exit 2, as the old script's argparse did.
		{[]string{"select", "x.yaml", "--w_request", "1"}, 2, "apply to --root"},
		{[]string{"select", "x.yaml", "--root", dir}, 2, "not both"},
		{[]string{"select", "--root", filepath.Join(legacyTrees, "basic"), "--margin", "0"}, 2, "0 < margin < 1"},
		{[]string{"prompt-weight", "--root", filepath.Join(legacyTrees, "basic")}, 2, "needs --threshold"},
		{[]string{"prompt-weight", "x.yaml", "--threshold", "1"}, 2, "with a SPEC use --at"},
		{[]string{"prompt-weight", "--root", filepath.Join(legacyTrees, "basic"), "--threshold", "5"}, 1, "threshold=5 is not a point"},
	}
	for _, tc := range tests {
		code, _, stderr := runLab(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("lab %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
		if strings.Contains(stderr, "goroutine") {
			t.Errorf("lab %v panicked: %s", tc.args, stderr)
		}
	}
}

// An imported legacy tree gives, through the store and a spec, the same
// numbers as the tree read directly; the spec path reports every preset ×
// aggregation, and prompt-weight agrees between the two paths.
func TestSelectSpecMatchesRoot(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(legacyTrees, "even_odd")
	specPath := filepath.Join(dir, "imported.yaml")
	storeDir := filepath.Join(dir, "store")
	if code, _, stderr := runLab(t, "import", root, "--name", "imported", "--spec-out", specPath, "--store", storeDir); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	code, out, stderr := runLab(t, "select", specPath, "--store", storeDir, "--json")
	if code != 0 {
		t.Fatalf("select SPEC: exit %d: %s", code, stderr)
	}
	type verdict struct {
		Conclusion  string `json:"conclusion"`
		Significant bool   `json:"significant"`
		PowerNote   string `json:"power_note"`
	}
	var viaSpec struct {
		verdict
		Selections []struct {
			verdict
			Preset     string            `json:"preset"`
			Param      string            `json:"param"`
			RunAgg     string            `json:"run_agg"`
			Thresholds []json.RawMessage `json:"thresholds"`
		} `json:"selections"`
		PromptWeight struct {
			N int `json:"n"`
		} `json:"prompt_weight"`
	}
	if err := json.Unmarshal([]byte(out), &viaSpec); err != nil {
		t.Fatal(err)
	}
	if len(viaSpec.Selections) != 4 {
		t.Fatalf("%d selections, want 4 (one preset × four aggregations)", len(viaSpec.Selections))
	}
	// The top level repeats the headline selection's (the first preset under
	// mean, the default aggregation) verdict, power note included.
	if head := viaSpec.Selections[0].verdict; viaSpec.verdict != head || head.Conclusion == "" || head.PowerNote == "" {
		t.Errorf("top level %+v, headline selection %+v: want equal, with a conclusion and a power note", viaSpec.verdict, head)
	}
	for i, s := range viaSpec.Selections {
		if s.RunAgg != analysis.Aggregations[i] || s.Preset == "" || s.Param == "" {
			t.Errorf("selection %d: preset %q param %q agg %q", i, s.Preset, s.Param, s.RunAgg)
		}
		_, rootOut, _ := runLab(t, "select", "--root", root, "--json", "--run_agg", s.RunAgg)
		var viaRoot struct {
			Thresholds []json.RawMessage `json:"thresholds"`
		}
		if err := json.Unmarshal([]byte(rootOut), &viaRoot); err != nil {
			t.Fatal(err)
		}
		if len(viaRoot.Thresholds) != len(s.Thresholds) {
			t.Fatalf("%s: %d thresholds via the spec, %d via --root", s.RunAgg, len(s.Thresholds), len(viaRoot.Thresholds))
		}
		for j := range s.Thresholds {
			if a, b := coreRow(t, s.Thresholds[j]), coreRow(t, viaRoot.Thresholds[j]); a != b {
				t.Errorf("%s row %d: via spec %+v, via --root %+v", s.RunAgg, j, a, b)
			}
		}
	}
	// Text mode marks each column's choice.
	_, text, _ := runLab(t, "select", specPath, "--store", storeDir)
	if !strings.Contains(text, "score(median)") || strings.Count(text, "*") < 4 {
		t.Errorf("side-by-side text lacks columns or marks:\n%s", text)
	}
	_, pwSpec, _ := runLab(t, "prompt-weight", specPath, "--store", storeDir, "--json")
	// prompt_weight is derived at the decision, which --root decides the
	// same way.
	var dec struct {
		Decision struct {
			Point float64 `json:"point"`
		} `json:"decision"`
	}
	if err := json.Unmarshal([]byte(out), &dec); err != nil {
		t.Fatal(err)
	}
	_, pwRoot, _ := runLab(t, "prompt-weight", "--root", root, "--threshold", strconv.FormatFloat(dec.Decision.Point, 'f', -1, 64), "--json")
	var a, b struct {
		N     int `json:"n"`
		Stats []struct {
			Seconds float64    `json:"seconds_per_token"`
			CI      [2]float64 `json:"ci95"`
		} `json:"stats"`
	}
	json.Unmarshal([]byte(pwSpec), &a)
	json.Unmarshal([]byte(pwRoot), &b)
	if a.N == 0 || a.N != b.N || !slices.Equal(a.Stats, b.Stats) {
		t.Errorf("prompt-weight via spec %+v, via --root at the decision %+v", a, b)
	}
}

type row struct {
	Threshold float64 `json:"threshold"`
	Runs      int     `json:"runs"`
	Score     float64 `json:"score"`
	Request   float64 `json:"request_ratio"`
	Decode    float64 `json:"decode_ratio"`
}

func coreRow(t *testing.T, m json.RawMessage) row {
	t.Helper()
	var r row
	if err := json.Unmarshal(m, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// A run without the baseline falls back to its smallest threshold, and
// says so on stderr (the table itself stays the old script's).
func TestSelectFallbackWarning(t *testing.T) {
	code, _, stderr := runLab(t, "select", "--root", filepath.Join(legacyTrees, "missing_baseline"))
	want := "warning: baseline threshold=0 missing in run_b: those repeats use their smallest threshold\n"
	if code != 0 || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stderr %q; want %q", code, stderr, want)
	}
}

// Weights that make scores negative leave no log-ratios to test, but the
// old script's table and choice stand: the statistics are skipped, said so.
func TestSelectWithoutStatistics(t *testing.T) {
	args := []string{"select", "--root", filepath.Join(legacyTrees, "basic"),
		"--w_request", "-1", "--w_prefill", "0", "--w_prefill_exec_norm", "0", "--w_request_exec_norm", "0", "--w_decode", "0"}
	code, out, stderr := runLab(t, args...)
	if code != 0 || !strings.Contains(out, "Recommended threshold: 0 (score -1.000000") ||
		!strings.Contains(out, "score alone: no statistics: ") || !strings.Contains(out, "decision: keep threshold = 0: no statistics: ") ||
		!strings.Contains(out, "prompt_weight at the decided threshold 0") {
		t.Errorf("exit %d, stderr %q, output:\n%s", code, stderr, out)
	}
	code, out, stderr = runLab(t, append(args, "--json")...)
	var doc struct {
		Recommended int     `json:"recommended"`
		Conclusion  *string `json:"conclusion"`
		Significant *bool   `json:"significant"`
	}
	if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil || doc.Conclusion == nil || doc.Significant == nil ||
		!strings.HasPrefix(*doc.Conclusion, "no statistics: ") || *doc.Significant {
		t.Errorf("JSON: exit %d (%s), %v: %s", code, stderr, err, out)
	}
}

// With neither SPEC nor --root, `lab select` reads the old script's default
// root when it exists (run from the engine's checkout), exactly as
// `--root` with that folder.
func TestSelectDefaultRoot(t *testing.T) {
	tree := filepath.Join(legacyTrees, "basic")
	code, want, stderr := runLab(t, "select", "--root", tree)
	if code != 0 {
		t.Fatalf("lab select --root: exit %d: %s", code, stderr)
	}
	abs, err := filepath.Abs(tree)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	if code, _, stderr := runLab(t, "select"); code != 2 || !strings.Contains(stderr, legacyDefaultRoot) {
		t.Errorf("lab select without the default root: exit %d, %q; want exit 2 naming %s", code, stderr, legacyDefaultRoot)
	}
	if err := os.MkdirAll(filepath.Dir(legacyDefaultRoot), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(abs, legacyDefaultRoot); err != nil {
		t.Fatal(err)
	}
	code, got, stderr := runLab(t, "select")
	if code != 0 || got != want {
		t.Errorf("lab select (default root): exit %d, stderr %q\n%s\nwant the output of --root:\n%s", code, stderr, got, want)
	}
}
