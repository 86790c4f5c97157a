package gpu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
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

// TestWorker runs one worker (a torch import costs seconds) through a
// round trip, the KV cache checks and, last, an error.
func TestWorker(t *testing.T) {
	w := startTiny(t, 64, 4)
	t.Run("round trip", func(t *testing.T) { testRoundTrip(t, w) })
	t.Run("kv cache", func(t *testing.T) { testKVCache(t, w) })
	t.Run("error line", func(t *testing.T) { testErrorLine(t, w) })
}

// testRoundTrip drives one worker through a schedule with chunked
// prefills, decodes, frees and a recompute, checking every answer.
func testRoundTrip(t *testing.T, w *Worker) {
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
}

// testKVCache checks that the KV cache holds what attention needs: the
// last-token logits of a sequence prefilled in chunks, in a batch with
// others, equal those of the same sequence recomputed in one chunk after a
// free (recompute preemption), and so do the decodes after either.
func testKVCache(t *testing.T, w *Worker) {
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

// testErrorLine: one violation travels the protocol: the worker answers
// an error line and exits, the Go side returns a ReportedError naming it,
// and a later request says the worker is gone.
func testErrorLine(t *testing.T, w *Worker) {
	if _, err := w.Step(&StepRequest{Prefills: [][3]int{{1, 5, 0}}}); err != nil {
		t.Fatal(err)
	}
	_, err := w.Step(&StepRequest{Prefills: [][3]int{{1, 5, 4}}})
	var rep *ReportedError
	want := "gpu worker: step: KV bookkeeping: prefill chunk of seq 1 says 4 cached tokens, the worker holds 5"
	if err == nil || !errors.As(err, &rep) || err.Error() != want {
		t.Fatalf("error = %v, want a ReportedError %q", err, want)
	}
	if _, err := w.Step(&StepRequest{}); err == nil || !strings.Contains(err.Error(), "after the worker exited") {
		t.Errorf("a step after the failure = %v, want 'after the worker exited'", err)
	}
}

// checkCase is a sequence of requests to a fresh worker and the error the
// last one must fail with ("" for none).
type checkCase struct {
	name string
	reqs []map[string]any
	want string
}

// checkCases are the worker's checks on bad requests.
func checkCases() []checkCase {
	type req = map[string]any
	init := req{"op": "init", "model": "tiny", "device": "cpu", "seed": 1, "kv_blocks": 8, "block_size": 4}
	step := func(pre [][3]int, dec [][2]int, free []int) req {
		return req{"op": "step", "prefills": pre, "decodes": dec, "free": free}
	}
	hold := step([][3]int{{1, 5, 0}}, nil, nil)
	return []checkCase{
		{"valid", []req{init, hold, step([][3]int{{1, 3, 5}}, nil, nil), step(nil, [][2]int{{1, 8}}, nil), step(nil, nil, []int{1})}, ""},
		{"cached mismatch", []req{init, hold, step([][3]int{{1, 5, 4}}, nil, nil)}, "KV bookkeeping: prefill chunk of seq 1 says 4 cached tokens, the worker holds 5"},
		{"first chunk not from 0", []req{init, step([][3]int{{2, 5, 3}}, nil, nil)}, "prefill chunk of seq 2 says 3 cached tokens, the worker holds 0"},
		{"decode unknown", []req{init, step(nil, [][2]int{{3, 0}}, nil)}, "KV bookkeeping: decode of seq 3, which holds no KV cache"},
		{"decode cached mismatch", []req{init, hold, step(nil, [][2]int{{1, 6}}, nil)}, "decode of seq 1 says 6 cached tokens, the worker holds 5"},
		{"free unknown", []req{init, step(nil, nil, []int{8})}, "KV bookkeeping: free of seq 8, which holds no KV cache"},
		{"freed twice", []req{init, hold, step(nil, nil, []int{1, 1})}, "seq 1 freed twice in one step"},
		{"twice in a step", []req{init, step([][3]int{{1, 5, 0}, {1, 2, 5}}, nil, nil)}, "seq 1 appears twice in one step"},
		{"decode after free", []req{init, hold, step(nil, [][2]int{{1, 5}}, []int{1})}, "decode of seq 1, which holds no KV cache"},
		{"capacity", []req{init, step([][3]int{{1, 16, 0}, {2, 17, 0}}, nil, nil)}, "KV capacity exceeded: the step needs 9 more blocks of 4 tokens, 8 are free of 8"},
		{"capacity by decode", []req{init, step([][3]int{{1, 16, 0}, {2, 16, 0}}, nil, nil), step(nil, [][2]int{{1, 16}}, nil)}, "KV capacity exceeded: the step needs 1 more blocks of 4 tokens, 0 are free of 8"},
		{"empty chunk", []req{init, step([][3]int{{1, 0, 0}}, nil, nil)}, "prefills[0]: seq 1 with 0 new tokens over 0 cached: expected new >= 1"},
		{"not an integer", []req{init, {"op": "step", "prefills": []any{[]any{1, 2.5, 0}}}}, "prefills[0]: expected an integer, got 2.5"},
		{"unknown field", []req{init, {"op": "step", "prefill": []any{}}}, "step: unknown field 'prefill'"},
		{"step before init", []req{step(nil, nil, nil)}, "step before init"},
		{"unknown op", []req{{"op": "run"}}, "unknown op 'run'"},
		{"model", []req{{"op": "init", "model": "gpt-9", "device": "cpu", "block_size": 16}}, "unknown model shape 'gpt-9': expected one of llama-2-7b, llama-3-8b, tiny"},
		{"device", []req{{"op": "init", "model": "tiny", "device": "tpu", "block_size": 16}}, "unknown device 'tpu': expected auto, cuda or cpu"},
		{"dtype", []req{{"op": "init", "model": "tiny", "device": "cpu", "dtype": "int8", "block_size": 16}}, "unknown dtype 'int8'"},
		{"checkpoint", []req{{"op": "init", "model": "tiny", "device": "cpu", "block_size": 16, "checkpoint": "/nonexistent/ckpt.safetensors"}}, "checkpoint /nonexistent/ckpt.safetensors"},
		{"init twice", []req{init, init}, "init sent twice"},
		{"cuda without a GPU", []req{{"op": "probe", "device": "cuda"}}, "device cuda requested but torch.cuda.is_available() is False"},
	}
}

type harnessOut struct {
	Cases     []string           `json:"cases"`
	Reference map[string]float64 `json:"reference"`
	SelfCheck map[string]string  `json:"selfcheck"`
	Chosen    map[string]string  `json:"chosen"`
}

var (
	harnessOnce   sync.Once
	harnessResult harnessOut
	harnessErr    error
)

// harness runs testdata/harness.py once per test binary: checkCases, each
// on a fresh worker, and the reference comparison, in one interpreter.
func harness(t *testing.T) harnessOut {
	t.Helper()
	py, script := testPython(t), testScript(t)
	harnessOnce.Do(func() {
		cases := checkCases()
		all := make([][]map[string]any, len(cases))
		for i, c := range cases {
			all[i] = c.reqs
		}
		in, err := json.Marshal(all)
		if err != nil {
			harnessErr = err
			return
		}
		cmd := exec.Command(py, "-B", filepath.Join("testdata", "harness.py"), script)
		cmd.Stdin = bytes.NewReader(in)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			harnessErr = fmt.Errorf("%v\n%s", err, stderr.String())
			return
		}
		if err := json.Unmarshal(out, &harnessResult); err != nil || len(harnessResult.Cases) != len(cases) {
			harnessErr = fmt.Errorf("harness output %q: %v", out, err)
		}
	})
	if harnessErr != nil {
		t.Fatal(harnessErr)
	}
	return harnessResult
}

// TestWorkerChecks runs the worker's checks on a table of bad requests, each
// case a fresh worker, and wants each refused with a message that names the
// problem.
func TestWorkerChecks(t *testing.T) {
	got := harness(t).Cases
	for i, c := range checkCases() {
		if c.name == "cuda without a GPU" && probeDevice(t).Device == "cuda" {
			continue
		}
		ok := c.want == "" && got[i] == "" || c.want != "" && strings.Contains(got[i], c.want)
		if !ok {
			t.Errorf("%s: error %q, want %q", c.name, got[i], c.want)
		}
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

// TestWorkerReference checks the worker's paged, chunked attention against
// a plain reference forward pass (whole sequence, no cache, einsum
// attention: testdata/harness.py), on the CPU path and on the GPU path
// (scaled_dot_product_attention, each option on and off, through a stand-in
// with PyTorch's documented semantics): a chunk over a cache crossing block
// boundaries, a decode beside a chunk, decodes of unequal lengths in one
// batch, and a recompute into reused blocks. (The reference is sensitive:
// shifting its positions by one or its causal mask by one key changes the
// logits by 0.04–0.5 at a scale of 0.4.)
func TestWorkerReference(t *testing.T) {
	got := harness(t).Reference
	if len(got) != 5*4+1 || !(got["scale"] > 0.01) {
		t.Fatalf("reference output %v", got)
	}
	for name, d := range got {
		if name != "scale" && !(d < 1e-5) {
			t.Errorf("%s: logits differ from the reference by %g (scale %g)", name, d, got["scale"])
		}
	}
}

// TestWorkerSDPASelfCheck: the check a GPU worker runs at init (its SDPA
// attention paths against the matmul ones, which TestWorkerReference ties
// to the reference) passes on a correct scaled_dot_product_attention, with
// each option on and off, and stops one that aligns the bottom-right causal
// mask top-left or groups query heads onto KV heads the other way round.
func TestWorkerSDPASelfCheck(t *testing.T) {
	got := harness(t).SelfCheck
	if len(got) != 6 {
		t.Fatalf("selfcheck output %v", got)
	}
	for name, msg := range got {
		bad := strings.Contains(name, "top-left") || strings.Contains(name, "other way")
		switch {
		case !bad && msg != "":
			t.Errorf("%s: %s", name, msg)
		case bad && !strings.Contains(msg, "differs from matmul attention"):
			t.Errorf("%s: not caught (%q)", name, msg)
		}
	}
}

// TestWorkerChooseAttention: at init a GPU worker keeps the fastest SDPA
// setting that passes the check and steps down otherwise, down to matmul
// attention when every SDPA call fails, and says which in "attention".
func TestWorkerChooseAttention(t *testing.T) {
	want := map[string]string{
		"gqa=False lower_right=False":      "sdpa",
		"gqa=False lower_right=True":       "sdpa,causal_lower_right",
		"gqa=True lower_right=False":       "sdpa,enable_gqa",
		"gqa=True lower_right=True":        "sdpa,enable_gqa,causal_lower_right",
		"lower_right aligned top-left":     "sdpa,enable_gqa",
		"enable_gqa grouped the other way": "sdpa",
		"every call raises":                "matmul",
	}
	got := harness(t).Chosen
	if !reflect.DeepEqual(got, want) {
		t.Errorf("attention chosen:\n got %v\nwant %v", got, want)
	}
}
