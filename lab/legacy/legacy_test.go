package legacy

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/sarathi"
)

// mk creates a threshold folder with the given metrics (all five when nil).
func mk(t *testing.T, dir string, metrics []string) {
	t.Helper()
	if metrics == nil {
		metrics = sarathi.Required
	}
	for _, m := range metrics {
		if err := sarathi.Write(dir, m, []sarathi.Row{{RequestID: "0_0", Value: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	if len(metrics) == 0 {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestScan(t *testing.T) {
	type want struct {
		repeats    map[string][]int // repeat name → thresholds
		thresholds []int
		warnings   []string // substrings, in order
		empty      bool
	}
	tests := []struct {
		name  string
		build func(t *testing.T, root string)
		want  want
	}{
		{
			name: "two repeats",
			build: func(t *testing.T, root string) {
				for _, ts := range []string{"20250102_000000", "20250101_000000"} {
					for _, th := range []string{"0", "1", "10", "2"} {
						mk(t, filepath.Join(root, ts, th), nil)
					}
				}
			},
			want: want{
				repeats:    map[string][]int{"20250101_000000": {0, 1, 2, 10}, "20250102_000000": {0, 1, 2, 10}},
				thresholds: []int{0, 1, 2, 10},
			},
		},
		{
			name: "skips",
			build: func(t *testing.T, root string) {
				mk(t, filepath.Join(root, "a", "0"), nil)
				mk(t, filepath.Join(root, "a", "1"), sarathi.Required[:3])
				mk(t, filepath.Join(root, "a", "x"), nil)
				mk(t, filepath.Join(root, "a", "2.5"), nil)
				mk(t, filepath.Join(root, "a", "03"), nil)
				mk(t, filepath.Join(root, "a", "3"), nil)
				mk(t, filepath.Join(root, "b", "1"), []string{})
				if err := os.WriteFile(filepath.Join(root, "notes.txt"), []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			want: want{
				repeats:    map[string][]int{"a": {0, 3}},
				thresholds: []int{0, 3},
				warnings: []string{
					"a/1: missing prefill_time_execution_plus_preemption_normalized.csv, decode_time_execution_plus_preemption_normalized.csv",
					"a/2.5: not an integer threshold folder",
					"a/3: threshold 3 already read from",
					"a/x: not an integer threshold folder",
					"b/1: missing request_execution_time.csv",
					"b: no complete threshold folder, repeat skipped",
				},
			},
		},
		{
			name: "empty",
			build: func(t *testing.T, root string) {
				mk(t, filepath.Join(root, "a", "zero"), nil)
			},
			want: want{empty: true, warnings: []string{"a/zero: not an integer", "a: no complete threshold folder"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			tc.build(t, root)
			tree, err := Scan(root)
			if tc.want.empty {
				if !errors.Is(err, ErrEmpty) {
					t.Fatalf("err = %v, want ErrEmpty", err)
				}
				if !strings.Contains(err.Error(), root) {
					t.Errorf("error %q does not name the root", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			got := map[string][]int{}
			for _, r := range tree.Repeats {
				var ths []int
				for _, c := range r.Cells {
					ths = append(ths, c.Threshold)
					for _, m := range sarathi.Required {
						if c.Files[m] != filepath.Join(c.Dir, sarathi.FileName(m)) {
							t.Errorf("cell %s: file of %s = %q", c.Dir, m, c.Files[m])
						}
					}
					if r.Cell(c.Threshold) == nil {
						t.Errorf("Repeat.Cell(%d) = nil", c.Threshold)
					}
				}
				got[r.Name] = ths
			}
			if len(tc.want.repeats) > 0 && !reflect.DeepEqual(got, tc.want.repeats) {
				t.Errorf("repeats = %v, want %v", got, tc.want.repeats)
			}
			for i := 1; i < len(tree.Repeats); i++ {
				if tree.Repeats[i-1].Name >= tree.Repeats[i].Name {
					t.Errorf("repeats not sorted by name: %q before %q", tree.Repeats[i-1].Name, tree.Repeats[i].Name)
				}
			}
			if !reflect.DeepEqual(tree.Thresholds, tc.want.thresholds) {
				t.Errorf("thresholds = %v, want %v", tree.Thresholds, tc.want.thresholds)
			}
			if len(tree.Warnings) != len(tc.want.warnings) {
				t.Fatalf("warnings = %q, want %d", tree.Warnings, len(tc.want.warnings))
			}
			for i, w := range tc.want.warnings {
				if !strings.Contains(tree.Warnings[i], filepath.FromSlash(w)) {
					t.Errorf("warning %d = %q, want it to contain %q", i, tree.Warnings[i], w)
				}
			}
		})
	}
}

func TestScanMissingRoot(t *testing.T) {
	_, err := Scan(filepath.Join(t.TempDir(), "nope"))
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("err = %v, want one naming the folder", err)
	}
}
