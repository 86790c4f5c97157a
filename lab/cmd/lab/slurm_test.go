package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSlurmFlagErrors: the Slurm flags are checked before anything is
// submitted, with exit status 2 and a message naming the flag.
func TestSlurmFlagErrors(t *testing.T) {
	dir := t.TempDir()
	specPath := filepath.Join(dir, "exp.yaml")
	body := "name: flags\nengine:\n  exec:\n    command: [\"true\", \"{{.x}}\", \"{{.OutputDir}}\"]\nsweep:\n  x: [1, 2]\nrepeats: 1\nseed: 1\n"
	if err := os.WriteFile(specPath, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	st := filepath.Join(dir, "store")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--detach"}, "--detach only apply to --executor slurm"},
		{[]string{"--gres", "gpu:1", "--max-parallel", "2"}, "--gres, --max-parallel only apply to --executor slurm"},
		{[]string{"--executor", "pbs"}, `--executor "pbs": expected local or slurm`},
		{[]string{"--executor", "slurm", "-j", "2"}, "-j and --gpus are for local runs"},
		{[]string{"--executor", "slurm", "--max-parallel", "-1"}, "--max-parallel must be ≥ 0"},
		{[]string{"--executor", "slurm", "--poll", "0s"}, "--poll must be > 0"},
	} {
		var out, errb bytes.Buffer
		args := append([]string{"run", specPath, "--store", st, "--no-report"}, tc.args...)
		code := runMain(context.Background(), &cmdEnv{stdout: &out, stderr: &errb}, args)
		if code != 2 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("lab %s: exit %d, stderr %q; want 2 and %q", strings.Join(tc.args, " "), code, errb.String(), tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(st, "slurm")); !os.IsNotExist(err) {
		t.Errorf("a refused run left %s/slurm (%v)", st, err)
	}
}
