package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/internal/engine"
	"github.com/schedlab/schedlab/lab/internal/engine/gpu"
	"github.com/schedlab/schedlab/lab/internal/engine/sim"
	"github.com/schedlab/schedlab/lab/internal/sim/perfmodel"
	"github.com/schedlab/schedlab/lab/metrics"
	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

type options struct {
	spec, out        string
	simGPU, simModel string
	allowCPU         bool
	// repeats, when > 0, replaces the spec's repeats (both engines).
	repeats int
	// gpuOpts are passed to gpu.New (tests).
	gpuOpts []gpu.Option
}

// reported are the five metrics in the order gpucheck's tables and JSON
// list them: the two P95s first (the order of its recorded results).
var reported = func() []metrics.Metric {
	var out []metrics.Metric
	for _, k := range []string{"request", "prefill", "request_exec_norm", "prefill_exec_norm", "decode"} {
		for _, m := range metrics.All {
			if m.Key == k {
				out = append(out, m)
			}
		}
	}
	return out
}()

// metricNames name the reported metrics ("request_execution_time p95").
var metricNames = func() []string {
	out := make([]string, len(reported))
	for i, m := range reported {
		out[i] = m.Name()
	}
	return out
}()

// values returns s's numbers in the order of reported.
func values(s analysis.Summary) []float64 {
	all := s.Values()
	out := make([]float64, len(reported))
	for i, m := range reported {
		out[i] = all[m.Index()]
	}
	return out
}

// PointResult is one sweep point: each metric's mean over the repeats on
// each engine and their ratio.
type PointResult struct {
	Point string    `json:"point"`
	Sim   []float64 `json:"sim"`
	GPU   []float64 `json:"gpu"`
	Ratio []float64 `json:"sim_over_gpu"`
}

// Comparison is the GPU against one simulator profile.
type Comparison struct {
	SimProfile string        `json:"sim_profile"`
	Points     []PointResult `json:"points"`
	// MeanRatio is each metric's ratio averaged over the points.
	MeanRatio []float64 `json:"mean_sim_over_gpu"`
	// Iterations compares, batch by batch, the profile's predicted time
	// with the time the GPU measured for the very batches the gpu cells
	// ran: the performance model's error apart from scheduling.
	Iterations []IterGroup `json:"iterations"`
}

// IterGroup is the per-batch comparison for one kind of batch.
type IterGroup struct {
	Kind string `json:"kind"` // decode | prefill | mixed | all
	N    int    `json:"n"`
	// MeasuredMS and PredictedMS are sums over the batches.
	MeasuredMS  float64 `json:"measured_ms"`
	PredictedMS float64 `json:"predicted_ms"`
	// MeanAbsPctErr is the mean of |predicted − measured| / measured.
	MeanAbsPctErr float64 `json:"mean_abs_pct_err"`
}

// compareIterations predicts every measured step with model.
func compareIterations(model *perfmodel.Model, steps []gpu.StepRecord) []IterGroup {
	kinds := []string{"decode", "prefill", "mixed", "all"}
	groups := make([]IterGroup, len(kinds))
	for i, k := range kinds {
		groups[i].Kind = k
	}
	var shape perfmodel.Shape
	for _, st := range steps {
		if st.ForwardMS <= 0 {
			continue
		}
		shape.Prefills = shape.Prefills[:0]
		for _, p := range st.Prefills {
			shape.Prefills = append(shape.Prefills, perfmodel.Prefill{Q: p[0], C: p[1]})
		}
		shape.Decodes, shape.DecodeKV = st.Decodes, st.DecodeKV
		pred := model.PredictMS(&shape)
		k := 2
		switch {
		case len(st.Prefills) == 0:
			k = 0
		case st.Decodes == 0:
			k = 1
		}
		for _, g := range []*IterGroup{&groups[k], &groups[3]} {
			g.N++
			g.MeasuredMS += st.ForwardMS
			g.PredictedMS += pred
			g.MeanAbsPctErr += math.Abs(pred-st.ForwardMS) / st.ForwardMS
		}
	}
	for i := range groups {
		if groups[i].N > 0 {
			groups[i].MeanAbsPctErr = 100 * groups[i].MeanAbsPctErr / float64(groups[i].N)
		}
	}
	return groups
}

// Result is gpu-check.json.
type Result struct {
	Spec     string `json:"spec"`
	Date     string `json:"date"`
	Device   string `json:"device"`
	Torch    string `json:"torch"`
	CUDA     string `json:"cuda"`
	KVBlocks int    `json:"kv_blocks"`
	// Attention is the worker's attention kind (gpu.json's
	// worker.attention): which SDPA options passed its init check.
	Attention string   `json:"attention"`
	Metrics   []string `json:"metrics"`
	// Comparisons: the simulator's CUDA-graph profile (how it is normally
	// used) and, where measured, its eager profile (how the worker runs:
	// plain PyTorch launches, no CUDA graph).
	Comparisons []Comparison `json:"comparisons"`
	// GPUSeconds is the wall time of the gpu cells.
	GPUSeconds float64 `json:"gpu_wall_seconds"`
}

func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	s, err := spec.ParseFile(o.spec)
	if err != nil {
		return err
	}
	g, ok := s.Engine.Config.(*spec.GPUConfig)
	if !ok {
		return fmt.Errorf("%s: engine is %q, expected gpu", o.spec, s.Engine.Kind())
	}
	if o.repeats < 0 {
		return fmt.Errorf("-repeats %d: expected ≥ 1 (0: the spec's)", o.repeats)
	}
	if o.repeats > 0 {
		s.Repeats = o.repeats
	}
	ge, err := gpu.New(s, append([]gpu.Option{gpu.WithContext(ctx)}, o.gpuOpts...)...)
	if err != nil {
		return fmt.Errorf("%w\n(gpu-check needs a CUDA GPU and a python whose torch sees it: set LAB_PYTHON, or python: in the spec)", err)
	}
	dev := ge.Device()
	if dev.Device != "cuda" && !o.allowCPU {
		return fmt.Errorf("the worker runs on %s, not a CUDA GPU: gpu-check compares the simulator with a GPU", dev.DeviceName)
	}
	simGPU := o.simGPU
	if simGPU == "" {
		name := strings.ToUpper(dev.DeviceName)
		switch {
		case strings.Contains(name, "H200"):
			simGPU = "h200"
		case strings.Contains(name, "H100"):
			simGPU = "h100"
		default:
			return fmt.Errorf("no measured simulator profile for %q (there are h200 and h100): pass -sim-gpu", dev.DeviceName)
		}
	}
	model := g.Model
	if o.simModel != "" {
		model = o.simModel
	}
	fmt.Fprintf(stdout, "gpu-check: %s on %s (torch %s, CUDA %s); simulator profile %s/%s/graph\n",
		s.Name, dev.DeviceName, dev.Torch, dev.CUDA, simGPU, model)

	cells := s.Cells()
	res := Result{Spec: o.spec, Date: time.Now().UTC().Format("2006-01-02"), Device: dev.DeviceName, Torch: dev.Torch,
		CUDA: dev.CUDA, Metrics: metricNames}
	gpuSum := make([]analysis.Summary, len(cells))
	var steps []gpu.StepRecord
	start := time.Now()
	for i, c := range cells {
		dir := filepath.Join(o.out, "gpu", cellName(s, c))
		if err := runCell(ctx, ge, c, dir); err != nil {
			return fmt.Errorf("gpu cell %s: %w", cellName(s, c), err)
		}
		if gpuSum[i], err = analysis.Summarize(filepath.Join(dir, sarathi.PlotsDir)); err != nil {
			return err
		}
		var gs gpu.Summary
		if err := readJSON(filepath.Join(dir, "gpu.json"), &gs); err != nil {
			return err
		}
		st, err := gpu.ReadSteps(filepath.Join(dir, "gpu_steps.csv"))
		if err != nil {
			return err
		}
		steps = append(steps, st...)
		res.KVBlocks, res.Attention = gs.Scheduler.NumBlocks, gs.Worker.Attention
		fmt.Fprintf(stdout, "  gpu %-28s %5d iterations, %4d preemptions, clock %8.3fs (wall so far %.0fs)\n",
			cellName(s, c), gs.Iterations, gs.Preemptions, gs.ClockSeconds, time.Since(start).Seconds())
	}
	res.GPUSeconds = time.Since(start).Seconds()

	// Per point, in sweep order: the cells of its repeats.
	names := s.ParamNames()
	var order []string
	byPoint := map[string][]int{}
	for i, c := range cells {
		k := c.Point.Key(names)
		if _, ok := byPoint[k]; !ok {
			order = append(order, k)
		}
		byPoint[k] = append(byPoint[k], i)
	}

	// The same spec on the simulator, with the KV capacity the worker had.
	for _, mode := range []string{"graph", "eager"} {
		ss := *s
		ss.Engine = spec.Engine{Config: &spec.SimConfig{Model: model, GPU: simGPU, Mode: mode, KVBlocks: res.KVBlocks,
			BlockSize: ge.Config().BlockSize, MaxModelLen: ge.Config().MaxModelLen, Scheduler: g.Scheduler, Workload: g.Workload}}
		profile := simGPU + "/" + model + "/" + mode
		se, err := sim.New(&ss)
		if err != nil {
			if mode == "graph" {
				return fmt.Errorf("the same spec on the simulator: %w", err)
			}
			fmt.Fprintf(stdout, "  no comparison with %s: %v\n", profile, err)
			continue
		}
		simSum := make([]analysis.Summary, len(cells))
		for i, c := range cells {
			dir := filepath.Join(o.out, "sim-"+mode, cellName(s, c))
			if err := runCell(ctx, se, c, dir); err != nil {
				return fmt.Errorf("sim cell %s: %w", cellName(s, c), err)
			}
			if simSum[i], err = analysis.Summarize(filepath.Join(dir, sarathi.PlotsDir)); err != nil {
				return err
			}
		}
		cmp := Comparison{SimProfile: profile, MeanRatio: make([]float64, len(metricNames))}
		pm, err := perfmodel.Fit(perfmodel.Name{GPU: simGPU, Model: model, Mode: mode})
		if err != nil {
			return err
		}
		cmp.Iterations = compareIterations(pm, steps)
		for _, k := range order {
			pr := PointResult{Point: k, Sim: make([]float64, len(metricNames)), GPU: make([]float64, len(metricNames)), Ratio: make([]float64, len(metricNames))}
			for m := range metricNames {
				for _, i := range byPoint[k] {
					pr.Sim[m] += values(simSum[i])[m] / float64(len(byPoint[k]))
					pr.GPU[m] += values(gpuSum[i])[m] / float64(len(byPoint[k]))
				}
				pr.Ratio[m] = pr.Sim[m] / pr.GPU[m]
				cmp.MeanRatio[m] += pr.Ratio[m] / float64(len(order))
			}
			cmp.Points = append(cmp.Points, pr)
		}
		res.Comparisons = append(res.Comparisons, cmp)
	}
	table := Markdown(&res)
	fmt.Fprint(stdout, table)
	if err := os.WriteFile(filepath.Join(o.out, "gpu-check.md"), []byte(table), 0o644); err != nil {
		return err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(o.out, "gpu-check.json"), append(b, '\n'), 0o644)
}

// Markdown is the result as the tables README carries.
func Markdown(r *Result) string {
	var b strings.Builder
	for _, c := range r.Comparisons {
		fmt.Fprintf(&b, "\nsim/GPU per metric: %s, %s (torch %s, attention %s) vs simulator %s, KV cache %d blocks, %s\n\n",
			r.Spec, r.Device, r.Torch, r.Attention, c.SimProfile, r.KVBlocks, r.Date)
		b.WriteString("| metric |")
		for _, p := range c.Points {
			fmt.Fprintf(&b, " %s |", p.Point)
		}
		b.WriteString(" mean |\n|---|")
		for range c.Points {
			b.WriteString("---|")
		}
		b.WriteString("---|\n")
		for m, name := range r.Metrics {
			fmt.Fprintf(&b, "| %s |", name)
			for _, p := range c.Points {
				fmt.Fprintf(&b, " %s (%s / %s) |", ratio(p.Ratio[m]), num(p.Sim[m]), num(p.GPU[m]))
			}
			fmt.Fprintf(&b, " %s |\n", ratio(c.MeanRatio[m]))
		}
		b.WriteString("\nThe same batches, predicted by the profile vs measured on the GPU:\n\n")
		b.WriteString("| batches | n | measured ms | predicted ms | sim/GPU | mean abs error |\n|---|---|---|---|---|---|\n")
		for _, g := range c.Iterations {
			if g.N == 0 {
				continue
			}
			fmt.Fprintf(&b, "| %s | %d | %.1f | %.1f | %s | %.1f%% |\n", g.Kind, g.N, g.MeasuredMS, g.PredictedMS, ratio(g.PredictedMS/g.MeasuredMS), g.MeanAbsPctErr)
		}
	}
	b.WriteString("\nEach cell: sim/GPU (sim value / GPU value; seconds, or seconds per token for the normalized metrics), means over repeats.\n")
	return b.String()
}

func ratio(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.3f", x)
}

func num(x float64) string { return fmt.Sprintf("%.4g", x) }

func cellName(s *spec.Spec, c spec.Cell) string {
	return strings.NewReplacer("=", "-", " ", "_").Replace(c.Point.Key(s.ParamNames())) + fmt.Sprintf("_r%d", c.Repeat)
}

func runCell(ctx context.Context, e engine.Engine, c spec.Cell, dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(dir, "stderr.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	outf, err := os.Create(filepath.Join(dir, "stdout.log"))
	if err != nil {
		return err
	}
	defer outf.Close()
	return e.Run(ctx, engine.Request{Cell: c, Dir: dir, Stdout: outf, Stderr: logf})
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
