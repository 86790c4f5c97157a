package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/labtest/unprivileged"
)

// readOnlyTree writes dir/ro/sub/f.txt and takes the write permission away
// from ro/ and ro/sub/, as `cp -r` from read-only media or a Go module cache
// in an engine's output does.
func readOnlyTree(t *testing.T, dir string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "ro", "sub", "f.txt"), "x")
	for _, d := range []string{filepath.Join(dir, "ro", "sub"), filepath.Join(dir, "ro")} {
		if err := os.Chmod(d, 0o555); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadOnlyOutputDoesNotWedgeTheStore(t *testing.T) {
	if !unprivileged.Run(t) {
		return
	}
	in := sampleInputs(7, 0)
	tests := []struct {
		name string
		do   func(t *testing.T, s *Store, h string) error
	}{
		{"abort", func(t *testing.T, s *Store, h string) error {
			tx, err := s.Begin(h)
			if err != nil {
				t.Fatal(err)
			}
			readOnlyTree(t, tx.Dir())
			return tx.Abort()
		}},
		{"remove", func(t *testing.T, s *Store, h string) error {
			commitCell(t, s, in, StatusOK, nil)
			readOnlyTree(t, s.CellDir(h))
			return s.Remove(h)
		}},
		{"replace a failed cell", func(t *testing.T, s *Store, h string) error {
			commitCell(t, s, in, StatusFailed, nil)
			readOnlyTree(t, s.CellDir(h))
			commitCell(t, s, in, StatusOK, nil)
			return nil
		}},
		{"clean a killed run's folder", func(t *testing.T, s *Store, h string) error {
			tx, err := s.Begin(h)
			if err != nil {
				t.Fatal(err)
			}
			readOnlyTree(t, tx.Dir())
			tx.lock.Unlock() // as if killed: folder left, lock free
			tx.done = true
			return s.CleanTemp()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t)
			h := mustHash(t, in)
			if err := tc.do(t, s, h); err != nil {
				t.Fatalf("error: %v", err)
			}
			if ents, _ := os.ReadDir(filepath.Join(s.Root(), "tmp")); len(ents) != 0 {
				t.Errorf("tmp/ still holds %v", ents)
			}
			if probs, err := s.Verify(); err != nil || len(probs) != 0 {
				t.Errorf("Verify = %v, %v; want no problems", probs, err)
			}
		})
	}
}

func TestGetChecksTheCellsIdentity(t *testing.T) {
	a, b := sampleInputs(1, 0), sampleInputs(2, 0)
	tests := []struct {
		name  string
		setup func(t *testing.T, s *Store, ha, hb string)
		want  string
	}{
		{"another cell's folder copied in", func(t *testing.T, s *Store, ha, hb string) {
			if err := os.Rename(s.CellDir(hb), s.CellDir(hb)+".x"); err != nil {
				t.Fatal(err)
			}
			copyTree(t, s.CellDir(ha), s.CellDir(hb))
		}, "records cell"},
		{"symlink to another cell", func(t *testing.T, s *Store, ha, hb string) {
			if err := os.RemoveAll(s.CellDir(hb)); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(s.CellDir(ha), s.CellDir(hb)); err != nil {
				t.Fatal(err)
			}
		}, "records cell"},
		{"inputs edited", func(t *testing.T, s *Store, ha, hb string) {
			p := filepath.Join(s.CellDir(hb), RecordFile)
			rb, _ := os.ReadFile(p)
			writeFile(t, p, strings.Replace(string(rb), `"min_chunk_threshold": 2`, `"min_chunk_threshold": 3`, 1))
		}, "inputs hash to"},
		{"truncated", func(t *testing.T, s *Store, ha, hb string) {
			p := filepath.Join(s.CellDir(hb), RecordFile)
			rb, _ := os.ReadFile(p)
			writeFile(t, p, string(rb[:len(rb)/2]))
		}, "unexpected EOF"},
		{"no record", func(t *testing.T, s *Store, ha, hb string) {
			os.Remove(filepath.Join(s.CellDir(hb), RecordFile))
		}, "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t)
			ha := commitCell(t, s, a, StatusOK, map[string]string{"x.csv": "1"})
			hb := commitCell(t, s, b, StatusOK, map[string]string{"x.csv": "2"})
			tc.setup(t, s, ha, hb)
			rec, err := s.Get(hb)
			var ce *CorruptError
			if !errors.As(err, &ce) || rec != nil {
				t.Fatalf("Get = %v, %v; want a *CorruptError", rec, err)
			}
			msg := err.Error()
			for _, want := range []string{tc.want, filepath.Join(s.CellDir(hb), RecordFile), "lab verify"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			// A run replaces a corrupt cell: Begin does not refuse it.
			tx, err := s.Begin(hb)
			if err != nil {
				t.Fatalf("Begin of a corrupt cell: %v", err)
			}
			if err := tx.Commit(&Record{Inputs: b, Status: StatusOK}); err != nil {
				t.Fatal(err)
			}
			if rec, err := s.Get(hb); err != nil || !rec.OK() {
				t.Errorf("after the rerun: Get = %v, %v", rec, err)
			}
			if rec, err := s.Get(ha); err != nil || !rec.OK() {
				t.Errorf("the other cell: Get = %v, %v", rec, err)
			}
		})
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o777)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o666)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// deepPath makes a chain of folders under dir whose full path is longer
// than PATH_MAX (4096), creating it relative to open folders as only that
// works, and returns the number of levels.
func deepPath(t *testing.T, dir string) {
	t.Helper()
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.Repeat("d", 200)
	for range 25 {
		if err := syscall.Mkdirat(fd, name, 0o777); err != nil {
			t.Fatal(err)
		}
		next, err := syscall.Openat(fd, name, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
		syscall.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		fd = next
	}
	f, err := syscall.Openat(fd, "f.txt", syscall.O_CREAT|syscall.O_WRONLY, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	syscall.Close(f)
	syscall.Close(fd)
}

func TestCommitOddOutputIsAContentError(t *testing.T) {
	in := sampleInputs(8, 0)
	tests := []struct {
		name       string
		unprivileg bool
		setup      func(t *testing.T, dir string)
		want       string
	}{
		{"path longer than PATH_MAX", false, deepPath, "file name too long"},
		{"the engine's own cell.json", false, func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, RecordFile), "{}") }, "reserves"},
		{"unreadable file", true, func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "secret.csv"), "x")
			os.Chmod(filepath.Join(dir, "secret.csv"), 0)
		}, "secret.csv: permission denied"},
		{"unreadable folder", true, func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "locked", "a.csv"), "x")
			os.Chmod(filepath.Join(dir, "locked"), 0)
		}, "locked: permission denied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.unprivileg && !unprivileged.Run(t) {
				return
			}
			s := openStore(t)
			h := mustHash(t, in)
			tx, err := s.Begin(h)
			if err != nil {
				t.Fatal(err)
			}
			tc.setup(t, tx.Dir())
			err = tx.Commit(&Record{Inputs: in, Status: StatusOK})
			var ce *ContentError
			if !errors.As(err, &ce) || !strings.Contains(ce.Reason, tc.want) {
				t.Fatalf("Commit = %v; want a *ContentError saying %q", err, tc.want)
			}
			if strings.Contains(ce.Reason, tx.Dir()) {
				t.Errorf("reason %q names the temporary folder", ce.Reason)
			}
			// The transaction is still open: the cell's lock is held.
			if _, err := s.Begin(h); !errors.Is(err, ErrLocked) {
				t.Errorf("Begin during the open transaction: %v, want ErrLocked", err)
			}
			if err := tx.Abort(); err != nil {
				t.Errorf("Abort: %v", err)
			}
		})
	}
}

func TestFileNamesThatAreNotUTF8(t *testing.T) {
	tests := []struct{ name, key string }{
		{"a\xff.csv", `"a\xff.csv"`},
		{`"quoted".csv`, `"\"quoted\".csv"`},
		{"plain é.csv", "plain é.csv"},
	}
	s := openStore(t)
	files := map[string]string{}
	for _, tc := range tests {
		files[tc.name] = tc.name
	}
	h := commitCell(t, s, sampleInputs(9, 0), StatusOK, files)
	rec, err := s.Get(h)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		if _, ok := rec.Files[tc.key]; !ok {
			t.Errorf("%q: no key %s in %v", tc.name, tc.key, rec.Files)
		}
	}
	if probs, err := s.Verify(); err != nil || len(probs) != 0 {
		t.Errorf("Verify = %v, %v; want no problems", probs, err)
	}
}

func TestOpenRefusesAFolderThatIsNotAStore(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string // "" for success
	}{
		{"new folder", func(t *testing.T, dir string) {}, ""},
		{"empty folder", func(t *testing.T, dir string) { os.Mkdir(dir, 0o777) }, ""},
		{"existing store", func(t *testing.T, dir string) {
			if _, err := Open(dir); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, "notes.txt"), "x")
		}, ""},
		{"folder with other files", func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "etc", "passwd"), "x") }, "is not a store"},
		{"a file", func(t *testing.T, dir string) { writeFile(t, dir, "x") }, "is not a folder"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "store")
			tc.setup(t, dir)
			_, err := Open(dir)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open = %v, want an error saying %q", err, tc.want)
			}
			if _, serr := os.Stat(filepath.Join(dir, "cells")); serr == nil {
				t.Error("a refused folder got a cells/ folder")
			}
		})
	}
}
