package slurm

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/schedlab/schedlab/lab/internal/golden"
)

var update = golden.Update // -update

func TestParseJobID(t *testing.T) {
	for _, tc := range []struct {
		out, want string
		bad       bool
	}{
		{out: "123\n", want: "123"},
		{out: "4567;cluster-a\n", want: "4567"},
		{out: "", bad: true},
		{out: "Submitted batch job 12\n", bad: true},
		{out: "-3", bad: true},
	} {
		got, err := parseJobID(tc.out)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("parseJobID(%q) = %q, %v; want %q (error: %v)", tc.out, got, err, tc.want, tc.bad)
		}
	}
}

func TestParseSqueue(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      queued
		bad       bool
	}{
		{name: "empty", out: "", want: queued{}},
		{name: "array", out: "12|0|RUNNING\n12|3|PENDING\n13|1|COMPLETING\n", want: queued{
			{"12", 0}: "RUNNING", {"12", 3}: "PENDING", {"13", 1}: "COMPLETING"}},
		{name: "not an array", out: "14|N/A|RUNNING\n", want: queued{}},
		{name: "garbage", out: "12 0 RUNNING\n", bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := queued{}
			err := parseSqueue(tc.out, q)
			if (err != nil) != tc.bad {
				t.Fatalf("error %v, want error: %v", err, tc.bad)
			}
			if !tc.bad && !reflect.DeepEqual(q, tc.want) {
				t.Errorf("got %v, want %v", q, tc.want)
			}
		})
	}
}

func TestShellQuote(t *testing.T) {
	for _, s := range []string{"plain/path-1.yaml", "", "with space", "it's", `a"b\c$d`, "--timeout"} {
		out, err := exec.Command("bash", "-c", "printf %s "+shellQuote(s)).Output()
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != s {
			t.Errorf("shellQuote(%q) = %s: bash reads %q", s, shellQuote(s), out)
		}
	}
}

func TestJobName(t *testing.T) {
	if got, want := jobName("min-chunk threshold/β"), "lab-min-chunk_threshold__"; got != want {
		t.Errorf("jobName = %q, want %q", got, want)
	}
	if got := jobName(strings.Repeat("x", 100)); len(got) != 44 {
		t.Errorf("jobName of a long name is %d bytes, want 44", len(got))
	}
}

func testArray() *Array {
	return &Array{N: 2, JobID: "77", Round: 2, Tasks: []Task{
		{Task: 0, Cell: strings.Repeat("a", 64), Params: map[string]float64{"min_chunk_threshold": 4}},
		{Task: 1, Cell: strings.Repeat("b", 64), Params: map[string]float64{"min_chunk_threshold": 8}, Repeat: 1},
	}}
}

// TestBatchScriptGolden pins the script's text (go test -update rewrites it).
func TestBatchScriptGolden(t *testing.T) {
	got := batchScript(scriptParams{Lab: "/opt/lab bin/lab", Spec: "/home/u/exp's.yaml", Store: "/shared/store",
		RunDir: "/shared/store/slurm/R", CellArgs: []string{"--timeout", "2h0m0s", "--retries", "0"}, Run: "R", N: 2}, testArray())
	golden := filepath.Join("testdata", "array.golden.sh")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("batch script differs from %s (go test -update rewrites it):\n%s", golden, got)
	}
}

// TestBatchScriptRuns runs the generated script with bash as Slurm would,
// with a stand-in lab that prints its arguments and exits with a chosen
// status: the right cell reaches lab, the exit record is written and
// parses, and the script exits with lab's status. An unknown task id
// fails before lab runs.
func TestBatchScriptRuns(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "fake lab")
	if err := os.WriteFile(fake, []byte("#!/bin/bash\necho \"$@\" >\"$(dirname \"$0\")/args\"\nexit ${FAKE_EXIT:-0}\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(dir, "run")
	if err := os.MkdirAll(filepath.Join(runDir, "exit"), 0o755); err != nil {
		t.Fatal(err)
	}
	a := testArray()
	script := filepath.Join(runDir, "array-2.sh")
	body := batchScript(scriptParams{Lab: fake, Spec: "/s.yaml", Store: "/st", RunDir: runDir,
		CellArgs: []string{"--retries", "0"}, Run: "R", N: 2}, a)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		task, exit string
		wantCode   int
	}{{"1", "0", 0}, {"0", "3", 3}, {"7", "0", 2}} {
		cmd := exec.Command("bash", script)
		cmd.Env = append(os.Environ(), "SLURM_ARRAY_JOB_ID=77", "SLURM_ARRAY_TASK_ID="+tc.task,
			"CUDA_VISIBLE_DEVICES=1", "FAKE_EXIT="+tc.exit)
		err := cmd.Run()
		code := 0
		if xe, ok := err.(*exec.ExitError); ok {
			code = xe.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.wantCode {
			t.Errorf("task %s: script exited %d, want %d", tc.task, code, tc.wantCode)
		}
	}
	args, err := os.ReadFile(filepath.Join(dir, "args"))
	if err != nil {
		t.Fatal(err)
	}
	// The last lab call was task 0's.
	if want := "cell run /s.yaml --cell " + a.Tasks[0].Cell + " --store /st --executor slurm --retries 0\n"; string(args) != want {
		t.Errorf("lab got %q, want %q", args, want)
	}
	exits, err := readExitRecords(runDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(exits) != 2 {
		t.Fatalf("%d exit records, want 2 (none for the unknown task): %v", len(exits), exits)
	}
	for _, tc := range []struct {
		task, code int
	}{{0, 3}, {1, 0}} {
		r := exits[taskKey{"77", tc.task}]
		if r == nil || r.Cell != a.Tasks[tc.task].Cell || r.ExitCode != tc.code || r.CUDAVisibleDevices != "1" ||
			r.Host == "" || time.Since(r.End) > time.Hour {
			t.Errorf("exit record of task %d: %+v", tc.task, r)
		}
	}
}

func TestConfigCheck(t *testing.T) {
	for _, tc := range []struct {
		c   Config
		bad string
	}{
		{c: Config{MaxParallel: 4, SbatchArgs: []string{"--account=x"}}},
		{c: Config{MaxParallel: -1}, bad: "--max-parallel"},
		{c: Config{SbatchArgs: []string{"--array=0-3"}}, bad: "sets the array"},
		{c: Config{SbatchArgs: []string{"--wait"}}, bad: "polls squeue"},
	} {
		err := tc.c.check()
		if (err != nil) != (tc.bad != "") || err != nil && !strings.Contains(err.Error(), tc.bad) {
			t.Errorf("%+v: error %v, want one containing %q", tc.c, err, tc.bad)
		}
	}
}

func TestManifestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m := &Manifest{Format: ManifestFormat, Run: "R", Experiment: "e", ExperimentHash: "h", Spec: "/s", Store: "/st",
		Lab: "/lab", Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Sbatch: []string{"--gres=gpu:1"}, Arrays: []Array{*testArray()}}
	if err := m.write(dir); err != nil {
		t.Fatal(err)
	}
	got, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("read back %+v, want %+v", got, m)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{"format": 1, "extra": 2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadManifest(dir); err == nil || !strings.Contains(err.Error(), "manifest.json") {
		t.Errorf("an unknown field: error %v, want one naming manifest.json", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{"format": 9}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadManifest(dir); err == nil || !strings.Contains(err.Error(), "format 9") {
		t.Errorf("a future format: error %v", err)
	}
}
