// Package sim is the embedded simulator engine: the real scheduler
// (lab/internal/sim/sched) on a clock from the performance model fitted to measured GPU
// latencies (lab/internal/sim/perfmodel), serving a workload (lab/internal/sim/workload). It needs no
// GPU and runs a cell of 1,000 requests in milliseconds.
//
// A cell writes the Sarathi layout (replica_0/plots/*.csv, see
// sched.Metrics; with tbt_per_token also the per-token
// decode_token_execution_plus_preemption_time.csv), iterations.csv.gz (the
// per-iteration log) and sim.json (counts). Repeats differ as real runs do — output lengths, arrivals and
// the iteration-time noise are drawn from the cell's seed, which depends on
// the repeat and not on the sweep point — see lab/internal/sim/workload and Noise.
package sim

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/schedlab/schedlab/lab/internal/engine"
	"github.com/schedlab/schedlab/lab/internal/sim/perfmodel"
	"github.com/schedlab/schedlab/lab/internal/sim/sched"
	"github.com/schedlab/schedlab/lab/internal/sim/simcfg"
	"github.com/schedlab/schedlab/lab/internal/sim/workload"
	"github.com/schedlab/schedlab/lab/spec"
)

// Version is the simulator's behaviour version: bump it when a change to
// the engine (not the profile data or model, which Digest covers) changes
// results, so cached cells are not reused.
const Version = "sim-2"

// DefaultNoise is the default noise scale: the measured spread.
const DefaultNoise = 1.0

// Resolved is the full configuration with every default filled in: the
// engine's Identity, so a changed default changes cell addresses.
type Resolved struct {
	Model       string  `json:"model"`
	GPU         string  `json:"gpu"`
	Mode        string  `json:"mode"`
	BlockSize   int     `json:"block_size"`
	KVBlocks    int     `json:"kv_blocks"` // 0: sized from gpu_memory_utilization per point
	MaxModelLen int     `json:"max_model_len"`
	Noise       float64 `json:"noise"`
	// TBTPerToken: the cell also writes the per-token time-between-tokens
	// file (sched.PlotOptions). In the identity because it changes what a
	// cell holds; omitempty keeps the addresses of cells without it.
	TBTPerToken bool `json:"tbt_per_token,omitempty"`
	simcfg.Scheduling
	simcfg.Load
}

// Identity is what determines a cell's result besides its parameters,
// repeat and seed.
type Identity struct {
	Kind          string   `json:"kind"`
	Version       string   `json:"version"`
	PerfModel     string   `json:"perfmodel"`
	ProfileDigest string   `json:"profile_sha256"`
	Config        Resolved `json:"config"`
}

// Engine runs cells on the simulator.
type Engine struct {
	res      Resolved
	specSeed int64
	model    *perfmodel.Model
	info     perfmodel.ModelInfo
	src      *workload.Source
	id       Identity
	// traces holds the traces of finished cells, whose storage the next
	// cells' simulations reuse (sched.WithReuse): a run of many cells then
	// allocates and zeroes its ~35 MB per 10,000 requests once per worker.
	traces sync.Pool
}

// Kind registers the simulator: its spec block is a spec.SimConfig, and
// the model, GPU and mode must name a measured profile.
var Kind = engine.Kind{
	Name:   "sim",
	Config: func() spec.EngineConfig { return new(spec.SimConfig) },
	Check:  checkProfile,
	New:    func(s *spec.Spec) (engine.Engine, error) { return New(s) },
}

// checkProfile reports a model, GPU and mode the simulator has no
// measurements for, at the model field.
func checkProfile(cfg spec.EngineConfig, _ spec.Sweep) []spec.FieldError {
	c := cfg.(*spec.SimConfig)
	if c.Model == "" || c.GPU == "" {
		return nil // Validate reports the missing field
	}
	mode := c.Mode
	if mode == "" {
		mode = "graph"
	}
	if _, err := perfmodel.Measurements(perfmodel.Name{GPU: c.GPU, Model: c.Model, Mode: mode}); err != nil {
		return []spec.FieldError{{Field: "model", Msg: err.Error()}}
	}
	return nil
}

// New builds the engine for a spec: resolves defaults, fits the profile,
// loads the workload (a CSV path relative to the spec file's folder) and
// checks that every sweep point gives a valid scheduler configuration.
func New(s *spec.Spec) (*Engine, error) {
	c, ok := s.Engine.Config.(*spec.SimConfig)
	if !ok {
		return nil, fmt.Errorf("not a sim spec")
	}
	r := Resolved{
		Model: c.Model, GPU: c.GPU, Mode: c.Mode, BlockSize: simcfg.BlockSize(c.BlockSize), KVBlocks: c.KVBlocks,
		MaxModelLen: c.MaxModelLen, Noise: DefaultNoise, TBTPerToken: c.TBTPerToken, Scheduling: simcfg.ResolveScheduling(c.Scheduler),
	}
	if r.Mode == "" {
		r.Mode = "graph"
	}
	if c.Noise != nil {
		r.Noise = *c.Noise
	}
	info, err := perfmodel.LookupModel(r.Model)
	if err != nil {
		return nil, spec.FieldError{Field: "model", Msg: err.Error()}
	}
	if r.MaxModelLen == 0 {
		r.MaxModelLen = info.MaxModelLen
	}
	model, err := perfmodel.Fit(perfmodel.Name{GPU: r.GPU, Model: r.Model, Mode: r.Mode})
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	if err := checkNoise(r.Noise, model); err != nil {
		return nil, err
	}
	digest, err := perfmodel.Digest()
	if err != nil {
		return nil, err
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
	e := &Engine{res: r, specSeed: s.Seed, model: model, info: info, src: src}
	e.id = Identity{Kind: "sim", Version: Version, PerfModel: perfmodel.ModelVersion, ProfileDigest: digest, Config: r}
	for _, p := range s.Sweep {
		if !slices.Contains(simcfg.Sweepable, p.Name) {
			return nil, spec.FieldError{Field: "$.sweep." + p.Name, Msg: fmt.Sprintf("the simulator cannot sweep %q; sweepable: %s", p.Name, strings.Join(simcfg.Sweepable, ", "))}
		}
	}
	for _, pt := range s.Points() {
		if _, err := e.Config(pt); err != nil {
			return nil, fmt.Errorf("sweep point %s: %w", pt.Key(s.ParamNames()), err)
		}
		if _, err := simcfg.LoadAt(src, pt); err != nil {
			return nil, fmt.Errorf("sweep point %s: %w", pt.Key(s.ParamNames()), err)
		}
	}
	return e, nil
}

// checkNoise rejects a noise scale that could draw a factor ≤ 0 (z is
// clamped at ±3σ): such iterations would take no time, or be clamped to 0.
func checkNoise(scale float64, m *perfmodel.Model) error {
	worst, group := 0.0, ""
	for _, g := range perfmodel.Groups {
		if s := m.Noise.Sigma[g]; s > worst {
			worst, group = s, g
		}
	}
	if limit := 1 / (3 * worst); worst > 0 && scale >= limit {
		return spec.FieldError{Field: "noise", Msg: fmt.Sprintf("%g, expected < %.3g: the %s iterations of %s have σ %.2f%%, and %g × 3σ would draw times ≤ 0",
			scale, limit, group, m.Name, 100*worst, scale)}
	}
	return nil
}

// Kind is "sim".
func (e *Engine) Kind() string { return "sim" }

// Identity is the resolved configuration, the simulator and model versions
// and the profile data's digest.
func (e *Engine) Identity() any { return e.id }

// DefaultJobs is how many cells a run has going at once when -j is not
// given: one per core. A cell is in-process, CPU-bound work on its own
// data, and its files do not depend on what else runs.
func (e *Engine) DefaultJobs() int { return runtime.GOMAXPROCS(0) }

// Model is the fitted performance model the engine runs on.
func (e *Engine) Model() *perfmodel.Model { return e.model }

// Config is the scheduler configuration of one sweep point: the resolved
// configuration with the point's values. Integer fields must get whole
// numbers.
func (e *Engine) Config(pt spec.Point) (sched.Config, error) {
	r := e.res
	cfg, util, err := r.Scheduling.SchedConfig(pt)
	if err != nil {
		return cfg, err
	}
	cfg.BlockSize, cfg.MaxModelLen = r.BlockSize, r.MaxModelLen
	cfg.NumBlocks = r.KVBlocks
	if cfg.NumBlocks == 0 {
		b, err := perfmodel.KVBlocks(r.GPU, e.info, util, r.BlockSize)
		if err != nil {
			return cfg, err
		}
		cfg.NumBlocks = b
	}
	return cfg, cfg.Validate()
}

// IterationsFile is the simulator's per-iteration log (gzip'd CSV, about
// 0.7 MB for 25,000 iterations; sched.ReadIterations reads it).
const IterationsFile = "iterations.csv.gz"

// Summary is sim.json: what one simulated run did.
type Summary struct {
	Requests          int     `json:"requests"`
	IgnoredLongPrompt int     `json:"ignored_long_prompts"`
	Preemptions       int     `json:"preemptions"`
	Iterations        int     `json:"iterations"`
	SimulatedSeconds  float64 `json:"simulated_seconds"`
	PrefillTokens     int     `json:"prefill_tokens"`
	DecodeTokens      int     `json:"decode_tokens"`
	KVBlocks          int     `json:"kv_blocks"`
	Seed              int64   `json:"seed"`
	// How often the threshold, the budget and the time budget acted (see
	// sched.Counters), and the running-prefill skips over all reasons.
	sched.Counters
	RunningPrefillSkips int `json:"running_prefill_skips"`
}

// Run simulates one cell into req.Dir.
func (e *Engine) Run(ctx context.Context, req engine.Request) error {
	cell, dir, stdout := req.Cell, req.Dir, req.Stdout
	cfg, err := e.Config(cell.Point)
	if err != nil {
		return err
	}
	src, err := simcfg.LoadAt(e.src, cell.Point)
	if err != nil {
		return err
	}
	old, _ := e.traces.Get().(*sched.Trace)
	tr, err := e.simulate(ctx, cfg, src, cell.Seed, sched.WithReuse(old))
	if err != nil {
		return err
	}
	// Nothing reads tr once Run returns (the log's writer has finished by
	// then): the next cell may build its trace in it.
	defer e.traces.Put(tr)
	if tr.Ignored == len(tr.Requests) {
		// Metric files without rows would only fail later, in selection.
		return fmt.Errorf("all %d requests ignored: every prompt exceeds max_model_len %d or the KV cache (%d blocks of %d tokens)", len(tr.Requests), cfg.MaxModelLen, cfg.NumBlocks, cfg.BlockSize)
	}
	// The metric files and the iteration log are independent: written at
	// once, the log (the larger) on its own goroutine.
	logErr := make(chan error, 1)
	go func() { logErr <- sched.WriteIterations(filepath.Join(dir, IterationsFile), tr.Iterations) }()
	plotErr := sched.WritePlots(dir, tr, sched.PlotOptions{TBTPerToken: e.res.TBTPerToken, Source: "sim"})
	if err := cmp.Or(plotErr, <-logErr); err != nil {
		return err
	}
	sum := Summarize(tr, cfg, cell.Seed)
	data, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "sim.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sim %s/%s/%s: %d requests (%d ignored), %d iterations, %d preemptions, %.3f simulated seconds\n",
		e.res.GPU, e.res.Model, e.res.Mode, sum.Requests, sum.IgnoredLongPrompt, sum.Iterations, sum.Preemptions, sum.SimulatedSeconds)
	return nil
}

// Simulate draws the spec's workload (without swept workload values) from
// seed and runs the scheduler on the performance model with seeded noise.
func (e *Engine) Simulate(ctx context.Context, cfg sched.Config, seed int64) (*sched.Trace, error) {
	return e.simulate(ctx, cfg, e.src, seed)
}

func (e *Engine) simulate(ctx context.Context, cfg sched.Config, src *workload.Source, seed int64, more ...sched.Option) (*sched.Trace, error) {
	reqs, err := src.Requests(e.specSeed, seed)
	if err != nil {
		return nil, err
	}
	ex := NewExecutor(e.model, e.res.Noise, seed)
	opts := append([]sched.Option{sched.WithContext(ctx)}, more...)
	if cfg.Chunking == sched.TimeBudget {
		opts = append(opts, sched.WithPredictor(NewPredictor(e.model)))
	}
	return sched.Simulate(cfg, reqs, ex, opts...)
}

// Summarize counts what a trace did.
func Summarize(tr *sched.Trace, cfg sched.Config, seed int64) Summary {
	s := Summary{Requests: len(tr.Requests), IgnoredLongPrompt: tr.Ignored, Preemptions: tr.Preemptions,
		Iterations: len(tr.Iterations), SimulatedSeconds: tr.End, KVBlocks: cfg.NumBlocks, Seed: seed,
		Counters: tr.Counters, RunningPrefillSkips: tr.Counters.RunningPrefillSkips()}
	for _, it := range tr.Iterations {
		s.PrefillTokens += it.PrefillTokens
		s.DecodeTokens += it.Decodes
	}
	return s
}

// Executor times batches with the performance model, times a noise factor
// 1 + noise·σ_group·z (z standard normal, clamped at ±3, σ from the
// profile's measured spread; see perfmodel.Noise) drawn from its own seeded
// stream.
type Executor struct {
	model *perfmodel.Model
	noise float64
	rng   *rand.Rand
	shape perfmodel.Shape
}

// NewExecutor returns an executor on model with noise scale noise (0: none).
func NewExecutor(model *perfmodel.Model, noise float64, seed int64) *Executor {
	return &Executor{model: model, noise: noise, rng: rand.New(rand.NewPCG(uint64(seed), 0x4015e))}
}

// Execute predicts the batch's time in seconds.
func (x *Executor) Execute(b *sched.Batch) (float64, error) {
	s := &x.shape
	toShape(s, b)
	ms := x.model.PredictMS(s)
	if x.noise > 0 {
		z := x.rng.NormFloat64()
		ms *= 1 + x.noise*(x.model.Noise.Factor(s, z)-1)
	}
	return math.Max(ms, 0) / 1000, nil
}

// toShape fills s with b's chunks and decodes.
func toShape(s *perfmodel.Shape, b *sched.Batch) {
	s.Prefills = s.Prefills[:0]
	for _, c := range b.Prefills {
		s.Prefills = append(s.Prefills, perfmodel.Prefill{Q: c.NewTokens, C: c.Cached})
	}
	s.Decodes = len(b.Decodes)
	s.DecodeKV = 0
	for _, d := range b.Decodes {
		s.DecodeKV += d.Cached
	}
}

// Predictor is time-budget chunking's latency predictor in the simulator:
// the performance model that times the iterations, without their noise. Its
// error against the executed time is exactly the noise (± a few percent,
// see perfmodel.Noise), the part a predictor fitted to the same GPU cannot
// know in advance.
type Predictor struct {
	model *perfmodel.Model
	shape perfmodel.Shape
}

// NewPredictor returns a predictor on model.
func NewPredictor(model *perfmodel.Model) *Predictor { return &Predictor{model: model} }

// Predict is the model's time for b, in seconds.
func (p *Predictor) Predict(b *sched.Batch) float64 {
	toShape(&p.shape, b)
	return math.Max(p.model.PredictMS(&p.shape), 0) / 1000
}

// ReadSummary reads a simulated cell's sim.json.
func ReadSummary(dir string) (Summary, error) {
	var s Summary
	data, err := os.ReadFile(filepath.Join(dir, "sim.json"))
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("%s: %w", filepath.Join(dir, "sim.json"), err)
	}
	return s, nil
}

// CellCounters are the scheduler counters of one cell of the sim or gpu
// engine, as their sim.json and gpu.json record them.
type CellCounters struct {
	sched.Counters
	Preemptions int `json:"preemptions"`
}

// ReadCounters reads the scheduler counters of the cell in dir from its
// sim.json, or gpu.json for the gpu engine; ok is false when the cell has
// neither (another engine).
func ReadCounters(dir string) (c CellCounters, ok bool, err error) {
	for _, name := range []string{"sim.json", "gpu.json"} {
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return c, false, err
		}
		if err := json.Unmarshal(data, &c); err != nil {
			return c, false, fmt.Errorf("%s: %w", path, err)
		}
		return c, true, nil
	}
	return c, false, nil
}
