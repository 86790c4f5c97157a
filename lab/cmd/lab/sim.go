package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/internal/engine"
	"github.com/schedlab/schedlab/lab/internal/engine/sim"
	"github.com/schedlab/schedlab/lab/internal/sim/perfmodel"
	labmetrics "github.com/schedlab/schedlab/lab/metrics"
	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

func init() {
	register(&command{
		name:     "sim",
		finishes: true,
		usage:    "predict | run | fit | replay   the embedded simulator: one iteration's time, one configuration, the model's fit, the fork's schedules replayed",
		run:      runSim,
	})
}

func runSim(ctx context.Context, env *cmdEnv, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(env.stderr, `usage:
  lab sim predict --profile h200/llama-3-8b/graph [--prefill Q:C]... [--decode BxK] [--json]
      predicted GPU time of one iteration, in ms
  lab sim run SPEC [--set name=value]... [--repeat N] [--out DIR] [--json]
      simulate one configuration of a sim spec outside the store (the
      baseline point unless --set overrides it) and print its summary
  lab sim fit [--markdown]
      the performance model's error on the measured points, per profile and group
  lab sim replay FILE... [--json]
      run the scheduler on fork-oracle scenarios (testdata/fork-oracle) and
      compare every batch with the fork's; exit 0 only when all are identical`)
		if len(args) == 0 {
			return &exitCodeError{code: 2}
		}
		return nil
	}
	switch args[0] {
	case "predict":
		return simPredict(env, args[1:])
	case "run":
		return simRun(ctx, env, args[1:])
	case "fit":
		return simFit(env, args[1:])
	case "replay":
		return simReplay(env, args[1:])
	}
	return &exitCodeError{code: 2, err: fmt.Errorf("unknown subcommand %q: expected predict, run, fit or replay", args[0])}
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func simPredict(env *cmdEnv, args []string) error {
	fs := newFlags(env, "sim predict", "--profile GPU/MODEL/MODE [--prefill Q:C]... [--decode BxK] [--json]")
	profile := fs.String("profile", "h200/llama-3-8b/graph", "measured profile gpu/model/mode")
	var prefills listFlag
	fs.Var(&prefills, "prefill", "a prefill chunk Q:C, Q new tokens over C cached (repeatable)")
	decode := fs.String("decode", "", "BxK: B decode tokens, each over K cached tokens")
	asJSON := fs.Bool("json", false, `print {"ms": f}`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	name, err := perfmodel.ParseName(*profile)
	if err != nil {
		return err
	}
	var shape perfmodel.Shape
	for _, p := range prefills {
		q, c, ok := strings.Cut(p, ":")
		qi, err1 := strconv.Atoi(q)
		ci, err2 := strconv.Atoi(c)
		if !ok || err1 != nil || err2 != nil || qi < 1 || ci < 0 {
			return fmt.Errorf("--prefill %q: expected Q:C with Q ≥ 1 new tokens and C ≥ 0 cached, e.g. 256:1024", p)
		}
		shape.Prefills = append(shape.Prefills, perfmodel.Prefill{Q: qi, C: ci})
	}
	if *decode != "" {
		b, k, ok := strings.Cut(*decode, "x")
		bi, err1 := strconv.Atoi(b)
		ki, err2 := strconv.Atoi(k)
		if !ok || err1 != nil || err2 != nil || bi < 1 || ki < 0 {
			return fmt.Errorf("--decode %q: expected BxK with B ≥ 1 decodes over K ≥ 0 cached tokens each, e.g. 32x1024", *decode)
		}
		shape.Decodes, shape.DecodeKV = bi, bi*ki
	}
	if shape.Tokens() == 0 {
		return errors.New("nothing to predict: give --prefill Q:C and/or --decode BxK")
	}
	m, err := perfmodel.Fit(name)
	if err != nil {
		return err
	}
	ms := m.PredictMS(&shape)
	if *asJSON {
		return json.NewEncoder(env.stdout).Encode(map[string]float64{"ms": ms})
	}
	fmt.Fprintf(env.stdout, "%.3f ms\n", ms)
	return nil
}

func simRun(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "sim run", "SPEC [--set name=value]... [--repeat N] [--out DIR] [--json]")
	var sets listFlag
	fs.Var(&sets, "set", "override a sweepable parameter, e.g. min_chunk_threshold=8 (repeatable)")
	repeat := fs.Int("repeat", 0, "repeat index (selects the cell seed, as in the experiment)")
	out := fs.String("out", "", "write the run's files here (default: a temporary folder, removed)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if err := parseFlags(fs, reorderFlags(args)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("expected one SPEC file")
	}
	s, err := spec.ParseFile(fs.Arg(0))
	if err != nil {
		return err
	}
	if s.Engine.Kind() != "sim" {
		return fmt.Errorf("%s: not a sim spec (engine %q)", fs.Arg(0), s.Engine.Kind())
	}
	e, err := sim.New(s)
	if err != nil {
		return err
	}
	pt := spec.Point{}
	for k, v := range s.Baseline {
		pt[k] = v
	}
	for _, kv := range sets {
		k, v, ok := strings.Cut(kv, "=")
		f, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			return fmt.Errorf("--set %q: expected name=number", kv)
		}
		pt[k] = f
	}
	if *repeat < 0 {
		return fmt.Errorf("--repeat %d: expected ≥ 0", *repeat)
	}
	dir := *out
	if dir == "" {
		tmp, err := os.MkdirTemp("", "lab-sim-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	cell := spec.Cell{Point: pt, Repeat: *repeat, Seed: spec.CellSeed(s.Seed, *repeat)}
	if err := e.Run(ctx, engine.Request{Cell: cell, Dir: dir, Stdout: io.Discard, Stderr: env.stderr}); err != nil {
		return err
	}
	var sum sim.Summary
	data, err := os.ReadFile(filepath.Join(dir, "sim.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &sum); err != nil {
		return err
	}
	summary, err := analysis.Summarize(filepath.Join(dir, sarathi.PlotsDir))
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(pt))
	for k := range pt {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Point   spec.Point       `json:"point"`
			Repeat  int              `json:"repeat"`
			Sim     sim.Summary      `json:"sim"`
			Metrics analysis.Summary `json:"metrics"`
		}{pt, *repeat, sum, summary})
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "point\t%s\n", pt.Key(keys))
	fmt.Fprintf(tw, "repeat\t%d (seed %d)\n", *repeat, cell.Seed)
	fmt.Fprintf(tw, "requests\t%d (%d ignored: longer than max_model_len or the KV cache)\n", sum.Requests, sum.IgnoredLongPrompt)
	fmt.Fprintf(tw, "iterations\t%d (%d prefill + %d decode tokens)\n", sum.Iterations, sum.PrefillTokens, sum.DecodeTokens)
	fmt.Fprintf(tw, "preemptions\t%d (KV cache %d blocks)\n", sum.Preemptions, sum.KVBlocks)
	fmt.Fprintf(tw, "threshold\t%d admissions blocked, %d running prefills skipped\n", sum.ThresholdBlockedAdmissions, sum.SkipsThreshold)
	if sum.PredictorBlockedAdmissions+sum.SkipsPredictor+sum.ForcedSingleToken > 0 {
		fmt.Fprintf(tw, "time budget\t%d admissions blocked, %d running prefills skipped, %d forced 1-token chunks\n", sum.PredictorBlockedAdmissions, sum.SkipsPredictor, sum.ForcedSingleToken)
	}
	fmt.Fprintf(tw, "simulated\t%.3f s\n", sum.SimulatedSeconds)
	for i, v := range summary.Values() {
		m := labmetrics.All[i]
		fmt.Fprintf(tw, "%s\t%.6g %s\n", m.Label(), v, m.Unit)
	}
	if *out != "" {
		fmt.Fprintf(tw, "files\t%s\n", dir)
	}
	return tw.Flush()
}

// reorderFlags moves a leading positional argument after the flags, so
// "lab sim run SPEC --set x=1" works like "lab sim run --set x=1 SPEC".
func reorderFlags(args []string) []string {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return append(append([]string(nil), args[1:]...), args[0])
	}
	return args
}

func simFit(env *cmdEnv, args []string) error {
	fs := newFlags(env, "sim fit", "[--markdown]")
	md := fs.Bool("markdown", false, "print a Markdown table (README)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	names, err := perfmodel.Profiles()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	if *md {
		fmt.Fprintln(env.stdout, "| profile | group | points | mean abs % error | max abs % error | worst point | noise σ % |")
		fmt.Fprintln(env.stdout, "| --- | --- | ---: | ---: | ---: | --- | ---: |")
	} else {
		fmt.Fprintln(tw, "profile\tgroup\tpoints\tmean %\tmax %\tworst point\tnoise σ %")
	}
	for _, n := range names {
		m, err := perfmodel.Fit(n)
		if err != nil {
			return err
		}
		es, err := m.Errors()
		if err != nil {
			return err
		}
		for _, e := range es {
			if *md {
				fmt.Fprintf(env.stdout, "| %s | %s | %d | %.2f | %.2f | %s | %.2f |\n", n, e.Group, e.Points, e.MeanPct, e.MaxPct, e.WorstAt, e.SigmaPct)
			} else {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%.2f\t%s\t%.2f\n", n, e.Group, e.Points, e.MeanPct, e.MaxPct, e.WorstAt, e.SigmaPct)
			}
		}
	}
	if !*md {
		return tw.Flush()
	}
	return nil
}
