package store

import (
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"testing"
)

// syncLog records, through the store's test hooks, what Commit fsyncs and
// when: the paths made durable before the rename (the commit point) and
// those after it.
type syncLog struct {
	mu            sync.Mutex
	renamed       bool
	before, after map[string]bool
	twice         []string
}

func watchSyncs(s *Store) *syncLog {
	l := &syncLog{before: map[string]bool{}, after: map[string]bool{}}
	s.onSync = func(p string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		m := l.before
		if l.renamed {
			m = l.after
		}
		if m[p] {
			l.twice = append(l.twice, p)
		}
		m[p] = true
	}
	s.hookBeforeRename = func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.renamed = true
	}
	return l
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// The durability protocol, which a power loss would test and a kill -9
// cannot: before the rename, every file, cell.json and every folder of the
// cell (the temporary folder itself included) is fsync'd; after it, cells/
// — whether the cell is new or replaces a failed record (by exchange or by
// the portable two renames). Nothing is synced twice.
func TestCommitSyncsBeforeAndAfterRename(t *testing.T) {
	files := map[string]string{
		"stdout.log":                 "ok\n",
		"stderr.log":                 "",
		"replica_0/plots/a.csv":      "Request Id,a\n0_0,1\n",
		"replica_0/plots/b.csv":      "Request Id,b\n0_0,2\n",
		"replica_0/iterations.jsonl": "{}\n",
		"deep/er/still/x.txt":        "x",
	}
	for _, tc := range []struct {
		name       string
		prior      string // status of a record already committed, or ""
		noExchange bool
	}{
		{"new cell", "", false},
		{"replaces failed by exchange", StatusFailed, false},
		{"replaces failed by two renames", StatusFailed, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t)
			s.noExchange = tc.noExchange
			in := sampleInputs(3, 1)
			if tc.prior != "" {
				commitCell(t, s, in, tc.prior, map[string]string{"stderr.log": "boom\n"})
			}
			log := watchSyncs(s)
			tx, err := s.Begin(mustHash(t, in))
			if err != nil {
				t.Fatal(err)
			}
			want := []string{tx.Dir(), filepath.Join(tx.Dir(), RecordFile)}
			for rel, data := range files {
				p := filepath.Join(tx.Dir(), filepath.FromSlash(rel))
				writeFile(t, p, data)
				want = append(want, p)
				for d := filepath.Dir(p); d != tx.Dir(); d = filepath.Dir(d) {
					want = append(want, d)
				}
			}
			if err := os.Symlink("stdout.log", filepath.Join(tx.Dir(), "latest.log")); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(&Record{Inputs: in, Status: StatusOK}); err != nil {
				t.Fatal(err)
			}
			wantSet := map[string]bool{}
			for _, p := range want {
				wantSet[p] = true
			}
			rel := func(p string) string { r, _ := filepath.Rel(s.Root(), p); return r }
			for _, p := range keys(wantSet) {
				if !log.before[p] {
					t.Errorf("not synced before the rename: %s", rel(p))
				}
			}
			for _, p := range keys(log.before) {
				if !wantSet[p] {
					t.Errorf("synced before the rename but not part of the cell: %s", rel(p))
				}
			}
			if len(log.twice) > 0 {
				t.Errorf("synced twice: %v", log.twice)
			}
			cells := filepath.Join(s.Root(), cellsDir)
			if got := keys(log.after); len(got) != 1 || got[0] != cells {
				t.Errorf("synced after the rename: %v; want only %s", got, cells)
			}
			if rec, err := s.Get(mustHash(t, in)); err != nil || !rec.OK() || len(rec.Files) != len(files)+1 {
				t.Fatalf("committed record %+v, %v", rec, err)
			}
			if probs, err := s.Verify(); err != nil || len(probs) != 0 {
				t.Fatalf("Verify: %v, %v", probs, err)
			}
		})
	}
}

// Locked only looks: it sees a transaction of this process and of another
// process, does not create lock files, does not block Begin once it has
// returned, and lookers do not see each other.
func TestLocked(t *testing.T) {
	s := openStore(t)
	h := mustHash(t, sampleInputs(5, 0))
	locked := func(want bool, when string) {
		t.Helper()
		got, err := s.Locked(h)
		if err != nil || got != want {
			t.Fatalf("%s: Locked = %v, %v; want %v", when, got, err, want)
		}
	}
	if _, err := s.Locked("not-a-hash"); err == nil {
		t.Error("Locked accepted an invalid hash")
	}
	locked(false, "never begun")
	if _, err := os.Stat(s.lockPath(h)); !os.IsNotExist(err) {
		t.Fatalf("Locked created the lock file: %v", err)
	}

	tx, err := s.Begin(h)
	if err != nil {
		t.Fatal(err)
	}
	locked(true, "during a transaction of this process")
	locked(true, "asked again")
	if err := tx.Abort(); err != nil {
		t.Fatal(err)
	}
	locked(false, "after Abort")
	tx, err = s.Begin(h)
	if err != nil {
		t.Fatalf("Begin after Locked: %v", err)
	}
	tx.Abort()

	// Many lookers at once: none sees another as a writer.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var wrong []error
	for range 16 {
		wg.Go(func() {
			for range 50 {
				if busy, err := s.Locked(h); busy || err != nil {
					mu.Lock()
					wrong = append(wrong, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if len(wrong) > 0 {
		t.Fatalf("%d lookers saw the free cell as locked (%v)", len(wrong), wrong)
	}

	// Another process in the middle of a commit, then killed: the kernel
	// releases its lock with the process.
	cmd, _, _ := helper(t, "hang-in-commit", s.Root())
	h8 := mustHash(t, sampleInputs(8, 0))
	if busy, err := s.Locked(h8); !busy || err != nil {
		t.Errorf("another process's transaction: Locked = %v, %v; want true", busy, err)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if busy, err := s.Locked(h8); busy || err != nil {
		t.Errorf("after the process was killed: Locked = %v, %v; want false", busy, err)
	}
}
