package perfmodel

import (
	"fmt"
	"math"
	"strings"
)

// ModelVersion names the feature set below; it is part of Digest, so a new
// structure invalidates cached simulator cells.
const ModelVersion = "v2"

// Prefill is one prefill chunk: Q new tokens over C cached tokens.
type Prefill struct{ Q, C int }

// Shape is one iteration's batch as the model sees it.
type Shape struct {
	Prefills []Prefill
	// Decodes is the number of decode tokens; DecodeKV the sum over them of
	// the cached tokens each attends over.
	Decodes, DecodeKV int
}

// Tokens is the number of new tokens.
func (s *Shape) Tokens() int {
	t := s.Decodes
	for _, p := range s.Prefills {
		t += p.Q
	}
	return t
}

// The features, in ms per unit, from the hardware:
//
//	fixed       1: weights streamed once per iteration, launches, norms, LM head
//	tokens      T = Σq + B: the linear layers' cost per new token
//	multi       [T ≥ 2]: the matrix-vector → matrix-matrix kernel switch
//	step64      [T > 64], step128 [T > 128]: tile steps — past 64 and 128
//	            rows the matrix kernels switch to bigger tiles and another
//	            pass over the weights (the 1.3–1.6 ms jump from 64 to 128
//	            tokens in every graph profile)
//	hinge128/256/512  max(0, T − k): the linear layers leave the memory-bound
//	            regime and become compute-bound (the slope grows from about 4
//	            to 25 µs per token on an H200); piecewise-linear in T
//	prefillAttn Σ q·(c + q/2) / 1e6: causal attention of each chunk over its
//	            cache and itself
//	prefillKV   Σ c / 1e3: reading each chunk's cache once
//	decodeAttn  Σ k / 1e3 over the decodes (B·k in the data)
//	chunkCalls  number of prefill chunks: one attention call each
//	decodeCall  [B > 0]: one batched decode attention call
//	decodeSeqs  B: per-sequence decode attention overhead
//
// All coefficients are fitted non-negative, so every term costs time as its
// cause grows, and the fit on relative error (rows weighted 1/y) minimizes
// percentage error. An earlier version with tile counts ⌈T/N⌉ put a 2 ms
// step at 256 tokens that the mixed batches (264 tokens) do not show; the
// hinges replaced it (graph-mode mixed max error 22% → 7%).
var featureNames = []string{"fixed", "tokens", "multi", "step64", "step128", "hinge128", "hinge256", "hinge512", "prefillAttn", "prefillKV", "decodeAttn", "chunkCalls", "decodeCall", "decodeSeqs"}

const nFeatures = 14

func features(s *Shape, f *[nFeatures]float64) {
	T := float64(s.Tokens())
	var attn, kv float64
	for _, p := range s.Prefills {
		q, c := float64(p.Q), float64(p.C)
		attn += q * (c + q/2)
		kv += c
	}
	multi := 0.0
	if T >= 2 {
		multi = 1
	}
	dcall := 0.0
	if s.Decodes > 0 {
		dcall = 1
	}
	*f = [nFeatures]float64{
		1,
		T,
		multi,
		step(T, 64),
		step(T, 128),
		math.Max(0, T-128),
		math.Max(0, T-256),
		math.Max(0, T-512),
		attn / 1e6,
		kv / 1e3,
		float64(s.DecodeKV) / 1e3,
		float64(len(s.Prefills)),
		dcall,
		float64(s.Decodes),
	}
}

// Model predicts one iteration's GPU time for one profile.
type Model struct {
	Name  Name
	Coef  [nFeatures]float64
	Noise Noise
	// Eager mode (when the graph profile of the same GPU and model exists):
	// an iteration takes max(CPU launch time, GPUScale × the graph model's
	// time), the CPU side linear in cpuFeatures. Launches are issued
	// asynchronously, so whichever side is slower sets the pace.
	Eager *EagerPart
}

// EagerPart is the eager-mode structure of a Model.
type EagerPart struct {
	Graph    *Model
	GPUScale float64
	CPU      [nCPUFeatures]float64
}

// cpuFeatureNames: the CPU launch time of an eager forward pass — a fixed
// number of kernels per layer, more per prefill chunk (its own attention
// call), more again when the chunk has a cache to attend over, and the
// decode attention call.
var cpuFeatureNames = []string{"cpuFixed", "cpuChunks", "cpuCachedChunks", "cpuDecodeCall"}

const nCPUFeatures = 4

func cpuFeatures(s *Shape, f *[nCPUFeatures]float64) {
	cached := 0.0
	for _, p := range s.Prefills {
		if p.C > 0 {
			cached++
		}
	}
	dec := 0.0
	if s.Decodes > 0 {
		dec = 1
	}
	*f = [nCPUFeatures]float64{1, float64(len(s.Prefills)), cached, dec}
}

// PredictMS returns the predicted time of one iteration in milliseconds. An
// empty shape takes no time.
func (m *Model) PredictMS(s *Shape) float64 {
	if s.Tokens() == 0 {
		return 0
	}
	if e := m.Eager; e != nil {
		var f [nCPUFeatures]float64
		cpuFeatures(s, &f)
		cpu := 0.0
		for i, c := range e.CPU {
			cpu += c * f[i]
		}
		return math.Max(cpu, e.GPUScale*e.Graph.PredictMS(s))
	}
	var f [nFeatures]float64
	features(s, &f)
	ms := 0.0
	for i, c := range m.Coef {
		ms += c * f[i]
	}
	return ms
}

// Terms returns the fitted coefficients by feature name, for the README and
// `lab sim predict --explain`.
func (m *Model) Terms() []Term {
	if e := m.Eager; e != nil {
		out := []Term{{"gpuScale", e.GPUScale}}
		for i, n := range cpuFeatureNames {
			out = append(out, Term{n, e.CPU[i]})
		}
		return append(out, e.Graph.Terms()...)
	}
	out := make([]Term, nFeatures)
	for i, n := range featureNames {
		out[i] = Term{n, m.Coef[i]}
	}
	return out
}

// Term is one fitted coefficient.
type Term struct {
	Feature string
	Coef    float64
}

// ShapeOf converts a measurement to the model's shape.
func ShapeOf(m *Measurement) Shape {
	s := Shape{Decodes: m.DecodeBatch, DecodeKV: m.DecodeBatch * m.DecodeKV}
	for _, p := range m.Prefill {
		s.Prefills = append(s.Prefills, Prefill{Q: p[0], C: p[1]})
	}
	return s
}

// Fit fits the model of one profile to its embedded measurements (ms_median)
// and sizes its noise from their spread. It takes about a millisecond, so
// models are fitted when loaded rather than generated into code.
func Fit(n Name) (*Model, error) {
	ms, err := Measurements(n)
	if err != nil {
		return nil, err
	}
	coef, err := fitCoef(ms)
	if err != nil {
		return nil, fmt.Errorf("fitting %s: %w", n, err)
	}
	m := &Model{Name: n, Noise: noiseOf(ms), Coef: coef}
	if n.Mode == "eager" {
		if g, err := Fit(Name{n.GPU, n.Model, "graph"}); err == nil {
			m.Eager = fitEager(g, ms)
		}
	}
	return m, nil
}

// fitCoef fits the linear model's coefficients to ms by NNLS on relative
// error (rows weighted 1/ms_median).
func fitCoef(ms []Measurement) ([nFeatures]float64, error) {
	var coef [nFeatures]float64
	rows := len(ms)
	a := make([]float64, rows*nFeatures)
	b := make([]float64, rows)
	var f [nFeatures]float64
	for i := range ms {
		s := ShapeOf(&ms[i])
		if s.Tokens() != ms[i].Tokens {
			return coef, fmt.Errorf("%s:%d: tokens %d, but prefill and decode_batch add up to %d", ms[i].file, ms[i].line, ms[i].Tokens, s.Tokens())
		}
		features(&s, &f)
		w := 1 / ms[i].MsMedian
		for j := range f {
			a[i*nFeatures+j] = f[j] * w
		}
		b[i] = 1
	}
	x, err := nnls(a, rows, nFeatures, b)
	if err != nil {
		return coef, err
	}
	copy(coef[:], x)
	return coef, nil
}

// fitEager fits max(CPU·x, k·graph(x)) by alternating: each point is
// assigned to the side that currently predicts the larger time, the CPU
// coefficients are refitted by NNLS on relative error over the CPU-bound
// points and k (≥ 1) by least squares on relative error over the others,
// until the assignment stops changing (at most 50 rounds).
func fitEager(g *Model, ms []Measurement) *EagerPart {
	e := &EagerPart{Graph: g, GPUScale: 1}
	// Start: the CPU floor at the smallest measured time.
	floor := math.Inf(1)
	for i := range ms {
		floor = math.Min(floor, ms[i].MsMedian)
	}
	e.CPU[0] = floor
	shapes := make([]Shape, len(ms))
	for i := range ms {
		shapes[i] = ShapeOf(&ms[i])
	}
	cpuSide := make([]bool, len(ms))
	var f [nCPUFeatures]float64
	for round := 0; round < 50; round++ {
		changed := false
		var a, b []float64
		var num, den float64
		for i := range ms {
			cpuFeatures(&shapes[i], &f)
			cpu := 0.0
			for j, c := range e.CPU {
				cpu += c * f[j]
			}
			gp := g.PredictMS(&shapes[i])
			side := cpu >= e.GPUScale*gp
			if side != cpuSide[i] || round == 0 {
				changed = true
			}
			cpuSide[i] = side
			y := ms[i].MsMedian
			if side {
				for _, v := range f {
					a = append(a, v/y)
				}
				b = append(b, 1)
			} else {
				x := gp / y
				num += x
				den += x * x
			}
		}
		if !changed {
			break
		}
		if den > 0 {
			e.GPUScale = math.Max(1, num/den)
		}
		if len(b) >= nCPUFeatures {
			if x, err := nnls(a, len(b), nCPUFeatures, b); err == nil {
				copy(e.CPU[:], x)
			}
		}
	}
	return e
}

// GroupError is the fit's absolute percentage error over one group, with
// the group's measured noise for scale.
type GroupError struct {
	Group   string
	Points  int
	MeanPct float64
	MaxPct  float64
	WorstAt string // the worst point's shape
	// SigmaPct is the group's iteration-time noise σ in percent (Noise.Sigma),
	// what the simulator draws from.
	SigmaPct float64
}

// Groups are the measurement groups, in report order.
var Groups = []string{"decode", "prefill", "mixed"}

// Errors evaluates m on its profile's measurements, per group.
func (m *Model) Errors() ([]GroupError, error) {
	ms, err := Measurements(m.Name)
	if err != nil {
		return nil, err
	}
	var out []GroupError
	for _, g := range Groups {
		e := GroupError{Group: g}
		for i := range ms {
			if ms[i].Group != g {
				continue
			}
			s := ShapeOf(&ms[i])
			pct := 100 * math.Abs(m.PredictMS(&s)-ms[i].MsMedian) / ms[i].MsMedian
			e.Points++
			e.MeanPct += pct
			if pct > e.MaxPct {
				e.MaxPct = pct
				e.WorstAt = describe(&ms[i])
			}
		}
		if e.Points == 0 {
			continue
		}
		e.MeanPct /= float64(e.Points)
		e.SigmaPct = 100 * m.Noise.Sigma[g]
		out = append(out, e)
	}
	return out, nil
}

// describe names a measurement's shape as `lab sim predict` takes it.
func describe(m *Measurement) string {
	var parts []string
	for _, p := range m.Prefill {
		parts = append(parts, fmt.Sprintf("prefill %d:%d", p[0], p[1]))
	}
	if m.DecodeBatch > 0 {
		parts = append(parts, fmt.Sprintf("decode %dx%d", m.DecodeBatch, m.DecodeKV))
	}
	return strings.Join(parts, " ")
}

func step(t, k float64) float64 {
	if t > k {
		return 1
	}
	return 0
}
