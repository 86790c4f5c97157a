package analysis

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

// Every bad input gives an error that names the file (and
// line, where there is one) and the problem — never a panic or a NaN.
func TestErrors(t *testing.T) {
	const reqCSV = "request_execution_time.csv"
	write := func(t *testing.T, path, content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		// break changes a copy of the basic tree; it returns the file the
		// message must name (relative to the root; "" for the root itself).
		breakTree func(t *testing.T, root string) string
		want      []string
		wantIs    error
	}{
		{"missing column", func(t *testing.T, root string) string {
			f := filepath.Join("run_a", "1", reqCSV)
			write(t, filepath.Join(root, f), "Request Id,request_e2e_time,cdf\n0_0,1.5,1\n")
			return f + ":1"
		}, []string{`no column "request_execution_time"`}, nil},
		{"non-numeric value", func(t *testing.T, root string) string {
			f := filepath.Join("run_b", "2", reqCSV)
			write(t, filepath.Join(root, f), "Request Id,request_execution_time,cdf\n0_0,1.5,0.5\n0_1,fast,1\n")
			return f + ":3"
		}, []string{`"fast" is not a number`}, nil},
		{"file with no values", func(t *testing.T, root string) string {
			f := filepath.Join("run_a", "2", "prefill_e2e_time.csv")
			write(t, filepath.Join(root, f), "Request Id,prefill_e2e_time,cdf\n0_0,,1\n")
			return f
		}, []string{"no values"}, sarathi.ErrNoValues},
		{"empty file", func(t *testing.T, root string) string {
			f := filepath.Join("run_a", "2", "prefill_e2e_time.csv")
			write(t, filepath.Join(root, f), "")
			return f
		}, []string{"empty file"}, nil},
		{"NaN", func(t *testing.T, root string) string {
			f := filepath.Join("run_a", "1", "decode_time_execution_plus_preemption_normalized.csv")
			write(t, filepath.Join(root, f), "Request Id,decode_time_execution_plus_preemption_normalized,cdf\n0_0,NaN,1\n")
			return f + ":2"
		}, []string{"not a finite number"}, nil},
		{"Inf", func(t *testing.T, root string) string {
			f := filepath.Join("run_b", "1", reqCSV)
			write(t, filepath.Join(root, f), "Request Id,request_execution_time,cdf\n0_0,1,0.5\n0_1,inf,1\n")
			return f + ":3"
		}, []string{"not a finite number"}, nil},
		{"zero baseline metric", func(t *testing.T, root string) string {
			f := filepath.Join("run_b", "0", "decode_time_execution_plus_preemption_normalized.csv")
			write(t, filepath.Join(root, f), "Request Id,decode_time_execution_plus_preemption_normalized,cdf\n0_0,0,0.5\n0_1,0,1\n")
			return f
		}, []string{"baseline", "is 0", "undefined", "repeat run_b"}, nil},
		{"empty tree", func(t *testing.T, root string) string {
			os.RemoveAll(filepath.Join(root, "run_a"))
			os.RemoveAll(filepath.Join(root, "run_b"))
			return ""
		}, []string{"no complete threshold folder"}, ErrLegacyEmpty},
		{"no threshold with all five metrics", func(t *testing.T, root string) string {
			for _, run := range []string{"run_a", "run_b"} {
				for _, th := range []string{"0", "1", "2"} {
					os.Remove(filepath.Join(root, run, th, "prefill_e2e_time.csv"))
				}
			}
			return filepath.Join("run_a", "0")
		}, []string{"no complete threshold folder", "missing prefill_e2e_time.csv"}, ErrLegacyEmpty},
		{"missing root", func(t *testing.T, root string) string {
			os.RemoveAll(root)
			return ""
		}, []string{"no such file"}, os.ErrNotExist},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := copyTree(t, treeDir("basic"))
			where := filepath.Join(root, tc.breakTree(t, root))
			tab, err := LoadLegacy(root)
			if err == nil {
				_, err = Select(tab, Options{Baseline: Point{0}, Weights: spec.DefaultWeights})
			}
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, where) {
				t.Errorf("error %q does not name %s", msg, where)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %q is not %v", msg, tc.wantIs)
			}
		})
	}
}

func TestOptionErrors(t *testing.T) {
	tab := loadTree(t, "basic")
	if _, err := Select(tab, Options{Agg: "p95", Weights: spec.DefaultWeights}); err == nil || !strings.Contains(err.Error(), `"p95"`) {
		t.Errorf("unknown aggregation: %v", err)
	}
	empty := NewTable([]string{"x"}, []Point{{0}, {1}}, []string{"r"})
	if _, err := Select(empty, Options{Weights: spec.DefaultWeights}); err == nil || !strings.Contains(err.Error(), "no point") {
		t.Errorf("table without results: %v", err)
	}
	if err := empty.Load([]CellFiles{{Repeat: 0, Point: Point{5}, Dir: "x"}}); err == nil {
		t.Error("loading a cell outside the table: no error")
	}
	if _, err := SecondsPerPrefillToken(nil, PromptWeightOptions{}); err == nil {
		t.Error("prompt_weight without files: no error")
	}
	f := filepath.Join(treeDir("basic"), "run_a", "0", sarathi.FileName(sarathi.PrefillExecPlusPreemptNorm))
	if _, err := SecondsPerPrefillToken([]string{f}, PromptWeightOptions{Stats: []string{"p99"}}); err == nil {
		t.Error("unknown prompt_weight statistic: no error")
	}
	headerOnly := filepath.Join(t.TempDir(), sarathi.FileName(sarathi.PrefillExecPlusPreemptNorm))
	if err := os.WriteFile(headerOnly, []byte("Request Id,prefill_time_execution_plus_preemption_normalized,cdf\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := SecondsPerPrefillToken([]string{headerOnly}, PromptWeightOptions{}); err == nil || !strings.Contains(err.Error(), "no value") {
		t.Errorf("prompt_weight of files without values: %v", err)
	}
	// Each file's values sum within float64, the pool's do not.
	var huge []string
	for _, name := range []string{"a", "b"} {
		f := filepath.Join(t.TempDir(), name+".csv")
		if err := os.WriteFile(f, []byte("Request Id,prefill_time_execution_plus_preemption_normalized,cdf\n0,1e308,1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		huge = append(huge, f)
	}
	if _, err := SecondsPerPrefillToken(huge, PromptWeightOptions{}); err == nil || !strings.Contains(err.Error(), "beyond float64's range") {
		t.Errorf("prompt_weight of values whose sum overflows: %v", err)
	}
}
