// Package spec parses, validates and expands experiment specs: the YAML files
// under experiments/ that declare an engine, a sweep, repeats, a seed, a
// baseline and how to select (lab help spec).
//
// The types here are the schema. Parse fills them from YAML and Validate
// reports every problem with file:line:col and what was expected.
package spec

import "time"

// Spec is one experiment.
type Spec struct {
	Name         string       `yaml:"name"`
	Description  string       `yaml:"description,omitempty"`
	Engine       Engine       `yaml:"engine"`
	Sweep        Sweep        `yaml:"sweep"`
	Repeats      int          `yaml:"repeats"`
	Seed         int64        `yaml:"seed"`
	Baseline     Point        `yaml:"baseline"`
	Select       Select       `yaml:"select"`
	PromptWeight PromptWeight `yaml:"prompt_weight"`

	// Path is the file the spec was read from ("" when parsed from bytes).
	Path string `yaml:"-"`
	// Source is the YAML text, kept for provenance and the report.
	Source []byte `yaml:"-"`

	// nodes are the positions of the fields in Source (set by Parse), for
	// ErrorAt.
	nodes map[string]nodeInfo
}

// ExecConfig runs the user's own benchmark command once per cell.
// Command elements and Env values are Go text/template strings over the
// cell's parameters by name ({{.min_chunk_threshold}}) plus .Repeat, .Seed
// and .OutputDir.
type ExecConfig struct {
	Workdir string            `yaml:"workdir,omitempty"`
	Command []string          `yaml:"command"`
	Env     map[string]string `yaml:"env,omitempty"`
	// Outputs is a glob, relative to Workdir, of the folder where the
	// command writes its plots when it does not take {{.OutputDir}}, e.g.
	// "offline_inference_output/*/replica_0/plots".
	Outputs string   `yaml:"outputs,omitempty"`
	Timeout Duration `yaml:"timeout,omitempty"`
	// Metrics names the reader that turns the command's output into the
	// metric files: sarathi (default: the command writes them itself),
	// vllm-bench, sglang-bench or csv (see lab/metrics).
	//
	// The json tags (here and on MaxFailedShare) omit the unset fields from
	// Spec.Hash's encoding, so experiments that do not use them keep their
	// hash.
	Metrics string `yaml:"metrics,omitempty" json:",omitempty"`
	// MaxFailedShare is the largest share of failed requests a cell may
	// have and still count (readers other than sarathi); nil means
	// DefaultMaxFailedShare.
	MaxFailedShare *float64 `yaml:"max_failed_share,omitempty" json:",omitempty"`
}

// DefaultMaxFailedShare is engine.exec.max_failed_share when unset: a cell
// with more than 5% failed requests fails, since its latencies describe
// only the requests that survived (a server that drops its slowest requests
// would otherwise look fast).
const DefaultMaxFailedShare = 0.05

// Reader is the metrics reader's name ("sarathi" when unset).
func (c *ExecConfig) Reader() string {
	if c.Metrics == "" {
		return "sarathi"
	}
	return c.Metrics
}

// FailedShareLimit is MaxFailedShare or its default.
func (c *ExecConfig) FailedShareLimit() float64 {
	if c.MaxFailedShare == nil {
		return DefaultMaxFailedShare
	}
	return *c.MaxFailedShare
}

// EngineKind implements EngineConfig.
func (*ExecConfig) EngineKind() string { return "exec" }

// Duration is a time.Duration written in YAML as "90s", "2h".
type Duration struct{ time.Duration }

// Param is one swept parameter and its values, in the order given.
type Param struct {
	Name   string
	Values []float64
}

// Sweep is the ordered list of swept parameters. Several parameters form a
// grid (their cartesian product). Order is the order in the YAML file.
type Sweep []Param

// Point assigns a value to each swept parameter, by name.
type Point map[string]float64

// Select configures the analysis.
type Select struct {
	// Aggregation is the headline aggregation across repeats: mean, median,
	// p90 or max (all four are always reported).
	Aggregation string `yaml:"aggregation,omitempty"`
	// Presets are weight presets, evaluated side by side, in file order.
	Presets []Preset `yaml:"-"`
	// Margin is the practical-significance margin for verdicts (fraction,
	// default 0.01).
	Margin float64 `yaml:"margin,omitempty"`
	// By names swept parameters that are conditions, not knobs: the
	// analysis makes one decision per combination of their values, over
	// the remaining swept parameters (see lab/docs/selection.md).
	By []string `yaml:"by,omitempty" json:"by,omitempty"`
	// Guards are the non-inferiority checks a point must pass to become
	// the decision (GuardList); NoGuards is `guards: none`.
	Guards   []Guard `yaml:"-" json:"guards,omitempty"`
	NoGuards bool    `yaml:"-" json:"no_guards,omitempty"`
}

// Preset is a named set of score weights.
type Preset struct {
	Name    string
	Weights Weights
}

// Weights of the five ratios in the score (lab help selection).
type Weights struct {
	Request         float64 `yaml:"request" json:"request"`
	Prefill         float64 `yaml:"prefill" json:"prefill"`
	PrefillExecNorm float64 `yaml:"prefill_exec_norm" json:"prefill_exec_norm"`
	RequestExecNorm float64 `yaml:"request_exec_norm" json:"request_exec_norm"`
	Decode          float64 `yaml:"decode" json:"decode"`
}

// DefaultWeights are the old script's defaults.
var DefaultWeights = Weights{Request: 0.35, Prefill: 0.35, PrefillExecNorm: 0.20, RequestExecNorm: 0.05, Decode: 0.05}

// PromptWeight configures the prompt_weight derivation (lab help selection).
type PromptWeight struct {
	Stats []string `yaml:"stats,omitempty"` // subset of mean, median, p80
}

// Cell is one unit of work: a sweep point and a repeat.
type Cell struct {
	Point  Point
	Repeat int   // 0-based
	Seed   int64 // the cell's seed, derived from the spec seed and the repeat
}
