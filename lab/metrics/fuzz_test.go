package metrics_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/metrics"
	"github.com/schedlab/schedlab/lab/metrics/source"
	"github.com/schedlab/schedlab/lab/sarathi"
)

// FuzzConvertCell feeds each reader arbitrary bytes as its tool's output
// file (a benchmark client's output is not ours to trust): it must never
// panic, and what it converts must read back — every metric file it writes
// holds finite values that lab/sarathi accepts. Seeds: the readers' golden
// fixtures. `go test -fuzz FuzzConvertCell -fuzzminimizetime 5s
// ./lab/metrics` searches further: each input writes a cell's files, so it
// runs thousands of inputs a minute, not millions, and go's default minute
// of minimizing each new input shows as minutes of "0/sec".
func FuzzConvertCell(f *testing.F) {
	readers := []struct{ name, file string }{
		{source.VLLMBench, "result.json"},
		{source.SGLangBench, "result.jsonl"},
		{source.CSV, "requests.csv"},
	}
	for i, fixture := range []string{"vllm-detailed.json", "sglang-details.jsonl", "csv/requests.csv"} {
		b, err := os.ReadFile(filepath.Join("testdata", fixture))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), b)
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		r := readers[int(which)%len(readers)]
		out := t.TempDir()
		if err := os.WriteFile(filepath.Join(out, r.file), data, 0o644); err != nil {
			t.Fatal(err)
		}
		replica := filepath.Join(t.TempDir(), "replica_0")
		if _, err := metrics.ConvertCell(r.name, out, replica); err != nil {
			return
		}
		err := filepath.WalkDir(replica, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".csv") {
				return err
			}
			_, err = sarathi.AppendValues(nil, path, strings.TrimSuffix(d.Name(), ".csv"))
			return err
		})
		if err != nil {
			t.Fatalf("%s converted %q, but its output does not read back: %v", r.name, data, err)
		}
	})
}
