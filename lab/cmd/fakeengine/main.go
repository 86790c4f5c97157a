// Command fakeengine stands in for a Sarathi-Serve benchmark script in the
// tests of the runner and the exec engine. It writes the Sarathi metric CSVs
// (through lab/sarathi, so the format is the real one) whose values are a
// deterministic function of --threshold and --seed, and it can be told to
// misbehave the ways real engines do: exit non-zero, hang (with a child
// process), write under a fixed timestamped root, omit a CSV or a column, or
// fail only on its first attempts.
//
// The tests `go build` it into a temporary folder; it is not installed.
package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/schedlab/schedlab/lab/sarathi"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "fakeengine:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("fakeengine", flag.ContinueOnError)
	out := fs.String("out", "", "output folder: writes OUT/replica_0/plots/*.csv")
	root := fs.String("root", "", "fixed root: writes ROOT/<timestamp>/replica_0/plots/*.csv (instead of --out)")
	threshold := fs.Float64("threshold", 0, "min_chunk_threshold of this run")
	seed := fs.Int64("seed", 0, "seed of this run")
	repeat := fs.Int("repeat", 0, "repeat index (logged only)")
	requests := fs.Int("requests", 40, "number of requests")
	logFile := fs.String("log", "", "append one line per start to this file (to count executions)")
	work := fs.Duration("sleep", 0, "time the benchmark takes")
	failCode := fs.Int("fail", 0, "exit with this status without writing anything")
	failAt := fs.String("fail-at", "", "with --fail: only when --threshold equals one of these comma-separated values")
	hang := fs.Bool("hang", false, "start a child process, then sleep forever")
	ignoreTerm := fs.Bool("ignore-term", false, "ignore SIGTERM (to test the SIGKILL after the grace)")
	pidFile := fs.String("pid-file", "", "write our pid and our child's pid here")
	omitCSV := fs.String("omit-csv", "", "do not write this metric's CSV")
	omitColumn := fs.String("omit-column", "", "write this metric's CSV with a wrong column name")
	failTimes := fs.Int("fail-times", 0, "fail (exit 3) on the first N runs that share --state")
	state := fs.String("state", "", "counter file for --fail-times")
	printEnv := fs.String("print-env", "", "print this environment variable's value to stdout")
	format := fs.String("format", "sarathi", "what to write into --out: sarathi (metric CSVs), vllm-bench (a `vllm bench serve --save-detailed` result) or sglang-bench (a `bench_serving --output-details` JSONL line)")
	failedReqs := fs.Int("failed-requests", 0, "with --format vllm-bench|sglang-bench: how many requests fail")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ignoreTerm {
		signal.Ignore(syscall.SIGTERM)
	}
	if *logFile != "" {
		line := fmt.Sprintf("start threshold=%g repeat=%d seed=%d pid=%d\n", *threshold, *repeat, *seed, os.Getpid())
		if err := appendLine(*logFile, line); err != nil {
			return err
		}
	}
	if *printEnv != "" {
		fmt.Printf("%s=%s\n", *printEnv, os.Getenv(*printEnv))
	}
	fmt.Printf("fakeengine: threshold=%g seed=%d repeat=%d requests=%d\n", *threshold, *seed, *repeat, *requests)
	fmt.Fprintln(os.Stderr, "fakeengine: a line on stderr")

	if *hang {
		child := exec.Command("sleep", "1000")
		if err := child.Start(); err != nil {
			return err
		}
		if *pidFile != "" {
			if err := os.WriteFile(*pidFile, []byte(fmt.Sprintf("%d %d\n", os.Getpid(), child.Process.Pid)), 0o644); err != nil {
				return err
			}
		}
		time.Sleep(1000 * time.Hour)
	}
	if *failCode != 0 && (*failAt == "" || listHas(*failAt, *threshold)) {
		fmt.Fprintf(os.Stderr, "fakeengine: failing with status %d as asked\n", *failCode)
		os.Exit(*failCode)
	}
	if *failTimes > 0 {
		n := 0
		if b, err := os.ReadFile(*state); err == nil {
			n, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		if err := os.WriteFile(*state, []byte(strconv.Itoa(n+1)), 0o644); err != nil {
			return err
		}
		if n < *failTimes {
			fmt.Fprintf(os.Stderr, "fakeengine: attempt %d fails as asked\n", n+1)
			os.Exit(3)
		}
	}
	time.Sleep(*work)

	var dir string
	switch {
	case *out != "" && *root != "":
		return fmt.Errorf("--out and --root are exclusive")
	case *out != "":
		dir = *out
	case *root != "":
		// Sarathi names its run folders by wall-clock time; nanoseconds keep
		// two runs apart in a test.
		dir = filepath.Join(*root, time.Now().Format("2006-01-02_15-04-05.000000000"))
	default:
		return fmt.Errorf("one of --out or --root is required")
	}
	if *format != "sarathi" {
		return writeBench(*format, dir, *threshold, *seed, *requests, *failedReqs)
	}
	plots := filepath.Join(dir, sarathi.PlotsDir)
	for metric, rows := range generate(*threshold, *seed, *requests) {
		if metric == *omitCSV {
			continue
		}
		if metric == *omitColumn {
			if err := sarathi.Write(plots, "wrong_column", rows); err != nil {
				return err
			}
			if err := os.Rename(filepath.Join(plots, "wrong_column.csv"), filepath.Join(plots, sarathi.FileName(metric))); err != nil {
				return err
			}
			continue
		}
		if err := sarathi.Write(plots, metric, rows); err != nil {
			return err
		}
	}
	return nil
}

// generate returns plausible per-request metrics: the threshold moves the
// latencies along a shallow U with its minimum at 4, the seed draws the
// workload and the noise, so each (threshold, seed) has its own values.
func generate(threshold float64, seed int64, n int) map[string][]sarathi.Row {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	factor := 1 + 0.004*(threshold-4)*(threshold-4)
	m := map[string][]sarathi.Row{}
	add := func(metric, id string, v float64) {
		m[metric] = append(m[metric], sarathi.Row{RequestID: id, Value: v})
	}
	for i := 0; i < n; i++ {
		id := "0_" + strconv.Itoa(i)
		prompt := float64(100 + rng.IntN(900))
		output := float64(10 + rng.IntN(200))
		noise := 1 + 0.03*rng.NormFloat64()
		perPrefillTok := 1.2e-4 * factor * noise
		prefillExec := prompt * perPrefillTok
		queue := 0.4 * rng.Float64() * factor
		perDecodeTok := 0.018 * (1 + 0.002*threshold) * (1 + 0.02*rng.NormFloat64())
		exec := prefillExec + output*0.015*(1+0.001*threshold)
		add(sarathi.PrefillExecPlusPreemptNorm, id, perPrefillTok)
		add(sarathi.PrefillE2ETime, id, queue+prefillExec)
		add(sarathi.DecodeExecPlusPreemptNorm, id, perDecodeTok)
		add(sarathi.RequestExecutionTime, id, exec)
		add(sarathi.RequestExecutionTimeNormalized, id, exec/output)
		add(sarathi.RequestE2ETime, id, queue+prefillExec+output*perDecodeTok)
	}
	for k, rows := range m {
		for i := range rows {
			rows[i].Value = math.Round(rows[i].Value*1e9) / 1e9
		}
		m[k] = rows
	}
	return m
}

func listHas(list string, v float64) bool {
	for _, s := range strings.Split(list, ",") {
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil && f == v {
			return true
		}
	}
	return false
}

func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
