package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/analysis"
)

// compareInputs are two reports of the same sweep drawn with different
// seeds (their repeats have the same names, so every cell pairs).
func compareInputs(t *testing.T) *CompareInput {
	t.Helper()
	a := inputFromTree(t, tree{thresholds: 6, repeats: 4, rows: 40, seed: 1})
	b := inputFromTree(t, tree{thresholds: 6, repeats: 4, rows: 40, seed: 2})
	c, err := analysis.Compare(a.Table, b.Table, analysis.SignificanceOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return &CompareInput{LabelA: "seed 1", LabelB: "seed 2", A: a, B: b, Comparison: c, Generated: fixedTime}
}

func TestCompareText(t *testing.T) {
	in := compareInputs(t)
	var b bytes.Buffer
	if err := CompareText(&b, in); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	da, _ := DecisionOf(in.A)
	for _, want := range []string{"A: seed 1\nB: seed 2\n", "paired: 6 points × 4 repeats\n", "decision A: " + da.String() + "\n",
		"same decision: ", "threshold  metric  ", "request_exec_norm"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	// One row per point × metric, after 8 lines of header.
	if n := strings.Count(out, "\n"); n != 8+6*5 {
		t.Errorf("%d lines, want %d:\n%s", n, 8+6*5, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasSuffix(line, " ") {
			t.Errorf("trailing blank: %q", line)
		}
	}
}

func TestDecision(t *testing.T) {
	in := inputFromRoot(t, mustTreeRoot(t, goldenTree))
	d, ok := DecisionOf(in)
	if !ok {
		t.Fatal("no decision with statistics")
	}
	if in.Significance.Significant != d.Change {
		t.Errorf("decision %v, statistics significant %v", d, in.Significance.Significant)
	}
	if !SameDecision(in, in) {
		t.Error("an experiment disagrees with itself")
	}
	other := *in
	other.Significance = nil
	if _, ok := DecisionOf(&other); ok || SameDecision(in, &other) {
		t.Error("a decision without statistics")
	}
	for _, tc := range []struct {
		d    Decision
		want string
	}{{Decision{Point: analysis.Point{0}}, "keep 0"}, {Decision{Change: true, Point: analysis.Point{4, -0.01}}, "change to 4,-0.01"}} {
		if got := tc.d.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.d, got, tc.want)
		}
	}
}

// TestComparePageInBrowser: the page draws the ratio chart of every metric
// and both experiments' charts side by side, offline.
func TestComparePageInBrowser(t *testing.T) {
	in := compareInputs(t)
	path := filepath.Join(t.TempDir(), "cmp", HTMLFile)
	if err := WriteCompareHTML(path, in); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if externalRef.Match(html) {
		t.Errorf("the page references another host: %s", externalRef.Find(html))
	}
	for _, want := range []string{`class="pair"`, "chart-cmp-score-a", "chart-cmp-score-b", "chart-cmp-norm-decode-b", "B ÷ A per metric"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("page lacks %q", want)
		}
	}
	res := openInBrowser(t, path)
	checkClean(t, res)
	// 5 ratio charts; score + 5 normalization + 5 aggregation, twice.
	checkCharts(t, res, 5+2*(1+5+5))
}
