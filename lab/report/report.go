package report

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/internal/fsutil"
	"github.com/schedlab/schedlab/lab/spec"
)

// Input is everything a report shows. The lab command fills it from a spec
// and a store (lab/cmd/lab/report.go); tests and notebooks may fill it from
// a legacy tree. Every number in it was computed by lab/analysis.
type Input struct {
	// Name is the experiment's name: the report's folder under reports/.
	Name        string
	Description string
	// Spec is the experiment (nil for a table read from a legacy tree).
	Spec *spec.Spec
	// Hash is the experiment's hash (spec.Spec.Hash), "" when unknown.
	Hash string
	// Engine is the engine kind; EngineConfig its resolved configuration
	// (engine.Engine.Identity, as indented JSON).
	Engine       string
	EngineConfig string

	// Table holds the per-cell summaries; Selections the results of
	// analysis.SelectAll over it (every preset × every aggregation, preset
	// by preset). Headline picks the selection the report leads with.
	Table      *analysis.Table
	Selections []*analysis.Selection
	Headline   Headline

	// Significance is the headline selection's comparison with the
	// baseline (analysis.Selection.Significance); nil leaves the
	// statistics section out.
	Significance *analysis.Significance
	// NoStatistics says why Significance is nil when the statistics could
	// not be computed (analysis.ErrNotPositive: weights that make a score
	// non-positive); the choice section and the warnings show it.
	NoStatistics string

	// Decision is the headline selection's decision (analysis.Decide with
	// the spec's guards, or analysis.NoStatisticsDecision), which the page
	// leads with. nil: Write computes it from Table, the headline
	// selection and Significance with the spec's guards (the default
	// guards without a spec).
	Decision *analysis.Decision

	// PromptWeight is the prompt_weight derivation (analysis.
	// SecondsPerPrefillToken) at the decided point, pooled over its
	// repeats; nil leaves the prompt_weight section out.
	PromptWeight *analysis.PromptWeightResult
	// Confirmation is the prompt_weight confirmation when it has run
	// (nil: ConfirmationNote says why there is none, "" to say nothing).
	Confirmation     *Confirmation
	ConfirmationNote string

	// Counters are the scheduler's counters per point (sim and gpu
	// engines), in point order; nil leaves their section out.
	Counters []PointCounters

	// Joint lays the headline selection out over the grid of a sweep of
	// two or more parameters (analysis.NewJoint); nil leaves the grid
	// section out. Conditions are the per-condition decisions of a spec
	// with select.by (analysis.ByCondition); nil leaves that section out.
	Joint      *analysis.Joint
	Conditions *analysis.Conditions

	// Cells counts the experiment's cells by state; FailedCells describe
	// the failed ones ("min_chunk_threshold=6 repeat 2: exit status 1").
	Cells       CellCounts
	FailedCells []string
	// Hosts and GPUs seen in the cells' records, sorted, without repeats.
	Hosts []string
	GPUs  []string

	LabVersion string
	// VCSCommit is the revision the lab was built from ("+dirty" with
	// local changes) and GoVersion the Go release it was built with; with
	// the spec, the hash and the engine identity they are summary.json's
	// "reproduce" block ("" when unknown).
	VCSCommit string
	GoVersion string
	// Deterministic says the engine's outputs depend only on the spec and
	// its seed (the simulator): a re-run must give every number bit for
	// bit; otherwise within the statistics.
	Deterministic bool
	// Generated is the date printed in the page and summary.json; the zero
	// time prints as "unknown" (tests fix it to keep outputs comparable).
	Generated time.Time
}

// Headline names the selection the report leads with: the spec's first
// preset under its configured aggregation.
type Headline struct {
	Preset      string
	Aggregation string
}

// CellCounts counts an experiment's cells by state.
type CellCounts struct {
	Total   int `json:"total"`
	OK      int `json:"ok"`
	Failed  int `json:"failed"`
	Missing int `json:"missing"`
}

// Files are the names Write creates in its folder.
const (
	HTMLFile    = "index.html"
	JSONFile    = "summary.json"
	CSVFile     = "summary.csv"
	DefaultRoot = "reports"
)

// Dir is the report folder of experiment name under root (DefaultRoot when
// root is "").
func Dir(root, name string) string {
	if root == "" {
		root = DefaultRoot
	}
	return filepath.Join(root, name)
}

// Write writes index.html, summary.json and summary.csv into dir (created
// if needed), and the paper figures and tables into dir/figures and
// dir/tables (WritePaper). The three summary and page files are written to
// temporary names first and renamed into place only when all are written,
// so a failure (a full disk) leaves the previous page and summaries whole,
// never half old and half new, and a reader never sees half a file.
func Write(dir string, in *Input) error {
	if err := in.check(); err != nil {
		return err
	}
	var html, js, csv bytes.Buffer
	if err := RenderHTML(&html, in); err != nil {
		return err
	}
	sum := buildSummary(in)
	if err := sum.writeJSON(&js); err != nil {
		return err
	}
	if err := sum.writeCSV(&csv); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	err := fsutil.WriteFilesAtomic([]fsutil.File{
		{Path: filepath.Join(dir, JSONFile), Data: js.Bytes()},
		{Path: filepath.Join(dir, CSVFile), Data: csv.Bytes()},
		{Path: filepath.Join(dir, HTMLFile), Data: html.Bytes()},
	})
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return WritePaper(dir, sum)
}

func (in *Input) check() error {
	switch {
	case in == nil:
		return errors.New("report: no input")
	case in.Name == "":
		return errors.New("report: the experiment has no name")
	case in.Table == nil || len(in.Table.Points) == 0:
		return fmt.Errorf("report %s: no results to report (no sweep point has a result)", in.Name)
	case len(in.Selections) == 0:
		return fmt.Errorf("report %s: no selection to report", in.Name)
	}
	if in.headline() == nil {
		return fmt.Errorf("report %s: no selection for preset %q with aggregation %q", in.Name, in.Headline.Preset, in.Headline.Aggregation)
	}
	if in.Significance != nil && len(in.Significance.Points) != len(in.headline().Rows) {
		return fmt.Errorf("report %s: the significance has %d points, the headline selection %d rows", in.Name, len(in.Significance.Points), len(in.headline().Rows))
	}
	if in.Decision == nil {
		if err := in.decide(); err != nil {
			return fmt.Errorf("report %s: decision: %w", in.Name, err)
		}
	}
	if len(in.Decision.Guards.Points) != len(in.headline().Rows) {
		return fmt.Errorf("report %s: the decision has %d points, the headline selection %d rows", in.Name, len(in.Decision.Guards.Points), len(in.headline().Rows))
	}
	if in.PromptWeight != nil && len(in.PromptWeight.Sorted) == 0 {
		return fmt.Errorf("report %s: the prompt_weight result holds no values", in.Name)
	}
	for i, s := range in.Selections {
		if len(s.Repeats) != len(in.Table.Repeats) {
			return fmt.Errorf("report %s: selection %d (%s, %s) has %d repeats, the table %d", in.Name, i, s.Preset, s.Agg, len(s.Repeats), len(in.Table.Repeats))
		}
	}
	return nil
}

// headline returns the headline selection: the one named by in.Headline,
// or the first when Headline is empty.
func (in *Input) headline() *analysis.Selection {
	if in.Headline == (Headline{}) {
		return in.Selections[0]
	}
	for _, s := range in.Selections {
		if s.Preset == in.Headline.Preset && s.Agg == in.Headline.Aggregation {
			return s
		}
	}
	return nil
}

func generatedString(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// decide fills in.Decision when the caller left it out.
func (in *Input) decide() error {
	h := in.headline()
	if in.Significance == nil {
		why := in.NoStatistics
		if why == "" {
			why = "no statistics"
		}
		in.Decision = analysis.NoStatisticsDecision(h, why)
		return nil
	}
	guards := spec.DefaultGuards
	if in.Spec != nil {
		guards = in.Spec.Select.GuardList()
	}
	d, err := analysis.Decide(in.Table, h, in.Significance, guards)
	in.Decision = d
	return err
}
