package slurm

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// RunStatus is where one Slurm run of an experiment stands, for lab
// status: its tasks as squeue and the exit records tell. (The cells
// themselves are counted from the store.)
type RunStatus struct {
	Run      string   `json:"run"`
	Dir      string   `json:"dir"`
	Detached bool     `json:"detached"`
	Jobs     []string `json:"jobs"`
	Tasks    int      `json:"tasks"`
	Pending  int      `json:"pending"`
	Running  int      `json:"running"`
	// Exited counts the tasks with an exit record, Failed those of them
	// whose lab exited non-zero.
	Exited int `json:"exited"`
	Failed int `json:"failed"`
	// Vanished counts the tasks neither queued nor with an exit record:
	// cancelled, killed at their time limit, or lost with their node.
	Vanished int `json:"vanished"`
	// SqueueError is set when squeue could not be asked: Pending and
	// Running are then unknown (counted as Vanished).
	SqueueError string `json:"squeue_error,omitempty"`
}

// Active reports whether the run still has tasks in Slurm's queue.
func (r *RunStatus) Active() bool { return r.Pending+r.Running > 0 }

func (r *RunStatus) String() string {
	s := fmt.Sprintf("slurm run %s (array job %s): %d tasks: %d pending, %d running, %d exited (%d failed)",
		r.Run, strings.Join(r.Jobs, ","), r.Tasks, r.Pending, r.Running, r.Exited, r.Failed)
	switch {
	case r.SqueueError != "":
		s += fmt.Sprintf(", %d not exited (queued or lost: squeue failed: %s)", r.Vanished, r.SqueueError)
	case r.Vanished > 0:
		s += fmt.Sprintf(", %d ended without an exit record (cancelled or killed)", r.Vanished)
	}
	return s
}

// Status reports the Slurm runs in the store at storeRoot that ran any of
// cells (an experiment's plan: runs made under an earlier version of its
// spec that shared cells count too) and still have tasks queued or
// running, and the latest such run in any case; oldest first. A store
// without Slurm runs gives none.
func Status(ctx context.Context, storeRoot string, cells []string) ([]RunStatus, error) {
	want := make(map[string]bool, len(cells))
	for _, h := range cells {
		want[h] = true
	}
	dirs, err := Runs(storeRoot)
	if err != nil {
		return nil, err
	}
	type run struct {
		dir string
		m   *Manifest
	}
	var runs []run
	var jobs []string
	for _, d := range dirs {
		m, err := ReadManifest(d)
		if err != nil {
			return nil, err
		}
		if !m.hasAny(want) {
			continue
		}
		runs = append(runs, run{d, m})
		for _, a := range m.Arrays {
			if a.JobID != "" {
				jobs = append(jobs, a.JobID)
			}
		}
	}
	if len(runs) == 0 {
		return nil, nil
	}
	var q queued
	var qerr error
	if _, err := exec.LookPath("squeue"); err != nil {
		qerr = fmt.Errorf("not installed here")
	} else {
		q, qerr = squeue(ctx, jobs)
	}
	var out []RunStatus
	for i, r := range runs {
		exits, err := readExitRecords(r.dir)
		if err != nil {
			return nil, err
		}
		st := RunStatus{Run: r.m.Run, Dir: r.dir, Detached: r.m.Detached, Jobs: []string{}}
		if qerr != nil {
			st.SqueueError = strings.Join(strings.Fields(qerr.Error()), " ")
		}
		for _, a := range r.m.Arrays {
			if a.JobID == "" {
				continue // sbatch never answered
			}
			st.Jobs = append(st.Jobs, a.JobID)
			for _, t := range a.Tasks {
				st.Tasks++
				k := taskKey{a.JobID, t.Task}
				state, queuedNow := q[k]
				ex := exits[k]
				switch {
				case ex != nil:
					st.Exited++
					if ex.ExitCode != 0 {
						st.Failed++
					}
				case queuedNow && state == "PENDING":
					st.Pending++
				case queuedNow:
					st.Running++
				default:
					st.Vanished++
				}
			}
		}
		if st.Active() || i == len(runs)-1 {
			out = append(out, st)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return filepath.Base(out[i].Dir) < filepath.Base(out[j].Dir) })
	return out, nil
}

func (m *Manifest) hasAny(cells map[string]bool) bool {
	for _, a := range m.Arrays {
		for _, t := range a.Tasks {
			if cells[t.Cell] {
				return true
			}
		}
	}
	return false
}
