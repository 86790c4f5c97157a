package store

import (
	"os"
	"path/filepath"
	"testing"
)

// The atomic replace relies on renameat2(RENAME_EXCHANGE) swapping two
// folders; check it does on this filesystem (the store falls back to two
// renames where it does not).
func TestExchange(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	writeFile(t, filepath.Join(a, "who"), "a")
	writeFile(t, filepath.Join(b, "who"), "b")
	if err := exchange(a, b); err != nil {
		t.Skipf("renameat2 RENAME_EXCHANGE unsupported here (%v): the fallback is used", err)
	}
	if got, _ := os.ReadFile(filepath.Join(a, "who")); string(got) != "b" {
		t.Errorf("a holds %q after the exchange", got)
	}
	if got, _ := os.ReadFile(filepath.Join(b, "who")); string(got) != "a" {
		t.Errorf("b holds %q after the exchange", got)
	}
}
