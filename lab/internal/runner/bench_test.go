package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/store"
)

// BenchmarkRunnerOverhead measures what running a cell costs besides the
// engine: hashing, the cache check, the store transaction (lock, temp
// folder, fsync'd commit of every file), the log files, the metrics check
// and the record — with an in-process engine that only writes five
// two-row CSVs. Target ≤ 20 ms per cell.
//
// "disk" uses the test's temp folder: the store fsyncs every file and
// folder of a cell, so this is bounded by the disk's fsync latency. "shm"
// puts the store in /dev/shm (fsync is free there) and so shows the
// runner's own CPU cost. -j 4 shows how far parallel cells hide the fsyncs.
func BenchmarkRunnerOverhead(b *testing.B) {
	for _, where := range []string{"disk", "shm"} {
		for _, jobs := range []int{1, 4} {
			b.Run(fmt.Sprintf("%s/j%d", where, jobs), func(b *testing.B) {
				base := b.TempDir()
				if where == "shm" {
					if st, err := os.Stat("/dev/shm"); err != nil || !st.IsDir() {
						b.Skip("no /dev/shm")
					}
					d, err := os.MkdirTemp("/dev/shm", "runner-bench-")
					if err != nil {
						b.Skip(err)
					}
					defer os.RemoveAll(d)
					base = d
				}
				e := newGoEngine(nil)
				const cells = 20
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					st, err := store.Open(filepath.Join(base, fmt.Sprint(i)))
					if err != nil {
						b.Fatal(err)
					}
					o := opts(testSpec(cells, 1), e, st)
					o.Jobs = jobs
					b.StartTimer()
					res, err := Run(context.Background(), o)
					if err != nil || res.OK != cells {
						b.Fatal(err, res)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*cells)/1000, "ms/cell")
			})
		}
	}
}

// BenchmarkRunnerCached is a rerun where every cell is a cache hit: what
// `lab run` costs per cell when nothing is left to do.
func BenchmarkRunnerCached(b *testing.B) {
	e := newGoEngine(nil)
	s, st := testSpec(20, 1), openStore(b)
	o := opts(s, e, st)
	if _, err := Run(context.Background(), o); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res, err := Run(context.Background(), o); err != nil || res.Cached != 20 {
			b.Fatal(err, res)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*20)/1000, "ms/cell")
}
