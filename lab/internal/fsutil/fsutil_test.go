package fsutil

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCopyFile(t *testing.T) {
	dir := t.TempDir()
	from, to := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
	if err := os.WriteFile(from, []byte("Request Id,x,cdf\n0_0,1,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, []byte("older and longer content that must go"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CopyFile(from, to); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(to); string(got) != "Request Id,x,cdf\n0_0,1,1\n" {
		t.Errorf("copy = %q", got)
	}
	if err := CopyFile(filepath.Join(dir, "missing"), to); err == nil {
		t.Error("copying a missing file: no error")
	}
}
