package metrics_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/labtest"
	"github.com/schedlab/schedlab/lab/metrics"
	"github.com/schedlab/schedlab/lab/metrics/source"
)

var update = flag.Bool("update", false, "rewrite the golden metric tables under testdata/golden")

// Each fixture follows its tool's real output (testdata/make_fixtures.py
// writes the vLLM and SGLang ones with Python's json, as the tools do);
// the golden folders hold the metric files and run_summary.json the reader
// makes from it.
func TestReadersGolden(t *testing.T) {
	cases := []struct {
		name, reader, file string
	}{
		{"vllm", source.VLLMBench, "vllm-detailed.json"},
		{"sglang", source.SGLangBench, "sglang-details.jsonl"},
		{"csv", source.CSV, "csv/requests.csv"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := t.TempDir()
			copyFile(t, filepath.Join("testdata", c.file), filepath.Join(out, filepath.Base(c.file)))
			replica := filepath.Join(t.TempDir(), "replica_0")
			if _, err := metrics.ConvertCell(c.reader, out, replica); err != nil {
				t.Fatal(err)
			}
			got := labtest.DirFiles(t, replica)
			golden := filepath.Join("testdata", "golden", c.name)
			if *update {
				os.RemoveAll(golden)
				for name, b := range got {
					p := filepath.Join(golden, name)
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				return
			}
			want := labtest.DirFiles(t, golden)
			for name, w := range want {
				if g, ok := got[name]; !ok {
					t.Errorf("%s: not written", name)
				} else if string(g) != string(w) {
					t.Errorf("%s differs from %s:\n--- got\n%s--- want\n%s", name, filepath.Join(golden, name), g, w)
				}
			}
			for name := range got {
				if _, ok := want[name]; !ok {
					t.Errorf("%s: written but not in %s (run with -update if intended)", name, golden)
				}
			}
		})
	}
}

// The vLLM and SGLang fixtures hold the same requests, so the two readers
// must agree on every metric but those of the end-to-end latency (vLLM
// reports it, SGLang's is ttft + Σ itl): request_e2e_time and the
// normalized decode time, and the source's name.
func TestVLLMAndSGLangAgree(t *testing.T) {
	read := func(reader, file string) map[string][]byte {
		out := t.TempDir()
		copyFile(t, filepath.Join("testdata", file), filepath.Join(out, file))
		replica := filepath.Join(t.TempDir(), "replica_0")
		if _, err := metrics.ConvertCell(reader, out, replica); err != nil {
			t.Fatal(err)
		}
		return labtest.DirFiles(t, replica)
	}
	v, s := read(source.VLLMBench, "vllm-detailed.json"), read(source.SGLangBench, "sglang-details.jsonl")
	for name, b := range v {
		switch name {
		case "plots/request_e2e_time.csv", "plots/decode_time_execution_plus_preemption_normalized.csv", source.RunSummaryFile:
			continue
		}
		if string(s[name]) != string(b) {
			t.Errorf("%s: vLLM and SGLang readers disagree", name)
		}
	}
}

// Bad input is an error that names the file and what was expected; never
// a panic, never a partial cell.
func TestReaderErrors(t *testing.T) {
	fixture, err := os.ReadFile("testdata/vllm-detailed.json")
	if err != nil {
		t.Fatal(err)
	}
	sg, err := os.ReadFile("testdata/sglang-details.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	vllm := string(fixture)
	cases := []struct {
		name, reader string
		files        map[string]string
		want         string
	}{
		{"no file", source.VLLMBench, nil, "no vLLM result (*.json)"},
		{"two files", source.VLLMBench, map[string]string{"a.json": vllm, "b.json": vllm}, "2 JSON files"},
		{"pytorch file ignored", source.VLLMBench, map[string]string{"r.pytorch.json": "[]"}, "no vLLM result"},
		{"without --save-detailed", source.VLLMBench, map[string]string{"r.json": `{"duration": 3.5, "completed": 10, "failed": 0}`},
			`missing ["input_lens" "output_lens" "ttfts" "itls" "errors"] (run ` + "`vllm bench serve`" + ` with --save-result --save-detailed)`},
		{"python NaN in a used field", source.VLLMBench, map[string]string{"r.json": strings.Replace(vllm, `"ttfts": [0.0712`, `"ttfts": [NaN`, 1)},
			`key "ttfts": expected float64, got JSON string (a NaN or Infinity`},
		{"syntax error", source.VLLMBench, map[string]string{"r.json": strings.Replace(vllm, `"ttfts": [0.0712`, `"ttfts": [0.0712,,`, 1)}, "line 1, column"},
		{"appended results", source.VLLMBench, map[string]string{"r.json": vllm + "\n" + vllm}, "more than one result"},
		{"length mismatch", source.VLLMBench, map[string]string{"r.json": strings.Replace(vllm, `"output_lens": [4, `, `"output_lens": [`, 1)},
			`"output_lens" has 7 entries but "ttfts" has 8`},
		{"non-streaming", source.VLLMBench, map[string]string{"r.json": strings.Replace(vllm, `"completed": 6`, `"completed": 7`, 1)},
			`"completed" is 7 but 6 requests have a first token`},
		{"negative itl", source.VLLMBench, map[string]string{"r.json": strings.Replace(vllm, `[0.0213, `, `[-0.0213, `, 1)},
			"request 0: itl[0] = -0.0213"},
		{"latency below ttft", source.VLLMBench, map[string]string{"r.json": strings.Replace(vllm, `"latencies": [0.1383`, `"latencies": [0.01`, 1)},
			"request 0: end-to-end latency 0.01 is below its ttft 0.0712"},
		{"no duration", source.VLLMBench, map[string]string{"r.json": strings.Replace(vllm, `"duration": 1.284913`, `"duration": 0`, 1)}, `"duration" is missing or not positive`},
		{"wrong type", source.VLLMBench, map[string]string{"r.json": strings.Replace(vllm, `"ttfts": [0.0712`, `"ttfts": ["x"`, 1)}, `key "ttfts`},
		{"sglang two runs", source.SGLangBench, map[string]string{"s.jsonl": string(sg) + string(sg)}, "2 result lines"},
		{"sglang empty", source.SGLangBench, map[string]string{"s.jsonl": "\n"}, "empty file"},
		{"sglang no details", source.SGLangBench, map[string]string{"s.jsonl": `{"duration": 2.0, "completed": 3}` + "\n"}, "--output-details"},
		{"csv unknown column", source.CSV, map[string]string{"r.csv": "request_id,ttft\n0,0.1\n"}, `line 1: unknown column "ttft"`},
		{"csv no id", source.CSV, map[string]string{"r.csv": "prefill_e2e_time\n0.1\n"}, "no request_id column"},
		{"csv duplicate id", source.CSV, map[string]string{"r.csv": "request_id,prefill_e2e_time\n7,0.1\n7,0.2\n"}, `line 3: request_id "7" already on line 2`},
		{"csv bad value", source.CSV, map[string]string{"r.csv": "request_id,prefill_e2e_time\n7,abc\n"}, `line 2, column 3 (prefill_e2e_time): "abc" is not a finite number`},
		{"csv comma in id", source.CSV, map[string]string{"r.csv": "request_id,prefill_e2e_time\n\"a,b\",0.1\n"}, "contains a comma"},
		{"csv header only", source.CSV, map[string]string{"r.csv": "request_id,prefill_e2e_time\n"}, "no request rows"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := t.TempDir()
			for name, body := range c.files {
				if err := os.WriteFile(filepath.Join(out, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			replica := filepath.Join(t.TempDir(), "replica_0")
			_, err := metrics.ConvertCell(c.reader, out, replica)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
			if len(c.files) > 0 && !strings.Contains(err.Error(), out) {
				t.Errorf("error does not name the file: %v", err)
			}
			if _, serr := os.Stat(replica); serr == nil {
				t.Errorf("a failed conversion left %s", replica)
			}
		})
	}
}

// Python writes NaN bare for an aggregate of no values (SGLang's mean
// latency when nothing completed); a NaN the reader does not use does not
// stop it.
func TestPythonNaNInUnusedField(t *testing.T) {
	b, err := os.ReadFile("testdata/sglang-details.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Replace(string(b), `"mean_e2e_latency_ms": 201.3`, `"mean_e2e_latency_ms": NaN, "x": -Infinity, "s": "NaN \\\" Infinity"`, 1)
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, "s.jsonl"), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := metrics.ConvertCell(source.SGLangBench, out, filepath.Join(t.TempDir(), "replica_0"))
	if err != nil || res.Completed() != 6 {
		t.Fatalf("%v %+v", err, res)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
