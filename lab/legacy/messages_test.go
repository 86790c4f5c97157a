package legacy

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/labtest/unprivileged"
	"github.com/schedlab/schedlab/lab/sarathi"
)

// TestScanSaysWhatIsWrong: a threshold folder that is skipped is skipped
// with the real reason, not "missing" for what is there but unusable.
func TestScanSaysWhatIsWrong(t *testing.T) {
	csv := sarathi.FileName(sarathi.Required[0])
	tests := []struct {
		name       string
		unprivileg bool
		spoil      func(t *testing.T, dir string) // dir: a complete threshold folder
		want, not  string
	}{
		{"a named pipe for a CSV", false, func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, csv))
			if err := syscall.Mkfifo(filepath.Join(dir, csv), 0o666); err != nil {
				t.Fatal(err)
			}
		}, csv + " is a named pipe, not a regular file", "missing"},
		{"a folder for a CSV", false, func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, csv))
			os.Mkdir(filepath.Join(dir, csv), 0o777)
		}, csv + " is a folder, not a regular file", "missing"},
		{"a CSV really missing", false, func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, csv))
		}, "missing " + csv, "cannot be read"},
		{"an unreadable threshold folder", true, func(t *testing.T, dir string) {
			os.Chmod(dir, 0)
		}, "cannot be read (permission denied)", "missing"},
		{"an unreadable CSV", true, func(t *testing.T, dir string) {
			os.Chmod(filepath.Join(dir, csv), 0)
		}, csv + " cannot be read (permission denied)", "missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.unprivileg && !unprivileged.Run(t) {
				return
			}
			root := t.TempDir()
			mk(t, filepath.Join(root, "20250101_000000", "0"), nil)
			mk(t, filepath.Join(root, "20250101_000000", "1"), nil)
			bad := filepath.Join(root, "20250101_000000", "1")
			tc.spoil(t, bad)
			defer os.Chmod(bad, 0o755)
			tree, err := Scan(root)
			if err != nil {
				t.Fatal(err)
			}
			if len(tree.Warnings) != 1 {
				t.Fatalf("warnings %q, want one", tree.Warnings)
			}
			w := tree.Warnings[0]
			if !strings.HasPrefix(w, bad+": ") || !strings.Contains(w, tc.want) || strings.Contains(w, tc.not) {
				t.Errorf("warning %q; want it to name %s and say %q, not %q", w, bad, tc.want, tc.not)
			}
		})
	}
}
