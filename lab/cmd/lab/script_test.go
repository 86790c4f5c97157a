package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/schedlab/schedlab/lab/internal/golden"
)

// The CLI's contract (exit statuses, what each command prints, what it does
// to the store) is written as scripts under testdata/script, one txtar file
// per topic, run against the real binary: `lab` in a script is this test
// binary running main, `fakeengine` is lab/cmd/fakeengine. With -update,
// a failing `cmp stdout FILE` rewrites FILE in the script.
func TestMain(m *testing.M) {
	signalTestMain()
	testscript.Main(m, map[string]func(){"lab": main})
}

func TestScripts(t *testing.T) {
	repo, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	fake := buildFakeEngine(t)
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       *golden.Update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", filepath.Dir(fake)+string(os.PathListSeparator)+env.Getenv("PATH"))
			env.Setenv("LAB_STORE", "")
			env.Setenv("REPO", repo)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits": cmdExits,
		},
	})
}

// cmdExits runs `exits CODE PROGRAM ARGS...`: PROGRAM must exit with status
// CODE (stdout and stderr can be checked after it, as after exec).
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: %q is not a status", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var xe *exec.ExitError
		if !errors.As(err, &xe) {
			ts.Fatalf("exits: %v", err)
		}
		got = xe.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// buildFakeEngine builds lab/cmd/fakeengine for this test.
func buildFakeEngine(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fakeengine")
	out, err := exec.Command("go", "build", "-o", path, "github.com/schedlab/schedlab/lab/cmd/fakeengine").CombinedOutput()
	if err != nil {
		t.Fatalf("building the fake engine: %v\n%s", err, out)
	}
	return path
}
