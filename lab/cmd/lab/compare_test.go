package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompareCommand(t *testing.T) {
	dir := t.TempDir()
	a := writeSimSpec(t, dir, "cmp-a", "h200", "1")
	b := writeSimSpec(t, dir, "cmp-b", "h100", "1")
	storeA, storeB := filepath.Join(dir, "store-a"), filepath.Join(dir, "store-b")
	reports := filepath.Join(dir, "reports")
	runSimSpec(t, a, storeA, reports)
	runSimSpec(t, b, storeA, reports)
	runSimSpec(t, a, storeB, reports)

	// Two specs in one store, as JSON: the H100 is slower at every point.
	html := filepath.Join(dir, "cmp", "index.html")
	code, out, errs := runLab(t, "compare", a, b, "--store", storeA, "--json", "--html", html)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	var got struct {
		A, B struct {
			Experiment string
			Decision   *struct{ Change bool }
		}
		SameDecision bool `json:"same_decision"`
		Verdicts     map[string]int
		Comparison   struct {
			Points []struct {
				Metrics []struct {
					Metric  string
					Ratio   *float64
					Verdict string
				}
			}
			Compared int
		}
		HTML string
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.A.Experiment != "cmp-a" || got.B.Experiment != "cmp-b" || got.A.Decision == nil || got.B.Decision == nil ||
		len(got.Comparison.Points) != 3 || got.Comparison.Compared != 15 || got.HTML != html {
		t.Errorf("comparison: %+v", got)
	}
	for _, p := range got.Comparison.Points {
		for _, m := range p.Metrics {
			if m.Metric == "decode" && (m.Ratio == nil || *m.Ratio <= 1.05) {
				t.Errorf("decode on the H100 against the H200: ratio %v, want clearly above 1", m.Ratio)
			}
		}
	}
	if st, err := os.Stat(html); err != nil || st.Size() == 0 {
		t.Errorf("no comparison page: %v", err)
	}

	// One spec over two stores: the simulator is deterministic, so every
	// ratio is exactly 1 and the decision the same.
	code, out, errs = runLab(t, "compare", a, "--store-a", storeA, "--store-b", storeB, "--html", filepath.Join(dir, "same.html"))
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"A: cmp-a (store " + storeA + ")", "same decision: yes", "0 better, 15 same, 0 worse", " 1.0000  [1.0000, 1.0000]"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"one spec, one store", []string{a, "--store-a", storeA}, 2, "give both --store-a DIR and --store-b DIR"},
		{"three specs", []string{a, b, a}, 2, "expected two SPEC files"},
		{"no store", []string{a, b, "--store", filepath.Join(dir, "nowhere")}, 1, "does not exist"},
		{"empty store", []string{b, "--store-a", storeB, "--store-b", storeA}, 1, "no cell of experiment cmp-b has results"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runLab(t, append([]string{"compare"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, want %d and %q:\n%s", code, tc.code, tc.want, errs)
			}
		})
	}
}
