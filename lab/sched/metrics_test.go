package sched

import (
	"math"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/schedlab/schedlab/lab/sarathi"
)

// TestMetricsFromLog recomputes every metric of DESIGN §5 from the recorded
// batches and the iteration log alone — independently of the scheduler's
// own bookkeeping — and compares with the written files. A tight cache
// forces recompute preemptions, so the "over all attempts" and "last
// prefill completion" rules are exercised.
func TestMetricsFromLog(t *testing.T) {
	reqs := randomRequests(150, 11)
	cfg := Config{ChunkSize: 96, MaxNumSeqs: 12, MinChunkThreshold: 4, BlockSize: 16, NumBlocks: 90, MaxModelLen: 1 << 20, Policy: Aging, TimeWeight: 1, PromptWeight: -0.01}
	rec := &recorder{dur: func(b *Batch) float64 { return 0.003 + 0.00002*float64(b.Tokens()) }}
	tr, err := Simulate(cfg, reqs, rec)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Preemptions == 0 {
		t.Fatal("no preemption: the test needs a tighter cache")
	}
	dir := t.TempDir()
	if err := WriteMetrics(dir, tr); err != nil {
		t.Fatal(err)
	}
	its, err := ReadIterations(filepath.Join(dir, "iterations.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(its, tr.Iterations) {
		t.Fatal("iteration log does not read back exactly")
	}
	n := len(reqs)
	sched := make([]float64, n)
	for i := range sched {
		sched[i] = -1
	}
	exec, f, c, maxGap, last := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	prompt, done, out := make([]int, n), make([]int, n), make([]int, n)
	for i, r := range reqs {
		prompt[i] = r.PromptTokens
		last[i] = -1
	}
	token := func(i int, t float64) {
		if last[i] >= 0 {
			maxGap[i] = math.Max(maxGap[i], t-last[i])
		}
		last[i] = t
		out[i]++
		c[i] = t
	}
	for k, b := range rec.batches {
		it := its[k]
		end := it.Start + it.Duration
		for _, p := range b.Preempted {
			prompt[p] = reqs[p].PromptTokens + out[p]
			done[p] = 0
		}
		for _, ch := range b.Prefills {
			if sched[ch.Seq] < 0 {
				sched[ch.Seq] = it.Start
			}
			exec[ch.Seq] += it.Duration
			done[ch.Seq] += ch.NewTokens
			if done[ch.Seq] == prompt[ch.Seq] {
				f[ch.Seq] = end
				token(ch.Seq, end)
			}
		}
		for _, d := range b.Decodes {
			exec[d.Seq] += it.Duration
			token(d.Seq, end)
		}
	}
	want := map[string][]float64{}
	for i, r := range reqs {
		a, s, no := r.Arrival, sched[i], float64(out[i])
		for name, v := range map[string]float64{
			sarathi.RequestExecutionTime:           exec[i],
			sarathi.RequestExecutionTimeNormalized: exec[i] / no,
			sarathi.PrefillE2ETime:                 f[i] - a,
			sarathi.PrefillExecPlusPreemptNorm:     (f[i] - s) / float64(r.PromptTokens),
			sarathi.DecodeExecPlusPreemptNorm:      (c[i] - f[i]) / no,
			sarathi.RequestE2ETime:                 c[i] - a,
			sarathi.RequestSchedulingDelay:         s - a,
			sarathi.PrefillExecPlusPreemptTime:     f[i] - s,
			MaxTimeBetweenTokens:                   maxGap[i],
		} {
			want[name] = append(want[name], v)
		}
	}
	for name, w := range want {
		got, err := sarathi.ReadValues(filepath.Join(dir, sarathi.PlotsDir, sarathi.FileName(name)), name)
		if err != nil {
			t.Fatal(err)
		}
		sort.Float64s(w)
		if len(got) != len(w) {
			t.Fatalf("%s: %d rows, want %d", name, len(got), len(w))
		}
		for k := range w {
			if math.Abs(got[k]-w[k]) > 1e-12*math.Max(1, math.Abs(w[k])) {
				t.Fatalf("%s row %d: %v, from the log %v", name, k, got[k], w[k])
			}
		}
	}
	if err := sarathi.Check(filepath.Join(dir, sarathi.PlotsDir)); err != nil {
		t.Fatal(err)
	}
}
