package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkBeginCommit is the store's share of the runner's per-cell
// overhead: lock, temp folder, hashing and fsyncing a typical cell (five
// metric CSVs of 1000 rows and two logs), cell.json, rename.
func BenchmarkBeginCommit(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "store"))
	if err != nil {
		b.Fatal(err)
	}
	csv := "Request Id,metric,cdf\n" + strings.Repeat("0_17,0.123456,0.5\n", 1000)
	i := 0
	for b.Loop() {
		in := sampleInputs(float64(i), 0)
		i++
		h, _ := HashInputs(in)
		tx, err := s.Begin(h)
		if err != nil {
			b.Fatal(err)
		}
		plots := filepath.Join(tx.Dir(), "replica_0", "plots")
		os.MkdirAll(plots, 0o777)
		for m := range 5 {
			os.WriteFile(filepath.Join(plots, fmt.Sprintf("m%d.csv", m)), []byte(csv), 0o666)
		}
		os.WriteFile(filepath.Join(tx.Dir(), "stdout.log"), []byte("ok\n"), 0o666)
		os.WriteFile(filepath.Join(tx.Dir(), "stderr.log"), nil, 0o666)
		if err := tx.Commit(&Record{Inputs: in, Status: StatusOK}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCommitSmallCell is Commit alone for a cell like the runner
// benchmark's (five two-row CSVs in replica_0/plots, two logs): with tiny
// files the cost is the number of times Commit waits for the disk, which
// is what the commit protocol minimizes (see Txn.Commit). The files are
// written with the timer stopped.
func BenchmarkCommitSmallCell(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "store"))
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		in := sampleInputs(float64(i), 0)
		h, _ := HashInputs(in)
		tx, err := s.Begin(h)
		if err != nil {
			b.Fatal(err)
		}
		plots := filepath.Join(tx.Dir(), "replica_0", "plots")
		if err := os.MkdirAll(plots, 0o777); err != nil {
			b.Fatal(err)
		}
		for m := range 5 {
			os.WriteFile(filepath.Join(plots, fmt.Sprintf("m%d.csv", m)), []byte("Request Id,m\n0_0,1\n0_1,2\n"), 0o666)
		}
		os.WriteFile(filepath.Join(tx.Dir(), "stdout.log"), []byte("ok\n"), 0o666)
		os.WriteFile(filepath.Join(tx.Dir(), "stderr.log"), nil, 0o666)
		b.StartTimer()
		if err := tx.Commit(&Record{Inputs: in, Status: StatusOK}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHashInputs is the cost of one cell address.
func BenchmarkHashInputs(b *testing.B) {
	in := sampleInputs(6, 2)
	for b.Loop() {
		if _, err := HashInputs(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetMiss is a cache check for a cell not in the store.
func BenchmarkGetMiss(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "store"))
	if err != nil {
		b.Fatal(err)
	}
	h, _ := HashInputs(sampleInputs(1, 0))
	for b.Loop() {
		if rec, err := s.Get(h); rec != nil || err != nil {
			b.Fatal(rec, err)
		}
	}
}
