package experiment

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/internal/store"
	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

// Table reads ok cells from the store (their replica_0/plots), leaves
// missing and failed cells out with a warning each, and gives the same
// selection as the legacy tree the cells were copied from.
func TestLoadTable(t *testing.T) {
	dir := t.TempDir()
	specPath := filepath.Join(dir, "exp.yaml")
	err := os.WriteFile(specPath, []byte(`name: load-table
engine:
  exec:
    command: [sh, -c, "true {{.OutputDir}}"]
sweep:
  min_chunk_threshold: [0, 1, 2]
repeats: 2
baseline: {min_chunk_threshold: 0}
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.ParseFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(s)
	if err != nil {
		t.Fatal(err)
	}
	// Repeat r of the spec is run_a / run_b of the legacy tree "missing_file"
	// (whose run_b lacks threshold 2, so that cell is not run here); threshold
	// 1 of repeat 0 fails.
	tree := "../../testdata/legacy/trees/missing_file"
	runs := []string{"run_a", "run_b"}
	for _, c := range s.Cells() {
		th := int(c.Point["min_chunk_threshold"])
		if c.Repeat == 1 && th == 2 {
			continue
		}
		in := CellInputs(s, e, c)
		h, err := store.HashInputs(in)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := st.Begin(h)
		if err != nil {
			t.Fatal(err)
		}
		rec := &store.Record{Inputs: in, Status: store.StatusOK, Start: time.Now(), End: time.Now()}
		if c.Repeat == 0 && th == 1 {
			rec.Status, rec.ExitCode, rec.Reason = store.StatusFailed, 3, "exit 3: boom"
		} else {
			plots := filepath.Join(tx.Dir(), sarathi.PlotsDir)
			os.MkdirAll(plots, 0o755)
			for _, m := range sarathi.Required {
				b, err := os.ReadFile(filepath.Join(tree, runs[c.Repeat], strconv.Itoa(th), sarathi.FileName(m)))
				if err != nil {
					t.Fatal(err)
				}
				os.WriteFile(filepath.Join(plots, sarathi.FileName(m)), b, 0o644)
			}
		}
		if err := tx.Commit(rec); err != nil {
			t.Fatal(err)
		}
	}
	tab, err := loadTable(s, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Warnings) != 2 || !strings.Contains(strings.Join(tab.Warnings, "\n"), "failed: exit 3: boom") ||
		!strings.Contains(strings.Join(tab.Warnings, "\n"), "not run yet") {
		t.Errorf("warnings %q, want one failed and one not run", tab.Warnings)
	}
	if tab.Param != "min_chunk_threshold" || len(tab.Points) != 3 || len(tab.Repeats) != 2 {
		t.Fatalf("table %s over %v × %v", tab.Param, tab.Points, tab.Repeats)
	}
	if tab.Cells[0][1].Present || tab.Cells[1][2].Present || !tab.Cells[1][1].Present {
		t.Error("present flags do not follow the cells' records")
	}
	sel, err := analysis.Select(tab, analysis.Options{Baseline: SpecBaseline(s), Weights: spec.DefaultWeights})
	if err != nil {
		t.Fatal(err)
	}
	// By hand: threshold 1 only in repeat 1 (0.9), threshold 2 only in
	// repeat 0 (0.85): 2 wins.
	if got := sel.Recommended(); got[0] != 2 || sel.Rows[1].Runs != 1 || sel.Rows[2].Runs != 1 {
		b, _ := json.Marshal(sel.JSON())
		t.Errorf("recommended %v: %s", got, b)
	}
	// No cell with results at all is an error that says what to do.
	empty, _ := store.Open(filepath.Join(dir, "empty"))
	if _, err := loadTable(s, empty); err == nil || !strings.Contains(err.Error(), "lab run") {
		t.Errorf("empty store: %v", err)
	}
	// Only failed cells: the error points at their reasons, not at running again.
	onlyFailed, _ := store.Open(filepath.Join(dir, "failed"))
	c := s.Cells()[0]
	in := CellInputs(s, e, c)
	h, _ := store.HashInputs(in)
	tx, err := onlyFailed.Begin(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(&store.Record{Inputs: in, Status: store.StatusFailed, ExitCode: 1, Reason: "exit 1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := loadTable(s, onlyFailed); err == nil || !strings.Contains(err.Error(), "1 failed (`lab status") {
		t.Errorf("store with only a failed cell: %v", err)
	}
}

// loadTable opens s on st and loads the table of its cells.
func loadTable(s *spec.Spec, st *store.Store) (*analysis.Table, error) {
	x, err := OpenSpec(s, st.Root(), Options{})
	if err != nil {
		return nil, err
	}
	cells, err := x.Cells()
	if err != nil {
		return nil, err
	}
	return x.Table(cells)
}
