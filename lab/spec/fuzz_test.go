package spec

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, that every failure is a
// non-empty Errors with positions inside the text, and that a spec which
// parses has cells and a stable hash. Seeds: the golden specs.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "specs", "*", "*.yaml"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("sweep: {x: {from: 1e308, to: 1.7e308, step: 1e300}}"))
	f.Add([]byte("a: &a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("f.yaml", data)
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T %v is not a non-empty Errors", err, err)
			}
			return
		}
		if len(s.Cells()) == 0 {
			t.Fatal("a valid spec with no cells")
		}
		if s.Hash() != s.Hash() {
			t.Fatal("unstable hash")
		}
	})
}
