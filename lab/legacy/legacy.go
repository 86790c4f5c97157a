// Package legacy reads the folder tree that the old bash loop wrote,
//
//	threshold_output/<timestamp>/<threshold>/<metric>.csv
//
// Each timestamp folder is one repeat of the sweep, each integer
// folder inside it one threshold value, and each threshold folder holds the
// five metric CSVs of sarathi.Required. `lab select --root` analyses such a
// tree directly (LoadTable) and `lab import` turns it into an experiment in
// the store (lab/experiment: this package only reads, and depends on no
// store, runner or engine); both walk it with Scan so they agree on what
// counts.
package legacy

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/sarathi"
)

// Param is the swept parameter of a legacy tree.
const Param = "min_chunk_threshold"

// Tree is a scanned legacy tree.
type Tree struct {
	// Root is the scanned folder, as given to Scan.
	Root string
	// Repeats are the timestamp folders, sorted by name (the old script's
	// order; timestamps sort chronologically).
	Repeats []Repeat
	// Thresholds is the sorted union of the thresholds of every complete
	// cell in the tree.
	Thresholds []int
	// Warnings name what was skipped and why (non-integer folders, duplicate
	// thresholds, threshold folders missing a CSV, repeats without any
	// complete threshold), sorted.
	Warnings []string
}

// Repeat is one timestamp folder.
type Repeat struct {
	Name string // folder name, e.g. "20250101_120000"
	Dir  string // Root/Name
	// Cells are the complete threshold folders, sorted by threshold.
	Cells []Cell
}

// Cell is one complete threshold folder of one repeat.
type Cell struct {
	Threshold int
	Dir       string // the folder holding the CSVs
	// Files maps each metric of sarathi.Required to its CSV path.
	Files map[string]string
}

// Cell returns the cell of threshold t in r, or nil if r has none.
func (r *Repeat) Cell(t int) *Cell {
	i := sort.Search(len(r.Cells), func(i int) bool { return r.Cells[i].Threshold >= t })
	if i < len(r.Cells) && r.Cells[i].Threshold == t {
		return &r.Cells[i]
	}
	return nil
}

// ErrEmpty is wrapped by Scan's error for a tree that holds no complete
// threshold folder at all.
var ErrEmpty = errors.New("no complete threshold folder")

// Scan walks root. It fails only when root cannot be read or holds no
// complete <timestamp>/<threshold>/ folder (the error wraps ErrEmpty and
// lists the warnings); anything else that does not fit the layout is skipped
// and named in Tree.Warnings. Files directly under root or under a timestamp
// folder are ignored silently (the old script did not look at them either).
//
// A threshold folder counts when its name parses as a base-10 integer
// (strconv.Atoi: "7", "-1"; not "7.5" or "t7"); when two names parse to the
// same value ("7" and "07") the first by name is kept. It is complete when
// each of the five required CSVs exists as a regular file; their content is
// checked later, by whoever reads them.
func Scan(root string) (*Tree, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("legacy tree: %w", err)
	}
	t := &Tree{Root: root}
	var repeats []Repeat
	for _, e := range entries { // os.ReadDir sorts by name
		if isDir(root, e) {
			repeats = append(repeats, Repeat{Name: e.Name(), Dir: filepath.Join(root, e.Name())})
		}
	}
	// The repeats are scanned at once (a stat and an open per file add up
	// on big trees), then taken in name order: the same tree, the same
	// warnings, the first error by name.
	type scanned struct {
		cells []Cell
		warns []string
		err   error
	}
	found := make([]scanned, len(repeats))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(repeats)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(repeats); i = int(next.Add(1) - 1) {
				f := &found[i]
				f.cells, f.warns, f.err = scanRepeat(repeats[i].Dir)
			}
		})
	}
	wg.Wait()
	seen := map[int]bool{}
	for i, r := range repeats {
		cells, warns, err := found[i].cells, found[i].warns, found[i].err
		if err != nil {
			return nil, fmt.Errorf("legacy tree: %w", err)
		}
		t.Warnings = append(t.Warnings, warns...)
		if len(cells) == 0 {
			t.Warnings = append(t.Warnings, fmt.Sprintf("%s: no complete threshold folder, repeat skipped", r.Dir))
			continue
		}
		r.Cells = cells
		for _, c := range cells {
			if !seen[c.Threshold] {
				seen[c.Threshold] = true
				t.Thresholds = append(t.Thresholds, c.Threshold)
			}
		}
		t.Repeats = append(t.Repeats, r)
	}
	sort.Ints(t.Thresholds)
	sort.Strings(t.Warnings)
	if len(t.Repeats) == 0 {
		msg := fmt.Sprintf("%s: %v: expected <timestamp>/<threshold>/ folders holding the five CSVs (%s, …)",
			root, ErrEmpty, sarathi.FileName(sarathi.Required[0]))
		for _, w := range t.Warnings {
			msg += "\n  " + w
		}
		return t, &emptyError{msg: msg}
	}
	return t, nil
}

type emptyError struct{ msg string }

func (e *emptyError) Error() string { return e.msg }
func (e *emptyError) Unwrap() error { return ErrEmpty }

func scanRepeat(dir string) ([]Cell, []string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	var cells []Cell
	var warns []string
	byValue := map[int]string{}
	for _, e := range entries {
		if !isDir(dir, e) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		th, err := strconv.Atoi(e.Name())
		if err != nil {
			warns = append(warns, fmt.Sprintf("%s: not an integer threshold folder, skipped", p))
			continue
		}
		if prev, dup := byValue[th]; dup {
			warns = append(warns, fmt.Sprintf("%s: threshold %d already read from %s, skipped", p, th, prev))
			continue
		}
		byValue[th] = p
		if err := readable(p); err != nil {
			warns = append(warns, fmt.Sprintf("%s: cannot be read (%v), threshold skipped for this repeat", p, err))
			continue
		}
		files := make(map[string]string, len(sarathi.Required))
		var missing, wrong []string
		for _, m := range sarathi.Required {
			name := sarathi.FileName(m)
			f := filepath.Join(p, name)
			st, err := os.Stat(f)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				missing = append(missing, name)
			case err != nil:
				wrong = append(wrong, fmt.Sprintf("%s cannot be read (%v)", name, errors.Unwrap(err)))
			case !st.Mode().IsRegular():
				wrong = append(wrong, fmt.Sprintf("%s is %s, not a regular file", name, describeType(st.Mode())))
			default:
				if err := syscall.Access(f, readOK); err != nil {
					wrong = append(wrong, fmt.Sprintf("%s cannot be read (%v)", name, err))
					continue
				}
				files[m] = f
			}
		}
		if len(missing) > 0 {
			wrong = append(wrong, "missing "+joinNames(missing))
		}
		if len(wrong) > 0 {
			warns = append(warns, fmt.Sprintf("%s: %s, threshold skipped for this repeat", p, strings.Join(wrong, "; ")))
			continue
		}
		cells = append(cells, Cell{Threshold: th, Dir: p, Files: files})
	}
	sort.Slice(cells, func(i, j int) bool { return cells[i].Threshold < cells[j].Threshold })
	return cells, warns, nil
}

// readOK is access(2)'s R_OK: a CSV's readability is asked of the kernel
// in one call rather than by opening it (an open costs Go several calls),
// a tenth of a big tree's scan.
const readOK = 4

// readable reports why the folder at path cannot be read, or nil.
func readable(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return errors.Unwrap(err)
	}
	defer f.Close()
	if _, err := f.Readdirnames(1); err != nil && err != io.EOF {
		return errors.Unwrap(err)
	}
	return nil
}

func describeType(m fs.FileMode) string {
	switch t := m.Type(); {
	case m.IsDir():
		return "a folder"
	case t&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case t&fs.ModeSocket != 0:
		return "a socket"
	case t&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

// isDir follows symbolic links, so a tree assembled with links reads like a
// copied one.
func isDir(parent string, e os.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&os.ModeSymlink == 0 {
		return false
	}
	st, err := os.Stat(filepath.Join(parent, e.Name()))
	return err == nil && st.IsDir()
}

func joinNames(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}

// TableParam is the parameter label of a table read from a legacy tree:
// the old script's column name.
const TableParam = "threshold"

// LoadTable reads a legacy tree into an analysis table (walked by Scan:
// repeats are the timestamp folders in name order, thresholds the integer
// folders, a threshold folder missing a CSV skipped for its repeat, and
// named in the table's warnings).
func LoadTable(root string) (*analysis.Table, error) {
	tree, err := Scan(root)
	if err != nil {
		return nil, err
	}
	points := make([]analysis.Point, len(tree.Thresholds))
	for i, th := range tree.Thresholds {
		points[i] = analysis.Point{float64(th)}
	}
	names := make([]string, len(tree.Repeats))
	var cells []analysis.CellFiles
	for r, rep := range tree.Repeats {
		names[r] = rep.Name
		for _, c := range rep.Cells {
			cells = append(cells, analysis.CellFiles{Repeat: r, Point: analysis.Point{float64(c.Threshold)}, Dir: c.Dir, Files: c.Files})
		}
	}
	t := analysis.NewTable([]string{TableParam}, points, names)
	t.Warnings = slices.Clone(tree.Warnings)
	if err := t.Load(cells); err != nil {
		return nil, err
	}
	return t, nil
}
