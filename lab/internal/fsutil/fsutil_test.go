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

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "index.html")
	for _, content := range []string{"first, longer content", "second"} {
		if err := WriteFileAtomic(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != content {
			t.Errorf("content = %q, want %q", got, content)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v (%v), want 0644", fi.Mode().Perm(), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("folder holds %d entries, want only the file (no temporary left)", len(ents))
	}
	if err := WriteFileAtomic(filepath.Join(dir, "missing", "x"), nil); err == nil {
		t.Error("writing into a missing folder: no error")
	}
}

func TestWriteFilesAtomicAllOrNothing(t *testing.T) {
	tests := []struct {
		name    string
		third   func(dir string) string // the third file's path
		wantErr bool
	}{
		{"all written", func(dir string) string { return filepath.Join(dir, "index.html") }, false},
		{"the last one cannot be written", func(dir string) string { return filepath.Join(dir, "missing", "index.html") }, true},
		{"the last one cannot be renamed into place", func(dir string) string {
			os.Mkdir(filepath.Join(dir, "index.html"), 0o755)
			os.WriteFile(filepath.Join(dir, "index.html", "x"), nil, 0o644)
			return filepath.Join(dir, "index.html")
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			a, b := filepath.Join(dir, "summary.json"), filepath.Join(dir, "summary.csv")
			os.WriteFile(a, []byte("old json"), 0o644)
			os.WriteFile(b, []byte("old csv"), 0o644)
			err := WriteFilesAtomic([]File{{a, []byte("new json")}, {b, []byte("new csv")}, {tc.third(dir), []byte("new html")}})
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, want error %v", err, tc.wantErr)
			}
			ga, _ := os.ReadFile(a)
			gb, _ := os.ReadFile(b)
			switch {
			case !tc.wantErr && (string(ga) != "new json" || string(gb) != "new csv"):
				t.Errorf("files %q, %q; want the new content", ga, gb)
			case tc.wantErr && (string(ga) != "old json" || string(gb) != "old csv"):
				t.Errorf("files %q, %q; want the old content untouched", ga, gb)
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if len(e.Name()) > 4 && e.Name()[:5] == ".tmp-" {
					t.Errorf("temporary file %s left behind", e.Name())
				}
			}
		})
	}
}
