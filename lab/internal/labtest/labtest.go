// Package labtest holds test fixtures that several packages' tests share,
// so each fixture is written once.
package labtest

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/schedlab/schedlab/lab/analysis"
)

// DirFiles reads every file under dir (bytes as written), keyed by its path
// relative to dir: for comparing whole run folders.
func DirFiles(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// SmallTable is a hand-set table of three thresholds × two repeats whose
// second repeat lacks threshold 2: enough for selections, charts and
// frames with a missing cell. Every metric of a cell is the same factor
// times a fixed scale, so ratios are easy to check by hand.
func SmallTable(param string, repeats [2]string) *analysis.Table {
	t := analysis.NewTable([]string{param}, []analysis.Point{{0}, {1}, {2}}, repeats[:])
	set := func(r, p int, f float64) {
		t.Cells[r][p] = analysis.Cell{Present: true, Summary: analysis.Summary{
			RequestP95: 10 * f, RequestExecNorm: 0.1 * f, PrefillP95: 2 * f, PrefillExecNorm: 0.001 * f, DecodeNorm: 0.02 * f, Requests: 100,
		}}
	}
	set(0, 0, 1)
	set(0, 1, 0.9)
	set(0, 2, 0.95)
	set(1, 0, 2)
	set(1, 1, 1.7)
	return t
}
