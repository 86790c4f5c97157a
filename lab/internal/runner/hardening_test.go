package runner

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/labtest/unprivileged"
	"github.com/schedlab/schedlab/lab/internal/store"
	"github.com/schedlab/schedlab/lab/spec"
)

// deepOutput makes dir/output/d…/d…/f.txt, a path longer than PATH_MAX.
func deepOutput(dir string) {
	os.MkdirAll(filepath.Join(dir, "output"), 0o777)
	fd, err := syscall.Open(filepath.Join(dir, "output"), syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return
	}
	name := strings.Repeat("d", 200)
	for range 25 {
		syscall.Mkdirat(fd, name, 0o777)
		next, err := syscall.Openat(fd, name, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
		syscall.Close(fd)
		if err != nil {
			return
		}
		fd = next
	}
	if f, err := syscall.Openat(fd, "f.txt", syscall.O_CREAT|syscall.O_WRONLY, 0o666); err == nil {
		syscall.Close(f)
	}
	syscall.Close(fd)
}

func TestOddOutputFailsOnlyItsCell(t *testing.T) {
	tests := []struct {
		name       string
		unprivileg bool
		odd        func(dir string)
		want       string
	}{
		{"cell.json next to OutputDir", false, func(dir string) {
			os.WriteFile(filepath.Join(dir, "output", "..", "cell.json"), []byte(`{"status":"ok"}`), 0o666)
		}, "reserves"},
		{"path longer than PATH_MAX", false, deepOutput, "file name too long"},
		{"unreadable folder", true, func(dir string) {
			os.MkdirAll(filepath.Join(dir, "output", "locked"), 0o777)
			os.WriteFile(filepath.Join(dir, "output", "locked", "a"), nil, 0o666)
			os.Chmod(filepath.Join(dir, "output", "locked"), 0)
		}, "output/locked: permission denied"},
		{"unreadable file", true, func(dir string) {
			os.MkdirAll(filepath.Join(dir, "output"), 0o777)
			os.WriteFile(filepath.Join(dir, "output", "secret"), nil, 0)
		}, "output/secret: permission denied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.unprivileg && !unprivileged.Run(t) {
				return
			}
			s, st := testSpec(3, 1), openStore(t)
			e := newGoEngine(func(c spec.Cell, _ int) behaviour {
				if c.Point["t"] == 1 {
					return behaviour{odd: tc.odd}
				}
				return behaviour{}
			})
			for run := range 2 { // every rerun: the same cell fails, the run completes
				res, err := Run(context.Background(), opts(s, e, st))
				if err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				if res.OK != 2-2*run || res.Failed != 1 || res.Cached != 2*run {
					t.Fatalf("run %d: %+v; want the odd cell failed and the others ok", run, res)
				}
				rec := res.Outcomes[1].Record
				if rec == nil || rec.Status != StateFailed || !strings.Contains(rec.Reason, tc.want) {
					t.Fatalf("run %d: the odd cell's record = %+v; want failed saying %q", run, rec, tc.want)
				}
				if got, err := st.Get(res.Outcomes[1].Hash); err != nil || got == nil || got.Reason != rec.Reason {
					t.Fatalf("run %d: the odd cell is not committed: %v, %v", run, got, err)
				}
				if _, err := os.Stat(filepath.Join(st.CellDir(res.Outcomes[1].Hash), "stdout.log")); err != nil {
					t.Errorf("run %d: the failed cell's stdout.log is not kept: %v", run, err)
				}
			}
			noProblems(t, st)
		})
	}
}

func TestCorruptRecordIsRunAgain(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(t *testing.T, st *store.Store, hashes []string)
	}{
		{"truncated cell.json", func(t *testing.T, st *store.Store, h []string) {
			p := filepath.Join(st.CellDir(h[0]), store.RecordFile)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/3], 0o666)
		}},
		{"another cell's content", func(t *testing.T, st *store.Store, h []string) {
			b, _ := os.ReadFile(filepath.Join(st.CellDir(h[1]), store.RecordFile))
			os.WriteFile(filepath.Join(st.CellDir(h[0]), store.RecordFile), b, 0o666)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, st := testSpec(2, 1), openStore(t)
			e := newGoEngine(nil)
			res, err := Run(context.Background(), opts(s, e, st))
			if err != nil {
				t.Fatal(err)
			}
			tc.corrupt(t, st, []string{res.Outcomes[0].Hash, res.Outcomes[1].Hash})
			var prog bytes.Buffer
			o := opts(s, e, st)
			o.Progress = &prog
			res, err = Run(context.Background(), o)
			if err != nil {
				t.Fatalf("rerun: %v", err)
			}
			if res.Ran != 1 || res.Cached != 1 || res.OK != 1 {
				t.Errorf("rerun: %+v; want the corrupt cell run again and the other cached", res)
			}
			want := filepath.Join(st.CellDir(res.Outcomes[0].Hash), store.RecordFile)
			if !strings.Contains(prog.String(), want) || !strings.Contains(prog.String(), "lab verify") {
				t.Errorf("progress %q does not name %s and lab verify", prog.String(), want)
			}
			noProblems(t, st)
		})
	}
}
