package analysis

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/treegen"
	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

// genTree writes a small generated tree (9 repeats, so numpy's pairwise
// mean is in play) and returns its root.
func genTree(t testing.TB) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "tree")
	if err := treegen.Generate(root, treegen.Options{Thresholds: 9, Repeats: 9, Rows: 201, Seed: 5, DropFile: 0.1}); err != nil {
		t.Fatal(err)
	}
	return root
}

func selJSON(t testing.TB, s *Selection) string {
	t.Helper()
	b, err := json.Marshal(s.JSON())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBaselineRatiosAreOne(t *testing.T) {
	roots := []string{genTree(t)}
	for _, n := range treeNames {
		roots = append(roots, treeDir(n))
	}
	for _, root := range roots {
		tab, err := LoadLegacy(root)
		if err != nil {
			t.Fatal(err)
		}
		for _, agg := range Aggregations {
			s := selectOrFail(t, tab, agg, Point{0})
			for r, b := range s.RepeatBaselines {
				if b == nil {
					continue
				}
				for _, row := range s.Rows {
					if row.Point.Compare(b) != 0 {
						continue
					}
					if rr := row.PerRepeat[r]; rr.Ratios != (Ratios{1, 1, 1, 1, 1}) {
						t.Errorf("%s %s repeat %s: ratios at its baseline %v are %+v, want all 1", root, agg, s.Repeats[r], b, rr.Ratios)
					}
				}
			}
			// Where every repeat has the configured baseline, its aggregate is 1 too.
			if len(s.FellBack) == 0 && s.Rows[0].Point.Compare(Point{0}) == 0 && s.Rows[0].Ratios != (Ratios{1, 1, 1, 1, 1}) {
				t.Errorf("%s %s: aggregated baseline ratios %+v, want all 1", root, agg, s.Rows[0].Ratios)
			}
		}
	}
}

// scaleRepeat multiplies every value of every metric file of one repeat.
func scaleRepeat(t testing.TB, dir string, c float64) {
	t.Helper()
	tdirs, _ := os.ReadDir(dir)
	for _, td := range tdirs {
		for _, m := range sarathi.Required {
			f := filepath.Join(dir, td.Name(), sarathi.FileName(m))
			vals, err := sarathi.ReadValues(f, m)
			if os.IsNotExist(err) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			rows := make([]sarathi.Row, len(vals))
			for i, v := range vals {
				rows[i] = sarathi.Row{RequestID: "0_" + string(rune('a'+i%26)), Value: v * c}
			}
			if err := sarathi.Write(filepath.Dir(f), m, rows); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// Ratios are taken within a repeat, so a repeat that is uniformly slower
// (another GPU clock, say) changes nothing. Scaling by a power of two is
// exact in floating point, so the result must be identical; by 3 it may
// differ in the last bits only.
func TestScalingOneRepeatChangesNothing(t *testing.T) {
	root := genTree(t)
	before, err := LoadLegacy(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []float64{4, 3} {
		scaled := copyTree(t, root)
		scaleRepeat(t, filepath.Join(scaled, treegen.RepeatName(2)), c)
		after, err := LoadLegacy(scaled)
		if err != nil {
			t.Fatal(err)
		}
		for _, agg := range Aggregations {
			a, b := selectOrFail(t, before, agg, Point{0}), selectOrFail(t, after, agg, Point{0})
			if c == 4 {
				if selJSON(t, a) != selJSON(t, b) {
					t.Errorf("scale %v, %s: selection changed:\n%s\n%s", c, agg, selJSON(t, a), selJSON(t, b))
				}
				continue
			}
			sameUpToRounding(t, agg, a, b)
		}
	}
}

func sameUpToRounding(t *testing.T, ctx string, a, b *Selection) {
	t.Helper()
	if a.Recommended().Compare(b.Recommended()) != 0 || len(a.Rows) != len(b.Rows) {
		t.Errorf("%s: recommended %v vs %v", ctx, a.Recommended(), b.Recommended())
		return
	}
	for i := range a.Rows {
		if !near(a.Rows[i].Score, b.Rows[i].Score) || a.Rows[i].Runs != b.Rows[i].Runs {
			t.Errorf("%s: %v score %v (%d runs) vs %v (%d runs)", ctx, a.Rows[i].Point, a.Rows[i].Score, a.Rows[i].Runs, b.Rows[i].Score, b.Rows[i].Runs)
		}
	}
}

// Repeat folder names carry no meaning beyond their order. Renaming that
// keeps the order changes nothing at all; renaming that reverses it changes
// nothing for median, p90 and max, and for the mean at most the rounding of
// the sum (numpy adds in repeat order).
func TestRenamingRepeatsChangesNothing(t *testing.T) {
	root := genTree(t)
	base, err := LoadLegacy(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, reverse := range []bool{false, true} {
		renamed := copyTree(t, root)
		entries, _ := os.ReadDir(renamed)
		for i, e := range entries {
			name := "run_" + string(rune('a'+i))
			if reverse {
				name = "run_" + string(rune('z'-i))
			}
			if err := os.Rename(filepath.Join(renamed, e.Name()), filepath.Join(renamed, name)); err != nil {
				t.Fatal(err)
			}
		}
		tab, err := LoadLegacy(renamed)
		if err != nil {
			t.Fatal(err)
		}
		for _, agg := range Aggregations {
			a, b := selectOrFail(t, base, agg, Point{0}), selectOrFail(t, tab, agg, Point{0})
			if reverse && agg == "mean" {
				sameUpToRounding(t, agg, a, b)
				continue
			}
			if selJSON(t, a) != selJSON(t, b) {
				t.Errorf("reverse=%v %s: selection changed", reverse, agg)
			}
		}
	}
}

// Output for the same inputs is byte-identical, however the loading
// goroutines interleave.
func TestDeterministic(t *testing.T) {
	root := genTree(t)
	var first string
	for i := range 5 {
		tab, err := LoadLegacy(root)
		if err != nil {
			t.Fatal(err)
		}
		sels, err := SelectAll(tab, []spec.Preset{{Name: "a", Weights: spec.DefaultWeights}}, Point{0})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, s := range sels {
			b.WriteString(selJSON(t, s))
		}
		if i == 0 {
			first = b.String()
		} else if b.String() != first {
			t.Fatal("two loads of the same tree gave different selections")
		}
	}
}
