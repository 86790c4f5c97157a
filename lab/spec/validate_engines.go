package spec

import (
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
)

// FieldError is a problem in one engine's configuration. Field is the
// dotted YAML path relative to the engine's block ("scheduler.chunk_size",
// "command[2]"; "" for the block itself), or a path from the top starting
// with "$." ("$.sweep.temperature"); Parse and ErrorAt turn it into
// file:line:col. Engine factories return it as an error so that a problem
// found only when the engine is built (a trace it cannot open) is placed
// the same way.
type FieldError struct {
	Field string
	Msg   string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Msg }

// Optional methods of the sim and gpu configurations, found through these
// interfaces:
//
//	// validate reports problems of the block beyond the shared scheduler
//	// and workload checks; params are the swept parameter names.
//	func (c *SimConfig) validate(params []string, report func(field, msg string))
//
//	// sweepable lists the parameter names a sweep may set (default: the
//	// numeric fields of scheduler).
//	func (c *SimConfig) sweepable() []string
type (
	engineValidator interface {
		validate(params []string, report func(field, msg string))
	}
	engineSweepable interface{ sweepable() []string }
)

var (
	schedPolicies    = []string{"fcfs", "spf", "srtf", "aging"}
	arrivalProcesses = []string{"", "offline", "poisson", "trace"}
	distKinds        = []string{"fixed", "uniform", "lognormal"}
	envNameRE        = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Validate checks the generic parts of the simulator configuration (the
// scheduler and the workload) and then calls the simulator's own validate
// hook when sim.go defines one.
func (c *SimConfig) Validate(sweep Sweep) []FieldError {
	return validateSchedEngine(c, c.Scheduler, c.Workload, sweep.Names())
}

// Validate checks the generic parts of the gpu engine's configuration and
// then calls gpu.go's validate hook when there is one.
func (c *GPUConfig) Validate(sweep Sweep) []FieldError {
	return validateSchedEngine(c, c.Scheduler, c.Workload, sweep.Names())
}

// validateSchedEngine is the validation the sim and gpu engines share
// (they share the scheduler and the workload), then cfg's own hook.
func validateSchedEngine(cfg any, sc SchedulerConfig, w WorkloadConfig, params []string) []FieldError {
	var errs []FieldError
	add := func(field, msg string) { errs = append(errs, FieldError{field, msg}) }
	validateScheduler(sc, "scheduler.", add)
	validateWorkload(w, "workload.", params, add)
	validateSwept(cfg, params, add)
	if v, ok := cfg.(engineValidator); ok {
		v.validate(params, add)
	}
	return errs
}

// validateSwept rejects swept parameters that the engine would ignore: a
// sweep over a name the simulator does not read would silently give the
// same result for every value.
func validateSwept(c any, params []string, add func(field, msg string)) {
	allowed := schedulerNumericFields()
	if sw, ok := c.(engineSweepable); ok {
		allowed = sw.sweepable()
	}
	for _, p := range params {
		if !slices.Contains(allowed, p) {
			add("$.sweep."+p, fmt.Sprintf("this engine does not read %q, so sweeping it would change nothing; sweepable parameters: %s", p, strings.Join(allowed, ", ")))
		}
	}
}

// schedulerNumericFields are the YAML names of SchedulerConfig's numeric
// fields: the parameters a sweep may set on the sim and gpu engines.
func schedulerNumericFields() []string {
	t := reflect.TypeOf(SchedulerConfig{})
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		switch f.Type.Kind() {
		case reflect.Int, reflect.Int64, reflect.Float64:
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name != "" && name != "-" {
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return out
}

func validateScheduler(c SchedulerConfig, prefix string, add func(field, msg string)) {
	nonNeg := func(field string, v int) {
		if v < 0 {
			add(prefix+field, fmt.Sprintf("must be ≥ 0, got %d", v))
		}
	}
	nonNeg("chunk_size", c.ChunkSize)
	nonNeg("max_num_seqs", c.MaxNumSeqs)
	nonNeg("min_chunk_threshold", c.MinChunkThreshold)
	if c.Policy != "" && !slices.Contains(schedPolicies, c.Policy) {
		add(prefix+"policy", fmt.Sprintf("unknown policy %q; expected one of: %s", c.Policy, strings.Join(schedPolicies, ", ")))
	}
	if c.GPUMemoryUtilization < 0 || c.GPUMemoryUtilization > 1 {
		add(prefix+"gpu_memory_utilization", fmt.Sprintf("expected a fraction in (0, 1], got %s", formatNum(c.GPUMemoryUtilization)))
	}
}

// validateWorkload checks the workload block; params are the swept names,
// which may supply the rate of a poisson process (qps) — and which then
// need one.
func validateWorkload(w WorkloadConfig, prefix string, params []string, add func(field, msg string)) {
	if w.Requests < 0 {
		add(prefix+"requests", fmt.Sprintf("must be ≥ 0, got %d", w.Requests))
	}
	if w.MaxTokens < 0 {
		add(prefix+"max_tokens", fmt.Sprintf("must be ≥ 0, got %d", w.MaxTokens))
	}
	if w.MaxPromptTokens < 0 {
		add(prefix+"max_prompt_tokens", fmt.Sprintf("must be ≥ 0, got %d", w.MaxPromptTokens))
	}
	a := w.Arrival
	if !slices.Contains(arrivalProcesses, a.Process) {
		add(prefix+"arrival.process", fmt.Sprintf("unknown arrival process %q; expected one of: offline, poisson, trace", a.Process))
	}
	if a.QPS < 0 {
		add(prefix+"arrival.qps", fmt.Sprintf("must be ≥ 0, got %s", formatNum(a.QPS)))
	} else if a.Process == "poisson" && a.QPS == 0 && !slices.Contains(params, "qps") {
		add(prefix+"arrival.qps", "a poisson arrival process needs qps > 0 (or qps swept)")
	}
	if slices.Contains(params, "qps") && a.Process != "poisson" {
		add("$.sweep.qps", "qps is the rate of poisson arrivals; expected workload.arrival.process: poisson")
	}
	if a.Scale < 0 {
		add(prefix+"arrival.scale", fmt.Sprintf("must be ≥ 0, got %s", formatNum(a.Scale)))
	}
	if l := w.Lengths; l != nil {
		validateDist(l.Prompt, prefix+"lengths.prompt.", add)
		validateDist(l.Output, prefix+"lengths.output.", add)
	}
}

func validateDist(d Distribution, prefix string, add func(field, msg string)) {
	if !slices.Contains(distKinds, d.Kind) {
		add(prefix+"kind", fmt.Sprintf("unknown distribution %q; expected one of: %s", d.Kind, strings.Join(distKinds, ", ")))
		return
	}
	switch d.Kind {
	case "fixed":
		if d.Value < 1 {
			add(prefix+"value", fmt.Sprintf("a fixed length must be ≥ 1, got %d", d.Value))
		}
	case "uniform":
		if d.Min < 1 || d.Max < d.Min {
			add(prefix+"min", fmt.Sprintf("a uniform length needs 1 ≤ min ≤ max, got min %d, max %d", d.Min, d.Max))
		}
	case "lognormal":
		if d.Sigma < 0 {
			add(prefix+"sigma", fmt.Sprintf("must be ≥ 0, got %s", formatNum(d.Sigma)))
		}
	}
}

// Number is a swept value as exec templates see it: a float64 that prints
// the way it is written in YAML — 1000000 as "1000000", 0.1 as "0.1" — and
// never in the exponent form fmt gives a float64 ("1e+06"), which a
// command parsing an integer would reject. printf "%.0f", comparisons
// (gt, eq) and arithmetic verbs still see the number.
type Number float64

// String prints the shortest decimal that reads back as the same value.
func (n Number) String() string { return formatNum(float64(n)) }

// TemplateData is what the exec engine's templates see for one cell: every
// swept parameter by name (a Number), .Repeat (int, 0-based), .Seed (int64,
// the cell's seed) and .OutputDir (string). Validation renders the
// templates with the same data, so a template that validates renders.
func TemplateData(c Cell, outputDir string) map[string]any {
	m := make(map[string]any, len(c.Point)+3)
	for k, v := range c.Point {
		m[k] = Number(v)
	}
	m["Repeat"] = c.Repeat
	m["Seed"] = c.Seed
	m["OutputDir"] = outputDir
	return m
}

// ParseTemplate parses one exec template (a command element or an env
// value) with the options the exec engine must use: a missing key is an
// error, never "<no value>".
func ParseTemplate(name, text string) (*template.Template, error) {
	return template.New(name).Option("missingkey=error").Parse(text)
}

// templates lists the exec config's templates with their fields, in a
// deterministic order (command, then env by key).
func (c *ExecConfig) templates() (fields, texts []string) {
	for i, a := range c.Command {
		fields = append(fields, fmt.Sprintf("command[%d]", i))
		texts = append(texts, a)
	}
	keys := make([]string, 0, len(c.Env))
	for k := range c.Env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fields = append(fields, "env."+k)
		texts = append(texts, c.Env[k])
	}
	return fields, texts
}

// UsesOutputDir reports whether a command or env template references
// .OutputDir: then the engine writes its plots there; otherwise outputs:
// says where to find them.
func (c *ExecConfig) UsesOutputDir() bool {
	_, texts := c.templates()
	for _, t := range texts {
		tpl, err := ParseTemplate("t", t)
		if err == nil && referencesField(tpl.Tree.Root, "OutputDir") {
			return true
		}
	}
	return false
}

func referencesField(n parse.Node, name string) bool {
	found := false
	walkFields(n, func(f string) { found = found || f == name })
	return found
}

var missingKeyRE = regexp.MustCompile(`map has no entry for key "([^"]*)"`)

// Validate checks the exec configuration: a non-empty command, templates
// that parse and render for a sample cell of sweep (the first value of
// every parameter) using only the swept names, .Repeat, .Seed and
// .OutputDir, valid env names, a valid outputs glob, and a way to find the
// plots (.OutputDir in the command, or outputs).
func (c *ExecConfig) Validate(sweep Sweep) []FieldError {
	var errs []FieldError
	add := func(field, msg string) { errs = append(errs, FieldError{field, msg}) }
	if len(c.Command) == 0 {
		add("command", "required: the command to run for each cell, as a list (argv), e.g. [python, bench.py, --min_chunk_threshold, \"{{.min_chunk_threshold}}\"]")
	}
	for k := range c.Env {
		if !envNameRE.MatchString(k) {
			add("env."+k, fmt.Sprintf("%q is not a valid environment variable name", k))
		}
	}
	sample := Cell{Point: Point{}, Repeat: 0, Seed: CellSeed(0, 0)}
	var names []string
	for _, p := range sweep {
		if slices.Contains(reservedParams, p.Name) {
			continue // reported at the sweep
		}
		names = append(names, p.Name)
		// A parameter whose values are broken (reported at the sweep) is
		// still defined: its templates must not be reported as well.
		sample.Point[p.Name] = 0
		if len(p.Values) > 0 {
			sample.Point[p.Name] = p.Values[0]
		}
	}
	data := TemplateData(sample, "/tmp/out")
	allowed := strings.Join(append(append([]string(nil), names...), reservedParams...), ", ")
	fields, texts := c.templates()
	unparsed := false // a template that does not parse: whether it takes .OutputDir is unknown
	for i, text := range texts {
		if strings.ContainsRune(text, 0) {
			add(fields[i], fmt.Sprintf("template %q contains a NUL byte, which a command-line argument or an environment value cannot hold", text))
			continue
		}
		tpl, err := ParseTemplate(fields[i], text)
		if err != nil {
			add(fields[i], fmt.Sprintf("invalid template %q: %s", text, trimTemplateErr(err)))
			unparsed = true
			continue
		}
		// Every field the template names, in any branch: rendering one
		// sample cell would miss a field used only under {{if .Repeat}}.
		var undefined []string
		walkFields(tpl.Tree.Root, func(f string) {
			if _, ok := data[f]; !ok && !slices.Contains(undefined, f) {
				undefined = append(undefined, f)
			}
		})
		if len(undefined) > 0 {
			add(fields[i], fmt.Sprintf("template %q uses .%s, which is not defined; templates may use: %s", text, strings.Join(undefined, ", ."), allowed))
			continue
		}
		var sb strings.Builder
		if err := tpl.Execute(&sb, data); err != nil {
			if m := missingKeyRE.FindStringSubmatch(err.Error()); m != nil {
				add(fields[i], fmt.Sprintf("template %q uses .%s, which is not defined; templates may use: %s", text, m[1], allowed))
			} else {
				add(fields[i], fmt.Sprintf("template %q does not render: %s", text, trimTemplateErr(err)))
			}
			continue
		}
		if fields[i] == "command[0]" && strings.TrimSpace(sb.String()) == "" {
			add(fields[i], "the program to run is empty")
		}
	}
	usesOut := c.UsesOutputDir()
	if c.Outputs != "" {
		switch _, err := filepath.Match(c.Outputs, ""); {
		case err != nil:
			add("outputs", fmt.Sprintf("invalid glob %q: %v", c.Outputs, err))
		case usesOut:
			add("outputs", "the command already takes {{.OutputDir}}; outputs is only for commands that write under a fixed root: use one of them")
		case !strings.ContainsAny(c.Outputs, "*?["):
			add("outputs", fmt.Sprintf("%q has no wildcard; expected a glob such as offline_inference_output/*/replica_0/plots whose * matches the folder each run creates", c.Outputs))
		}
	}
	c.validateReader(usesOut, add)
	if len(c.Command) > 0 && c.Outputs == "" && !usesOut && !unparsed {
		add("", "the engine's plots cannot be found: pass {{.OutputDir}} to the command, or set outputs: to the glob of the folder it writes (e.g. offline_inference_output/*/replica_0/plots)")
	}
	return errs
}

// trimTemplateErr drops text/template's "template: NAME:" prefix, which
// repeats the field name the message already carries.
func trimTemplateErr(err error) string {
	s := err.Error()
	if rest, ok := strings.CutPrefix(s, "template: "); ok {
		if i := strings.Index(rest, ": "); i >= 0 {
			return rest[i+2:]
		}
	}
	return s
}

// walkFields calls visit with the top-level data field of every field
// reference in the template tree — .x, .x.y, $.x, (.x).y — in every branch
// of if, range and with, and in nested templates' arguments.
func walkFields(n parse.Node, visit func(string)) {
	switch t := n.(type) {
	case *parse.ListNode:
		if t == nil {
			return
		}
		for _, c := range t.Nodes {
			walkFields(c, visit)
		}
	case *parse.ActionNode:
		walkFields(t.Pipe, visit)
	case *parse.PipeNode:
		if t == nil {
			return
		}
		for _, c := range t.Cmds {
			walkFields(c, visit)
		}
	case *parse.CommandNode:
		for _, a := range t.Args {
			walkFields(a, visit)
		}
	case *parse.FieldNode:
		if len(t.Ident) > 0 {
			visit(t.Ident[0])
		}
	case *parse.VariableNode:
		if len(t.Ident) > 1 && t.Ident[0] == "$" {
			visit(t.Ident[1])
		}
	case *parse.ChainNode:
		walkFields(t.Node, visit)
	case *parse.IfNode:
		walkFields(t.Pipe, visit)
		walkFields(t.List, visit)
		walkFields(t.ElseList, visit)
	case *parse.RangeNode:
		walkFields(t.Pipe, visit)
		walkFields(t.List, visit)
		walkFields(t.ElseList, visit)
	case *parse.WithNode:
		walkFields(t.Pipe, visit)
		walkFields(t.List, visit)
		walkFields(t.ElseList, visit)
	case *parse.TemplateNode:
		walkFields(t.Pipe, visit)
	}
}
