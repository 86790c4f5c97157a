package analysis

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/schedlab/schedlab/lab/present"

	"github.com/schedlab/schedlab/lab/spec"
)

// SelectionJSON is the stable machine-readable form of a Selection:
// `lab select --json` prints it, the report's summary.json embeds
// it. Numbers are float64 at full precision (shortest round-trip form).
// Fields are only ever added, never renamed.
type SelectionJSON struct {
	// Preset and Param are set for selections of an experiment spec.
	Preset      string          `json:"preset,omitempty"`
	Param       string          `json:"param,omitempty"`
	Recommended PointJSON       `json:"recommended"`
	Baseline    PointJSON       `json:"baseline"`
	RunAgg      string          `json:"run_agg"`
	Runs        int             `json:"runs"`
	Weights     spec.Weights    `json:"weights"`
	Thresholds  []ThresholdJSON `json:"thresholds"`
	// SummaryJSON adds "conclusion", "significant" (and "power_note") when
	// the significance was computed (AddSignificance).
	*SummaryJSON
	// DecisionFieldsJSON adds "decision" and "lowest_score" (AddDecision).
	*DecisionFieldsJSON
}

// ThresholdJSON is one row of a selection.
type ThresholdJSON struct {
	Threshold PointJSON `json:"threshold"`
	Runs      int       `json:"runs"`
	RatiosJSON
	Score float64 `json:"score"`
	// RowJSON adds "score_ratio", "score_ratio_ci", "p_value", "verdict",
	// "win_probability", "ratio_ci" and "pairs" (AddSignificance).
	*RowJSON
	// Guards are the point's guard results (AddDecision).
	Guards []GuardJSON `json:"guards,omitempty"`
}

// PointJSON marshals a one-parameter point as a plain number (an integral
// value prints as an integer: 6, not 6.0) and a grid point as an array.
type PointJSON Point

// MarshalJSON implements json.Marshaler.
func (p PointJSON) MarshalJSON() ([]byte, error) {
	switch len(p) {
	case 0:
		return []byte("null"), nil
	case 1:
		return json.Marshal(p[0])
	}
	return json.Marshal([]float64(p))
}

// JSON returns the selection's stable JSON form.
func (s *Selection) JSON() SelectionJSON {
	out := SelectionJSON{
		Recommended: PointJSON(s.Recommended()),
		Baseline:    PointJSON(s.Baseline),
		RunAgg:      s.Agg,
		Runs:        s.Runs,
		Weights:     s.Weights,
		Thresholds:  make([]ThresholdJSON, len(s.Rows)),
	}
	for i, r := range s.Rows {
		out.Thresholds[i] = ThresholdJSON{Threshold: PointJSON(r.Point), Runs: r.Runs, RatiosJSON: r.Ratios.JSON(), Score: r.Score}
	}
	return out
}

// RatiosJSON is Ratios in JSON: a ratio of a metric the source cannot
// observe (NaN in Ratios) is null.
type RatiosJSON struct {
	Request         *float64 `json:"request_ratio"`
	RequestExecNorm *float64 `json:"request_exec_norm_ratio"`
	Prefill         *float64 `json:"prefill_ratio"`
	PrefillExecNorm *float64 `json:"prefill_exec_norm_ratio"`
	Decode          *float64 `json:"decode_ratio"`
}

// JSON returns r with NaN ratios as nil.
func (r Ratios) JSON() RatiosJSON {
	num := func(v float64) *float64 {
		if math.IsNaN(v) {
			return nil
		}
		return &v
	}
	return RatiosJSON{num(r.Request), num(r.RequestExecNorm), num(r.Prefill), num(r.PrefillExecNorm), num(r.Decode)}
}

// Ratios returns r with nil ratios (a metric the source cannot observe) as
// NaN: the inverse of Ratios.JSON.
func (r RatiosJSON) Ratios() Ratios {
	val := func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	return Ratios{Request: val(r.Request), RequestExecNorm: val(r.RequestExecNorm), Prefill: val(r.Prefill),
		PrefillExecNorm: val(r.PrefillExecNorm), Decode: val(r.Decode)}
}

// LegacyColumns are the old script's table columns, in its order.
var LegacyColumns = []string{"runs", "request_ratio", "request_exec_norm_ratio", "prefill_ratio",
	"prefill_exec_norm_ratio", "decode_ratio", "score"}

// WriteTable prints the selection's rows the way the old script's pandas
// DataFrame printed (DataFrame.to_string(index=False) with six decimals):
// every column right-aligned to the wider of its values and its name
// (which, being numeric, pandas prefixes with a space), columns separated by
// one space. The first column is the swept parameter.
func WriteTable(w io.Writer, s *Selection) error {
	header := append([]string{s.Param}, LegacyColumns...)
	cols := make([][]string, len(header))
	for i, h := range header {
		cols[i] = append(cols[i], " "+h)
	}
	for _, r := range s.Rows {
		cols[0] = append(cols[0], r.Point.String())
		cols[1] = append(cols[1], strconv.Itoa(r.Runs))
		for j, v := range []float64{r.Ratios.Request, r.Ratios.RequestExecNorm, r.Ratios.Prefill,
			r.Ratios.PrefillExecNorm, r.Ratios.Decode, r.Score} {
			cols[2+j] = append(cols[2+j], present.Fixed(v, 6))
		}
	}
	return present.WriteColumns(w, cols, " ")
}

// WriteRecommendation prints the line that follows the table.
func WriteRecommendation(w io.Writer, s *Selection) error {
	best := s.Rows[s.Best]
	base := "smallest"
	if s.Baseline != nil {
		base = s.Baseline.String()
	}
	_, err := fmt.Fprintf(w, "Recommended %s: %s (score %.6f, run_agg=%s, baseline=%s, runs=%d)\n",
		s.Param, best.Point, best.Score, s.Agg, base, s.Runs)
	return err
}

// WriteSideBySide prints selections of the same table (e.g. SelectAll's)
// grouped by preset: for each preset one row per point and one score column
// per aggregation, the chosen point of each column marked with "*".
func WriteSideBySide(w io.Writer, sels []*Selection) error {
	for start := 0; start < len(sels); {
		end := start
		for end < len(sels) && sels[end].Preset == sels[start].Preset {
			end++
		}
		group := sels[start:end]
		g := group[0]
		wt := g.Weights
		if _, err := fmt.Fprintf(w, "preset %s (request %g, prefill %g, prefill_exec_norm %g, request_exec_norm %g, decode %g)\n",
			g.Preset, wt.Request, wt.Prefill, wt.PrefillExecNorm, wt.RequestExecNorm, wt.Decode); err != nil {
			return err
		}
		cols := [][]string{{g.Param}, {"runs"}}
		for _, s := range group {
			cols = append(cols, []string{"score(" + s.Agg + ")"})
		}
		// Points are the union over the group (each selection has the same
		// table, so the same rows).
		for i, r := range g.Rows {
			cols[0] = append(cols[0], r.Point.String())
			cols[1] = append(cols[1], strconv.Itoa(r.Runs))
			for j, s := range group {
				mark := " "
				if s.Best == i {
					mark = "*"
				}
				cols[2+j] = append(cols[2+j], present.Fixed(s.Rows[i].Score, 6)+mark)
			}
		}
		for j := range group {
			cols[2+j][0] += " "
		}
		if err := present.WriteColumns(w, cols, "  "); err != nil {
			return err
		}
		var picks []string
		for _, s := range group {
			picks = append(picks, fmt.Sprintf("%s → %s", s.Agg, s.Recommended()))
		}
		if _, err := fmt.Fprintf(w, "lowest score: %s\n\n", strings.Join(picks, ", ")); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// WritePromptWeight prints a prompt_weight result as a small table.
func WritePromptWeight(w io.Writer, title string, r *PromptWeightResult) error {
	if _, err := fmt.Fprintf(w, "%s: seconds per prefill token over %d requests in %d files, 95%% CI (%s)\n",
		title, r.N, len(r.Files), r.CIMethods()); err != nil {
		return err
	}
	cols := [][]string{{"stat"}, {"s/token"}, {"95% CI"}, {"time_weight=1: prompt_weight"}, {"prompt_weight=-1: time_weight"}}
	for _, s := range r.Stats {
		cols[0] = append(cols[0], s.Stat)
		cols[1] = append(cols[1], present.Short(s.Seconds))
		cols[2] = append(cols[2], "["+present.Short(s.CI95[0])+", "+present.Short(s.CI95[1])+"]")
		cols[3] = append(cols[3], present.Short(s.TimeWeightOne.PromptWeight))
		cols[4] = append(cols[4], present.Short(s.PromptWeightOne.TimeWeight))
	}
	if err := present.WriteColumns(w, cols, "  "); err != nil {
		return err
	}
	means := make([]string, len(r.FileMeans))
	for i, m := range r.FileMeans {
		means[i] = present.Short(m)
	}
	if _, err := fmt.Fprintf(w, "per-run means: %s\nengine default: time_weight=1, prompt_weight=%g\n",
		strings.Join(means, " "), r.Default.PromptWeight); err != nil {
		return err
	}
	for _, note := range r.CINotes() {
		if _, err := fmt.Fprintf(w, "note: %s\n", note); err != nil {
			return err
		}
	}
	return nil
}
