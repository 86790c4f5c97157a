// Package fsutil holds the small file operations that several packages
// need (harvesting an engine's files, importing a legacy tree).
package fsutil

import (
	"io"
	"os"
	"path/filepath"
)

// CopyFile copies the regular file from to the path to (created or
// truncated). The caller makes to durable: cells are fsync'd by the store
// when they are committed.
func CopyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// WriteFileAtomic writes data to path through a temporary file in the same
// folder renamed into place, so a reader (or a crash) never sees a
// half-written file. The file gets mode 0644, like os.WriteFile's usual
// use (os.CreateTemp alone would leave 0600).
func WriteFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
