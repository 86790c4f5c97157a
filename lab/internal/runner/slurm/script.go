package slurm

import (
	"fmt"
	"strings"
)

// scriptParams is what a batch script needs besides its array's tasks.
type scriptParams struct {
	Lab, Spec, Store, RunDir string
	// CellArgs are more `lab cell run` flags (--timeout, --retries).
	CellArgs []string
	Run      string
	N        int
}

// batchScript writes the batch script of array a. The task→cell mapping
// is a case statement generated from the manifest's tasks, so a task needs
// nothing but bash to find its cell; `lab cell run` then does the work, and
// the script writes the exit record whatever lab's fate (a crash, a kill
// by signal), through a temporary file and a rename. Values that reach
// the JSON from the environment lose any quote or backslash.
func batchScript(p scriptParams, a *Array) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/bash\n")
	fmt.Fprintf(&b, "# schedlab: array %d of Slurm run %s. Task SLURM_ARRAY_TASK_ID runs one cell\n", p.N, p.Run)
	fmt.Fprintf(&b, "# (manifest.json in this folder) and leaves exit/<job>_<task>.json when lab exits.\n")
	fmt.Fprintf(&b, "set -u\n")
	fmt.Fprintf(&b, "case \"${SLURM_ARRAY_TASK_ID:-}\" in\n")
	for _, t := range a.Tasks {
		fmt.Fprintf(&b, "%d) cell=%s ;;\n", t.Task, t.Cell)
	}
	fmt.Fprintf(&b, "*) echo \"schedlab: task '${SLURM_ARRAY_TASK_ID:-}' is not in array %d of run %s\" >&2; exit 2 ;;\n", p.N, p.Run)
	fmt.Fprintf(&b, "esac\n")
	args := []string{shellQuote(p.Lab), "cell", "run", shellQuote(p.Spec), "--cell", `"$cell"`, "--store", shellQuote(p.Store), "--executor", "slurm"}
	for _, a := range p.CellArgs {
		args = append(args, shellQuote(a))
	}
	fmt.Fprintf(&b, "%s\n", strings.Join(args, " "))
	fmt.Fprintf(&b, "rc=$?\n")
	fmt.Fprintf(&b, "f=%s/\"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}.json\"\n", shellQuote(p.RunDir+"/exit"))
	fmt.Fprintf(&b, "host=$(hostname); host=${host//[\\\"\\\\]/}\n")
	fmt.Fprintf(&b, "gpus=${CUDA_VISIBLE_DEVICES:-}; gpus=${gpus//[\\\"\\\\]/}\n")
	fmt.Fprintf(&b, "printf '{\"job_id\":\"%%s\",\"task\":%%d,\"cell\":\"%%s\",\"exit_code\":%%d,\"host\":\"%%s\",\"cuda_visible_devices\":\"%%s\",\"end\":\"%%s\"}\\n' \\\n")
	fmt.Fprintf(&b, "  \"$SLURM_ARRAY_JOB_ID\" \"$SLURM_ARRAY_TASK_ID\" \"$cell\" \"$rc\" \"$host\" \"$gpus\" \"$(date -u +%%Y-%%m-%%dT%%H:%%M:%%SZ)\" >\"$f.tmp\" && mv -f \"$f.tmp\" \"$f\"\n")
	fmt.Fprintf(&b, "exit $rc\n")
	return b.String()
}

// shellQuote quotes s for bash: inside single quotes, each quote becomes quote, backslash, quote, quote.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
