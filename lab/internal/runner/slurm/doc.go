// Package slurm is the Slurm executor of lab/internal/runner: it runs the cells of a
// plan that the store does not hold as one Slurm job array, so that a sweep
// outgrows one machine without schedlab growing a scheduler of its own.
//
// Every array task runs exactly the local per-cell path: the batch script
// maps SLURM_ARRAY_TASK_ID to a cell hash and calls `lab cell run SPEC
// --cell HASH --store STORE` (runner.RunCell: the cell's lock, the atomic
// commit, the engine's logs in the cell). The store must therefore be on a
// filesystem every node sees, and so must the spec and the lab binary.
//
// A run keeps its bookkeeping in the store, under slurm/<run-id>/:
//
//	manifest.json         the arrays submitted (job id, round) and, per task, its cell
//	array-<n>.sh          the batch script of array n (the manifest's mapping as a case)
//	exit/<job>_<task>.json  the task's exit record, written by the script when lab exits
//	out/<job>_<task>.out  Slurm's own output of the task (lab's progress line, errors)
//
// Exit records make a task's end known after Slurm has forgotten the job
// (MinJobAge); the store records make the cell's. The controller (lab run
// without --detach) polls squeue — never `sbatch --wait`, whose answer can
// lag by half a minute — resubmits failed cells as a new array up to
// --retries times, commits a failed record for a task that vanished without
// an exit record (killed at its time limit, node failure), and scancels its
// arrays when its context ends (Ctrl-C), which leaves the store resumable:
// a cancelled task aborts its transaction and the next run submits only the
// cells still missing.
package slurm
