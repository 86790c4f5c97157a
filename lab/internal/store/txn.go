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
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/gofrs/flock"

	"github.com/schedlab/schedlab/lab/internal/fsutil"
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

// Locked reports whether a transaction (in this process or another) holds
// the cell's lock right now, that is whether the cell is being written. It
// only looks: it asks for a shared lock without waiting (flock LOCK_SH |
// LOCK_NB) on the existing lock file opened read-only, and releases it at
// once. So it works on a store the caller cannot write to, creates no lock
// file (a cell whose lock file does not exist has never been begun), and
// two lookers do not see each other as writers (shared locks coexist). A
// Begin that comes during the instant of the probe gets ErrLocked, as it
// would against any other run; the runner waits and tries again. The
// answer can be stale as soon as it is returned.
func (s *Store) Locked(hash string) (bool, error) {
	if err := checkHash(hash); err != nil {
		return false, err
	}
	l := flock.New(s.lockPath(hash), flock.SetFlag(os.O_RDONLY))
	ok, err := l.TryRLock()
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: probing the lock of %s: %w", hash, err)
	}
	if !ok {
		return true, nil
	}
	if err := l.Unlock(); err != nil {
		return false, fmt.Errorf("store: probing the lock of %s: %w", hash, err)
	}
	return false, nil
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
// ok or failed), hashes every file into rec.Files, writes cell.json and
// renames the folder into place, atomically replacing an earlier failed
// record, then releases the lock. Once it returns the cell survives a power
// loss; after a crash cells/<hash> is either absent or complete (the fsync
// protocol and its measurements: lab help store). On error the transaction
// is aborted.
func (t *Txn) Commit(rec *Record) (err error) {
	if t.done {
		return errors.New("store: transaction already finished")
	}
	defer func() {
		var ce *ContentError
		if err != nil && !errors.As(err, &ce) {
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
	tree, err := walkCell(t.dir, true)
	if err != nil {
		return err
	}
	if rec.Files, err = tree.hash(); err != nil {
		return t.contentError(err)
	}
	b, err := encodeRecord(rec)
	if err != nil {
		return fmt.Errorf("store: encoding %s: %w", RecordFile, err)
	}
	recPath := filepath.Join(t.dir, RecordFile)
	if err := writeNew(recPath, b); err != nil {
		return err
	}
	if err := t.s.syncAll(append(tree.files, recPath), tree.dirs); err != nil {
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
	if err := syncDir(filepath.Dir(final)); err == nil && t.s.onSync != nil {
		t.s.onSync(filepath.Dir(final))
	}
	if leftover != "" {
		fsutil.RemoveAll(leftover)
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
	err := fsutil.RemoveAll(t.dir)
	if uerr := t.lock.Unlock(); err == nil {
		err = uerr
	}
	return err
}

// ContentError is Commit's error when the cell's folder holds something a
// cell cannot: a file or folder that cannot be read, a path too long to
// open, a special file, a cell.json of the engine's. It is a property of
// what one engine run wrote, not of the store, so the runner records the
// cell as failed with Reason rather than stop the run.
type ContentError struct {
	Reason string // relative paths; no temporary folder names
}

func (e *ContentError) Error() string {
	return "store: the cell's output cannot be stored: " + e.Reason
}

// contentError wraps an error met while walking or hashing the cell's
// folder, naming paths relative to it (the record outlives the folder).
func (t *Txn) contentError(err error) error {
	msg := strings.ReplaceAll(err.Error(), t.dir+string(filepath.Separator), "")
	return &ContentError{Reason: strings.TrimPrefix(msg, "store: ")}
}

// cellTree is what a cell folder holds: its folders (the folder itself
// first), its regular files and its symbolic links.
type cellTree struct {
	dirs        []string          // absolute paths
	files, rels []string          // absolute and relative (slash-separated) paths
	links       map[string]string // relative path → "symlink:<target>"
}

// walkCell lists the cell folder dir, without the top-level cell.json.
// With commit (Commit's walk, of what the engine wrote), a top-level
// cell.json is an error: the name is the store's. Symbolic links are
// recorded as "symlink:<target>"; other special files are an error.
func walkCell(dir string, commit bool) (*cellTree, error) {
	c := &cellTree{links: map[string]string{}}
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = FileKey(filepath.ToSlash(rel))
		switch {
		case e.IsDir():
			c.dirs = append(c.dirs, path)
			return nil
		case rel == RecordFile:
			if commit {
				return fmt.Errorf("store: the engine wrote %s, a name the store reserves", RecordFile)
			}
			return nil
		case e.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			c.links[rel] = "symlink:" + FileKey(target)
			return nil
		case !e.Type().IsRegular():
			return fmt.Errorf("store: %s is not a regular file (%s); a cell holds only files, folders and symlinks", rel, e.Type())
		}
		c.files, c.rels = append(c.files, path), append(c.rels, rel)
		return nil
	})
	if err != nil {
		if commit {
			msg := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
			return nil, &ContentError{Reason: strings.TrimPrefix(msg, "store: ")}
		}
		return nil, err
	}
	return c, nil
}

// FileKey is how a cell file's relative, slash-separated path is written
// in Record.Files: as it is, unless it is not valid UTF-8 — JSON cannot
// hold such a name, and encoding it would silently replace its bytes with
// U+FFFD, so the record would name a file that does not exist — or starts
// with a double quote; those are written Go-quoted (strconv.Quote, so
// "\xff" for the byte 0xff). A quoted key always starts with a quote and
// a plain one never does, so distinct names keep distinct keys.
func FileKey(rel string) string {
	if utf8.ValidString(rel) && !strings.HasPrefix(rel, `"`) {
		return rel
	}
	return strconv.Quote(rel)
}

// hashWorkers bounds the files hashed at once (CPU-bound); syncWorkers the
// fsyncs in flight at once (they wait on the disk, not the CPU, and the more
// are in flight together the more of them one journal commit covers).
const (
	hashWorkers = 8
	syncWorkers = 32
)

// hash returns the SHA-256 of every file and the target of every link,
// by relative path; files are hashed concurrently.
func (c *cellTree) hash() (map[string]string, error) {
	sums := make([]string, len(c.files))
	err := parallel(len(c.files), hashWorkers, func(i int) (err error) {
		sums[i], err = hashFile(c.files[i])
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(c.files)+len(c.links))
	for rel, l := range c.links {
		out[rel] = l
	}
	for i, rel := range c.rels {
		out[rel] = sums[i]
	}
	return out, nil
}

// hashTree returns the SHA-256 of every file under dir (Verify's view of a
// committed cell), excluding the top-level cell.json.
func hashTree(dir string) (map[string]string, error) {
	c, err := walkCell(dir, false)
	if err != nil {
		return nil, err
	}
	return c.hash()
}

// parallel runs fn(0..n-1) with at most limit running at once and returns
// the error of the lowest index that failed, so the error does not depend
// on scheduling.
func parallel(n, limit int, fn func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, limit)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = fn(i)
		})
	}
	wg.Wait()
	return firstErr(errs)
}

func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// syncAll makes files and folders durable: every file's data and inode,
// every folder's entries. The fsyncs are issued concurrently, not one
// after another: on a journalling filesystem (ext4, XFS) the fsyncs waiting
// at the same time are served by the same journal commit, so a cell costs
// about one disk flush instead of one per file and folder. Their order
// does not matter: all of them complete before the commit's rename.
func (s *Store) syncAll(files, dirs []string) error {
	paths := append(append([]string(nil), files...), dirs...)
	return parallel(len(paths), syncWorkers, func(i int) error {
		if err := syncFile(paths[i], i >= len(files)); err != nil {
			return err
		}
		if s.onSync != nil {
			s.onSync(paths[i])
		}
		return nil
	})
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeNew creates path (it must not exist) with content b, unsynced.
func writeNew(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("store: %w", err)
	}
	return f.Close()
}

// syncDir fsyncs a folder so that renames and new entries in it are
// durable.
func syncDir(dir string) error { return syncFile(dir, true) }

// syncFile fsyncs a file or, with dir, a folder. Filesystems that cannot
// fsync a folder (EINVAL) are tolerated.
func syncFile(path string, dir bool) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !(dir && isEINVAL(err)) {
		return fmt.Errorf("store: fsync %s: %w", path, err)
	}
	return nil
}
