// Package fsutil holds the small file operations that several packages
// need (harvesting an engine's files, importing a legacy tree).
package fsutil

import (
	"errors"
	"io"
	"io/fs"
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
	return WriteFilesAtomic([]File{{path, data}})
}

// File is a file for WriteFilesAtomic.
type File struct {
	Path string
	Data []byte
}

// WriteFilesAtomic writes several files that belong together (a report's
// page and its summaries): every one to a temporary file beside its
// target first, and only when all are written, renames them into place,
// in order. A failure while writing (a full disk, say) leaves every target
// as it was — never half old, half new — and no temporary file behind.
// Each file gets mode 0644.
func WriteFilesAtomic(files []File) error {
	tmps := make([]string, 0, len(files))
	cleanup := func() {
		for _, t := range tmps {
			os.Remove(t)
		}
	}
	for _, f := range files {
		tmp, err := writeTemp(f.Path, f.Data)
		if err != nil {
			cleanup()
			return err
		}
		tmps = append(tmps, tmp)
	}
	// A folder in a target's place is the one thing that makes a rename
	// fail here: checked before the first rename.
	for _, f := range files {
		if fi, err := os.Lstat(f.Path); err == nil && fi.IsDir() {
			cleanup()
			return &os.PathError{Op: "write", Path: f.Path, Err: errors.New("is a folder")}
		}
	}
	for i, f := range files {
		if err := os.Rename(tmps[i], f.Path); err != nil {
			tmps = tmps[i:]
			cleanup()
			return err
		}
	}
	return nil
}

// writeTemp writes data to a new temporary file beside path.
func writeTemp(path string, data []byte) (string, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return "", err
	}
	fail := func(err error) (string, error) {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", err
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return tmp.Name(), nil
}

// RemoveAll removes path and everything below it, like os.RemoveAll, but
// also where a folder below it has lost its write (or search) permission —
// an engine that copied a read-only tree (a Go module cache, files from
// read-only media) into its output. Such a folder's entries cannot be
// unlinked by its owner until the permission is restored, so on a
// permission error RemoveAll gives every folder under path back u+rwx and
// tries again. A path that does not exist is not an error.
func RemoveAll(path string) error {
	err := os.RemoveAll(path)
	if err == nil || !errors.Is(err, fs.ErrPermission) {
		return err
	}
	restoreDirPerms(path)
	return os.RemoveAll(path)
}

// restoreDirPerms adds u+rwx to every folder under root (root included),
// walking top-down so that a folder is opened only once it can be read. It
// never follows symbolic links; errors are left for the removal to report.
func restoreDirPerms(root string) {
	fi, err := os.Lstat(root)
	if err != nil || !fi.IsDir() {
		return
	}
	if fi.Mode().Perm()&0o700 != 0o700 {
		os.Chmod(root, fi.Mode().Perm()|0o700)
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range ents {
		if e.IsDir() {
			restoreDirPerms(filepath.Join(root, e.Name()))
		}
	}
}
