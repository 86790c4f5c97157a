package gpu

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// WorkerOptions say how to start the worker process.
type WorkerOptions struct {
	// Python is the interpreter (with torch importable).
	Python string
	// Script is the worker script's path (WriteScript); "" writes the
	// embedded one into the cache folder.
	Script string
	// Env is added to the inherited environment (e.g. CUDA_VISIBLE_DEVICES).
	Env []string
	// Log receives the worker's stderr as it comes (nil: discarded). The
	// last lines are also kept for error messages.
	Log io.Writer
}

// Worker is a running worker process. Its methods are not safe for
// concurrent use: one request is in flight at a time.
type Worker struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	tail   *tailBuffer
	ctx    context.Context
	done   bool // exited (or killed) and waited for
	err    error
}

// StartWorker starts the worker. Cancelling ctx kills it (its whole process
// group) and makes any request in flight return ctx's error.
func StartWorker(ctx context.Context, opt WorkerOptions) (*Worker, error) {
	if opt.Python == "" {
		return nil, errors.New("gpu worker: no python interpreter given")
	}
	script := opt.Script
	if script == "" {
		var err error
		if script, err = WriteScript(scriptDir()); err != nil {
			return nil, err
		}
	}
	cmd := exec.CommandContext(ctx, opt.Python, "-B", script)
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1")
	cmd.Env = append(cmd.Env, opt.Env...)
	// Own process group, so cancellation also kills whatever the
	// interpreter started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	tail := &tailBuffer{max: 4096}
	var logw io.Writer = tail
	if opt.Log != nil {
		logw = io.MultiWriter(opt.Log, tail)
	}
	cmd.Stderr = logw
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("gpu worker: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("gpu worker: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("gpu worker: starting %s: %w", opt.Python, err)
	}
	return &Worker{cmd: cmd, stdin: stdin, stdout: bufio.NewReaderSize(stdout, 1<<16), tail: tail, ctx: ctx}, nil
}

// Pid is the worker's process id.
func (w *Worker) Pid() int { return w.cmd.Process.Pid }

// call sends one request and decodes the answer into out.
func (w *Worker) call(op string, req, out any) error {
	if w.done {
		return fmt.Errorf("gpu worker: %s after the worker exited: %w", op, w.err)
	}
	line, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("gpu worker: encoding %s: %w", op, err)
	}
	line = append(line, '\n')
	if _, err := w.stdin.Write(line); err != nil {
		return w.exited(op, err)
	}
	ans, err := w.stdout.ReadBytes('\n')
	if err != nil {
		return w.exited(op, err)
	}
	if err := decodeReply(ans, out); err != nil {
		var rep *ReportedError
		if errors.As(err, &rep) {
			w.wait()
			return fmt.Errorf("gpu worker: %s: %w", op, err)
		}
		w.kill()
		return fmt.Errorf("gpu worker: %s: %w", op, err)
	}
	return nil
}

// exited explains why a request got no answer: cancellation, or the
// worker's exit status with the end of its log.
func (w *Worker) exited(op string, ioErr error) error {
	w.wait()
	if err := w.ctx.Err(); err != nil {
		return fmt.Errorf("gpu worker: %s: %w", op, err)
	}
	msg := fmt.Sprintf("gpu worker: exited before answering %s", op)
	if w.err != nil {
		msg += " (" + w.err.Error() + ")"
	} else if ioErr != nil && !errors.Is(ioErr, io.EOF) {
		msg += " (" + ioErr.Error() + ")"
	}
	if t := strings.TrimSpace(w.tail.String()); t != "" {
		msg += "; its last output:\n" + t
	}
	return errors.New(msg)
}

// wait reaps the process once.
func (w *Worker) wait() {
	if w.done {
		return
	}
	w.done = true
	w.stdin.Close()
	w.err = w.cmd.Wait()
}

func (w *Worker) kill() {
	if !w.done && w.cmd.Process != nil {
		syscall.Kill(-w.cmd.Process.Pid, syscall.SIGKILL)
	}
	w.wait()
}

// Probe asks which device the worker would use and the library versions,
// without loading a model.
func (w *Worker) Probe(device, dtype string) (DeviceInfo, error) {
	var info DeviceInfo
	err := w.call("probe", map[string]string{"op": "probe", "device": device, "dtype": dtype}, &info)
	if err == nil && info.Protocol != ProtocolVersion {
		err = fmt.Errorf("gpu worker: protocol %d, expected %d (stale worker script?)", info.Protocol, ProtocolVersion)
	}
	return info, err
}

// Init loads the model and allocates the KV cache.
func (w *Worker) Init(req InitRequest) (InitReply, error) {
	req.Op = "init"
	var r InitReply
	err := w.call("init", req, &r)
	if err == nil && r.Protocol != ProtocolVersion {
		err = fmt.Errorf("gpu worker: protocol %d, expected %d (stale worker script?)", r.Protocol, ProtocolVersion)
	}
	return r, err
}

// Step runs one forward pass.
func (w *Worker) Step(req *StepRequest) (StepReply, error) {
	req.Op = "step"
	var r StepReply
	err := w.call("step", req, &r)
	return r, err
}

// Shutdown asks the worker to exit and waits for it.
func (w *Worker) Shutdown() error {
	if w.done {
		return nil
	}
	err := w.call("shutdown", map[string]string{"op": "shutdown"}, nil)
	w.wait()
	if err != nil {
		return err
	}
	if w.err != nil {
		return fmt.Errorf("gpu worker: after shutdown: %w", w.err)
	}
	return nil
}

// Close kills the worker if it still runs. Safe after Shutdown.
func (w *Worker) Close() { w.kill() }

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		cut := len(t.buf) - t.max
		if i := bytes.IndexByte(t.buf[cut:], '\n'); i >= 0 && i < len(t.buf)-cut-1 {
			cut += i + 1
		}
		t.buf = append(t.buf[:0], t.buf[cut:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
