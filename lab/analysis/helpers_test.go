package analysis

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/golden"
)

var update = golden.Update // -update

// legacyDir is the repository's testdata/legacy folder: the hand-made trees
// and the reference select_threshold.py.
const legacyDir = "../../testdata/legacy"

// treeNames are the hand-made trees under testdata/legacy/trees.
var treeNames = []string{"basic", "ties", "missing_baseline", "missing_file", "unsorted_extra", "even_odd", "formats", "wide"}

func treeDir(name string) string { return filepath.Join(legacyDir, "trees", name) }

// python returns the interpreter the reference runs under, or skips the test
// when it lacks numpy or pandas (CI installs them: .ci/setup).
func python(t testing.TB) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import numpy, pandas").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s cannot import numpy and pandas (run .ci/setup): %v", py, err)
		}
		t.Skipf("skipping: %s with numpy and pandas is needed for the parity check (apt-get install python3-numpy python3-pandas): %v", py, err)
	}
	return py
}

// copyTree copies a tree into a fresh temporary folder.
func copyTree(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
