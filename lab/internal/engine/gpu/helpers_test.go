package gpu

import (
	"os"
	"os/exec"
	"sync"
	"testing"
)

var (
	pythonOnce sync.Once
	pythonPath string
	pythonErr  string
)

// testPython returns an interpreter that imports torch: $LAB_PYTHON, else
// /usr/bin/python3 (Debian's python3-torch, which .ci/setup installs). In CI
// (CI set) a missing torch fails the test instead of skipping it, so that
// these tests can never pass vacuously there.
func testPython(t testing.TB) string {
	t.Helper()
	pythonOnce.Do(func() {
		p := os.Getenv("LAB_PYTHON")
		if p == "" {
			p = DefaultPython
		}
		out, err := exec.Command(p, "-c", "import torch").CombinedOutput()
		if err != nil {
			pythonErr = p + " cannot import torch: " + err.Error() + ": " + string(out)
			return
		}
		pythonPath = p
	})
	if pythonPath == "" {
		if os.Getenv("CI") != "" {
			t.Fatal(pythonErr + " (run .ci/setup)")
		}
		t.Skip(pythonErr + " (run .ci/setup)")
	}
	return pythonPath
}

// startTiny starts a worker and initialises the tiny shape on the CPU.
func startTiny(t *testing.T, kvBlocks, blockSize int) *Worker {
	t.Helper()
	w, err := StartWorker(t.Context(), WorkerOptions{Python: testPython(t), Script: testScript(t), Log: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	if _, err := w.Init(InitRequest{Model: "tiny", Device: "cpu", Seed: 7, KVBlocks: kvBlocks, BlockSize: blockSize}); err != nil {
		t.Fatal(err)
	}
	return w
}

var (
	scriptOnce sync.Once
	scriptPath string
	scriptErr  error
)

// testScript writes the embedded worker once per test binary.
func testScript(t testing.TB) string {
	t.Helper()
	scriptOnce.Do(func() {
		dir, err := os.MkdirTemp("", "schedlab-gpu-test-")
		if err != nil {
			scriptErr = err
			return
		}
		scriptPath, scriptErr = WriteScript(dir)
	})
	if scriptErr != nil {
		t.Fatal(scriptErr)
	}
	return scriptPath
}

// testLog sends the worker's stderr to the test log.
type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Logf("%s", p)
	return len(p), nil
}
