package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/schedlab/schedlab/lab/internal/golden"
)

var update = golden.Update // -update

// TestGoldenSpecs parses every testdata/specs/{good,bad}/*.yaml and compares
// the resolved spec (good) or the error text with positions (bad) with its
// .golden file. Run with -update to accept new output after checking it.
func TestGoldenSpecs(t *testing.T) {
	for _, kind := range []string{"good", "bad"} {
		files, err := filepath.Glob(filepath.Join("testdata", "specs", kind, "*.yaml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no %s specs: %v", kind, err)
		}
		for _, file := range files {
			t.Run(kind+"/"+filepath.Base(file), func(t *testing.T) {
				s, err := ParseFile(file)
				var got []byte
				switch kind {
				case "good":
					if err != nil {
						t.Fatalf("unexpected error:\n%v", err)
					}
					// The Go-side check agrees with the parser's.
					if err := s.Validate(); err != nil {
						t.Errorf("Validate of a parsed spec: %v", err)
					}
					got = dump(t, s)
				case "bad":
					if err == nil {
						t.Fatal("parsed without error")
					}
					var es Errors
					if !errors.As(err, &es) || len(es) == 0 {
						t.Fatalf("error %T is not spec.Errors", err)
					}
					for _, e := range es {
						if e.File != file || e.Line < 1 || e.Col < 1 {
							t.Errorf("problem without a position: %+v", e)
						}
					}
					got = []byte(err.Error() + "\n")
				}
				golden := strings.TrimSuffix(file, ".yaml") + ".golden"
				if *update {
					if err := os.WriteFile(golden, got, 0o666); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("output differs from %s:\n--- got\n%s--- want\n%s", golden, got, want)
				}
			})
		}
	}
}

// dump renders the resolved spec for the golden files: every resolved field,
// the first cells with their seeds, and the hash.
func dump(t *testing.T, s *Spec) []byte {
	t.Helper()
	type cellView struct {
		Key    string
		Repeat int
		Seed   int64
	}
	cells := s.Cells()
	var first []cellView
	for i, c := range cells {
		if i == 6 {
			break
		}
		first = append(first, cellView{c.Point.Key(s.ParamNames()), c.Repeat, c.Seed})
	}
	v := map[string]any{
		"name": s.Name, "description": s.Description, "engine_kind": s.Engine.Kind(), "engine": s.Engine,
		"sweep": s.Sweep, "repeats": s.Repeats, "seed": s.Seed, "baseline": s.Baseline, "select": s.Select,
		"prompt_weight": s.PromptWeight, "points": len(s.Points()), "cells": len(cells), "first_cells": first,
		"hash": s.Hash(),
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestExpandRange(t *testing.T) {
	tests := []struct {
		from, to, step float64
		want           []float64
		err            string
	}{
		{0, 10, 1, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, ""},
		{0, 0.3, 0.1, []float64{0, 0.1, 0.2, 0.3}, ""},
		{-0.3, 0, 0.1, []float64{-0.3, -0.2, -0.1, 0}, ""},
		{0.05, 0.35, 0.05, []float64{0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35}, ""},
		{0, 10, 3, []float64{0, 3, 6, 9}, ""}, // to need not be reached exactly
		{5, 5, 1, []float64{5}, ""},
		{1e-3, 3e-3, 1e-3, []float64{0.001, 0.002, 0.003}, ""},
		{10, 0, 1, nil, "empty range"},
		{0, 10, 0, nil, "step must be greater than 0"},
		{0, 10, -1, nil, "step must be greater than 0"},
		{0, 1, 1e-6, nil, "more than 10000 values"},
	}
	for _, tc := range tests {
		got, err := expandRange(tc.from, tc.to, tc.step)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("expandRange(%v, %v, %v) error = %v, want %q", tc.from, tc.to, tc.step, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("expandRange(%v, %v, %v) = %v, %v; want %v", tc.from, tc.to, tc.step, got, err, tc.want)
		}
	}
	// Exact decimal printing of every value of a long float range.
	vals, _ := expandRange(0, 2, 0.01)
	if len(vals) != 201 {
		t.Fatalf("0..2 by 0.01: %d values", len(vals))
	}
	for i, v := range vals {
		if want := fmt.Sprintf("%.2f", float64(i)/100); strings.TrimRight(strings.TrimRight(want, "0"), ".") != formatNum(v) {
			t.Errorf("value %d prints as %s", i, formatNum(v))
		}
	}
}

func gridSpec() *Spec {
	return &Spec{
		Name:    "grid",
		Engine:  Engine{Config: &ExecConfig{Command: []string{"b", "{{.OutputDir}}"}}},
		Sweep:   Sweep{{"a", []float64{1, 2}}, {"b", []float64{0.5, 0.25, 0}}},
		Repeats: 2,
		Seed:    7,
	}
}

func TestPointsAndCells(t *testing.T) {
	s := gridSpec()
	var keys []string
	for _, p := range s.Points() {
		keys = append(keys, p.Key(s.ParamNames()))
	}
	want := []string{"a=1 b=0.5", "a=1 b=0.25", "a=1 b=0", "a=2 b=0.5", "a=2 b=0.25", "a=2 b=0"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("points = %q\nwant %q", keys, want)
	}
	cells := s.Cells()
	if len(cells) != 12 {
		t.Fatalf("%d cells, want 12", len(cells))
	}
	for i, c := range cells {
		if c.Repeat != i%2 || c.Point.Key(s.ParamNames()) != want[i/2] {
			t.Errorf("cell %d = %v repeat %d", i, c.Point, c.Repeat)
		}
		// Common random numbers: a repeat's seed is the same at every point.
		if c.Seed != cells[c.Repeat].Seed {
			t.Errorf("cell %d: seed %d differs from repeat %d's seed at the first point", i, c.Seed, c.Repeat)
		}
	}
	if cells[0].Seed == cells[1].Seed {
		t.Error("repeats 0 and 1 share a seed")
	}
}

func TestCellSeed(t *testing.T) {
	// Golden values: the mixing function is part of the store's addresses
	// and of every result; changing it must be deliberate.
	golden := map[[2]int64]int64{{1, 0}: 754985308, {1, 1}: 499919966, {0, 0}: 1896895516, {-5, 7}: 1715478621}
	for in, want := range golden {
		if got := CellSeed(in[0], int(in[1])); got != want {
			t.Errorf("CellSeed(%d, %d) = %d, want %d", in[0], in[1], got, want)
		}
	}
	seen := map[int64]bool{}
	for seed := int64(-3); seed < 30; seed++ {
		for r := range 30 {
			v := CellSeed(seed, r)
			if v < 0 || v >= 1<<31 {
				t.Fatalf("CellSeed(%d, %d) = %d out of [0, 2^31)", seed, r, v)
			}
			if seen[v] {
				t.Errorf("CellSeed(%d, %d) = %d collides", seed, r, v)
			}
			seen[v] = true
		}
	}
}

func TestHashInvariance(t *testing.T) {
	base := `name: h
description: one
engine:
  exec: {command: [b, "{{.OutputDir}}"], env: {A: "1", B: "2"}}
sweep:
  x: {from: 0, to: 2, step: 1}
repeats: 2
`
	same := `# a comment
repeats: 2
description: two, reworded
sweep:
  x: [0, 1, 2]   # the same values as a list
engine:
  exec:
    env: {B: "2", A: "1"}
    command: [b, "{{.OutputDir}}"]
name: h
select: {aggregation: mean, margin: 0.01}
`
	hash := func(src string) string {
		s, err := Parse("t.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		return s.Hash()
	}
	h := hash(base)
	if got := hash(same); got != h {
		t.Errorf("formatting, order, comments, description or explicit defaults changed the hash")
	}
	for _, change := range []string{
		strings.Replace(base, "repeats: 2", "repeats: 3", 1),
		strings.Replace(base, "to: 2", "to: 3", 1),
		strings.Replace(base, `A: "1"`, `A: "9"`, 1),
		base + "seed: 1\n",
		base + "select: {aggregation: median}\n",
	} {
		if hash(change) == h {
			t.Errorf("a change that matters kept the hash:\n%s", change)
		}
	}
}

func TestValidateGoBuilt(t *testing.T) {
	s := gridSpec()
	s.SetDefaults()
	if err := s.Validate(); err != nil {
		t.Fatalf("valid spec: %v", err)
	}
	if s.Baseline["a"] != 1 || s.Baseline["b"] != 0 {
		t.Errorf("default baseline = %v, want each parameter's smallest value", s.Baseline)
	}
	s.Baseline = Point{"a": 1, "b": 0.3, "c": 1}
	s.Sweep[1].Values = append(s.Sweep[1].Values, 0.25)
	s.Select.Presets[0].Weights.Decode = -1
	err := s.Validate()
	want := []string{
		`<spec>: baseline.b: 0.3 is not one of the swept values of b (0.5, 0.25, 0, 0.25)`,
		`<spec>: baseline.c: "c" is not a swept parameter; expected one of: a, b`,
		`<spec>: select.presets.default.decode: weights must be finite and ≥ 0, got -1`,
		`<spec>: sweep.b[3]: duplicate value 0.25 (already at position 2 of the list)`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("Validate =\n%v\nwant\n%s", err, strings.Join(want, "\n"))
	}
}

func TestExecTemplates(t *testing.T) {
	c := &ExecConfig{Command: []string{"run", "--out={{.OutputDir}}"}}
	if !c.UsesOutputDir() {
		t.Error("UsesOutputDir: false for --out={{.OutputDir}}")
	}
	c = &ExecConfig{Command: []string{"run", "{{if .Seed}}{{.Seed}}{{end}}"}, Env: map[string]string{"O": "{{with .OutputDir}}{{.}}{{end}}"}}
	if !c.UsesOutputDir() {
		t.Error("UsesOutputDir: false for a with-block in env")
	}
	c = &ExecConfig{Command: []string{"run", "OutputDir", "{{.Repeat}}"}}
	if c.UsesOutputDir() {
		t.Error("UsesOutputDir: true for plain text")
	}
	data := TemplateData(Cell{Point: Point{"min_chunk_threshold": 6, "w": -0.01, "n": 1e6, "tiny": 1e-7}, Repeat: 2, Seed: 99}, "/o")
	tpl, err := ParseTemplate("x", `{{.min_chunk_threshold}} {{.w}} {{.Repeat}} {{.Seed}} {{.OutputDir}} {{.n}} {{.tiny}} {{printf "%.1f" .n}} {{if gt .n 5.0}}big{{end}} {{if eq .min_chunk_threshold 6.0}}six{{end}}`)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tpl.Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	if b.String() != "6 -0.01 2 99 /o 1000000 0.0000001 1000000.0 big six" {
		t.Errorf("rendered %q", b.String())
	}
	if err := tpl.Execute(&b, map[string]any{}); err == nil {
		t.Error("missing key rendered without error")
	}
}

func TestDurationJSON(t *testing.T) {
	d := Duration{90 * time.Minute}
	b, err := json.Marshal(d)
	if err != nil || string(b) != `"1h30m0s"` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var back Duration
	if err := json.Unmarshal(b, &back); err != nil || back != d {
		t.Errorf("round trip = %v, %v", back, err)
	}
	if err := back.UnmarshalYAML([]byte(`"45s"`)); err != nil || back.Duration != 45*time.Second {
		t.Errorf("UnmarshalYAML = %v, %v", back, err)
	}
	if err := back.UnmarshalYAML([]byte(`soon`)); err == nil {
		t.Error("UnmarshalYAML accepted soon")
	}
}

func TestErrorsFormat(t *testing.T) {
	es := sortErrors(Errors{
		{File: "f.yaml", Line: 3, Col: 2, Msg: "b"},
		{File: "f.yaml", Line: 1, Col: 9, Msg: "a"},
		{File: "f.yaml", Line: 3, Col: 2, Msg: "b"},
	})
	if es.Error() != "f.yaml:1:9: a\nf.yaml:3:2: b" {
		t.Errorf("Errors = %q", es.Error())
	}
	var one *Error
	if !errors.As(error(es), &one) || one.Line != 1 {
		t.Errorf("errors.As *Error = %v", one)
	}
}

// Every experiment shipped in the repository parses and validates.
func TestShippedExperimentsParse(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "experiments", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no experiments/*.yaml yet")
	}
	for _, f := range files {
		if _, err := ParseFile(f); err != nil {
			t.Errorf("%v", err)
		}
	}
}

func TestParseBOMAndCRLF(t *testing.T) {
	src := "\xef\xbb\xbfname: bom\r\nengine:\r\n  exec: {command: [b, \"{{.OutputDir}}\"]}\r\nsweep:\r\n  x: [1, 2]\r\nrepeats: 0\r\n"
	_, err := Parse("bom.yaml", []byte(src))
	if err == nil || err.Error() != "bom.yaml:6:10: repeats: expected an integer from 1 to 100000, got 0" {
		t.Errorf("error = %v", err)
	}
}

// select: may be built from an anchor with a merge key, presets included.
func TestSelectMergeKey(t *testing.T) {
	src := `name: m
base: &sel
  aggregation: median
  presets: {a: {request: 1}}
`
	// "base" is not a spec field: the anchor must live somewhere legal.
	if _, err := Parse("m.yaml", []byte(src)); err == nil || !strings.Contains(err.Error(), `unknown field "base"`) {
		t.Fatalf("error = %v", err)
	}
	src = `name: m
engine:
  exec: {command: [b, "{{.OutputDir}}"]}
sweep: {x: [1, 2]}
select: &sel
  aggregation: median
  presets: {a: {request: 1}}
`
	s, err := Parse("m.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	src2 := src + "prompt_weight: {stats: [mean]}\n"
	src2 = strings.Replace(src2, "select: &sel\n  aggregation: median\n  presets: {a: {request: 1}}\n", "select:\n  <<: {aggregation: median, presets: {a: {request: 1}}}\n  margin: 0.05\n", 1)
	s2, err := Parse("m2.yaml", []byte(src2))
	if err != nil {
		t.Fatal(err)
	}
	if s2.Select.Aggregation != "median" || len(s2.Select.Presets) != 1 || s2.Select.Presets[0].Name != "a" || s2.Select.Margin != 0.05 {
		t.Errorf("merged select = %+v", s2.Select)
	}
	if s.Select.Aggregation != "median" {
		t.Errorf("select = %+v", s.Select)
	}
}

// Block scalars (| and >) are common for descriptions and shell commands;
// their value is the content, never the indicator.
func TestBlockScalars(t *testing.T) {
	src := `name: blocks
description: >
  folded
  text
engine:
  exec:
    command:
      - bash
      - -c
      - |
        echo {{.x}} > {{.OutputDir}}/x
sweep:
  x: [0, 1]
`
	s, err := Parse("blocks.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Description, "folded text\n"; got != want {
		t.Errorf("description = %q, want %q", got, want)
	}
	if got, want := s.Engine.Config.(*ExecConfig).Command[2], "echo {{.x}} > {{.OutputDir}}/x\n"; got != want {
		t.Errorf("command[2] = %q, want %q", got, want)
	}
}

// ErrorAt places a problem found after parsing at its field, or at the
// nearest enclosing field the file has; a spec built in Go has no positions.
func TestErrorAt(t *testing.T) {
	src := "name: x\nengine:\n  sim:\n    model: llama-3-8b\n    gpu: h200\n    scheduler: {chunk_size: 256}\n" +
		"    workload: {trace: t.csv, requests: 5}\nsweep:\n  min_chunk_threshold: [0, 1]\n"
	s, err := Parse("x.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ field, want string }{
		{"engine.sim.workload.trace", "x.yaml:7:23: engine.sim.workload.trace: bad"},
		{"engine.sim.workload.requests", "x.yaml:7:40: engine.sim.workload.requests: bad"},
		// Absent: at the enclosing workload mapping's key.
		{"engine.sim.workload.arrival.qps", "x.yaml:7:5: engine.sim.workload.arrival.qps: bad"},
		{"engine.sim.model", "x.yaml:4:12: engine.sim.model: bad"},
	}
	for _, tc := range tests {
		err := s.ErrorAt(tc.field, "bad")
		var es Errors
		if !errors.As(err, &es) || err.Error() != tc.want {
			t.Errorf("ErrorAt(%q) = %q, want %q", tc.field, err, tc.want)
		}
	}
	built := &Spec{Path: "built.yaml"}
	if got := built.ErrorAt("engine.sim.model", "bad").Error(); got != "built.yaml: engine.sim.model: bad" {
		t.Errorf("spec built in Go: %q", got)
	}
}
