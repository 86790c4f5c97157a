package spec

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseFileLimits(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	list := "name: big\nengine: {exec: {command: [b, '{{.OutputDir}}']}}\nsweep:\n  x: [" + strings.Repeat("1,", MaxSpecBytes/2) + "1]\n"
	if err := os.WriteFile(big, []byte(list), 0o666); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o666); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"over 1 MiB", big, "big.yaml: the spec is larger than 1048576 bytes"},
		{"a named pipe (nobody writes: must not hang)", fifo, "fifo.yaml: not a regular file (a named pipe)"},
		{"an endless device", "/dev/zero", "/dev/zero: not a regular file (a device)"},
		{"a folder", dir, "not a regular file (a folder)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := ParseFile(tc.path)
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("ParseFile = %v; want an error saying %q", err, tc.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("ParseFile did not return: it waits on the file")
			}
		})
	}
}

func TestDepthScanIgnoresQuotesAndComments(t *testing.T) {
	tests := []struct {
		name, text string
		ok         bool
	}{
		{"brackets in double quotes", `description: "` + strings.Repeat("[", 100) + `"`, true},
		{"brackets in single quotes", `description: '` + strings.Repeat("{", 100) + `'`, true},
		{"brackets in a comment", `# ` + strings.Repeat("[", 100), true},
		{"an apostrophe does not hide brackets", `description: don't ` + strings.Repeat("[", 100), false},
		{"escaped quote inside a string", `d: "a\"` + strings.Repeat("[", 100) + `"`, true},
		{"64 levels", strings.Repeat("[", 64) + strings.Repeat("]", 64), true},
		{"65 levels", strings.Repeat("[", 65), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkLimits("s.yaml", []byte(tc.text))
			if (err == nil) != tc.ok {
				t.Errorf("checkLimits = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
