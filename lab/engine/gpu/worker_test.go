package gpu

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if scriptPath != "" {
		os.RemoveAll(filepath.Dir(scriptPath))
	}
	os.Exit(code)
}

func TestScriptDigestAndWrite(t *testing.T) {
	dir := t.TempDir()
	p1, err := WriteScript(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(filepath.Base(p1), ScriptDigest()[:16]) {
		t.Errorf("script name %s does not carry the digest %s", p1, ScriptDigest())
	}
	// A tampered file is rewritten, an intact one kept.
	if err := os.WriteFile(p1, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	p2, err := WriteScript(dir)
	if err != nil || p2 != p1 {
		t.Fatalf("WriteScript again = %s, %v", p2, err)
	}
	b, _ := os.ReadFile(p2)
	if string(b) != string(workerScript) {
		t.Error("a tampered script was not rewritten")
	}
}

// TestWorkerRoundTrip drives one worker through a schedule with chunked
// prefills, decodes, frees and a recompute, checking every answer.
func TestWorkerRoundTrip(t *testing.T) {
	w := startTiny(t, 16, 4)
	steps := []struct {
		name           string
		req            StepRequest
		tokens, blocks int
	}{
		{"two first chunks", StepRequest{Prefills: [][3]int{{0, 6, 0}, {1, 3, 0}}}, 9, 3},
		{"chunk over cache + decode", StepRequest{Prefills: [][3]int{{0, 4, 6}}, Decodes: [][2]int{{1, 3}}}, 5, 4},
		{"decodes", StepRequest{Decodes: [][2]int{{0, 10}, {1, 4}}}, 2, 5},
		{"free only", StepRequest{Free: []int{1}}, 0, 3},
		{"recompute 0 from scratch", StepRequest{Free: []int{0}, Prefills: [][3]int{{0, 11, 0}}}, 11, 3},
		{"decode after recompute", StepRequest{Decodes: [][2]int{{0, 11}}}, 1, 3},
	}
	for _, s := range steps {
		r, err := w.Step(&s.req)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if r.Tokens != s.tokens || r.KVBlocksUsed != s.blocks {
			t.Errorf("%s: tokens %d, blocks %d; want %d, %d", s.name, r.Tokens, r.KVBlocksUsed, s.tokens, s.blocks)
		}
		if s.tokens > 0 && !(r.MS > 0) || math.IsNaN(r.MS) {
			t.Errorf("%s: ms = %v, want > 0", s.name, r.MS)
		}
	}
	if err := w.Shutdown(); err != nil {
		t.Fatal(err)
	}
}

// TestWorkerKVCache checks that the KV cache holds what attention needs: the
// last-token logits of a sequence prefilled in chunks, in a batch with
// others, equal those of the same sequence recomputed in one chunk after a
// free (recompute preemption), and so do the decodes after either.
func TestWorkerKVCache(t *testing.T) {
	w := startTiny(t, 64, 4)
	step := func(req StepRequest) StepReply {
		t.Helper()
		req.WantLogits = true
		r, err := w.Step(&req)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	step(StepRequest{Prefills: [][3]int{{5, 9, 0}, {6, 3, 0}}})
	chunked := step(StepRequest{Prefills: [][3]int{{5, 4, 9}}, Decodes: [][2]int{{6, 3}}}).Logits[0]
	decChunked := step(StepRequest{Decodes: [][2]int{{5, 13}}}).Logits[0]
	whole := step(StepRequest{Free: []int{5}, Prefills: [][3]int{{5, 13, 0}}}).Logits[0]
	decWhole := step(StepRequest{Decodes: [][2]int{{5, 13}, {6, 4}}}).Logits[0]
	other := step(StepRequest{Prefills: [][3]int{{9, 13, 0}}}).Logits[0]
	if d := maxDiff(chunked, whole); d > 1e-4 {
		t.Errorf("chunked prefill vs one chunk: logits differ by %g", d)
	}
	if d := maxDiff(decChunked, decWhole); d > 1e-4 {
		t.Errorf("decode after chunked vs recomputed prefill: logits differ by %g", d)
	}
	// The check can fail: another sequence (other token ids) differs.
	if d := maxDiff(whole, other); d < 1e-3 {
		t.Errorf("different sequences give the same logits (max diff %g): the comparison is vacuous", d)
	}
	if d := maxDiff(whole, decWhole); d < 1e-3 {
		t.Errorf("a decode gives the logits of the prefill before it (max diff %g)", d)
	}
}

func maxDiff(a, b []float64) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

// TestWorkerErrors: each violation is reported by the worker, named, and
// surfaces as a Go error; the worker has exited.
func TestWorkerErrors(t *testing.T) {
	cases := []struct {
		name  string
		setup []StepRequest
		bad   StepRequest
		want  string
	}{
		{"cached mismatch", []StepRequest{{Prefills: [][3]int{{1, 5, 0}}}}, StepRequest{Prefills: [][3]int{{1, 5, 4}}},
			"prefill chunk of seq 1 says 4 cached tokens, the worker holds 5"},
		{"decode unknown", nil, StepRequest{Decodes: [][2]int{{3, 0}}}, "decode of seq 3, which holds no KV cache"},
		{"decode cached mismatch", []StepRequest{{Prefills: [][3]int{{1, 5, 0}}}}, StepRequest{Decodes: [][2]int{{1, 6}}},
			"decode of seq 1 says 6 cached tokens, the worker holds 5"},
		{"free unknown", nil, StepRequest{Free: []int{8}}, "free of seq 8, which holds no KV cache"},
		{"twice", nil, StepRequest{Prefills: [][3]int{{1, 5, 0}, {1, 2, 5}}}, "seq 1 appears twice in one step"},
		{"decode after free", []StepRequest{{Prefills: [][3]int{{1, 5, 0}}}}, StepRequest{Free: []int{1}, Decodes: [][2]int{{1, 5}}},
			"decode of seq 1, which holds no KV cache"},
		{"capacity", nil, StepRequest{Prefills: [][3]int{{1, 16, 0}, {2, 17, 0}}}, "KV capacity exceeded: the step needs 9 more blocks of 4 tokens, 8 are free of 8"},
		{"empty chunk", nil, StepRequest{Prefills: [][3]int{{1, 0, 0}}}, "expected new >= 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := startTiny(t, 8, 4)
			for _, s := range c.setup {
				if _, err := w.Step(&s); err != nil {
					t.Fatal(err)
				}
			}
			_, err := w.Step(&c.bad)
			var rep *ReportedError
			if err == nil || !errors.As(err, &rep) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %v, want a ReportedError containing %q", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "gpu worker: step: ") {
				t.Errorf("error %q does not say where it comes from", err)
			}
			if _, err := w.Step(&StepRequest{}); err == nil || !strings.Contains(err.Error(), "after the worker exited") {
				t.Errorf("a step after the failure = %v, want 'after the worker exited'", err)
			}
		})
	}
}

func TestWorkerInitErrors(t *testing.T) {
	py := testPython(t)
	cases := []struct {
		name string
		req  InitRequest
		want string
	}{
		{"model", InitRequest{Model: "gpt-9", Device: "cpu", BlockSize: 16}, "unknown model shape 'gpt-9': expected one of llama-2-7b, llama-3-8b, tiny"},
		{"device", InitRequest{Model: "tiny", Device: "tpu", BlockSize: 16}, "unknown device 'tpu'"},
		{"checkpoint", InitRequest{Model: "tiny", Device: "cpu", Checkpoint: "/nonexistent/ckpt.safetensors", BlockSize: 16}, "checkpoint /nonexistent/ckpt.safetensors"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w, err := StartWorker(t.Context(), WorkerOptions{Python: py, Script: testScript(t)})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			_, err = w.Init(c.req)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Init error = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestWorkerCrash: a worker that dies without an error line is explained by
// its exit status and the end of its log.
func TestWorkerCrash(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "crash.py")
	os.WriteFile(script, []byte("import sys\nsys.stdin.readline()\nsys.stderr.write('boom: out of luck\\n')\nsys.exit(7)\n"), 0o644)
	w, err := StartWorker(t.Context(), WorkerOptions{Python: testPython(t), Script: script})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	_, err = w.Probe("cpu", "")
	if err == nil || !strings.Contains(err.Error(), "exited before answering probe (exit status 7)") || !strings.Contains(err.Error(), "boom: out of luck") {
		t.Fatalf("error = %v", err)
	}
}

// TestWorkerCancel: cancelling the context kills the worker process while it
// is busy, and the call returns the context's error promptly.
func TestWorkerCancel(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "hang.py")
	os.WriteFile(script, []byte("import sys, time\nsys.stdin.readline()\ntime.sleep(600)\n"), 0o644)
	ctx, cancel := context.WithCancel(t.Context())
	w, err := StartWorker(ctx, WorkerOptions{Python: testPython(t), Script: script})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	pid := w.Pid()
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err = w.Probe("cpu", "")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("returned after %v", d)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("worker process %d still exists after cancellation", pid)
	}
}
