package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/schedlab/schedlab/lab/internal/runner"
	"github.com/schedlab/schedlab/lab/internal/runner/slurm"
)

// slurmFlags are `lab run`'s flags for the Slurm executor.
type slurmFlags struct {
	executor    string
	partition   string
	gres        string
	time        string
	maxParallel int
	sbatchArgs  stringList
	detach      bool
	poll        time.Duration
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, " ") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

func (f *slurmFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.executor, "executor", "local", "where cells run: local (this machine) or slurm (one job array; the store must be on a shared filesystem)")
	fs.StringVar(&f.partition, "partition", "", "slurm: sbatch --partition")
	fs.StringVar(&f.gres, "gres", "", "slurm: sbatch --gres per task, e.g. gpu:1 (Slurm sets CUDA_VISIBLE_DEVICES; the cell records it)")
	fs.StringVar(&f.time, "time", "", "slurm: sbatch --time limit per task, e.g. 2:00:00")
	fs.IntVar(&f.maxParallel, "max-parallel", 0, "slurm: at most N tasks of the array at once (--array=…%N); 0: no cap")
	fs.Var(&f.sbatchArgs, "sbatch-arg", "slurm: one more sbatch option, e.g. --sbatch-arg=--account=lab (repeatable)")
	fs.BoolVar(&f.detach, "detach", false, "slurm: submit and return; lab status SPEC follows the run (failed cells retry inside their task)")
	fs.DurationVar(&f.poll, "poll", 2*time.Second, "slurm: how often squeue is asked")
}

// build checks the flags against the executor chosen and returns the
// Slurm executor (nil for local runs).
func (f *slurmFlags) build(rf runFlags) (*slurm.Executor, error) {
	switch f.executor {
	case "local":
		var set []string
		if f.partition != "" {
			set = append(set, "--partition")
		}
		if f.gres != "" {
			set = append(set, "--gres")
		}
		if f.time != "" {
			set = append(set, "--time")
		}
		if f.maxParallel != 0 {
			set = append(set, "--max-parallel")
		}
		if len(f.sbatchArgs) > 0 {
			set = append(set, "--sbatch-arg")
		}
		if f.detach {
			set = append(set, "--detach")
		}
		if len(set) > 0 {
			return nil, fmt.Errorf("%s only apply to --executor slurm", strings.Join(set, ", "))
		}
		return nil, nil
	case "slurm":
	default:
		return nil, fmt.Errorf("--executor %q: expected local or slurm", f.executor)
	}
	if rf.jobs != 0 || rf.gpus != "" {
		return nil, fmt.Errorf("-j and --gpus are for local runs; with --executor slurm use --max-parallel and --gres")
	}
	if f.maxParallel < 0 {
		return nil, fmt.Errorf("--max-parallel must be ≥ 0, got %d", f.maxParallel)
	}
	if f.poll <= 0 {
		return nil, fmt.Errorf("--poll must be > 0, got %v", f.poll)
	}
	return &slurm.Executor{Config: slurm.Config{
		Partition: f.partition, Gres: f.gres, Time: f.time, MaxParallel: f.maxParallel,
		SbatchArgs: f.sbatchArgs, Detach: f.detach, Poll: f.poll,
	}}, nil
}

// reportDetached ends `lab run --executor slurm --detach`: what was
// submitted, and how to follow it. No report: there are no results yet.
func reportDetached(env *cmdEnv, opts *runner.Options, specPath string, sx *slurm.Executor, res *runner.Result, err error) error {
	if err != nil {
		return &exitCodeError{code: 1, err: err}
	}
	todo := res.NotRun + res.Interrupted
	if todo == 0 {
		fmt.Fprintf(env.stdout, "%s: %d cells, all in the store %s: nothing to submit\n", opts.Spec.Name, res.Total, opts.Store.Root())
		return nil
	}
	fmt.Fprintf(env.stdout, "%s: %d cells: %d cached, %d submitted as Slurm array job %s; run folder %s\n",
		opts.Spec.Name, res.Total, res.Cached, todo, strings.Join(sx.JobIDs(), ","), sx.RunDir())
	fmt.Fprintf(env.stdout, "follow it with: lab status %s --store %s\n", specPath, opts.Store.Root())
	return nil
}
