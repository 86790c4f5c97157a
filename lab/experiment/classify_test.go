package experiment

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/schedlab/schedlab/lab/internal/runner"
	"github.com/schedlab/schedlab/lab/internal/store"
)

// classify tells ok, failed, missing, running and corrupt cells apart,
// and probing leaves the store as it was (no lock file, no temp folder).
func TestClassify(t *testing.T) {
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
		rec := &store.Record{Inputs: in, Status: status, Start: now, End: now}
		if status == store.StatusFailed {
			rec.Reason = "boom"
		}
		if err := tx.Commit(rec); err != nil {
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

	badIn, badH := inputs(6) // committed, then its record damaged
	commit(badIn, badH, store.StatusOK)
	if err := os.WriteFile(filepath.Join(st.CellDir(badH), store.RecordFile), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, hash string
		want       State
		record     bool
		reason     string
	}{
		{"ok", okH, OK, true, ""},
		{"failed", failH, Failed, true, "boom"},
		{"missing", missH, Missing, false, ""},
		{"running", runH, Running, false, ""},
		{"failed, running again", rerunH, Running, true, ""},
		{"corrupt", badH, Corrupt, false, badH},
	} {
		c, err := classify(st, runner.Planned{Hash: tc.hash})
		if err != nil || c.State != tc.want || (c.Record != nil) != tc.record || !strings.Contains(c.Reason, tc.reason) {
			t.Errorf("%s: classify = %q, record %v, reason %q, %v; want %q, record %v, reason with %q",
				tc.name, c.State, c.Record != nil, c.Reason, err, tc.want, tc.record, tc.reason)
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
