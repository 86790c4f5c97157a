package sched

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/golden"
)

var update = golden.Update // -update

// TestGoldenSchedules pins the exact schedule (every batch) of a small
// random workload under each policy, with and without a threshold and with
// a tight KV cache, so any change in scheduling behaviour shows as a diff.
// Durations are multiples of 1/1024 s, exact in binary, so the file does
// not depend on floating-point rounding. Rewrite with -update after an
// intended change, and review the diff.
func TestGoldenSchedules(t *testing.T) {
	reqs := randomRequests(20, 5)
	for i := range reqs {
		reqs[i].Arrival = float64(int(reqs[i].Arrival*1024)) / 1024
	}
	var buf bytes.Buffer
	for _, pol := range Policies {
		for _, tc := range []struct {
			th, blocks int
			order      bool
		}{{0, 1 << 20, false}, {12, 1 << 20, false}, {12, 40, false}, {12, 40, true}} {
			cfg := Config{ChunkSize: 64, MaxNumSeqs: 6, MinChunkThreshold: tc.th, BlockSize: 16, NumBlocks: tc.blocks, MaxModelLen: 380, Policy: pol, TimeWeight: 1, PromptWeight: -0.001, OrderWaiting: tc.order}
			rec := &recorder{dur: func(b *Batch) float64 { return float64(8+b.Tokens()/8) / 1024 }}
			tr, err := Simulate(cfg, reqs, rec)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&buf, "== policy %s threshold %d blocks %d order_waiting %v: %d iterations, %d preemptions, %d ignored, end %g\n",
				pol, tc.th, tc.blocks, tc.order, len(tr.Iterations), tr.Preemptions, tr.Ignored, tr.End)
			for k, b := range rec.batches {
				fmt.Fprintf(&buf, "%d %g %s\n", k, tr.Iterations[k].Start, show(b))
			}
			checkTrace(t, cfg, reqs, rec, tr)
		}
	}
	path := filepath.Join("testdata", "schedules.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		got := bytes.Split(buf.Bytes(), []byte("\n"))
		exp := bytes.Split(want, []byte("\n"))
		for i := 0; i < len(got) && i < len(exp); i++ {
			if !bytes.Equal(got[i], exp[i]) {
				t.Fatalf("schedule differs from %s at line %d:\n got %s\nwant %s\n(rerun with -update if intended)", path, i+1, got[i], exp[i])
			}
		}
		t.Fatalf("schedule differs from %s in length: %d vs %d lines", path, len(got), len(exp))
	}
}
