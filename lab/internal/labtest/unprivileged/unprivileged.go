// Package unprivileged lets a test check behaviour that depends on file
// permissions even when the tests run as root (as CI's do), for whom
// permissions do not apply: the test re-runs itself as an unprivileged user.
package unprivileged

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

const envMarker = "LABTEST_UNPRIVILEGED"

// nobody is the uid and gid the test re-runs as.
const nobody = 65534

// Run makes the calling test run as a non-root user. Called first in the
// test: as a non-root user it returns at once and the test goes on; as
// root it re-executes the test binary for this one test as uid/gid 65534
// (in a copy of the binary anyone can execute, from /), reports its
// output and result as this test's, and returns false: the caller then
// returns. Temporary folders must come after the call (t.TempDir), so the
// child creates its own.
//
//	if !unprivileged.Run(t) { return }
func Run(t *testing.T) bool {
	t.Helper()
	if os.Getuid() != 0 {
		return true
	}
	if os.Getenv(envMarker) != "" {
		t.Fatal("unprivileged: still root after re-executing as an unprivileged user")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "labtest-unprivileged-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "test.bin")
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), envMarker+"=1", "HOME=/tmp", "TMPDIR=/tmp", "GOCOVERDIR=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	t.Logf("as uid %d:\n%s", nobody, out)
	if err != nil {
		t.Fatalf("the test failed as uid %d: %v", nobody, err)
	}
	return false
}
