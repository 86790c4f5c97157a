package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/schedlab/schedlab/lab/internal/store"
)

// cellState tells ok, failed, missing and running cells apart, and
// probing leaves the store as it was (no lock file, no temp folder).
func TestCellState(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	inputs := func(th float64) (store.Inputs, string) {
		in := store.Inputs{Engine: "exec", Config: map[string]any{"c": 1}, Params: map[string]float64{"min_chunk_threshold": th}}
		h, err := store.HashInputs(in)
		if err != nil {
			t.Fatal(err)
		}
		return in, h
	}
	commit := func(in store.Inputs, h, status string) {
		tx, err := st.Begin(h)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		if err := tx.Commit(&store.Record{Inputs: in, Status: status, Start: now, End: now}); err != nil {
			t.Fatal(err)
		}
	}
	okIn, okH := inputs(1)
	commit(okIn, okH, store.StatusOK)
	failIn, failH := inputs(2)
	commit(failIn, failH, store.StatusFailed)
	_, missH := inputs(3)
	_, runH := inputs(4)
	run, err := st.Begin(runH)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Abort()
	rerunIn, rerunH := inputs(5) // failed before, being run again now
	commit(rerunIn, rerunH, store.StatusFailed)
	rerun, err := st.Begin(rerunH)
	if err != nil {
		t.Fatal(err)
	}
	defer rerun.Abort()

	for _, tc := range []struct {
		name, hash, want string
		record           bool
	}{
		{"ok", okH, cellOK, true},
		{"failed", failH, cellFailed, true},
		{"missing", missH, cellMissing, false},
		{"running", runH, cellRunning, false},
		{"failed, running again", rerunH, cellRunning, true},
	} {
		state, rec, err := cellState(st, tc.hash)
		if err != nil || state != tc.want || (rec != nil) != tc.record {
			t.Errorf("%s: cellState = %q, record %v, %v; want %q, record %v", tc.name, state, rec != nil, err, tc.want, tc.record)
		}
	}
	if _, err := os.Stat(filepath.Join(st.LockDir(), "cells", missH+".lock")); !os.IsNotExist(err) {
		t.Errorf("probing a missing cell created its lock file: %v", err)
	}
	tmps, _ := os.ReadDir(filepath.Join(st.Root(), "tmp"))
	if len(tmps) != 2 {
		t.Errorf("tmp/ holds %d entries after probing; want the 2 of the running transactions", len(tmps))
	}
}
