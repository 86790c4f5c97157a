package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/experiment"
	"github.com/schedlab/schedlab/lab/internal/store"
	"github.com/schedlab/schedlab/lab/report"
	"github.com/schedlab/schedlab/lab/spec"
)

func init() {
	register(&command{
		name:  "compare",
		usage: "A.yaml B.yaml | SPEC --store-a DIR --store-b DIR [--json] [--html FILE]: B against A, cell by cell: ratios per point and metric, verdicts, same decision?",
		run:   runCompare,
	})
}

// compareSide is one experiment of a comparison.
type compareSide struct {
	SpecPath string `json:"spec"`
	Store    string `json:"store"`
	in       *report.Input
}

func runCompare(ctx context.Context, env *cmdEnv, args []string) error {
	flags := newFlags(env, "compare", "A.yaml B.yaml [--store DIR] | SPEC --store-a DIR --store-b DIR; [--json] [--html FILE]")
	storeRoot := flags.String("store", store.DefaultRoot(), "store of both experiments ($LAB_STORE overrides the default)")
	storeA := flags.String("store-a", "", "store of experiment A (default: --store)")
	storeB := flags.String("store-b", "", "store of experiment B (default: --store)")
	asJSON := flags.Bool("json", false, "print the comparison as JSON instead of text")
	htmlPath := flags.String("html", "", "write the comparison page here (default: reports/compare-<A>-vs-<B>/index.html)")
	pos, err := parseInterleaved(flags, args)
	if err != nil {
		return err
	}
	var specs [2]string
	switch len(pos) {
	case 1:
		if *storeA == "" || *storeB == "" {
			return &exitCodeError{code: 2, err: errors.New("one SPEC compares two stores: give both --store-a DIR and --store-b DIR")}
		}
		specs = [2]string{pos[0], pos[0]}
	case 2:
		specs = [2]string{pos[0], pos[1]}
	default:
		flags.Usage()
		return &exitCodeError{code: 2, err: fmt.Errorf("expected two SPEC files (or one with --store-a and --store-b), got %d arguments", len(pos))}
	}
	// Checked before both experiments are loaded and compared.
	generated, err := generatedTime()
	if err != nil {
		return &exitCodeError{code: 2, err: err}
	}
	stores := [2]string{*storeA, *storeB}
	var sides [2]*compareSide
	var parsed [2]*spec.Spec
	for i := range sides {
		if stores[i] == "" {
			stores[i] = *storeRoot
		}
		if _, err := os.Stat(stores[i]); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("store %s does not exist: run `lab run %s --store %s` first", stores[i], specs[i], stores[i])
		}
		x, err := experiment.Open(specs[i], stores[i], experiment.Options{ReadOnly: true})
		if err != nil {
			return err
		}
		a, err := x.Analyze(experiment.AnalyzeOptions{})
		if err != nil {
			return err
		}
		in, err := x.ReportInput(a)
		if err != nil {
			return err
		}
		parsed[i] = x.Spec
		sides[i] = &compareSide{SpecPath: specs[i], Store: stores[i], in: in}
	}
	// The statistics use experiment A's seed (and margin), as `lab select`.
	cmp, err := analysis.Compare(sides[0].in.Table, sides[1].in.Table, experiment.SignificanceOptions(parsed[0]))
	if err != nil {
		return fmt.Errorf("compare %s and %s: %w", specs[0], specs[1], err)
	}
	ci := &report.CompareInput{A: sides[0].in, B: sides[1].in, Comparison: cmp, Generated: generated,
		LabelA: sideLabel(sides[0], sides[1]), LabelB: sideLabel(sides[1], sides[0])}

	page := *htmlPath
	if page == "" {
		page = filepath.Join(report.DefaultRoot, "compare-"+parsed[0].Name+"-vs-"+parsed[1].Name, report.HTMLFile)
	}
	if err := report.WriteCompareHTML(page, ci); err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(compareJSON(ci, sides, page))
	}
	if err := report.CompareText(env.stdout, ci); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "comparison: %s\n", page)
	return nil
}

// sideLabel names an experiment by its name, and by its store when the
// other side has the same name.
func sideLabel(s, other *compareSide) string {
	if s.in.Name == other.in.Name {
		return s.in.Name + " (store " + s.Store + ")"
	}
	return s.in.Name
}

type decisionJSON struct {
	Change     bool               `json:"change"`
	Point      analysis.PointJSON `json:"point"`
	Conclusion string             `json:"conclusion"`
}

type compareSideJSON struct {
	Label      string        `json:"label"`
	Experiment string        `json:"experiment"`
	Spec       string        `json:"spec"`
	Store      string        `json:"store"`
	Hash       string        `json:"hash"`
	Engine     string        `json:"engine"`
	Decision   *decisionJSON `json:"decision"`
}

type compareOutJSON struct {
	A            compareSideJSON         `json:"a"`
	B            compareSideJSON         `json:"b"`
	SameDecision bool                    `json:"same_decision"`
	Counts       map[string]int          `json:"verdicts"`
	Comparison   analysis.ComparisonJSON `json:"comparison"`
	HTML         string                  `json:"html"`
}

func compareJSON(ci *report.CompareInput, sides [2]*compareSide, page string) compareOutJSON {
	side := func(label string, s *compareSide) compareSideJSON {
		out := compareSideJSON{Label: label, Experiment: s.in.Name, Spec: s.SpecPath, Store: s.Store, Hash: s.in.Hash, Engine: s.in.Engine}
		if d, ok := report.DecisionOf(s.in); ok {
			out.Decision = &decisionJSON{Change: d.Change, Point: analysis.PointJSON(d.Point), Conclusion: d.Conclusion}
		}
		return out
	}
	counts := map[string]int{}
	for v, n := range ci.Comparison.Counts() {
		counts[string(v)] = n
	}
	return compareOutJSON{A: side(ci.LabelA, sides[0]), B: side(ci.LabelB, sides[1]), SameDecision: report.SameDecision(ci.A, ci.B),
		Counts: counts, Comparison: ci.Comparison.JSON(), HTML: page}
}
