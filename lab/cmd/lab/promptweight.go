package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/experiment"
	"github.com/schedlab/schedlab/lab/internal/store"
	"github.com/schedlab/schedlab/lab/legacy"
)

func init() {
	register(&command{
		name:  "prompt-weight",
		usage: "SPEC | --root DIR --threshold T   AGING prompt_weight from measured seconds per prefill token",
		run:   runPromptWeight,
	})
}

// promptWeightJSON is `lab prompt-weight --json`.
type promptWeightJSON struct {
	Param string             `json:"param"`
	Point analysis.PointJSON `json:"point"`
	*analysis.PromptWeightResult
}

func runPromptWeight(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "prompt-weight", "SPEC [--store DIR] [--at V] [--json] | --root DIR --threshold T [--json]")
	root := fs.String("root", "", "legacy threshold_output folder")
	threshold := fs.Int("threshold", 0, "with --root: the threshold whose runs are pooled (required)")
	at := fs.String("at", "", "with SPEC: the point to pool, values of the swept parameters separated by commas (default: the decided point, see lab select)")
	storeDir := fs.String("store", store.DefaultRoot(), "store folder (with SPEC)")
	asJSON := fs.Bool("json", false, "print JSON")
	var pf pwFlags
	pf.register(fs, true)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	var (
		t     *analysis.Table
		point analysis.Point
		pw    *analysis.PromptWeightResult
	)
	switch {
	case *root != "" && len(pos) == 0:
		if !flagSet(fs, "threshold") {
			return &exitCodeError{code: 2, err: errors.New("--root needs --threshold T: the threshold whose runs to pool")}
		}
		if t, err = legacy.LoadTable(*root); err != nil {
			return err
		}
		point = analysis.Point{float64(*threshold)}
		warn(env.stderr, t.Warnings)
		if pw, err = t.PromptWeightAt(point, pf.options(nil)); err != nil {
			return err
		}
	case *root == "" && len(pos) == 1:
		if flagSet(fs, "threshold") {
			return &exitCodeError{code: 2, err: errors.New("--threshold applies to --root; with a SPEC use --at")}
		}
		x, err := experiment.Open(pos[0], *storeDir, experiment.Options{ReadOnly: true})
		if err != nil {
			return err
		}
		var atPoint analysis.Point
		if *at != "" {
			if atPoint, err = parsePoint(*at, len(x.Spec.ParamNames())); err != nil {
				return err
			}
		}
		pwOpt := pf.options(x.Spec)
		a, err := x.Analyze(experiment.AnalyzeOptions{PromptWeight: &pwOpt, At: atPoint, SkipSignificance: true})
		if err != nil {
			return err
		}
		warn(env.stderr, a.Table.Warnings)
		t, point, pw = a.Table, a.PromptWeightAt, a.PromptWeight
	default:
		fs.Usage()
		return &exitCodeError{code: 2, err: errors.New("expected one SPEC or --root DIR --threshold T")}
	}
	if *asJSON {
		return writeJSON(env.stdout, promptWeightJSON{Param: t.Param, Point: analysis.PointJSON(point), PromptWeightResult: pw})
	}
	return analysis.WritePromptWeight(env.stdout, fmt.Sprintf("prompt_weight at %s=%s", t.Param, point), pw)
}

// parsePoint reads "6" or "6,0.5" (one value per swept parameter).
func parsePoint(s string, n int) (analysis.Point, error) {
	parts := strings.Split(s, ",")
	if len(parts) != n {
		return nil, fmt.Errorf("--at %q: want %d comma-separated values (one per swept parameter)", s, n)
	}
	p := make(analysis.Point, n)
	for i, part := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil {
			return nil, fmt.Errorf("--at %q: %q is not a number", s, part)
		}
		p[i] = v
	}
	return p, nil
}
