package labtest

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// BuildCommands builds the lab command and the fake engine into dir, for
// tests that run them as users and clusters do (end to end, Slurm tasks);
// race builds lab with the race detector. The module root is asked of the
// go command, so the caller's folder does not matter.
func BuildCommands(dir string, race bool) (labBin, fakeBin string, err error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	labBin, fakeBin = filepath.Join(dir, "lab"), filepath.Join(dir, "fakeengine")
	for _, b := range []struct{ bin, pkg string }{{labBin, "./lab/cmd/lab"}, {fakeBin, "./lab/cmd/fakeengine"}} {
		args := []string{"build", "-o", b.bin}
		if race && b.bin == labBin {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, b.pkg)...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", "", fmt.Errorf("building %s: %v: %s", b.pkg, err, out)
		}
	}
	return labBin, fakeBin, nil
}

// Records returns every record a store holds, by hash: st.List, then
// st.Get of each. Generic in the record type so that the store's own tests
// can use this package.
func Records[R any](t testing.TB, st interface {
	List() ([]string, error)
	Get(hash string) (R, error)
}) map[string]R {
	t.Helper()
	hashes, err := st.List()
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]R{}
	for _, h := range hashes {
		r, err := st.Get(h)
		if err != nil {
			t.Fatal(err)
		}
		m[h] = r
	}
	return m
}
