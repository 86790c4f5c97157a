package gpu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/schedlab/schedlab/lab/engine"
	"github.com/schedlab/schedlab/lab/sched"
	"github.com/schedlab/schedlab/lab/spec"
)

// DefaultPython is the interpreter used when neither the spec's python
// field nor $LAB_PYTHON names one: Debian's, where python3-torch installs.
const DefaultPython = "/usr/bin/python3"

// Version is the engine's version, part of its identity: bump it when a
// change of the Go side changes results.
const Version = "gpu/1"

// DefaultBlockSize is the KV block size in tokens.
const DefaultBlockSize = sched.DefaultBlockSize

// DefaultGPUMemoryUtilization sizes the KV cache when kv_blocks is 0.
const DefaultGPUMemoryUtilization = 0.9

// maxModelLen is each shape's context length (its Hugging Face config's
// max_position_embeddings; tiny: ours).
var maxModelLen = map[string]int{"llama-3-8b": 8192, "llama-2-7b": 4096, "tiny": 4096}

// RequestsFunc builds a cell's requests from the workload and the cell's
// seed.
type RequestsFunc func(w spec.WorkloadConfig, seed int64) ([]sched.Request, error)

// Option adjusts New.
type Option func(*Engine)

// WithRequests replaces the workload builder (tests use hand-made
// workloads).
func WithRequests(f RequestsFunc) Option { return func(e *Engine) { e.requests = f } }

// WithScriptDir writes the worker script into dir instead of the user's
// cache folder.
func WithScriptDir(dir string) Option { return func(e *Engine) { e.scriptDir = dir } }

// Engine is the gpu engine. It is safe for concurrent Run calls (each
// starts its own worker), though one GPU runs one cell at a time well.
type Engine struct {
	cfg       spec.GPUConfig // defaults resolved
	python    string
	scriptDir string
	script    string
	dev       DeviceInfo
	requests  RequestsFunc
}

// New resolves cfg's defaults, writes the worker script, and probes the
// device with the configured interpreter (a short worker start: torch
// import, no model), because the device and library versions are part of
// the engine's identity. A model other than tiny on an auto device without
// CUDA is refused rather than silently run on the CPU.
func New(ctx context.Context, cfg *spec.GPUConfig, opts ...Option) (*Engine, error) {
	e, err := prepare(cfg, opts)
	if err != nil {
		return nil, err
	}
	w, err := StartWorker(ctx, WorkerOptions{Python: e.python, Script: e.script})
	if err != nil {
		return nil, err
	}
	defer w.Close()
	dev, err := w.Probe(e.cfg.Device, e.cfg.DType)
	if err != nil {
		return nil, fmt.Errorf("gpu engine: probing the device with %s: %w", e.python, err)
	}
	if err := w.Shutdown(); err != nil {
		return nil, err
	}
	return e.withDevice(dev)
}

// prepare resolves the configuration's defaults and writes the script.
func prepare(cfg *spec.GPUConfig, opts []Option) (*Engine, error) {
	e := &Engine{cfg: *cfg, requests: defaultRequests}
	for _, o := range opts {
		o(e)
	}
	c := &e.cfg
	if _, ok := maxModelLen[c.Model]; !ok {
		return nil, fmt.Errorf("gpu engine: unknown model shape %q; expected one of: %v", c.Model, spec.GPUModels)
	}
	if c.Device == "" {
		c.Device = "auto"
	}
	if c.BlockSize == 0 {
		c.BlockSize = DefaultBlockSize
	}
	if c.MaxModelLen == 0 {
		c.MaxModelLen = maxModelLen[c.Model]
	}
	if c.KVBlocks == 0 && c.Scheduler.GPUMemoryUtilization == 0 {
		c.Scheduler.GPUMemoryUtilization = DefaultGPUMemoryUtilization
	}
	if c.Checkpoint != "" {
		abs, err := filepath.Abs(c.Checkpoint)
		if err != nil {
			return nil, fmt.Errorf("gpu engine: checkpoint: %w", err)
		}
		c.Checkpoint = abs
	}
	e.python = c.Python
	if e.python == "" {
		e.python = os.Getenv("LAB_PYTHON")
	}
	if e.python == "" {
		e.python = DefaultPython
	}
	if e.scriptDir == "" {
		e.scriptDir = scriptDir()
	}
	var err error
	if e.script, err = WriteScript(e.scriptDir); err != nil {
		return nil, err
	}
	return e, nil
}

// withDevice completes e with what the probe found.
func (e *Engine) withDevice(dev DeviceInfo) (*Engine, error) {
	c := &e.cfg
	if c.Device == "auto" && dev.Device != "cuda" && c.Model != "tiny" {
		return nil, fmt.Errorf("gpu engine: model %s needs a CUDA GPU and %s's torch %s sees none (torch.cuda.is_available() is false); use model: tiny, or device: cpu to run it on the CPU anyway", c.Model, e.python, dev.Torch)
	}
	e.dev = dev
	return e, nil
}

// Kind is "gpu".
func (e *Engine) Kind() string { return "gpu" }

// Device is what the probe found.
func (e *Engine) Device() DeviceInfo { return e.dev }

// identity is what determines a cell's result besides the cell itself.
// The interpreter's path and the script's location do not; the device,
// the library versions and the worker's digest do.
type identity struct {
	Engine       string               `json:"engine"`
	Model        string               `json:"model"`
	Device       string               `json:"device"`
	DeviceName   string               `json:"device_name"`
	DType        string               `json:"dtype"`
	Torch        string               `json:"torch"`
	CUDA         string               `json:"cuda"`
	Checkpoint   string               `json:"checkpoint,omitempty"`
	KVBlocks     int                  `json:"kv_blocks"`
	BlockSize    int                  `json:"block_size"`
	MaxModelLen  int                  `json:"max_model_len"`
	Scheduler    spec.SchedulerConfig `json:"scheduler"`
	Workload     spec.WorkloadConfig  `json:"workload"`
	WorkerDigest string               `json:"worker_sha256"`
}

// Identity implements engine.Engine.
func (e *Engine) Identity() any {
	c := e.cfg
	return identity{
		Engine: Version, Model: c.Model, Device: e.dev.Device, DeviceName: e.dev.DeviceName,
		DType: e.dev.DType, Torch: e.dev.Torch, CUDA: e.dev.CUDA, Checkpoint: c.Checkpoint,
		KVBlocks: c.KVBlocks, BlockSize: c.BlockSize, MaxModelLen: c.MaxModelLen,
		Scheduler: c.Scheduler, Workload: c.Workload, WorkerDigest: ScriptDigest(),
	}
}

// Summary is written to dir/gpu.json after a run.
type Summary struct {
	Worker       InitReply `json:"worker"`
	Requests     int       `json:"requests"`
	Ignored      int       `json:"ignored"`
	Preemptions  int       `json:"preemptions"`
	Iterations   int       `json:"iterations"`
	ClockSeconds float64   `json:"clock_seconds"`
	ForwardMS    float64   `json:"forward_ms"`
	SchedMS      float64   `json:"sched_ms"`
	WorkerDigest string    `json:"worker_sha256"`
	// Scheduler is the configuration lab/sched ran with (KV capacity
	// from the worker, swept parameters applied).
	Scheduler sched.Config `json:"scheduler"`
}

// Run implements engine.Engine: one cell, one worker process.
func (e *Engine) Run(ctx context.Context, cell spec.Cell, dir string, stdout, stderr io.Writer) error {
	sc, util, err := schedConfig(e.cfg, cell.Point)
	if err != nil {
		return err
	}
	reqs, err := e.requests(e.cfg.Workload, cell.Seed)
	if err != nil {
		return fmt.Errorf("gpu engine: workload: %w", err)
	}
	var env []string
	if v := engine.RunEnvFrom(ctx).CUDAVisibleDevices; v != "" {
		env = append(env, "CUDA_VISIBLE_DEVICES="+v)
	}
	w, err := StartWorker(ctx, WorkerOptions{Python: e.python, Script: e.script, Env: env, Log: stderr})
	if err != nil {
		return err
	}
	defer w.Close()
	init, err := w.Init(InitRequest{
		Model: e.cfg.Model, Device: e.cfg.Device, DType: e.cfg.DType, Seed: cell.Seed,
		KVBlocks: e.cfg.KVBlocks, BlockSize: e.cfg.BlockSize, GPUMemUtil: util, Checkpoint: e.cfg.Checkpoint,
	})
	if err != nil {
		return err
	}
	if init.Device != e.dev.Device || init.DeviceName != e.dev.DeviceName {
		return fmt.Errorf("gpu engine: the worker runs on %s (%s), the engine's identity says %s (%s): the machine changed since the engine was built", init.Device, init.DeviceName, e.dev.Device, e.dev.DeviceName)
	}
	sc.NumBlocks = init.KVBlocks
	fmt.Fprintf(stdout, "gpu engine: %s on %s (%s, torch %s), %d KV blocks of %d tokens, %d requests\n",
		e.cfg.Model, init.DeviceName, init.DType, init.Torch, init.KVBlocks, init.BlockSize, len(reqs))
	x := NewExecutor(w)
	tr, err := sched.Simulate(sc, reqs, x, sched.WithContext(ctx))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("gpu engine: %w", err)
	}
	if err := w.Shutdown(); err != nil {
		return err
	}
	if err := sched.WriteMetrics(dir, tr); err != nil {
		return fmt.Errorf("gpu engine: %w", err)
	}
	if err := WriteSteps(filepath.Join(dir, "gpu_steps.csv"), x.Steps); err != nil {
		return fmt.Errorf("gpu engine: %w", err)
	}
	s := Summary{Worker: init, Requests: len(reqs), Ignored: tr.Ignored, Preemptions: tr.Preemptions,
		Iterations: len(tr.Iterations), ClockSeconds: tr.End, WorkerDigest: ScriptDigest(), Scheduler: sc}
	for _, st := range x.Steps {
		s.ForwardMS += st.ForwardMS
		s.SchedMS += st.SchedMS
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "gpu.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("gpu engine: %w", err)
	}
	fmt.Fprintf(stdout, "gpu engine: %d iterations, %d preemptions, %d ignored, clock %.3fs (forward %.3fs, scheduler %.3fs)\n",
		len(tr.Iterations), tr.Preemptions, tr.Ignored, tr.End, s.ForwardMS/1e3, s.SchedMS/1e3)
	return nil
}

// schedConfig is the scheduler configuration of one cell: the engine's,
// with the cell's swept parameters applied by name. It also returns the
// gpu_memory_utilization to size the KV cache with.
func schedConfig(c spec.GPUConfig, p spec.Point) (sched.Config, float64, error) {
	s := c.Scheduler
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := p[k]
		asInt := func(dst *int) error {
			if v != math.Trunc(v) || math.Abs(v) > 1<<31 {
				return fmt.Errorf("gpu engine: swept %s = %v, expected an integer", k, v)
			}
			*dst = int(v)
			return nil
		}
		var err error
		switch k {
		case "chunk_size":
			err = asInt(&s.ChunkSize)
		case "max_num_seqs":
			err = asInt(&s.MaxNumSeqs)
		case "min_chunk_threshold":
			err = asInt(&s.MinChunkThreshold)
		case "time_weight":
			s.TimeWeight = v
		case "prompt_weight":
			s.PromptWeight = v
		case "gpu_memory_utilization":
			s.GPUMemoryUtilization = v
		default:
			err = fmt.Errorf("gpu engine: cannot sweep %q: the gpu engine does not read it", k)
		}
		if err != nil {
			return sched.Config{}, 0, err
		}
	}
	sc := sched.Config{
		ChunkSize: s.ChunkSize, MaxNumSeqs: s.MaxNumSeqs, MinChunkThreshold: s.MinChunkThreshold,
		BlockSize: c.BlockSize, NumBlocks: 1, MaxModelLen: c.MaxModelLen,
		Policy: s.Policy, TimeWeight: s.TimeWeight, PromptWeight: s.PromptWeight, OrderWaiting: s.OrderWaiting,
	}
	if err := sc.Validate(); err != nil {
		return sched.Config{}, 0, fmt.Errorf("gpu engine: scheduler: %w", err)
	}
	return sc, s.GPUMemoryUtilization, nil
}

var defaultRequests RequestsFunc = func(spec.WorkloadConfig, int64) ([]sched.Request, error) {
	return nil, errors.New("lab/workload is not wired yet")
}
