package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"strconv"

	"github.com/schedlab/schedlab/lab/analysis"
)

// SummarySchema names the layout of summary.json. Fields are only ever
// added under the same name; a change that renames or removes one changes
// the schema name.
const SummarySchema = "schedlab.report.summary/v1"

// Summary is the content of summary.json: the report's numbers for
// machines, at full float64 precision (the page rounds them).
type Summary struct {
	Schema      string           `json:"schema"`
	Experiment  string           `json:"experiment"`
	Description string           `json:"description,omitempty"`
	Hash        string           `json:"hash,omitempty"`
	Engine      string           `json:"engine,omitempty"`
	Param       string           `json:"param"`
	Params      []string         `json:"params"`
	Points      []analysis.Point `json:"points"`
	// Baseline is the configured baseline point (null: each repeat's
	// smallest point).
	Baseline analysis.Point `json:"baseline"`
	Repeats  []string       `json:"repeats"`
	Cells    CellCounts     `json:"cells"`
	Headline HeadlineJSON   `json:"headline"`
	// Agree is true when every preset × aggregation chooses the same point.
	Agree      bool               `json:"agree"`
	Selections []SelectionSummary `json:"selections"`
	// Statistics are the options of the headline statistics (absent
	// without statistics).
	Statistics *StatisticsOptions `json:"statistics,omitempty"`
	// PromptWeight is the prompt_weight derivation at the decided point.
	PromptWeight *PromptWeightSummary `json:"prompt_weight,omitempty"`
	// DecisionFieldsJSON adds "decision" (the page's headline) and
	// "lowest_score" (the old script's choice, which "headline" also
	// holds).
	*analysis.DecisionFieldsJSON
	// Confirmation is the prompt_weight confirmation (Input.Confirmation)
	// when it has run; ConfirmationNote why there is none.
	Confirmation     any    `json:"prompt_weight_confirmation,omitempty"`
	ConfirmationNote string `json:"prompt_weight_confirmation_note,omitempty"`
	// Joint is the grid analysis of a sweep of two or more parameters.
	Joint *analysis.JointJSON `json:"joint,omitempty"`
	// By and Conditions are the per-condition decisions (select.by).
	By         []string                 `json:"by,omitempty"`
	Conditions []analysis.ConditionJSON `json:"conditions,omitempty"`
	// CellSummaries are the per-cell numbers the selection starts from, for
	// every present cell, points in order, repeats inner.
	CellSummaries []CellSummaryJSON `json:"cell_summaries"`
	FailedCells   []string          `json:"failed_cells"`
	Warnings      []string          `json:"warnings"`
	LabVersion    string            `json:"lab_version,omitempty"`
	Generated     string            `json:"generated"`

	// SchedulerCounters are the scheduler's mean counters per point (sim
	// and gpu engines only).
	SchedulerCounters []PointCounters `json:"scheduler_counters,omitempty"`

	// Reproduce is what `lab reproduce` needs to get these numbers again
	// (absent for a report of a legacy tree, which has no spec).
	Reproduce *Reproduce `json:"reproduce,omitempty"`
}

// Reproduce is the provenance of a report: the experiment (the spec's
// text, so no file has to be kept beside the report), the lab and Go that
// built it, the engine's identity (for the simulator its performance
// model's profile digest and its workload; for the gpu engine the worker's
// digest, torch and CUDA versions) and the hosts and GPUs the cells ran on.
type Reproduce struct {
	Spec       string `json:"spec"`
	SpecPath   string `json:"spec_path,omitempty"`
	Hash       string `json:"hash"`
	LabVersion string `json:"lab_version,omitempty"`
	VCSCommit  string `json:"vcs_commit,omitempty"`
	GoVersion  string `json:"go_version,omitempty"`
	// Engine is engine.Engine.Identity as JSON.
	Engine        json.RawMessage `json:"engine,omitempty"`
	Deterministic bool            `json:"deterministic"`
	Hosts         []string        `json:"hosts"`
	GPUs          []string        `json:"gpus"`
}

// HeadlineJSON is the headline selection and its lowest score (the old
// script's choice; the decision is Summary's "decision").
type HeadlineJSON struct {
	Preset      string         `json:"preset"`
	Aggregation string         `json:"aggregation"`
	Point       analysis.Point `json:"point"`
	Score       float64        `json:"score"`
	// BaselineScore is the score at the configured baseline (absent when
	// there is none or it has no result).
	BaselineScore *float64 `json:"baseline_score,omitempty"`
}

// SelectionSummary is one preset × aggregation: analysis' stable
// selection object (the one `lab select --json` prints) with, per point,
// whether it is the choice and — for the headline selection when
// statistics were computed — the comparison with the baseline.
type SelectionSummary struct {
	analysis.SelectionJSON
	// FellBack names the repeats that lack the baseline.
	FellBack []string `json:"fell_back"`
	// Thresholds replaces the embedded rows with rows that carry more.
	Thresholds []RowSummary `json:"thresholds"`
	// The statistics' conclusion (headline selection only).
	*analysis.SummaryJSON
}

// RowSummary is one point of a selection.
type RowSummary struct {
	analysis.ThresholdJSON
	Chosen bool `json:"chosen"`
	*analysis.RowJSON
	// PerRepeat (headline selection only) is each repeat's own ratios and
	// score at this point, in the order of Summary.Repeats (null where the
	// repeat lacks the point): the normalization step the figures draw.
	PerRepeat []*RepeatRatiosJSON `json:"per_repeat,omitempty"`
}

// RepeatRatiosJSON is one repeat's ratios to its baseline at one point.
type RepeatRatiosJSON struct {
	analysis.RatiosJSON
	Score float64 `json:"score"`
}

// StatisticsOptions are the settings the headline statistics were
// computed with (analysis.SignificanceOptions after defaults).
type StatisticsOptions struct {
	Alpha        float64 `json:"alpha"`
	Margin       float64 `json:"margin"`
	Level        float64 `json:"level"`
	Resamples    int     `json:"resamples"`
	WinResamples int     `json:"win_resamples"`
	Seed         uint64  `json:"seed"`
}

// PromptWeightSummary is analysis' prompt_weight result with the point
// it was measured at and the CDF the page draws.
type PromptWeightSummary struct {
	Point analysis.PointJSON `json:"point"`
	*analysis.PromptWeightResult
	// Quantiles are the pooled values at q = 0, 0.005, …, 1 (the CDF the
	// page draws), so a plot can be redrawn without the raw files.
	Quantiles []float64 `json:"quantiles"`
}

// CellSummaryJSON is one cell's summary.
type CellSummaryJSON struct {
	Point  analysis.Point `json:"point"`
	Repeat string         `json:"repeat"`
	analysis.CellNumbersJSON
}

// BuildSummary returns the summary of in: what Write writes to
// summary.json.
func BuildSummary(in *Input) (*Summary, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	return buildSummary(in), nil
}

// JSON returns the summary as Write writes it.
func (s *Summary) JSON() ([]byte, error) {
	var b bytes.Buffer
	err := s.writeJSON(&b)
	return b.Bytes(), err
}

func buildSummary(in *Input) *Summary {
	t := in.Table
	h := in.headline()
	s := &Summary{
		Schema:      SummarySchema,
		Experiment:  in.Name,
		Description: in.Description,
		Hash:        in.Hash,
		Engine:      in.Engine,
		Param:       t.Param,
		Params:      nonNil(t.Params),
		Points:      t.Points,
		Baseline:    h.Baseline,
		Repeats:     nonNil(t.Repeats),
		Cells:       in.Cells,
		FailedCells: nonNil(in.FailedCells),
		Warnings:    nonNil(slices.Clone(t.Warnings)),
		LabVersion:  in.LabVersion,
		Generated:   generatedString(in.Generated),
	}
	s.SchedulerCounters = in.Counters
	if in.Significance == nil && in.NoStatistics != "" {
		s.Warnings = append(s.Warnings, in.NoStatistics)
	}
	if in.Spec != nil && len(in.Spec.Source) > 0 {
		r := &Reproduce{Spec: string(in.Spec.Source), SpecPath: in.Spec.Path, Hash: in.Hash, LabVersion: in.LabVersion,
			VCSCommit: in.VCSCommit, GoVersion: in.GoVersion, Deterministic: in.Deterministic,
			Hosts: nonNil(in.Hosts), GPUs: nonNil(in.GPUs)}
		var id bytes.Buffer
		if in.EngineConfig != "" && json.Compact(&id, []byte(in.EngineConfig)) == nil {
			r.Engine = id.Bytes()
		}
		s.Reproduce = r
	}
	dec := in.Decision
	s.Warnings = append(s.Warnings, dec.Warnings...)
	df := dec.JSON()
	s.DecisionFieldsJSON = &df
	if in.Confirmation != nil {
		s.Confirmation = in.Confirmation.JSON
	}
	s.ConfirmationNote = in.ConfirmationNote
	best := h.Rows[h.Best]
	s.Headline = HeadlineJSON{Preset: h.Preset, Aggregation: h.Agg, Point: best.Point, Score: best.Score}
	if in.Joint != nil {
		j := in.Joint.JSON()
		s.Joint = &j
	}
	if in.Conditions != nil {
		cj := in.Conditions.JSON()
		s.By, s.Conditions = cj.By, cj.Conditions
	}
	if bi := rowIndex(h, h.Baseline); bi >= 0 {
		v := h.Rows[bi].Score
		s.Headline.BaselineScore = &v
	}
	s.Agree = true
	for _, sel := range in.Selections {
		if sel.Recommended().Compare(h.Recommended()) != 0 {
			s.Agree = false
		}
		js := SelectionSummary{SelectionJSON: sel.JSON(), FellBack: nonNil(sel.FellBack)}
		js.Preset, js.Param = sel.Preset, sel.Param
		var sig *analysis.Significance
		if sel == h && in.Significance != nil {
			sig = in.Significance
			sj := sig.SummaryJSON()
			js.SummaryJSON = &sj
			o := sig.Options
			s.Statistics = &StatisticsOptions{Alpha: o.Alpha, Margin: o.Margin, Level: o.Level,
				Resamples: o.Resamples, WinResamples: o.WinResamples, Seed: o.Seed}
		}
		for i, r := range js.SelectionJSON.Thresholds {
			if sel == h {
				r.Guards = dec.GuardsJSON(i)
			}
			row := RowSummary{ThresholdJSON: r, Chosen: i == sel.Best}
			if sig != nil {
				rj := sig.RowJSON(i)
				row.RowJSON = &rj
			}
			if sel == h {
				row.PerRepeat = perRepeat(sel.Rows[i])
			}
			js.Thresholds = append(js.Thresholds, row)
		}
		js.SelectionJSON.Thresholds = nil
		s.Selections = append(s.Selections, js)
	}
	if pw := in.PromptWeight; pw != nil {
		s.PromptWeight = &PromptWeightSummary{Point: analysis.PointJSON(dec.Point), PromptWeightResult: pw, Quantiles: cdf(pw.Sorted)}
	}
	s.CellSummaries = []CellSummaryJSON{}
	for p, pt := range t.Points {
		for r, name := range t.Repeats {
			if c := t.Cells[r][p]; c.Present {
				s.CellSummaries = append(s.CellSummaries, CellSummaryJSON{Point: pt, Repeat: name, CellNumbersJSON: c.Summary.JSON()})
			}
		}
	}
	return s
}

func perRepeat(r analysis.Row) []*RepeatRatiosJSON {
	out := make([]*RepeatRatiosJSON, len(r.PerRepeat))
	for k, rr := range r.PerRepeat {
		if rr.Present {
			out[k] = &RepeatRatiosJSON{RatiosJSON: rr.Ratios.JSON(), Score: rr.Score}
		}
	}
	return out
}

func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

func (s *Summary) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// writeCSV writes one row per preset × aggregation × point: the aggregated
// ratios, the score and whether the point is that selection's choice.
// Numbers are in the shortest form that reads back to the same float64.
func (s *Summary) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	header := []string{"preset", "aggregation"}
	header = append(header, s.Params...)
	header = append(header, "runs", "request_ratio", "request_exec_norm_ratio", "prefill_ratio",
		"prefill_exec_norm_ratio", "decode_ratio", "score", "chosen")
	if err := cw.Write(header); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	// fp: a ratio the source cannot observe is an empty field.
	fp := func(v *float64) string {
		if v == nil {
			return ""
		}
		return f(*v)
	}
	for _, sel := range s.Selections {
		for _, r := range sel.Thresholds {
			rec := []string{sel.Preset, sel.RunAgg}
			for _, v := range r.Threshold {
				rec = append(rec, f(v))
			}
			rec = append(rec, strconv.Itoa(r.Runs), fp(r.Request), fp(r.RequestExecNorm), fp(r.Prefill),
				fp(r.PrefillExecNorm), fp(r.Decode), f(r.Score), strconv.FormatBool(r.Chosen))
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// cdf returns the values of sorted at cdfQuantiles evenly spaced
// quantiles (numpy's linear interpolation).
func cdf(sorted []float64) []float64 {
	out := make([]float64, cdfQuantiles)
	for i := range out {
		out[i] = analysis.Percentile(sorted, float64(i)/float64(cdfQuantiles-1))
	}
	return out
}
