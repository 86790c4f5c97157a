package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/gofrs/flock"
)

// Txn writes one cell. It holds the cell's lock from Begin until Commit or
// Abort; a Txn is used by one goroutine.
type Txn struct {
	s    *Store
	hash string
	dir  string
	lock *flock.Flock
	done bool
}

func (s *Store) tryLock(hash string) (*flock.Flock, error) {
	l := flock.New(s.lockPath(hash))
	ok, err := l.TryLock()
	if err != nil {
		return nil, fmt.Errorf("store: locking %s: %w", hash, err)
	}
	if !ok {
		return nil, ErrLocked
	}
	return l, nil
}

// Begin starts writing the cell hash. It returns ErrLocked when another
// transaction (in any process) holds the cell, and ErrExists when, once
// the lock is held, the cell turns out to be committed with status ok
// (someone finished it meanwhile). A committed failed or unreadable cell
// does not stop Begin: Commit replaces it.
func (s *Store) Begin(hash string) (*Txn, error) {
	if err := checkHash(hash); err != nil {
		return nil, err
	}
	l, err := s.tryLock(hash)
	if err != nil {
		return nil, err
	}
	if rec, err := s.Get(hash); err == nil && rec.OK() {
		l.Unlock()
		return nil, ErrExists
	}
	dir, err := os.MkdirTemp(filepath.Join(s.root, tmpDir), hash+".")
	if err != nil {
		l.Unlock()
		return nil, fmt.Errorf("store: %w", err)
	}
	return &Txn{s: s, hash: hash, dir: dir, lock: l}, nil
}

// Hash is the cell being written.
func (t *Txn) Hash() string { return t.hash }

// Dir is the temporary folder the engine writes the cell's files into.
func (t *Txn) Dir() string { return t.dir }

// Commit completes the cell: it checks rec against the transaction (Hash
// empty or equal to the cell's, HashInputs(rec.Inputs) equal to it, status
// ok or failed), hashes and fsyncs every file into rec.Files, writes
// cell.json, and renames the folder into place — atomically replacing an
// earlier failed record of the same cell — then releases the lock. On
// error the transaction is aborted.
func (t *Txn) Commit(rec *Record) (err error) {
	if t.done {
		return errors.New("store: transaction already finished")
	}
	defer func() {
		if err != nil {
			t.Abort()
		}
	}()
	if rec.Hash == "" {
		rec.Hash = t.hash
	}
	if rec.Hash != t.hash {
		return fmt.Errorf("store: record hash %s does not match the transaction's cell %s", rec.Hash, t.hash)
	}
	h, err := HashInputs(rec.Inputs)
	if err != nil {
		return err
	}
	if h != t.hash {
		return fmt.Errorf("store: the record's inputs hash to %s, not to the cell %s being committed", h, t.hash)
	}
	if rec.Status != StatusOK && rec.Status != StatusFailed {
		return fmt.Errorf("store: record status %q; expected %q or %q", rec.Status, StatusOK, StatusFailed)
	}
	rec.Format = RecordFormat
	files, err := hashTree(t.dir, true)
	if err != nil {
		return err
	}
	rec.Files = files
	b, err := encodeRecord(rec)
	if err != nil {
		return fmt.Errorf("store: encoding %s: %w", RecordFile, err)
	}
	if err := writeFileSync(filepath.Join(t.dir, RecordFile), b); err != nil {
		return err
	}
	if err := syncDir(t.dir); err != nil {
		return err
	}
	if t.s.hookBeforeRename != nil {
		t.s.hookBeforeRename()
	}
	final := t.s.CellDir(t.hash)
	var leftover string // the replaced record, now under tmp/
	if _, err := os.Lstat(final); err == nil {
		if leftover, err = t.replace(final); err != nil {
			return err
		}
	} else if err := os.Rename(t.dir, final); err != nil {
		return fmt.Errorf("store: committing %s: %w", t.hash, err)
	}
	// The cell is committed: what follows cannot undo that, so its
	// failures are not errors. A leftover that cannot be removed now is
	// a temporary folder for CleanTemp.
	t.done = true
	syncDir(filepath.Dir(final))
	if leftover != "" {
		os.RemoveAll(leftover)
	}
	t.lock.Unlock()
	return nil
}

// replace puts the new cell in place of an earlier record of the same
// cell and returns where the old record now is (under tmp/, for removal).
// On Linux this is one renameat2(RENAME_EXCHANGE), so the cell is never
// absent; elsewhere (or on a filesystem without it) the old folder is
// renamed aside first, and a crash in between leaves the cell absent with
// the old record in tmp/ — the runner then simply runs it again.
func (t *Txn) replace(final string) (string, error) {
	if t.s.noExchange {
		// fall through to the portable path
	} else if err := exchange(t.dir, final); err == nil {
		return t.dir, nil // t.dir now holds the old record
	}
	aside, err := os.MkdirTemp(filepath.Join(t.s.root, tmpDir), t.hash+".old-")
	if err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	if err := os.Remove(aside); err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	if err := os.Rename(final, aside); err != nil {
		return "", fmt.Errorf("store: replacing %s: %w", t.hash, err)
	}
	if err := os.Rename(t.dir, final); err != nil {
		// Put the old record back; the transaction aborts.
		os.Rename(aside, final)
		return "", fmt.Errorf("store: replacing %s: %w", t.hash, err)
	}
	return aside, nil
}

// Abort discards the transaction: removes the temporary folder and
// releases the lock. Aborting a finished transaction does nothing.
func (t *Txn) Abort() error {
	if t.done {
		return nil
	}
	t.done = true
	err := os.RemoveAll(t.dir)
	if uerr := t.lock.Unlock(); err == nil {
		err = uerr
	}
	return err
}

// hashTree returns the SHA-256 of every file under dir (relative,
// slash-separated paths), excluding the top-level cell.json. With sync it
// (durable) also fsyncs every file and folder, so that a committed cell survives a
// power loss; files are hashed and fsynced concurrently, which lets the
// filesystem batch their journal commits. Symbolic links are recorded as
// "symlink:<target>"; other special files are an error.
func hashTree(dir string, durable bool) (map[string]string, error) {
	files := map[string]string{}
	var dirs, paths, rels []string
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case e.IsDir():
			dirs = append(dirs, path)
			return nil
		case rel == RecordFile:
			if durable {
				return fmt.Errorf("store: the engine wrote %s, a name the store reserves", RecordFile)
			}
			return nil
		case e.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			files[rel] = "symlink:" + target
			return nil
		case !e.Type().IsRegular():
			return fmt.Errorf("store: %s is not a regular file (%s); a cell holds only files, folders and symlinks", rel, e.Type())
		}
		paths, rels = append(paths, path), append(rels, rel)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sums := make([]string, len(paths))
	errs := make([]error, len(paths))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range paths {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			sums[i], errs[i] = hashFile(paths[i], durable)
		})
	}
	wg.Wait()
	for i, rel := range rels {
		if errs[i] != nil {
			return nil, errs[i]
		}
		files[rel] = sums[i]
	}
	if durable {
		sort.Sort(sort.Reverse(sort.StringSlice(dirs))) // children first
		for _, d := range dirs {
			if err := syncDir(d); err != nil {
				return nil, err
			}
		}
	}
	return files, nil
}

func hashFile(path string, durable bool) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	if durable {
		if err := f.Sync(); err != nil {
			return "", fmt.Errorf("store: fsync %s: %w", path, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("store: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("store: fsync %s: %w", path, err)
	}
	return f.Close()
}

// syncDir fsyncs a folder so that renames and new entries in it are
// durable. Filesystems that cannot fsync a folder (EINVAL) are tolerated.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !isEINVAL(err) {
		return fmt.Errorf("store: fsync %s: %w", dir, err)
	}
	return nil
}
