package analysis

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/schedlab/schedlab/lab/present"

	"github.com/schedlab/schedlab/lab/sarathi"
)

// Point is one sweep point: the values of the swept parameters in the
// Table's Params order. A one-parameter sweep (the common case) has points
// of length 1.
type Point []float64

// Compare orders points lexicographically.
func (p Point) Compare(q Point) int {
	for i := 0; i < len(p) && i < len(q); i++ {
		if c := cmp.Compare(p[i], q[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(p), len(q))
}

// String is the point's values separated by commas, each in the shortest
// form that reads back exactly ("6", "0.5", "6,0.25"). Whole numbers are
// written out ("2000000", as the old script's pandas table prints a
// threshold, not "2e+06").
func (p Point) String() string { return present.Point(p) }

// Table is the sweep × repeats grid of cell summaries that selection works
// on, whatever the results came from (a legacy tree or the store).
type Table struct {
	// Param labels the swept parameter: its name for a one-parameter sweep
	// ("threshold" for a legacy tree), the names joined by "," for a grid.
	Param string
	// Params are the swept parameters' names, in the order of each Point.
	Params []string
	// Points are the sweep points, sorted (lexicographically for a grid).
	Points []Point
	// Repeats name the repeats (legacy: the timestamp folders), in order.
	Repeats []string
	// Cells[r][p] is the cell of repeat r at Points[p].
	Cells [][]Cell
	// Warnings say what was skipped while loading (missing files, folders
	// that are not part of the layout, failed cells), sorted.
	Warnings []string
}

// Cell is one repeat at one point.
type Cell struct {
	// Present is false when the repeat has no usable result at the point;
	// the selection then leaves this repeat out for the point.
	Present bool
	Summary Summary
	// Dir holds the cell's metric files (named for messages).
	Dir string
	// Unavailable are the metrics the cell's source cannot observe
	// (run_summary.json), summary metrics or not.
	Unavailable []string
	// ttft is kept by Load for the guards (zero: read the file).
	ttft ttftQuantiles
}

// file is the path of one metric's file in the cell.
func (c *Cell) file(metric string) string {
	return filepath.Join(c.Dir, sarathi.FileName(metric))
}

// PointIndex returns the index of p in t.Points, or -1.
func (t *Table) PointIndex(p Point) int {
	i, ok := slices.BinarySearchFunc(t.Points, p, Point.Compare)
	if !ok {
		return -1
	}
	return i
}

// NewTable returns a table over the given points (sorted here, duplicates
// removed) and repeats with every cell absent. Fill it with Load.
func NewTable(params []string, points []Point, repeats []string) *Table {
	pts := slices.Clone(points)
	slices.SortFunc(pts, Point.Compare)
	pts = slices.CompactFunc(pts, func(a, b Point) bool { return a.Compare(b) == 0 })
	t := &Table{
		Param:   strings.Join(params, ","),
		Params:  slices.Clone(params),
		Points:  pts,
		Repeats: slices.Clone(repeats),
		Cells:   make([][]Cell, len(repeats)),
	}
	for r := range t.Cells {
		t.Cells[r] = make([]Cell, len(pts))
	}
	return t
}

// CellFiles says where the metric files of one cell are.
type CellFiles struct {
	Repeat int   // index into Table.Repeats
	Point  Point // must be one of Table.Points
	Dir    string
	// Files maps each metric of sarathi.Required to its CSV; nil means
	// Dir/<metric>.csv.
	Files map[string]string
	// Unavailable are the metrics the cell's source cannot observe
	// (run_summary.json): their files may be absent.
	Unavailable []string
}

// Load summarizes the given cells into t, in parallel (GOMAXPROCS
// workers, each reusing one value buffer), and marks them present. On
// error it returns the error of the first failing cell in the given order,
// so the message does not depend on scheduling.
func (t *Table) Load(cells []CellFiles) error {
	type slot struct{ r, p int }
	slots := make([]slot, len(cells))
	for i, c := range cells {
		p := t.PointIndex(c.Point)
		if p < 0 || c.Repeat < 0 || c.Repeat >= len(t.Repeats) {
			return fmt.Errorf("analysis: cell %s of repeat %d is not in the table", c.Point, c.Repeat)
		}
		slots[i] = slot{c.Repeat, p}
	}
	errs := make([]error, len(cells))
	var next atomic.Int64
	var failed atomic.Bool
	workers := min(runtime.GOMAXPROCS(0), len(cells))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []float64
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= len(cells) {
					return
				}
				c := cells[i]
				files := c.Files
				if files == nil {
					files = plotFiles(c.Dir)
				}
				s, ttft, err := summarizeAvailable(files, c.Unavailable, &buf)
				if err != nil {
					errs[i] = err
					failed.Store(true)
					return
				}
				t.Cells[slots[i].r][slots[i].p] = Cell{Present: true, Summary: s, Dir: c.Dir, Unavailable: c.Unavailable, ttft: ttft}
			}
		}()
	}
	wg.Wait()
	// Jobs are taken in order, so every job before the first failure ran.
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// ErrUnavailable is wrapped by Files when a cell's source cannot observe the
// metric asked for (e.g. a client-side benchmark and the per-prefill-token
// times that prompt_weight pools).
var ErrUnavailable = errors.New("the cell's source cannot observe this metric")

// Files returns the file of metric in every repeat that has results at p,
// in repeat order (e.g. the files SecondsPerPrefillToken pools).
func (t *Table) Files(p Point, metric string) ([]string, error) {
	i := t.PointIndex(p)
	if i < 0 {
		return nil, fmt.Errorf("%s=%s is not a point of the sweep", t.Param, p)
	}
	var files []string
	for r := range t.Repeats {
		if c := &t.Cells[r][i]; c.Present {
			if slices.Contains(c.Unavailable, metric) {
				return nil, fmt.Errorf("%s=%s, %s: %s: %w (run_summary.json)", t.Param, p, t.Repeats[r], metric, ErrUnavailable)
			}
			files = append(files, c.file(metric))
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s=%s has no results in any repeat", t.Param, p)
	}
	return files, nil
}
