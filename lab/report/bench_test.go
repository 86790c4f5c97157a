package report

import (
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/legacy"
	"github.com/schedlab/schedlab/lab/sarathi"
)

// benchTree is the report's benchmark size: 101 thresholds × 10 repeats ×
// 1,000 requests per cell (5,050 metric files).
var benchTree = tree{thresholds: 101, repeats: 10, rows: 1000, seed: 42}

var (
	benchOnce sync.Once
	benchRoot string
	benchErr  error
)

// benchTreeRoot generates the benchmark tree once per test binary (it
// takes longer than the report); TestMain removes it.
func benchTreeRoot(b *testing.B) string {
	benchOnce.Do(func() {
		benchRoot, benchErr = os.MkdirTemp("", "report-bench-*")
		if benchErr == nil {
			benchTree.generate(b, benchRoot)
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchRoot
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchRoot != "" {
		os.RemoveAll(benchRoot)
	}
	os.Exit(code)
}

// BenchmarkReport is `lab report` on a 101 × 10 × 1,000 sweep, from the
// metric files to the three report files: load and summarize every cell,
// select with 2 presets × 4 aggregations, the statistics of the headline
// selection (10,000 resamples), prompt_weight at the choice (1,000
// resamples), and writing index.html, summary.json and summary.csv.
func BenchmarkReport(b *testing.B) {
	root := benchTreeRoot(b)
	out := b.TempDir()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		in := benchInput(b, root)
		if err := Write(filepath.Join(out, "r"), in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((cpuTime()-cpu0).Seconds()*1000/float64(b.N), "cpu-ms/op")
}

// cpuTime is the process's user + system CPU time so far. Benchmarks
// report it next to wall time because on a shared machine wall time
// includes waiting for a core; CPU time does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkReportRender is the report's own share: building the page and
// the summaries from analysis results and writing the files.
func BenchmarkReportRender(b *testing.B) {
	in := benchInput(b, benchTreeRoot(b))
	out := b.TempDir()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		if err := Write(filepath.Join(out, "r"), in); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric((cpuTime()-cpu0).Seconds()*1000/float64(b.N), "cpu-ms/op")
	if st, err := os.Stat(filepath.Join(out, "r", HTMLFile)); err == nil {
		b.ReportMetric(float64(st.Size()), "html-bytes")
	}
}

// benchInput runs the analysis the way the lab command does.
func benchInput(b *testing.B, root string) *Input {
	tab, err := legacy.LoadTable(root)
	if err != nil {
		b.Fatal(err)
	}
	sels, err := analysis.SelectAll(tab, testPresets, analysis.Point{0})
	if err != nil {
		b.Fatal(err)
	}
	head := sels[0]
	sig, err := head.Significance(analysis.SignificanceOptions{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	files, err := tab.Files(head.Recommended(), sarathi.PrefillExecPlusPreemptNorm)
	if err != nil {
		b.Fatal(err)
	}
	pw, err := analysis.SecondsPerPrefillToken(files, analysis.PromptWeightOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return &Input{Name: "bench", Table: tab, Selections: sels, Headline: Headline{Preset: "default", Aggregation: "mean"},
		Significance: sig, PromptWeight: pw, Generated: fixedTime}
}
