// Package fsutil holds the small file operations that several packages
// need (harvesting an engine's files, importing a legacy tree).
package fsutil

import (
	"io"
	"os"
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
