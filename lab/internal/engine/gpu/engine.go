package gpu

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/schedlab/schedlab/lab/internal/engine"
	"github.com/schedlab/schedlab/lab/internal/sim/sched"
	"github.com/schedlab/schedlab/lab/internal/sim/simcfg"
	"github.com/schedlab/schedlab/lab/spec"
)

// DefaultPython is the interpreter used when neither the spec's python
// field nor $LAB_PYTHON names one: Debian's, where python3-torch installs.
const DefaultPython = "/usr/bin/python3"

// Version is the engine's version, part of its identity: bump it when a
// change of the Go side changes results.
const Version = "gpu/2"

// maxModelLen is each shape's context length (its Hugging Face config's
// max_position_embeddings; tiny: ours).
var maxModelLen = map[string]int{"llama-3-8b": 8192, "llama-2-7b": 4096, "tiny": 4096}

// Sweepable are the parameters a sweep may set: the simulator's, so that
// one spec runs on both engines.
var Sweepable = simcfg.Sweepable

// Resolved is the configuration with every default filled in. The
// scheduler and workload defaults are the simulator's (lab/internal/engine/sim), so
// the same spec means the same thing on both engines.
type Resolved struct {
	Model       string `json:"model"`
	Device      string `json:"device"` // auto | cuda | cpu, as configured
	DType       string `json:"dtype,omitempty"`
	Checkpoint  string `json:"checkpoint,omitempty"`
	KVBlocks    int    `json:"kv_blocks"` // 0: sized by the worker from gpu_memory_utilization
	BlockSize   int    `json:"block_size"`
	MaxModelLen int    `json:"max_model_len"`
	// TBTPerToken: also write the per-token time-between-tokens file
	// (sched.PlotOptions); omitempty keeps the addresses of cells without it.
	TBTPerToken bool `json:"tbt_per_token,omitempty"`
	// The scheduler and workload resolve exactly as the simulator's, so one
	// spec means the same on both engines.
	simcfg.Scheduling
	simcfg.Load
}

// RequestsFunc builds a cell's requests.
type RequestsFunc func(cell spec.Cell) ([]sched.Request, error)

// Option adjusts New.
type Option func(*Engine)

// WithRequests replaces the workload (tests use hand-made ones).
func WithRequests(f RequestsFunc) Option { return func(e *Engine) { e.requests = f } }

// WithScriptDir writes the worker script into dir instead of the user's
// cache folder.
func WithScriptDir(dir string) Option { return func(e *Engine) { e.scriptDir = dir } }

// WithContext bounds New's device probe by ctx.
func WithContext(ctx context.Context) Option { return func(e *Engine) { e.ctx = ctx } }

// Engine is the gpu engine. Concurrent Run calls each start their own
// worker; the runner's GPU slots keep one cell per GPU.
type Engine struct {
	res       Resolved
	python    string
	scriptDir string
	script    string
	dev       DeviceInfo
	requests  RequestsFunc
	ctx       context.Context
	lockDir   string // where device locks live (default: the temporary folder)
}

// Kind registers the gpu engine: its spec block is a spec.GPUConfig.
var Kind = engine.Kind{
	Name:   "gpu",
	Config: func() spec.EngineConfig { return new(spec.GPUConfig) },
	New:    func(s *spec.Spec) (engine.Engine, error) { return New(s) },
}

// New builds the engine of a spec whose engine is gpu: resolves defaults,
// loads the workload (a CSV path relative to the spec file's folder),
// checks every sweep point, writes the worker script, and probes the
// device with the configured interpreter (a short worker start: torch
// import, no model), because the device and the library versions are part
// of the engine's identity. A model other than tiny on an auto device
// without CUDA is refused rather than silently run on the CPU.
func New(s *spec.Spec, opts ...Option) (*Engine, error) {

	e, err := prepare(s, opts)
	if err != nil {
		return nil, err
	}
	w, err := StartWorker(e.ctx, WorkerOptions{Python: e.python, Script: e.script})
	if err != nil {
		return nil, err
	}
	defer w.Close()
	dev, err := w.Probe(e.res.Device, e.res.DType)
	if err != nil {
		return nil, fmt.Errorf("gpu engine: probing the device with %s: %w", e.python, err)
	}
	if err := w.Shutdown(); err != nil {
		return nil, err
	}
	return e.withDevice(dev)
}

// prepare is New without the probe.
func prepare(s *spec.Spec, opts []Option) (*Engine, error) {
	c, ok := s.Engine.Config.(*spec.GPUConfig)
	if !ok {
		return nil, fmt.Errorf("gpu engine: not a gpu spec")
	}
	e := &Engine{ctx: context.Background(), lockDir: os.TempDir()}
	for _, o := range opts {
		o(e)
	}
	if _, ok := maxModelLen[c.Model]; !ok {
		return nil, spec.FieldError{Field: "model", Msg: fmt.Sprintf("unknown model shape %q; expected one of: %s", c.Model, strings.Join(spec.GPUModels, ", "))}
	}
	r := Resolved{
		Model: c.Model, Device: c.Device, DType: c.DType, Checkpoint: c.Checkpoint,
		KVBlocks: c.KVBlocks, BlockSize: c.BlockSize, MaxModelLen: c.MaxModelLen,
		TBTPerToken: c.TBTPerToken, Scheduling: simcfg.ResolveScheduling(c.Scheduler),
	}
	if r.Device == "" {
		r.Device = "auto"
	}
	if r.BlockSize == 0 {
		r.BlockSize = sched.DefaultBlockSize
	}
	if r.MaxModelLen == 0 {
		r.MaxModelLen = maxModelLen[r.Model]
	}
	if r.Checkpoint != "" && !filepath.IsAbs(r.Checkpoint) && s.Path != "" {
		r.Checkpoint = filepath.Join(filepath.Dir(s.Path), r.Checkpoint)
	}
	baseDir := ""
	if s.Path != "" {
		baseDir = filepath.Dir(s.Path)
	}
	load, src, err := simcfg.OpenLoad(c.Workload, baseDir, s.ParamNames())
	if err != nil {
		return nil, err
	}
	r.Load = load
	e.res = r
	if e.requests == nil {
		specSeed := s.Seed
		e.requests = func(cell spec.Cell) ([]sched.Request, error) {
			at, err := simcfg.LoadAt(src, cell.Point)
			if err != nil {
				return nil, err
			}
			return at.Requests(specSeed, cell.Seed)
		}
	}
	for _, p := range s.Sweep {
		if !slices.Contains(Sweepable, p.Name) {
			return nil, spec.FieldError{Field: "$.sweep." + p.Name, Msg: fmt.Sprintf("the gpu engine cannot sweep %q; sweepable: %s", p.Name, strings.Join(Sweepable, ", "))}
		}
	}
	for _, pt := range s.Points() {
		if _, _, err := e.SchedConfig(pt); err != nil {
			return nil, fmt.Errorf("sweep point %s: %w", pt.Key(s.ParamNames()), err)
		}
		if _, err := simcfg.LoadAt(src, pt); err != nil {
			return nil, fmt.Errorf("sweep point %s: %w", pt.Key(s.ParamNames()), err)
		}
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
	if e.script, err = WriteScript(e.scriptDir); err != nil {
		return nil, err
	}
	return e, nil
}

// withDevice completes e with what the probe found.
func (e *Engine) withDevice(dev DeviceInfo) (*Engine, error) {
	r := &e.res
	if r.Device == "auto" && dev.Device != "cuda" && r.Model != "tiny" {
		return nil, fmt.Errorf("gpu engine: model %s needs a CUDA GPU and %s's torch %s sees none (torch.cuda.is_available() is false); use model: tiny, or device: cpu to run it on the CPU anyway", r.Model, e.python, dev.Torch)
	}
	e.dev = dev
	return e, nil
}

// Kind is "gpu".
func (e *Engine) Kind() string { return "gpu" }

// Device is what the probe found.
func (e *Engine) Device() DeviceInfo { return e.dev }

// Identity is what determines a cell's result besides its parameters,
// repeat and seed. The interpreter's path and the script's location do not
// belong; the device, the library versions and the worker's digest do.
type Identity struct {
	Kind         string   `json:"kind"`
	Version      string   `json:"version"`
	Config       Resolved `json:"config"`
	DeviceName   string   `json:"device_name"`
	Device       string   `json:"device_kind"`
	DType        string   `json:"dtype"`
	Torch        string   `json:"torch"`
	CUDA         string   `json:"cuda"`
	WorkerDigest string   `json:"worker_sha256"`
}

// Identity implements engine.Engine.
func (e *Engine) Identity() any {
	return Identity{Kind: "gpu", Version: Version, Config: e.res, DeviceName: e.dev.DeviceName,
		Device: e.dev.Device, DType: e.dev.DType, Torch: e.dev.Torch, CUDA: e.dev.CUDA, WorkerDigest: ScriptDigest()}
}

// Config is the resolved configuration.
func (e *Engine) Config() Resolved { return e.res }

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
	// Scheduler is the configuration lab/internal/sim/sched ran with (KV capacity
	// from the worker, swept parameters applied).
	Scheduler sched.Config `json:"scheduler"`
	// How often the threshold, the budget and the predictor acted (see
	// sched.Counters; sim.ReadCounters reads them back).
	sched.Counters
}

// Run implements engine.Engine: one cell, one worker process.
func (e *Engine) Run(ctx context.Context, req engine.Request) error {
	cell, dir, stdout, stderr := req.Cell, req.Dir, req.Stdout, req.Stderr
	sc, util, err := e.SchedConfig(cell.Point)
	if err != nil {
		return fmt.Errorf("gpu engine: %w", err)
	}
	reqs, err := e.requests(cell)
	if err != nil {
		return fmt.Errorf("gpu engine: workload: %w", err)
	}
	var env []string
	visible := req.GPU
	if visible != "" {
		env = append(env, "CUDA_VISIBLE_DEVICES="+visible)
	}
	if e.dev.Device == "cuda" {
		key := visible
		if key == "" {
			key = os.Getenv("CUDA_VISIBLE_DEVICES")
		}
		if key == "" {
			key = "default"
		}
		unlock, err := lockDevice(ctx, e.lockDir, key, stderr, req.Queue)
		if err != nil {
			return err
		}
		defer unlock()
	}
	w, err := StartWorker(ctx, WorkerOptions{Python: e.python, Script: e.script, Env: env, Log: stderr})
	if err != nil {
		return err
	}
	defer w.Close()
	ir, err := w.Init(InitRequest{
		Model: e.res.Model, Device: e.res.Device, DType: e.res.DType, Seed: cell.Seed,
		KVBlocks: e.res.KVBlocks, BlockSize: e.res.BlockSize, GPUMemUtil: util, Checkpoint: e.res.Checkpoint,
	})
	if err != nil {
		return err
	}
	if ir.Device != e.dev.Device || ir.DeviceName != e.dev.DeviceName {
		return fmt.Errorf("gpu engine: the worker runs on %s (%s), the engine's identity says %s (%s): the machine changed since the engine was built", ir.Device, ir.DeviceName, e.dev.Device, e.dev.DeviceName)
	}
	sc.NumBlocks = ir.KVBlocks
	fmt.Fprintf(stdout, "gpu engine: %s on %s (%s, torch %s), %d KV blocks of %d tokens, %d requests\n",
		e.res.Model, ir.DeviceName, ir.DType, ir.Torch, ir.KVBlocks, ir.BlockSize, len(reqs))
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
	if err := sched.WriteMetrics(dir, tr, sched.PlotOptions{TBTPerToken: e.res.TBTPerToken, Source: "gpu"}); err != nil {
		return fmt.Errorf("gpu engine: %w", err)
	}
	if err := WriteSteps(filepath.Join(dir, "gpu_steps.csv"), x.Steps); err != nil {
		return fmt.Errorf("gpu engine: %w", err)
	}
	s := Summary{Worker: ir, Requests: len(reqs), Ignored: tr.Ignored, Preemptions: tr.Preemptions,
		Iterations: len(tr.Iterations), ClockSeconds: tr.End, WorkerDigest: ScriptDigest(), Scheduler: sc, Counters: tr.Counters}
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

// SchedConfig is the scheduler configuration of one sweep point: the
// resolved configuration with the point's values (integer fields must get
// whole numbers), and the gpu_memory_utilization that sizes the KV cache.
// NumBlocks is the configured kv_blocks, or 1 until the worker has sized
// the cache.
func (e *Engine) SchedConfig(pt spec.Point) (sched.Config, float64, error) {
	r := e.res
	cfg, util, err := r.Scheduling.SchedConfig(pt)
	if err != nil {
		return cfg, 0, err
	}
	cfg.BlockSize, cfg.NumBlocks, cfg.MaxModelLen = r.BlockSize, max(r.KVBlocks, 1), r.MaxModelLen
	return cfg, util, cfg.Validate()
}
