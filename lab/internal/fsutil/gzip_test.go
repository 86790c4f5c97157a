package fsutil

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenMaybeGzip(t *testing.T) {
	dir := t.TempDir()
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write([]byte("hello\n"))
	zw.Close()
	files := map[string][]byte{"a.csv": []byte("hello\n"), "a.csv.gz": z.Bytes(), "bad.csv.gz": []byte("not a gzip stream at all")}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ name, want, wantErr string }{
		{"a.csv", "hello\n", ""},
		{"a.csv.gz", "hello\n", ""},
		{"bad.csv.gz", "", "bad.csv.gz: "},
		{"missing.csv", "", "no such file"},
	}
	for _, tc := range tests {
		r, err := OpenMaybeGzip(filepath.Join(dir, tc.name))
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, err := io.ReadAll(r)
		if err != nil || string(got) != tc.want || r.Close() != nil {
			t.Errorf("%s: read %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}
