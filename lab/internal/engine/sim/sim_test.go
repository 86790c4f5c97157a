package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/engine"
	"github.com/schedlab/schedlab/lab/internal/labtest"

	"github.com/schedlab/schedlab/lab/internal/sim/perfmodel"
	"github.com/schedlab/schedlab/lab/internal/sim/sched"
	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

const small = `
name: small
engine:
  sim:
    model: llama-3-8b
    gpu: h200
    scheduler: {chunk_size: 256, max_num_seqs: 16, policy: aging}
    workload: {trace: splitwise_conv, requests: 150, max_tokens: 128, arrival: {process: poisson, qps: 20}}
sweep:
  min_chunk_threshold: [0, 8]
repeats: 2
seed: 3
`

func parse(t *testing.T, yaml string) *spec.Spec {
	t.Helper()
	s, err := spec.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newEngine(t *testing.T, yaml string) (*Engine, *spec.Spec) {
	t.Helper()
	s := parse(t, yaml)
	e, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	return e, s
}

func run(t *testing.T, e *Engine, c spec.Cell) string {
	t.Helper()
	dir := t.TempDir()
	var stdout bytes.Buffer
	if err := e.Run(context.Background(), engine.Request{Cell: c, Dir: dir, Stdout: &stdout, Stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "150 requests") {
		t.Errorf("stdout %q", stdout.String())
	}
	return dir
}

// TestDeterministicAndRepeatsDiffer: the same cell gives byte-identical
// files (the second run builds its trace in the first's storage, which the
// engine keeps for reuse); another repeat gives different ones; the layout
// is complete.
func TestDeterministicAndRepeatsDiffer(t *testing.T) {
	e, s := newEngine(t, small)
	cells := s.Cells()
	a := labtest.DirFiles(t, run(t, e, cells[0]))
	b := labtest.DirFiles(t, run(t, e, cells[0]))
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same cell, different files")
	}
	want := []string{IterationsFile, "sim.json", sarathi.RunSummaryFile}
	for _, m := range append(append([]string{}, sarathi.Required...), sarathi.RequestE2ETime, sarathi.RequestSchedulingDelay, sarathi.PrefillExecPlusPreemptTime, sched.MaxTimeBetweenTokens) {
		want = append(want, filepath.Join(sarathi.PlotsDir, sarathi.FileName(m)))
	}
	var got []string
	for k := range a {
		got = append(got, k)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
	// run_summary.json agrees with sim.json and the metric files.
	rs, err := sarathi.ReadRunSummary(filepath.Join(run(t, e, cells[0]), sarathi.RunSummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var sum Summary
	if err := json.Unmarshal(a["sim.json"], &sum); err != nil {
		t.Fatal(err)
	}
	if rs.Source != "sim" || *rs.Requests != sum.Requests-sum.IgnoredLongPrompt || *rs.Preemptions != sum.Preemptions ||
		rs.RequestsPerSecond == nil || *rs.RequestsPerSecond != float64(*rs.Requests) / *rs.MakespanSeconds {
		t.Errorf("run_summary.json %+v vs sim.json %+v", rs, sum)
	}
	if cells[1].Repeat != 1 {
		t.Fatal("cell order")
	}
	c := labtest.DirFiles(t, run(t, e, cells[1]))
	for k := range a {
		if bytes.Equal(a[k], c[k]) {
			t.Errorf("%s identical across repeats", k)
		}
	}
	// Another engine built from the same spec has the same identity.
	e2, _ := newEngine(t, small)
	if !reflect.DeepEqual(e.Identity(), e2.Identity()) {
		t.Error("identity not stable")
	}
}

// TestMetricsAgainstLog checks the written metrics against the iteration
// log and the workload: counts, token totals, time spans, and per-request
// bounds that must hold whatever the schedule.
func TestMetricsAgainstLog(t *testing.T) {
	e, s := newEngine(t, small)
	cell := s.Cells()[2] // threshold 8, repeat 0
	dir := run(t, e, cell)
	its, err := sched.ReadIterations(filepath.Join(dir, IterationsFile))
	if err != nil {
		t.Fatal(err)
	}
	var sum Summary
	b, _ := os.ReadFile(filepath.Join(dir, "sim.json"))
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	reqs, _ := e.src.Requests(e.specSeed, cell.Seed)
	prompts, outputs := 0, 0
	for _, r := range reqs {
		prompts += r.PromptTokens
		outputs += r.OutputTokens
	}
	var prefill, decode int
	end, busy := 0.0, 0.0
	for k, it := range its {
		prefill += it.PrefillTokens
		decode += it.Decodes
		if k > 0 && it.Start < end-1e-12 {
			t.Fatalf("iteration %d overlaps the previous", k)
		}
		end = it.Start + it.Duration
		busy += it.Duration
		if it.Tokens != it.PrefillTokens+it.Decodes || it.Tokens > 256 {
			t.Fatalf("iteration %d: %+v", k, it)
		}
	}
	if sum.Iterations != len(its) || sum.Preemptions != 0 || prefill != prompts || decode != outputs-len(reqs) {
		t.Errorf("summary %+v; log: %d iterations, %d prefill (prompts %d), %d decodes (outputs−first %d)", sum, len(its), prefill, prompts, decode, outputs-len(reqs))
	}
	if math.Abs(sum.SimulatedSeconds-end) > 1e-9 {
		t.Errorf("simulated %g s, log ends at %g", sum.SimulatedSeconds, end)
	}
	plots := filepath.Join(dir, sarathi.PlotsDir)
	read := func(m string) []float64 {
		v, err := sarathi.ReadValues(filepath.Join(plots, sarathi.FileName(m)), m)
		if err != nil {
			t.Fatal(err)
		}
		if len(v) != len(reqs) {
			t.Fatalf("%s: %d rows for %d requests", m, len(v), len(reqs))
		}
		return v
	}
	exec := read(sarathi.RequestExecutionTime)
	e2e := read(sarathi.RequestE2ETime)
	ttft := read(sarathi.PrefillE2ETime)
	for i := range exec {
		// Sorted columns: the k-th smallest execution time cannot exceed the
		// k-th smallest end-to-end time, nor the busy time of the whole run.
		if exec[i] > e2e[i]+1e-12 || e2e[i] > end+1e-12 || ttft[i] > end || exec[i] <= 0 {
			t.Fatalf("row %d: exec %g e2e %g ttft %g, run %g s", i, exec[i], e2e[i], ttft[i], end)
		}
	}
	// Σ over requests of exec time = Σ over iterations of duration × the
	// number of requests in it; every iteration has at least one, at most
	// max_num_seqs.
	total := 0.0
	for _, v := range exec {
		total += v
	}
	if total < busy-1e-9 || total > 16*busy {
		t.Errorf("Σ exec %g outside [busy %g, 16·busy]", total, busy)
	}
}

// TestNoise: noise 0 gives exactly the model's prediction per iteration;
// the default noise perturbs it by about the measured σ (< 1% in graph mode).
func TestNoise(t *testing.T) {
	quiet := strings.Replace(small, "gpu: h200", "gpu: h200\n    noise: 0", 1)
	e, s := newEngine(t, quiet)
	if e.res.Noise != 0 {
		t.Fatal("noise: 0 not honoured")
	}
	cfg, _ := e.Config(s.Cells()[0].Point)
	rec := &recording{ex: NewExecutor(e.model, 0, 1)}
	reqs, _ := e.src.Requests(e.specSeed, 1)
	if _, err := sched.Simulate(cfg, reqs, rec); err != nil {
		t.Fatal(err)
	}
	noisy := NewExecutor(e.model, 1, 1)
	maxDev := 0.0
	for k, sh := range rec.shapes {
		want := e.model.PredictMS(&sh) / 1000
		if rec.durs[k] != want {
			t.Fatalf("iteration %d: %g s without noise, model says %g", k, rec.durs[k], want)
		}
		b := rec.batches[k]
		got, _ := noisy.Execute(&b)
		maxDev = math.Max(maxDev, math.Abs(got/want-1))
	}
	if maxDev == 0 || maxDev > 0.04 {
		t.Errorf("noise deviation up to %.4f, want within (0, 3σ ≈ 3%%]", maxDev)
	}
}

type recording struct {
	ex      *Executor
	shapes  []perfmodel.Shape
	batches []sched.Batch
	durs    []float64
}

func (r *recording) Execute(b *sched.Batch) (float64, error) {
	d, err := r.ex.Execute(b)
	sh := r.ex.shape
	sh.Prefills = append([]perfmodel.Prefill(nil), sh.Prefills...)
	r.shapes = append(r.shapes, sh)
	r.batches = append(r.batches, sched.Batch{Prefills: append([]sched.Chunk(nil), b.Prefills...), Decodes: append([]sched.Decode(nil), b.Decodes...)})
	r.durs = append(r.durs, d)
	return d, err
}

func TestConfigAndErrors(t *testing.T) {
	e, _ := newEngine(t, small)
	cfg, err := e.Config(spec.Point{"min_chunk_threshold": 8, "prompt_weight": 0, "max_num_seqs": 4})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinChunkThreshold != 8 || cfg.PromptWeight != 0 || cfg.MaxNumSeqs != 4 || cfg.TimeWeight != 1 || cfg.Policy != "aging" || cfg.NumBlocks < 40000 {
		t.Errorf("config %+v", cfg)
	}
	id := e.Identity().(Identity)
	if id.Config.PromptWeight != -0.01 || id.Config.MaxModelLen != 8192 || id.Config.BlockSize != 16 || len(id.ProfileDigest) != 64 || id.Config.Trace != "splitwise_conv" {
		t.Errorf("identity %+v", id)
	}
	if u, _ := e.Config(spec.Point{"gpu_memory_utilization": 0.5}); u.NumBlocks >= cfg.NumBlocks {
		t.Errorf("lower memory utilization, %d blocks ≥ %d", u.NumBlocks, cfg.NumBlocks)
	}
	for _, tc := range []struct {
		pt   spec.Point
		want string
	}{
		{spec.Point{"min_chunk_threshold": 2.5}, "expected a whole number"},
		{spec.Point{"min_chunk_threshold": 256}, "min_chunk_threshold: 256, expected < chunk_size (256)"},
		{spec.Point{"block_size": 8}, `cannot set "block_size"`},
		{spec.Point{"gpu_memory_utilization": 0.05}, "no room for a KV cache"},
	} {
		if _, err := e.Config(tc.pt); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.pt, err, tc.want)
		}
	}
	// A sweep over a threshold ≥ chunk_size fails when the engine is built
	// (past the fork's limit, which the spec only lifts on request).
	bad := strings.Replace(strings.Replace(small, "[0, 8]", "[0, 300]", 1), "policy: aging}", "policy: aging, allow_beyond_fork_limits: true}", 1)
	if _, err := New(parse(t, bad)); err == nil || !strings.Contains(err.Error(), "sweep point min_chunk_threshold=300") {
		t.Errorf("threshold 300 in the sweep: %v", err)
	}
	// A noise scale that could draw a time ≤ 0 is rejected (graph prefill σ
	// is about 1%: the limit is about 34), at the field.
	loud := strings.Replace(small, "gpu: h200", "gpu: h200\n    noise: 40", 1)
	if _, err := engine.New(parse(t, loud)); err == nil || !strings.Contains(err.Error(), ":7:12: engine.sim.noise: 40, expected <") {
		t.Errorf("noise 40: %v", err)
	}
	// Long prompts are ignored and counted.
	short := strings.Replace(small, "gpu: h200", "gpu: h200\n    max_model_len: 600", 1)
	e3, s3 := newEngine(t, short)
	dir := t.TempDir()
	if err := e3.Run(context.Background(), engine.Request{Cell: s3.Cells()[0], Dir: dir, Stdout: io.Discard, Stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	var sum Summary
	b, _ := os.ReadFile(filepath.Join(dir, "sim.json"))
	json.Unmarshal(b, &sum)
	v, _ := sarathi.ReadValues(filepath.Join(dir, sarathi.PlotsDir, sarathi.FileName(sarathi.PrefillE2ETime)), sarathi.PrefillE2ETime)
	if sum.IgnoredLongPrompt == 0 || len(v) != 150-sum.IgnoredLongPrompt {
		t.Errorf("%d ignored, %d rows written", sum.IgnoredLongPrompt, len(v))
	}
	// A run where every prompt is too long fails instead of writing empty files.
	tiny := strings.Replace(small, "gpu: h200", "gpu: h200\n    max_model_len: 1", 1)
	e4, s4 := newEngine(t, tiny)
	if err := e4.Run(context.Background(), engine.Request{Cell: s4.Cells()[0], Dir: t.TempDir(), Stdout: io.Discard, Stderr: io.Discard}); err == nil || !strings.Contains(err.Error(), "all 150 requests ignored") {
		t.Errorf("every prompt too long: %v", err)
	}
	// Cancellation stops a run.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Run(ctx, engine.Request{Cell: s3.Cells()[0], Dir: t.TempDir(), Stdout: io.Discard, Stderr: io.Discard}); err == nil {
		t.Error("cancelled run succeeded")
	}
}

// TestConcurrentRuns: the runner calls Run from several workers at once;
// cells must not share mutable state (run with -race).
func TestConcurrentRuns(t *testing.T) {
	e, s := newEngine(t, small)
	cells := s.Cells()
	dirs := make([]string, len(cells))
	errs := make(chan error, len(cells))
	for i, c := range cells {
		dirs[i] = t.TempDir()
		go func() {
			errs <- e.Run(context.Background(), engine.Request{Cell: c, Dir: dirs[i], Stdout: io.Discard, Stderr: io.Discard})
		}()
	}
	for range cells {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cells {
		if !reflect.DeepEqual(labtest.DirFiles(t, dirs[i]), labtest.DirFiles(t, run(t, e, c))) {
			t.Errorf("cell %d: concurrent run differs from a lone one", i)
		}
	}
}

// TestTBTPerToken: tbt_per_token adds Sarathi's per-token TBT file and
// nothing else; it is in the identity only when set (so the addresses of
// cells without it did not change when the field was added); each row is
// the duration of the iteration that produced a decode token, since with no
// preemption a decoding request is in every iteration and the clock never
// idles while one runs.
func TestTBTPerToken(t *testing.T) {
	e0, s := newEngine(t, small)
	e1, _ := newEngine(t, strings.Replace(small, "gpu: h200", "gpu: h200\n    tbt_per_token: true", 1))
	j0, _ := json.Marshal(e0.Identity())
	j1, _ := json.Marshal(e1.Identity())
	if strings.Contains(string(j0), "tbt_per_token") {
		t.Errorf("identity without the option mentions it: %s", j0)
	}
	if !strings.Contains(string(j1), `"tbt_per_token":true`) {
		t.Errorf("identity with the option lacks it: %s", j1)
	}
	cell := s.Cells()[2]
	off, on := labtest.DirFiles(t, run(t, e0, cell)), labtest.DirFiles(t, run(t, e1, cell))
	name := filepath.Join(sarathi.PlotsDir, sarathi.FileName(sarathi.DecodeTokenExecPlusPreempt))
	if _, ok := off[name]; ok {
		t.Errorf("%s written by default", name)
	}
	if _, ok := on[name]; !ok || len(on) != len(off)+1 {
		t.Fatalf("with the option: %d files (%s present: %v), without: %d", len(on), name, ok, len(off))
	}
	for k, b := range off {
		if !bytes.Equal(b, on[k]) {
			t.Errorf("%s differs with the option", k)
		}
	}
	dir := t.TempDir()
	for k, b := range on {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, k)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, k), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := sarathi.ReadValues(filepath.Join(dir, name), sarathi.DecodeTokenExecPlusPreempt)
	if err != nil {
		t.Fatal(err)
	}
	its, err := sched.ReadIterations(filepath.Join(dir, IterationsFile))
	if err != nil {
		t.Fatal(err)
	}
	var want []float64
	for _, it := range its {
		for range it.Decodes {
			want = append(want, it.Duration)
		}
	}
	sort.Float64s(want)
	if len(got) != len(want) {
		t.Fatalf("%d TBT rows, %d decode tokens in the log", len(got), len(want))
	}
	for k := range want {
		if math.Abs(got[k]-want[k]) > 1e-9 {
			t.Fatalf("row %d: %v, from the log %v", k+1, got[k], want[k])
		}
	}
}

// The simulator's own check (a measured profile) runs while the spec is
// parsed, and points at the model.
func TestProfileCheckAtParse(t *testing.T) {
	const text = "name: s\nengine:\n  sim:\n    model: llama-2-7b\n    gpu: h100\n    mode: eager\n    workload: {trace: splitwise_conv, requests: 10}\nsweep: {min_chunk_threshold: [0]}\n"
	_, err := spec.Parse("s.yaml", []byte(text))
	if err == nil || !strings.Contains(err.Error(), "s.yaml:4:12: engine.sim.model: ") || !strings.Contains(err.Error(), "no measured profile h100/llama-2-7b/eager") {
		t.Errorf("error %v, want the missing profile at the model field", err)
	}
}

// TestTimeBudgetCell runs cells under time-budget chunking: the chunks are
// sized by the performance model, the counters land in sim.json and read
// back, and a tighter target changes the schedule.
func TestTimeBudgetCell(t *testing.T) {
	text := strings.Replace(small, "policy: aging}", "policy: fcfs, chunking: time_budget, target_time: 0.008}", 1)
	text = strings.Replace(text, "[0, 8]", "[0, 16]", 1)
	e, s := newEngine(t, text)
	cfg, err := e.Config(s.Cells()[0].Point)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Chunking != sched.TimeBudget || cfg.TargetTime != 0.008 || cfg.ChunkSearchGranularity != sched.DefaultChunkSearchGranularity {
		t.Fatalf("config %+v", cfg)
	}
	var counts []CellCounters
	for _, c := range s.Cells() {
		if c.Repeat != 0 {
			continue
		}
		dir := t.TempDir()
		if err := e.Run(context.Background(), engine.Request{Cell: c, Dir: dir, Stdout: io.Discard, Stderr: io.Discard}); err != nil {
			t.Fatal(err)
		}
		sum, err := ReadSummary(dir)
		if err != nil {
			t.Fatal(err)
		}
		cc, ok, err := ReadCounters(dir)
		if err != nil || !ok {
			t.Fatalf("counters: %v %v", ok, err)
		}
		if cc.Counters != sum.Counters || sum.RunningPrefillSkips != sum.Counters.RunningPrefillSkips() {
			t.Errorf("counters %+v, summary %+v", cc, sum)
		}
		counts = append(counts, cc)
	}
	if counts[0].PredictorBlockedAdmissions == 0 || counts[0].ThresholdBlockedAdmissions != 0 {
		t.Errorf("threshold 0: %+v, expected predictor-blocked admissions and no threshold ones", counts[0])
	}
	// With a binding target the predictor stops chunks long before the
	// token budget runs low, so the threshold rarely gets to act.
	if counts[1].PredictorBlockedAdmissions == 0 || counts[1].SkipsPredictor == 0 {
		t.Errorf("threshold 16: %+v, expected predictor-blocked admissions and skips", counts[1])
	}
	if _, ok, err := ReadCounters(t.TempDir()); ok || err != nil {
		t.Errorf("a folder without sim.json: ok %v, err %v", ok, err)
	}
}
