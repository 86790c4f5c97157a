package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/schedlab/schedlab/lab/internal/fsutil"
)

// Problem is one thing wrong in the store. Path is relative to the root
// (slash-separated).
type Problem struct {
	Hash string `json:"hash"`
	Path string `json:"path"`
	Msg  string `json:"msg"`
}

func (p Problem) String() string { return fmt.Sprintf("%s %s: %s", p.Hash, p.Path, p.Msg) }

// Verify re-hashes every committed cell and inspects the temporary area.
// It reports altered, missing and extra files; a missing, unreadable or
// inconsistent cell.json (its hash differs from the folder name or from
// HashInputs of its inputs, an unknown status); and temporary folders left
// by interrupted runs ("incomplete"). Temporary folders whose lock is held
// belong to a run in progress and are not problems. The result is sorted
// by hash, then path, then message.
func (s *Store) Verify() ([]Problem, error) {
	var probs []Problem
	add := func(hash, path, format string, args ...any) {
		probs = append(probs, Problem{hash, path, fmt.Sprintf(format, args...)})
	}
	cells := filepath.Join(s.root, cellsDir)
	ents, err := os.ReadDir(cells)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		rel := cellsDir + "/" + name
		if !e.IsDir() || !ValidHash(name) {
			add(name, rel, "not a cell: cells/ holds only folders named by a 64-digit hex hash")
			continue
		}
		s.verifyCell(name, add)
	}

	tmps, err := os.ReadDir(filepath.Join(s.root, tmpDir))
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	for _, e := range tmps {
		rel := tmpDir + "/" + e.Name()
		hash, ok := tempOwner(e.Name())
		if !ok {
			add("-", rel, "unknown entry in tmp/ (not created by the store)")
			continue
		}
		busy, err := s.Locked(hash)
		if err != nil {
			return nil, err
		}
		if busy {
			continue // a run is writing this cell right now
		}
		add(hash, rel, "incomplete: temporary folder left by an interrupted run or by a removal that could not finish (the next `lab run` or `lab gc --delete` removes it)")
	}
	sort.Slice(probs, func(i, j int) bool {
		a, b := probs[i], probs[j]
		if a.Hash != b.Hash {
			return a.Hash < b.Hash
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Msg < b.Msg
	})
	return probs, nil
}

func (s *Store) verifyCell(hash string, add func(hash, path, format string, args ...any)) {
	dir := s.CellDir(hash)
	rel := cellsDir + "/" + hash
	recPath := rel + "/" + RecordFile
	rec, err := readRecord(filepath.Join(dir, RecordFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			add(hash, recPath, "missing: the cell has no %s", RecordFile)
		} else {
			add(hash, recPath, "unreadable: %v", err)
		}
		return
	}
	if rec.Hash != hash {
		add(hash, recPath, "inconsistent: records hash %s but the folder is %s", rec.Hash, hash)
	}
	if h, err := HashInputs(rec.Inputs); err != nil {
		add(hash, recPath, "inconsistent: inputs cannot be hashed: %v", err)
	} else if h != hash {
		add(hash, recPath, "inconsistent: inputs hash to %s, not to the folder name", h)
	}
	if rec.Status != StatusOK && rec.Status != StatusFailed {
		add(hash, recPath, "inconsistent: status %q (expected %q or %q)", rec.Status, StatusOK, StatusFailed)
	}
	got, err := hashTree(dir)
	if err != nil {
		add(hash, rel, "unreadable: %v", err)
		return
	}
	for p, want := range rec.Files {
		have, ok := got[p]
		switch {
		case !ok:
			add(hash, rel+"/"+p, "missing: listed in %s but not in the cell", RecordFile)
		case have != want:
			add(hash, rel+"/"+p, "altered: content hash %s, recorded %s", short(have), short(want))
		}
	}
	for p := range got {
		if _, ok := rec.Files[p]; !ok {
			add(hash, rel+"/"+p, "extra: in the cell but not listed in %s", RecordFile)
		}
	}
}

func short(h string) string {
	if strings.HasPrefix(h, "symlink:") || len(h) <= 12 {
		return h
	}
	return h[:12]
}

// tempOwner parses the cell hash from a tmp/ entry name ("<hash>.<suffix>").
func tempOwner(name string) (string, bool) {
	hash, _, ok := strings.Cut(name, ".")
	return hash, ok && ValidHash(hash)
}

// CleanTemp removes the temporary folders whose cell lock is free: those
// left by crashed or killed runs. Folders of runs in progress are kept.
func (s *Store) CleanTemp() error {
	tmps, err := os.ReadDir(filepath.Join(s.root, tmpDir))
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	var errs []error
	for _, e := range tmps {
		hash, ok := tempOwner(e.Name())
		if !ok {
			continue
		}
		l, err := s.tryLock(hash)
		if errors.Is(err, ErrLocked) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := fsutil.RemoveAll(filepath.Join(s.root, tmpDir, e.Name())); err != nil {
			errs = append(errs, err)
		}
		l.Unlock()
	}
	return errors.Join(errs...)
}
