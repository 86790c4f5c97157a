package sched

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/labtest"

	"github.com/schedlab/schedlab/lab/sarathi"
)

// TestMetricsFromLog recomputes every metric definition (lab help store) from the recorded
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
	if err := WriteMetrics(dir, tr, PlotOptions{TBTPerToken: true}); err != nil {
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
	var gaps []sarathi.Row // every gap between consecutive tokens, from the log
	token := func(i int, t float64) {
		if last[i] >= 0 {
			maxGap[i] = math.Max(maxGap[i], t-last[i])
			gaps = append(gaps, sarathi.Row{RequestID: RequestID(reqs[i].ID), Value: t - last[i]})
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
			if name == MaxTimeBetweenTokens && out[i] < 2 {
				continue // no gap: no row
			}
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
	checkTBTFile(t, filepath.Join(dir, sarathi.PlotsDir, sarathi.FileName(sarathi.DecodeTokenExecPlusPreempt)), gaps)
	total := 0
	for _, o := range out {
		total += o - 1
	}
	if len(gaps) != total {
		t.Errorf("%d gaps in the log, want Σ(output tokens − 1) = %d", len(gaps), total)
	}
}

// checkTBTFile checks a per-token TBT file against the gaps recomputed from
// the log: Sarathi's header, one row per gap with its request id, rows
// sorted by value, cdf = rank/N.
func checkTBTFile(t *testing.T, path string, gaps []sarathi.Row) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if lines[0] != "Request Id,decode_token_execution_plus_preemption_time,cdf" {
		t.Fatalf("header %q", lines[0])
	}
	rows := lines[1:]
	if len(rows) != len(gaps) {
		t.Fatalf("%d rows, %d gaps in the log", len(rows), len(gaps))
	}
	got := make([]sarathi.Row, len(rows))
	for k, l := range rows {
		f := strings.Split(l, ",")
		if len(f) != 3 {
			t.Fatalf("row %d: %q", k+1, l)
		}
		v, err1 := strconv.ParseFloat(f[1], 64)
		cdf, err2 := strconv.ParseFloat(f[2], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("row %d: %q", k+1, l)
		}
		if k > 0 && v < got[k-1].Value {
			t.Fatalf("row %d: %v after %v: not sorted", k+1, v, got[k-1].Value)
		}
		if want := float64(k+1) / float64(len(rows)); cdf != want {
			t.Fatalf("row %d: cdf %v, want %d/%d", k+1, cdf, k+1, len(rows))
		}
		got[k] = sarathi.Row{RequestID: f[0], Value: v}
	}
	key := func(rs []sarathi.Row) {
		sort.Slice(rs, func(i, j int) bool {
			if rs[i].RequestID != rs[j].RequestID {
				return rs[i].RequestID < rs[j].RequestID
			}
			return rs[i].Value < rs[j].Value
		})
	}
	want := append([]sarathi.Row(nil), gaps...)
	key(want)
	key(got)
	for k := range want {
		if got[k].RequestID != want[k].RequestID || math.Abs(got[k].Value-want[k].Value) > 1e-12*math.Max(1, want[k].Value) {
			t.Fatalf("gap %d: file %+v, from the log %+v", k, got[k], want[k])
		}
	}
}

// TestTimeBetweenTokensHandTraced: the per-token TBT file of the
// hand-traced preemption schedule of TestHandTraced (block size 2, 5
// blocks), with iteration k lasting 2^k s so every gap says which
// iterations it spans. Iteration ends: 1, 3, 7, 15, 31, 63.
//
//	it0 P[A:3 B:3]  → A, B token 1 at 1
//	it1 D[A B]      → A, B token 2 at 3
//	it2 D[A] X[B]   → A token 3 at 7; B preempted (recompute)
//	it3 D[A] F[A]   → A token 4 at 15
//	it4 P[B:5]      → B's re-prefill yields token 3 at 31
//	it5 D[B] F[B]   → B token 4 at 63
//
// A's gaps: 2, 4, 8; B's: 2, 28 (the preemption and re-prefill, as
// sarathi-serve counts it), 32. Sorted stably by value (ties keep request
// order), cdf = rank/6.
func TestTimeBetweenTokensHandTraced(t *testing.T) {
	cfg := base()
	cfg.BlockSize, cfg.NumBlocks = 2, 5
	reqs := []Request{{ID: 10, PromptTokens: 3, OutputTokens: 4}, {ID: 11, PromptTokens: 3, OutputTokens: 4}}
	rec := &recorder{}
	rec.dur = func(*Batch) float64 { return float64(int(1) << (len(rec.batches) - 1)) }
	tr, err := Simulate(cfg, reqs, rec)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range rec.batches {
		got = append(got, show(b))
	}
	want := []string{"P[0:3/0 1:3/0]", "D[0/3 1/3]", "D[0/4]X[1]", "D[0/5]F[0]", "P[1:5/0]", "D[1/5]F[1]"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("batches:\n got %q\nwant %q", got, want)
	}
	// The token times the gaps come from, read off the iteration log: a
	// request's token is produced at the end of each iteration that decoded
	// it or completed its prompt.
	ends := make([]float64, len(tr.Iterations))
	for k, it := range tr.Iterations {
		ends[k] = it.Start + it.Duration
	}
	if w := []float64{1, 3, 7, 15, 31, 63}; !reflect.DeepEqual(ends, w) {
		t.Fatalf("iteration ends %v, want %v", ends, w)
	}
	for i, w := range [][]float64{{1, 3, 7, 15}, {1, 3, 31, 63}} {
		if !reflect.DeepEqual(tr.Requests[i].TokenTimes, w) {
			t.Errorf("request %d: token times %v, from the log %v", i, tr.Requests[i].TokenTimes, w)
		}
	}
	dir := t.TempDir()
	if err := WritePlots(dir, tr, PlotOptions{TBTPerToken: true}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, sarathi.PlotsDir, "decode_token_execution_plus_preemption_time.csv"))
	if err != nil {
		t.Fatal(err)
	}
	const wantFile = `Request Id,decode_token_execution_plus_preemption_time,cdf
0_10,2,0.16666666666666666
0_11,2,0.3333333333333333
0_10,4,0.5
0_10,8,0.6666666666666666
0_11,28,0.8333333333333334
0_11,32,1
`
	if string(b) != wantFile {
		t.Errorf("TBT file:\n%s\nwant:\n%s", b, wantFile)
	}
	// The worst gap per request is unchanged by the option.
	mx, err := sarathi.ReadValues(filepath.Join(dir, sarathi.PlotsDir, sarathi.FileName(MaxTimeBetweenTokens)), MaxTimeBetweenTokens)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(mx, []float64{8, 32}) {
		t.Errorf("max TBT %v, want [8 32]", mx)
	}
}

// TestTimeBetweenTokensOptIn: the per-token file is absent by default and
// present with TBTPerToken, and the option changes no other file's bytes.
func TestTimeBetweenTokensOptIn(t *testing.T) {
	reqs := randomRequests(40, 5)
	cfg := Config{ChunkSize: 64, MaxNumSeqs: 8, BlockSize: 16, NumBlocks: 1000, MaxModelLen: 1 << 20, Policy: FCFS}
	tr, err := Simulate(cfg, reqs, &recorder{dur: func(b *Batch) float64 { return 0.01 + 0.0001*float64(b.Tokens()) }})
	if err != nil {
		t.Fatal(err)
	}
	off, on := t.TempDir(), t.TempDir()
	if err := WriteMetrics(off, tr, PlotOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteMetrics(on, tr, PlotOptions{TBTPerToken: true}); err != nil {
		t.Fatal(err)
	}
	name := sarathi.FileName(sarathi.DecodeTokenExecPlusPreempt)
	if _, err := os.Stat(filepath.Join(off, sarathi.PlotsDir, name)); !os.IsNotExist(err) {
		t.Errorf("%s written without the option (stat: %v)", name, err)
	}
	offFiles, onFiles := labtest.DirFiles(t, off), labtest.DirFiles(t, on)
	if _, ok := onFiles[filepath.Join(sarathi.PlotsDir, name)]; !ok {
		t.Fatalf("%s not written with the option", name)
	}
	if len(onFiles) != len(offFiles)+1 {
		t.Errorf("%d files with the option, %d without: want exactly one more", len(onFiles), len(offFiles))
	}
	for k, b := range offFiles {
		if !bytes.Equal(b, onFiles[k]) {
			t.Errorf("%s differs with the option", k)
		}
	}
}

// RunSummary counts completed requests (ignored ones as failed), the
// makespan from the first arrival to the last completion and the
// preemptions; a one-token request has no max_time_between_tokens row;
// WritePlots writes run_summary.json only when a source is named.
func TestRunSummaryAndMaxTBTRows(t *testing.T) {
	tr := &Trace{Ignored: 1, Preemptions: 4, Requests: []RequestTrace{
		{ID: 0, Arrival: 1, Scheduled: 1, PrefillDone: 2, Completed: 5, ExecTime: 3, PromptTokens: 10, OutputTokens: 3, TokenTimes: []float64{2, 3, 5}},
		{ID: 1, Arrival: 0.5, Ignored: true, PromptTokens: 99999},
		{ID: 2, Arrival: 2, Scheduled: 2, PrefillDone: 3, Completed: 3, ExecTime: 1, PromptTokens: 4, OutputTokens: 1, TokenTimes: []float64{3}},
	}}
	s := RunSummary(tr, "gpu")
	if s.Source != "gpu" || *s.Requests != 2 || *s.RequestsFailed != 1 || *s.Preemptions != 4 || *s.MakespanSeconds != 4 || *s.RequestsPerSecond != 0.5 {
		t.Errorf("run summary %+v", s)
	}
	for _, m := range Metrics(tr) {
		if m.Name == MaxTimeBetweenTokens && (len(m.Rows) != 1 || m.Rows[0].Value != 2) {
			t.Errorf("max_time_between_tokens rows %+v, want one row of 2 (the one-token request has none)", m.Rows)
		}
	}
	for _, source := range []string{"", "sim"} {
		dir := t.TempDir()
		if err := WritePlots(dir, tr, PlotOptions{Source: source}); err != nil {
			t.Fatal(err)
		}
		_, err := sarathi.ReadRunSummary(filepath.Join(dir, sarathi.RunSummaryFile))
		if (err == nil) != (source != "") {
			t.Errorf("source %q: reading run_summary.json: %v", source, err)
		}
	}
}
