package slurm

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"
)

// commandTimeout bounds one sbatch/squeue/scancel call: a controller that
// does not answer must not hang lab forever.
const commandTimeout = 2 * time.Minute

// run runs a Slurm command and returns its standard output; the error
// carries its standard error, which is where Slurm explains itself.
func run(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		if msg != "" {
			return stdout.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, msg)
		}
		return stdout.String(), fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return stdout.String(), nil
}

// parseJobID reads `sbatch --parsable` output: "JOBID" or "JOBID;CLUSTER".
func parseJobID(out string) (string, error) {
	s := strings.TrimSpace(out)
	if i := strings.IndexByte(s, ';'); i >= 0 {
		s = s[:i]
	}
	if _, err := strconv.ParseUint(s, 10, 64); err != nil || s == "" {
		return "", fmt.Errorf("sbatch printed %q; expected a job id", strings.TrimSpace(out))
	}
	return s, nil
}

// taskKey names one array task: "JOBID_TASK", as Slurm writes it.
type taskKey struct {
	Job  string
	Task int
}

func (k taskKey) String() string { return k.Job + "_" + strconv.Itoa(k.Task) }

// queued is the state squeue reports for each task still known to it in an
// active state (pending, running, completing, …); a task that is absent
// has ended.
type queued map[taskKey]string

// squeueFormat asks for the array job id, the task id and the state; -r
// lists every pending task of an array on its own line.
const squeueFormat = "%F|%K|%T"

// squeue lists the active tasks of the given array jobs. A job Slurm has
// already forgotten is not an error: its tasks are simply absent.
func squeue(ctx context.Context, jobs []string) (queued, error) {
	q := queued{}
	if len(jobs) == 0 {
		return q, nil
	}
	sorted := append([]string(nil), jobs...)
	sort.Strings(sorted)
	out, err := run(ctx, "squeue", "-h", "-r", "-j", strings.Join(sorted, ","), "-o", squeueFormat)
	if err != nil {
		// Slurm says this when every job of the list is gone.
		if strings.Contains(err.Error(), "Invalid job id") {
			return q, nil
		}
		return nil, err
	}
	return q, parseSqueue(out, q)
}

func parseSqueue(out string, q queued) error {
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.Split(line, "|")
		if len(f) != 3 {
			return fmt.Errorf("squeue printed %q; expected JOB|TASK|STATE", line)
		}
		task, err := strconv.Atoi(f[1])
		if err != nil {
			// A job that is not an array ("N/A") is not ours.
			continue
		}
		q[taskKey{f[0], task}] = f[2]
	}
	return nil
}

// scancel cancels whole array jobs; with pendingOnly, only their tasks
// that have not started.
func scancel(ctx context.Context, jobs []string, pendingOnly bool) error {
	if len(jobs) == 0 {
		return nil
	}
	args := []string{}
	if pendingOnly {
		args = append(args, "--state=PENDING")
	}
	_, err := run(ctx, "scancel", append(args, jobs...)...)
	if err != nil && strings.Contains(err.Error(), "Invalid job id") {
		return nil // gone already: nothing left to cancel
	}
	return err
}
