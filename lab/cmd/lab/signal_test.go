package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// signalTestMain lets a test run this binary as `lab` itself
// (LAB_TEST_MAIN=1), with two extra commands that stand for the two kinds
// of commands: one that never looks at its context, one that finishes on
// its own after a signal, taking longer than interruptGrace. TestMain calls
// it first; it returns only when the binary runs as a test.
func signalTestMain() {
	if os.Getenv("LAB_TEST_MAIN") == "1" {
		register(&command{name: "test-ignores-ctx", run: func(ctx context.Context, env *cmdEnv, args []string) error {
			os.Stdout.WriteString("started\n")
			select {}
		}})
		register(&command{name: "test-finishes", finishes: true, run: func(ctx context.Context, env *cmdEnv, args []string) error {
			os.Stdout.WriteString("started\n")
			<-ctx.Done()
			time.Sleep(interruptGrace + time.Second)
			return &exitCodeError{code: 7, err: errors.New("stopped cleanly")}
		}})
		main()
		os.Exit(0)
	}
}

func TestSignalsStopEveryCommand(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "spec.yaml")
	if err := syscall.Mkfifo(fifo, 0o666); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		signals  []os.Signal
		wantCode int
		wantErr  string
	}{
		{"Ctrl-C: a command that ignores it stops after the grace", []string{"test-ignores-ctx"}, []os.Signal{os.Interrupt}, 130, "lab: interrupted"},
		{"SIGTERM likewise", []string{"test-ignores-ctx"}, []os.Signal{syscall.SIGTERM}, 130, "lab: interrupted"},
		{"a second Ctrl-C stops at once", []string{"test-ignores-ctx"}, []os.Signal{os.Interrupt, os.Interrupt}, 130, "interrupted again"},
		{"run-like commands are let finish", []string{"test-finishes"}, []os.Signal{os.Interrupt}, 7, "stopped cleanly"},
		{"plan on a named pipe does not wait for a writer", []string{"plan", fifo}, nil, 1, "not a regular file (a named pipe)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], tc.args...)
			cmd.Env = append(os.Environ(), "LAB_TEST_MAIN=1")
			var stdout, stderr bytes.Buffer
			cmd.Stderr = &stderr
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stdout = pw
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pw.Close()
			if len(tc.signals) > 0 {
				buf := make([]byte, 8)
				if n, _ := pr.Read(buf); !strings.HasPrefix(string(buf[:n]), "started") {
					t.Fatalf("command did not start: %q", buf[:n])
				}
				for _, s := range tc.signals {
					cmd.Process.Signal(s)
					time.Sleep(100 * time.Millisecond)
				}
			}
			go stdout.ReadFrom(pr)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatal("the command did not stop")
			}
			if code := cmd.ProcessState.ExitCode(); code != tc.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.wantErr) {
				t.Errorf("stderr %q does not say %q", stderr.String(), tc.wantErr)
			}
		})
	}
}

func TestSpecErrorsStartWithTheirPosition(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, text, first string
	}{
		{"one problem", "name: x\nsweep: {}\n", "bad.yaml:1:1: engine:"},
		{"template syntax: no spurious plots line", "name: x\nengine: {exec: {command: [b, '{{.OutputDir}']}}\nsweep: {t: [1]}\n", "bad.yaml:2:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "bad.yaml")
			if err := os.WriteFile(path, []byte(tc.text), 0o666); err != nil {
				t.Fatal(err)
			}
			for _, c := range []string{"run", "plan", "status"} {
				code, _, stderr := runLab(t, c, path, "--store", filepath.Join(dir, "store"))
				if code == 0 {
					t.Fatalf("%s: exit 0", c)
				}
				for i, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
					if !strings.HasPrefix(line, path+":") {
						t.Errorf("%s: line %d %q does not start with %s:line:col", c, i+1, line, path)
					}
				}
				if first := strings.SplitN(stderr, "\n", 2)[0]; !strings.HasPrefix(first, filepath.Join(dir, tc.first)) {
					t.Errorf("%s: first line %q, want it to start with %q", c, first, tc.first)
				}
				if strings.Contains(stderr, "cannot be found") {
					t.Errorf("%s: spurious plots line:\n%s", c, stderr)
				}
			}
		})
	}
}

// A corrupt cell record does not stop status or run: status lists the cell
// as missing with the reason, run names the file and runs the cell again.
func TestCorruptRecordInStatusAndRun(t *testing.T) {
	dir := t.TempDir()
	specPath := filepath.Join(dir, "tiny.yaml")
	os.WriteFile(specPath, []byte(`name: tiny
engine:
  sim:
    model: llama-3-8b
    gpu: h200
    mode: graph
    scheduler: {chunk_size: 256, max_num_seqs: 10, policy: fcfs}
    workload: {trace: splitwise_conv, requests: 20, max_tokens: 32}
sweep:
  min_chunk_threshold: [0, 4]
`), 0o666)
	storeDir := filepath.Join(dir, "store")
	if code, _, stderr := runLab(t, "run", specPath, "--store", storeDir, "--no-report"); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	cells, _ := filepath.Glob(filepath.Join(storeDir, "cells", "*", "cell.json"))
	if len(cells) != 2 {
		t.Fatalf("%d cells", len(cells))
	}
	os.WriteFile(cells[0], []byte(`{"format": 1, "hash": "`), 0o666)
	tests := []struct {
		cmd  []string
		out  string // in stdout
		warn string // in stderr
	}{
		{[]string{"status", specPath, "--store", storeDir}, "corrupt cell record " + cells[0], ""},
		{[]string{"plan", specPath, "--store", storeDir}, "missing", ""},
		{[]string{"run", specPath, "--store", storeDir, "--no-report"}, "1 cached, 1 ran", cells[0]},
		{[]string{"status", specPath, "--store", storeDir}, "2 ok", ""},
	}
	for _, tc := range tests {
		code, stdout, stderr := runLab(t, tc.cmd...)
		if code != 0 || !strings.Contains(stdout, tc.out) || !strings.Contains(stderr, tc.warn) {
			t.Errorf("lab %v: exit %d; want 0, %q in stdout and %q in stderr\nstdout:\n%s\nstderr:\n%s", tc.cmd, code, tc.out, tc.warn, stdout, stderr)
		}
	}
}
