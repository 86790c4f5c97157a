package store

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The tests below re-execute the test binary as a helper process (selected
// by STORE_TEST_HELPER) so that locking and crashes are exercised between
// real OS processes, not just goroutines.

func TestMain(m *testing.M) {
	if mode := os.Getenv("STORE_TEST_HELPER"); mode != "" {
		os.Exit(helperMain(mode, os.Args[len(os.Args)-1]))
	}
	os.Exit(m.Run())
}

func helperMain(mode, root string) int {
	s, err := Open(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	switch mode {
	case "race":
		// Wait for "go" on stdin, then race for the cell.
		fmt.Println("ready")
		line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		if strings.TrimSpace(line) != "go" {
			return 2
		}
		won, err := raceForCell(s, sampleInputs(9, 0), "process")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		fmt.Println("won", won)
		return 0
	case "hang-in-commit":
		s.hookBeforeRename = func() {
			fmt.Println("ready")
			time.Sleep(time.Hour)
		}
		in := sampleInputs(8, 0)
		h, _ := HashInputs(in)
		tx, err := s.Begin(h)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		os.WriteFile(filepath.Join(tx.Dir(), "stdout.log"), []byte("half\n"), 0o666)
		tx.Commit(&Record{Inputs: in, Status: StatusOK})
		return 3 // never reached: killed in the hook
	case "churn":
		// Commit cells with many files forever, until killed.
		fmt.Println("ready")
		for i := 0; ; i++ {
			in := sampleInputs(float64(i), 0)
			h, _ := HashInputs(in)
			tx, err := s.Begin(h)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 2
			}
			for f := 0; f < 20; f++ {
				os.WriteFile(filepath.Join(tx.Dir(), fmt.Sprintf("f%02d.csv", f)), []byte(strings.Repeat("1,2,3\n", 200)), 0o666)
			}
			if err := tx.Commit(&Record{Inputs: in, Status: StatusOK}); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 2
			}
			fmt.Println("committed")
		}
	}
	return 2
}

// raceForCell does what a runner does for one cell: Begin; on ErrLocked
// wait and retry; on ErrExists the work is done by someone else. It reports
// whether this caller committed the cell.
func raceForCell(s *Store, in Inputs, who string) (bool, error) {
	h, err := HashInputs(in)
	if err != nil {
		return false, err
	}
	for {
		tx, err := s.Begin(h)
		switch {
		case errors.Is(err, ErrExists):
			return false, nil
		case errors.Is(err, ErrLocked):
			time.Sleep(2 * time.Millisecond)
			continue
		case err != nil:
			return false, err
		}
		if err := os.WriteFile(filepath.Join(tx.Dir(), "who.txt"), []byte(who), 0o666); err != nil {
			tx.Abort()
			return false, err
		}
		time.Sleep(20 * time.Millisecond) // hold the lock while others try
		if err := tx.Commit(&Record{Inputs: in, Status: StatusOK}); err != nil {
			return false, err
		}
		return true, nil
	}
}

func helper(t *testing.T, mode, root string) (*exec.Cmd, *bufio.Reader, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", root)
	cmd.Env = append(os.Environ(), "STORE_TEST_HELPER="+mode)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(out)
	line, err := r.ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper %s did not start: %q, %v", mode, line, err)
	}
	return cmd, r, stdin
}

// N goroutines and two other processes race for one cell: exactly one
// commits, everyone else sees ErrExists, the cell holds the winner's file.
func TestConcurrentBeginOneWinner(t *testing.T) {
	s := openStore(t)
	const goroutines = 8
	var procs []*exec.Cmd
	var outs []*bufio.Reader
	var ins []io.WriteCloser
	for range 2 {
		c, r, w := helper(t, "race", s.Root())
		procs, outs, ins = append(procs, c), append(outs, r), append(ins, w)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			<-start
			won, err := raceForCell(s, sampleInputs(9, 0), "goroutine "+strconv.Itoa(g))
			if err != nil {
				errs <- err
			}
			if won {
				wins.Add(1)
			}
		})
	}
	close(start)
	for _, w := range ins {
		io.WriteString(w, "go\n")
		w.Close()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	procWins := 0
	for i, c := range procs {
		line, _ := outs[i].ReadString('\n')
		if err := c.Wait(); err != nil {
			t.Fatalf("helper process: %v", err)
		}
		switch strings.TrimSpace(line) {
		case "won true":
			procWins++
		case "won false":
		default:
			t.Fatalf("helper process said %q", line)
		}
	}
	total := int(wins.Load()) + procWins
	if total != 1 {
		t.Fatalf("%d goroutine wins + %d process wins; want exactly one commit", wins.Load(), procWins)
	}
	rec, err := s.Get(mustHash(t, sampleInputs(9, 0)))
	if err != nil || !rec.OK() {
		t.Fatalf("Get = %+v, %v", rec, err)
	}
	who, _ := os.ReadFile(filepath.Join(s.CellDir(rec.Hash), "who.txt"))
	t.Logf("winner: %s (process wins %d)", who, procWins)
	if probs, _ := s.Verify(); len(probs) != 0 {
		t.Errorf("Verify: %v", probs)
	}
}

// kill -9 at the last instant before the commit's rename: the cell is
// absent, Verify names the leftover as incomplete, CleanTemp repairs, and
// the cell can be run again.
func TestKillMidCommit(t *testing.T) {
	s := openStore(t)
	cmd, _, _ := helper(t, "hang-in-commit", s.Root())
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	h := mustHash(t, sampleInputs(8, 0))
	if rec, err := s.Get(h); rec != nil || err != nil {
		t.Fatalf("a killed commit left a cell: %+v, %v", rec, err)
	}
	probs, err := s.Verify()
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != 1 || probs[0].Hash != h || !strings.HasPrefix(probs[0].Path, "tmp/"+h+".") || !strings.HasPrefix(probs[0].Msg, "incomplete") {
		t.Fatalf("Verify after kill = %v; want one incomplete temp folder of %s", probs, h)
	}
	if err := s.CleanTemp(); err != nil {
		t.Fatal(err)
	}
	if probs, _ := s.Verify(); len(probs) != 0 {
		t.Fatalf("Verify after CleanTemp = %v", probs)
	}
	commitCell(t, s, sampleInputs(8, 0), StatusOK, map[string]string{"stdout.log": "whole\n"})
}

// kill -9 at random instants of a process committing cells in a loop:
// every committed cell verifies, the only problems are incomplete temp
// folders, and CleanTemp leaves a clean store.
func TestKillAnytime(t *testing.T) {
	s := openStore(t)
	for round := range 4 {
		cmd, out, _ := helper(t, "churn", s.Root())
		if round%2 == 1 {
			// Odd rounds kill after at least one commit, so the test
			// always has committed cells to check, however slow the
			// machine.
			if line, err := out.ReadString('\n'); err != nil || strings.TrimSpace(line) != "committed" {
				t.Fatalf("churn helper: %q, %v", line, err)
			}
		}
		time.Sleep(time.Duration(7+round*23) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		probs, err := s.Verify()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range probs {
			if !strings.HasPrefix(p.Path, "tmp/") || !strings.HasPrefix(p.Msg, "incomplete") {
				t.Errorf("round %d: unexpected problem %v", round, p)
			}
		}
		if err := s.CleanTemp(); err != nil {
			t.Fatal(err)
		}
		if probs, _ := s.Verify(); len(probs) != 0 {
			t.Fatalf("round %d: after CleanTemp: %v", round, probs)
		}
		list, _ := s.List()
		t.Logf("round %d: %d cells committed before the kill", round, len(list))
		// The next round recommits the same hashes: clear them so Begin
		// does not answer ErrExists.
		for _, h := range list {
			if err := s.Remove(h); err != nil {
				t.Fatal(err)
			}
		}
	}
}
