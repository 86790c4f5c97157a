package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/labtest"
	"github.com/schedlab/schedlab/lab/internal/store"
)

// clientPresets weight only what a benchmark client observes.
const clientPresets = `select:
  presets:
    ttft: {request: 0, prefill: 0.7, prefill_exec_norm: 0, request_exec_norm: 0, decode: 0.3}
    decode: {request: 0, prefill: 0.2, prefill_exec_norm: 0, request_exec_norm: 0, decode: 0.8}
`

func appendSpec(t *testing.T, x *experiment, text string) {
	t.Helper()
	f, err := os.OpenFile(x.spec, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// lab run + select + report on cells that write a vLLM or an SGLang
// benchmark result: the reader makes the metric files, the unavailable
// metrics and the failed requests show in select (text and JSON), the
// report's summary.json and its page.
func TestBenchReadersEndToEnd(t *testing.T) {
	for _, format := range []string{"vllm-bench", "sglang-bench"} {
		t.Run(format, func(t *testing.T) {
			x := newExperiment(t, "[0, 4, 8]", 2, []string{"--format", format, "--failed-requests", "1"},
				"    metrics: "+format+"\n")
			appendSpec(t, x, clientPresets)
			r := x.lab(t, "run", "exp.yaml", "-j", "2", "--no-report")
			mustOK(t, r)
			if !strings.Contains(r.stdout, "6 ran (6 ok, 0 failed)") {
				t.Errorf("run stdout: %s", r.stdout)
			}
			st := x.store(t, ".lab")
			verifyClean(t, st)
			for h, rec := range labtest.Records[*store.Record](t, st) {
				replica := filepath.Join(st.CellDir(h), "replica_0")
				var rs struct {
					Source      string   `json:"source"`
					Requests    int      `json:"requests"`
					Failed      int      `json:"requests_failed"`
					RPS         float64  `json:"requests_per_second"`
					Unavailable []string `json:"unavailable"`
				}
				b, err := os.ReadFile(filepath.Join(replica, "run_summary.json"))
				if err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(b, &rs); err != nil {
					t.Fatal(err)
				}
				if rs.Source != format || rs.Requests != 40 || rs.Failed != 1 || !(rs.RPS > 0) || len(rs.Unavailable) != 5 {
					t.Errorf("cell %s run_summary.json: %s", h[:12], b)
				}
				for _, f := range []string{"prefill_e2e_time.csv", "request_e2e_time.csv", "max_time_between_tokens.csv",
					"decode_time_execution_plus_preemption_normalized.csv"} {
					if _, ok := rec.Files["replica_0/plots/"+f]; !ok {
						t.Errorf("cell %s lacks %s: %v", h[:12], f, rec.Files)
					}
				}
				if _, ok := rec.Files["replica_0/plots/request_execution_time.csv"]; ok {
					t.Errorf("cell %s has request_execution_time.csv, which a client cannot observe", h[:12])
				}
			}

			r = x.lab(t, "status", "exp.yaml")
			if !strings.Contains(r.stdout, "ok") || strings.Count(r.stdout, "1 of 40 requests failed") != 6 {
				t.Errorf("lab status does not show the failed requests of each cell:\n%s", r.stdout)
			}
			r = x.lab(t, "select", "exp.yaml")
			mustOK(t, r)
			for _, want := range []string{"metrics " + format + " cannot observe", "failed requests: 6 of 240 in 6 of 6 cells", "prompt_weight not derived"} {
				if !strings.Contains(r.stdout+r.stderr, want) {
					t.Errorf("lab select lacks %q:\nstdout:\n%s\nstderr:\n%s", want, r.stdout, r.stderr)
				}
			}
			r = x.lab(t, "select", "exp.yaml", "--json")
			mustOK(t, r)
			var sel struct {
				Recommended json.RawMessage `json:"recommended"`
				Selections  []struct {
					Thresholds []map[string]any `json:"thresholds"`
				} `json:"selections"`
				Warnings []string `json:"warnings"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &sel); err != nil {
				t.Fatal(err, r.stdout)
			}
			row := sel.Selections[0].Thresholds[1]
			if v, ok := row["request_ratio"]; !ok || v != nil {
				t.Errorf("request_ratio of an unobservable metric: got %v, want null", v)
			}
			if v, ok := row["prefill_ratio"].(float64); !ok || !(v > 0) {
				t.Errorf("prefill_ratio: %v", row["prefill_ratio"])
			}
			if !strings.Contains(strings.Join(sel.Warnings, "\n"), "failed requests") {
				t.Errorf("--json warnings: %q", sel.Warnings)
			}

			r = x.lab(t, "report", "exp.yaml")
			mustOK(t, r)
			dir := filepath.Join(x.dir, "reports", "e2e")
			sum, err := os.ReadFile(filepath.Join(dir, "summary.json"))
			if err != nil {
				t.Fatal(err)
			}
			page, err := os.ReadFile(filepath.Join(dir, "index.html"))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"cannot observe", "failed requests: 6 of 240", `"unavailable": [`} {
				if !strings.Contains(string(sum), want) {
					t.Errorf("summary.json lacks %q", want)
				}
			}
			for _, want := range []string{"cannot observe", "failed requests: 6 of 240"} {
				if !strings.Contains(string(page), want) {
					t.Errorf("index.html lacks %q", want)
				}
			}
		})
	}
}

// A cell with more failed requests than max_failed_share fails with that
// reason, which lab status shows.
func TestBenchReaderFailedShare(t *testing.T) {
	x := newExperiment(t, "[0, 4]", 1, []string{"--format", "vllm-bench", "--failed-requests", "3"},
		"    metrics: vllm-bench\n    max_failed_share: 0.05\n")
	appendSpec(t, x, clientPresets)
	r := x.lab(t, "run", "exp.yaml", "--no-report")
	if r.code != 1 || !strings.Contains(r.stdout, "2 ran (0 ok, 2 failed)") {
		t.Fatalf("exit %d: %s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, rec := range labtest.Records[*store.Record](t, x.store(t, ".lab")) {
		if rec.Status != store.StatusFailed || !strings.Contains(rec.Reason, "3 of 40 requests failed (7.5%), more than max_failed_share 5%") {
			t.Errorf("record: %s %q", rec.Status, rec.Reason)
		}
	}
	r = x.lab(t, "status", "exp.yaml")
	if !strings.Contains(r.stdout, "3 of 40 requests failed") {
		t.Errorf("lab status: %s", r.stdout)
	}
}

// The default preset weights request_execution_time, which a benchmark
// client cannot observe: lab plan rejects the spec, naming the metric and
// the reader.
func TestBenchReaderDefaultPresetRejected(t *testing.T) {
	x := newExperiment(t, "[0, 4]", 1, []string{"--format", "vllm-bench"}, "    metrics: vllm-bench\n")
	r := x.lab(t, "plan", "exp.yaml")
	if r.code == 0 || !strings.Contains(r.stderr, "request_execution_time, which the vllm-bench reader cannot observe") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}

// The vLLM and SGLang recipes need a GPU and the engines: CI checks that
// lab plan accepts them.
func TestChunkedPrefillRecipesPlan(t *testing.T) {
	x := newExperiment(t, "[0]", 1, nil, "")
	for _, name := range []string{"vllm-chunked-prefill", "sglang-chunked-prefill"} {
		abs, err := filepath.Abs("../../../../experiments/" + name + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		r := x.lab(t, "plan", abs, "--store", "s")
		mustOK(t, r)
		if !strings.Contains(r.stdout, name+" (exec engine") || !strings.Contains(r.stdout, "25 cells: 0 ok, 0 failed, 25 missing") {
			t.Errorf("plan %s: %s", name, r.stdout)
		}
	}
}

// serve-and-bench.sh starts the server with a free port, waits for its
// /health, runs the client with the same port and stops the server; a
// server that dies first is exit 97.
func TestServeAndBenchScript(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is needed (the script picks its port with it)")
	}
	script, err := filepath.Abs("../../../../experiments/serve-and-bench.sh")
	if err != nil {
		t.Fatal(err)
	}
	const server = `import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()`
	out := t.TempDir()
	cmd := exec.Command(script, "--", "python3", "-c", server, "@PORT@", "--",
		fakeBin, "--out", out, "--format", "vllm-bench", "--threshold", "4", "--repeat", "@PORT@")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if !strings.Contains(string(b), "server ready") || !regexp.MustCompile(`repeat=[1-9][0-9]* `).Match(b) || strings.Contains(string(b), "@PORT@") {
		t.Errorf("output:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(out, "vllm-result.json")); err != nil {
		t.Error(err)
	}
	cmd = exec.Command(script, "--ready-timeout", "20", "--", "python3", "-c", "import sys; sys.exit(3)", "--", "true")
	b, err = cmd.CombinedOutput()
	if xe, ok := err.(*exec.ExitError); !ok || xe.ExitCode() != 97 || !strings.Contains(string(b), "exited (status 3)") {
		t.Errorf("dying server: %v\n%s", err, b)
	}
}

// A command that writes Sarathi's files itself gets a run_summary.json
// that names the source and nothing it does not know.
func TestSarathiCellRunSummary(t *testing.T) {
	x := newExperiment(t, "[0]", 1, nil, "")
	mustOK(t, x.lab(t, "run", "exp.yaml", "--no-report", "--no-select"))
	st := x.store(t, ".lab")
	for h := range labtest.Records[*store.Record](t, st) {
		b, err := os.ReadFile(filepath.Join(st.CellDir(h), "replica_0", "run_summary.json"))
		if err != nil || string(b) != "{\n  \"source\": \"sarathi\"\n}\n" {
			t.Errorf("run_summary.json: %q %v", b, err)
		}
	}
}
