package store

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/schedlab/schedlab/lab/internal/fsutil"
)

// Errors returned by Begin and Remove.
var (
	// ErrLocked: another transaction (this process or another) holds the
	// cell's lock: it is being written right now.
	ErrLocked = errors.New("store: cell is locked by another run")
	// ErrExists: the cell is already committed with status ok.
	ErrExists = errors.New("store: cell already committed")
)

const (
	cellsDir = "cells"
	tmpDir   = "tmp"
	locksDir = "locks"
	// RecordFile is the cell's metadata file, in every committed cell.
	RecordFile = "cell.json"
)

// Store is a content-addressed store of cells rooted at a folder. A Store
// holds no open files; it is safe to use from several goroutines.
type Store struct {
	root string
	// hookBeforeRename, when set (tests only), runs in Commit after the
	// cell is complete in its temporary folder and before it is renamed
	// into place: the last instant before the commit point.
	hookBeforeRename func()
	// noExchange (tests only) makes replace use its two-rename fallback,
	// as on systems without renameat2.
	noExchange bool
	// onSync, when set (tests only), is called with each path Commit has
	// made durable (fsync'd), as soon as it is.
	onSync func(path string)
}

// DefaultRoot is $LAB_STORE, or ".lab" in the working directory.
func DefaultRoot() string {
	if r := os.Getenv("LAB_STORE"); r != "" {
		return r
	}
	return ".lab"
}

// Open opens the store at root, creating its layout when root is missing
// or an empty folder. A non-empty folder without cells/ is refused: it is
// not a store, and adopting it would scatter cells/, tmp/ and locks/ into
// it (with `--store /`, the system's /tmp would become the store's tmp/).
func Open(root string) (*Store, error) {
	if root == "" {
		return nil, errors.New("store: empty root")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if err := checkAdoptable(abs); err != nil {
		return nil, err
	}
	for _, d := range []string{cellsDir, tmpDir, filepath.Join(locksDir, cellsDir)} {
		if err := os.MkdirAll(filepath.Join(abs, d), 0o777); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	return &Store{root: abs}, nil
}

// checkAdoptable refuses a folder that exists, is not empty and has no
// cells/ folder.
func checkAdoptable(abs string) error {
	fi, err := os.Stat(abs)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("store: %s is not a folder", abs)
	}
	if _, err := os.Stat(filepath.Join(abs, cellsDir)); err == nil {
		return nil
	}
	f, err := os.Open(abs)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	if names, _ := f.Readdirnames(1); len(names) > 0 {
		return fmt.Errorf("store: %s is not a store (it has no %s/ folder) and is not empty; give --store (or LAB_STORE) a new or empty folder", abs, cellsDir)
	}
	return nil
}

// OpenReadOnly opens the store at root for looking only (Get, List,
// Locked, Verify): it creates nothing, so `lab plan` and `lab status` work on
// a store they may not write to and do not leave an empty store behind when
// run before the first `lab run` or with a mistyped --store. A missing root
// reads as an empty store (Get finds no cell); writing through the returned
// Store (Begin, Remove, CleanTemp) fails.
func OpenReadOnly(root string) (*Store, error) {
	if root == "" {
		return nil, errors.New("store: empty root")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(abs); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("store: %s is not a folder", abs)
	}
	return &Store{root: abs}, nil
}

// Root is the store's absolute root folder.
func (s *Store) Root() string { return s.root }

// LockDir is where cross-process lock files live (engine.Request.LockDir);
// the store's own cell locks are in its cells/ subfolder.
func (s *Store) LockDir() string { return filepath.Join(s.root, locksDir) }

// CellDir is where the committed cell with this hash lives.
func (s *Store) CellDir(hash string) string { return filepath.Join(s.root, cellsDir, hash) }

func (s *Store) lockPath(hash string) string {
	return filepath.Join(s.root, locksDir, cellsDir, hash+".lock")
}

// ValidHash reports whether h looks like a cell address: 64 lower-case hex
// digits. Every entry point checks it, so a hash can never name a path
// outside the store.
func ValidHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	_, err := hex.DecodeString(h)
	return err == nil
}

func checkHash(h string) error {
	if !ValidHash(h) {
		return fmt.Errorf("store: %q is not a cell hash (64 lower-case hex digits)", h)
	}
	return nil
}

// Get returns the committed cell's record, or (nil, nil) when the cell is
// not in the store. A record that cannot be read or decoded, or that is not
// this cell's — its hash or the hash of its inputs is not the folder's
// name: a botched copy or merge, a symlink to another cell — is a
// *CorruptError: taking it would mean using another cell's numbers, and
// checking costs one hash of the inputs (microseconds) next to the file
// read. Begin does not stop at a corrupt cell: a run replaces it.
func (s *Store) Get(hash string) (*Record, error) {
	if err := checkHash(hash); err != nil {
		return nil, err
	}
	path := filepath.Join(s.CellDir(hash), RecordFile)
	rec, err := readRecord(path)
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Lstat(s.CellDir(hash)); errors.Is(serr, os.ErrNotExist) {
			return nil, nil
		}
	}
	if err != nil {
		return nil, &CorruptError{Path: path, Err: err}
	}
	if err := checkIdentity(rec, hash); err != nil {
		return nil, &CorruptError{Path: path, Err: err}
	}
	return rec, nil
}

// checkIdentity checks that rec is the record of the cell at address hash.
func checkIdentity(rec *Record, hash string) error {
	if rec.Hash != hash {
		return fmt.Errorf("it records cell %s, not the folder's %s", rec.Hash, hash)
	}
	h, err := HashInputs(rec.Inputs)
	if err != nil {
		return fmt.Errorf("its inputs cannot be hashed: %w", err)
	}
	if h != hash {
		return fmt.Errorf("its inputs hash to %s, not to the folder's name", h)
	}
	return nil
}

// CorruptError is Get's error for a committed cell whose record cannot be
// trusted. Callers that can treat the cell as missing (a run re-runs it)
// test for it with errors.As.
type CorruptError struct {
	Path string // the cell.json
	Err  error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("corrupt cell record %s: %v (`lab verify` checks the whole store; `lab run` runs the cell again)", e.Path, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// List returns the hashes of the committed cells, sorted.
func (s *Store) List() ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(s.root, cellsDir))
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && ValidHash(e.Name()) {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// Remove deletes a committed cell. It takes the cell's lock (ErrLocked when
// a run holds it) and renames the folder out of cells/ before deleting it,
// so the cell disappears in one step; a crash mid-delete leaves a
// temporary folder for CleanTemp. Removing an absent cell is not an error.
func (s *Store) Remove(hash string) error {
	if err := checkHash(hash); err != nil {
		return err
	}
	l, err := s.tryLock(hash)
	if err != nil {
		return err
	}
	defer l.Unlock()
	dir := s.CellDir(hash)
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	aside, err := os.MkdirTemp(filepath.Join(s.root, tmpDir), hash+".rm-")
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	// MkdirTemp made an empty folder to reserve the name; rename over it.
	if err := os.Remove(aside); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if err := os.Rename(dir, aside); err != nil {
		return fmt.Errorf("store: removing %s: %w", hash, err)
	}
	if err := syncDir(filepath.Join(s.root, cellsDir)); err != nil {
		return err
	}
	if err := fsutil.RemoveAll(aside); err != nil {
		return &LeftoverError{Path: aside, Err: err}
	}
	return nil
}

// LeftoverError is Remove's error when the cell is gone from cells/ (it
// is removed: no run, status or select sees it any more) but some of its
// files could not be deleted from the temporary folder it was moved to;
// CleanTemp (the next `lab run`, `lab gc --delete`) tries again.
type LeftoverError struct {
	Path string // the temporary folder still holding files
	Err  error
}

func (e *LeftoverError) Error() string {
	return fmt.Sprintf("removed, but its files in %s could not all be deleted: %v", e.Path, e.Err)
}

func (e *LeftoverError) Unwrap() error { return e.Err }
