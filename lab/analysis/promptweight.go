package analysis

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/schedlab/schedlab/lab/internal/stats"
	"github.com/schedlab/schedlab/lab/present"
	"github.com/schedlab/schedlab/lab/sarathi"
)

// DefaultPromptWeight is the engine's default AGING prompt_weight (with
// time_weight 1) that derived weights are compared with.
const DefaultPromptWeight = -0.01

// PromptWeightStats are the statistics of seconds per prefill token that can
// be reported, in their reporting order.
var PromptWeightStats = []string{"mean", "median", "p80"}

// PromptWeightOptions configure SecondsPerPrefillToken.
type PromptWeightOptions struct {
	// Stats is a subset of PromptWeightStats (nil: all of them).
	Stats []string
}

// PromptWeightResult is the prompt_weight derivation for one
// configuration.
type PromptWeightResult struct {
	// Files are the prefill_time_execution_plus_preemption_normalized files
	// pooled, one per repeat.
	Files []string `json:"files"`
	// N is the number of pooled values (requests over all repeats).
	N int `json:"n"`
	// FileMeans are each file's own mean: the run-to-run spread, which the
	// request-level intervals do not see.
	FileMeans []float64          `json:"file_means"`
	Stats     []PromptWeightStat `json:"stats"`
	// Default is the engine default the derived weights are compared with.
	Default Weighting `json:"engine_default"`
	// Sorted holds the pooled values in ascending order (for CDF plots).
	Sorted []float64 `json:"-"`
}

// PromptWeightStat is one statistic of seconds per prefill token and the
// AGING weights it gives.
type PromptWeightStat struct {
	Stat string `json:"stat"` // mean, median or p80
	// Seconds is the statistic of seconds per prefill token.
	Seconds float64 `json:"seconds_per_token"`
	// CI95 is a 95% interval of the population's statistic: Student's t
	// for the mean, distribution-free order statistics for the median and
	// p80 (CIMethod).
	CI95 [2]float64 `json:"ci95"`
	// CIMethod is "t" or "order statistics".
	CIMethod string `json:"ci_method"`
	// CICoverage is the probability that CI95 covers the statistic: the
	// nominal 0.95 for t; for order statistics the exact binomial
	// coverage, at least 0.95 unless too few values to reach it.
	CICoverage float64 `json:"ci_coverage"`
	// TimeWeightOne is the convention time_weight = 1, prompt_weight = −s.
	TimeWeightOne Weighting `json:"time_weight_one"`
	// PromptWeightOne is the equivalent scaling time_weight = 1/s,
	// prompt_weight = −1 (same priority order).
	PromptWeightOne Weighting `json:"prompt_weight_minus_one"`
}

// Weighting is a pair of AGING weights:
// priority = time_weight·wait_seconds + prompt_weight·remaining_prompt_tokens.
type Weighting struct {
	TimeWeight   float64 `json:"time_weight"`
	PromptWeight float64 `json:"prompt_weight"`
}

// WeightingsFor are the two equivalent weightings (same ordering) that s
// seconds per prefill token gives: time_weight = 1 and
// prompt_weight = −s, or time_weight = 1/s and prompt_weight = −1.
func WeightingsFor(s float64) (timeWeightOne, promptWeightOne Weighting) {
	return Weighting{TimeWeight: 1, PromptWeight: -s}, Weighting{TimeWeight: 1 / s, PromptWeight: -1}
}

// SecondsPerToken is the s a weighting implies, −prompt_weight/time_weight:
// the engine default (1, −0.01) treats a prompt token as 0.01 s of waiting.
func (w Weighting) SecondsPerToken() float64 { return -w.PromptWeight / w.TimeWeight }

// SecondsPerPrefillToken pools
// prefill_time_execution_plus_preemption_normalized over files (the repeats
// of one configuration) and reports its mean, median and p80 — numpy-exact,
// as np.mean/np.median/np.percentile of the concatenated values — each with
// a 95% interval: Student's t for the mean, the distribution-free interval
// between two order statistics for the median and p80 (stats.TInterval,
// stats.QuantileRanks). Both are computed, not resampled: no seed, no
// Monte Carlo error. They treat requests as independent draws and so
// understate run-to-run variation; FileMeans show that spread.
func SecondsPerPrefillToken(files []string, opt PromptWeightOptions) (*PromptWeightResult, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("analysis: prompt_weight: no %s file to pool", sarathi.FileName(sarathi.PrefillExecPlusPreemptNorm))
	}
	stats := opt.Stats
	if stats == nil {
		stats = PromptWeightStats
	}
	for _, s := range stats {
		if !slices.Contains(PromptWeightStats, s) {
			return nil, fmt.Errorf("analysis: prompt_weight: unknown statistic %q (want mean, median or p80)", s)
		}
	}
	res := &PromptWeightResult{Files: slices.Clone(files),
		Default: Weighting{TimeWeight: 1, PromptWeight: DefaultPromptWeight}}
	var vals []float64
	for _, f := range files {
		start := len(vals)
		var err error
		vals, err = sarathi.AppendValues(vals, f, sarathi.PrefillExecPlusPreemptNorm)
		if err != nil {
			return nil, err
		}
		res.FileMeans = append(res.FileMeans, Mean(vals[start:]))
	}
	if len(vals) == 0 {
		return nil, fmt.Errorf("analysis: prompt_weight: %d files hold no value to pool (first: %s)", len(files), files[0])
	}
	res.N = len(vals)
	mean := Mean(vals) // before sorting: np.mean sums in file order
	sorted := vals
	slices.Sort(sorted)
	res.Sorted = sorted
	point := map[string]float64{"mean": mean, "median": Median(sorted), "p80": Percentile(sorted, 0.8)}
	for _, s := range stats {
		v := point[s]
		if v <= 0 {
			return nil, fmt.Errorf("analysis: prompt_weight: the %s of seconds per prefill token is %v: "+
				"it must be positive to give weights (files: %s …)", s, v, files[0])
		}
		st := PromptWeightStat{Stat: s, Seconds: v}
		st.TimeWeightOne, st.PromptWeightOne = WeightingsFor(v)
		st.CI95, st.CIMethod, st.CICoverage = promptWeightCI(s, sorted, mean)
		if math.IsInf(v, 0) || math.IsInf(st.CI95[0], 0) || math.IsInf(st.CI95[1], 0) {
			return nil, fmt.Errorf("analysis: prompt_weight: the %s of seconds per prefill token or its interval is beyond float64's range "+
				"(the %d pooled values are too large to sum; files: %s …)", s, len(sorted), files[0])
		}
		res.Stats = append(res.Stats, st)
	}
	return res, nil
}

// promptWeightLevel is the confidence level of the prompt_weight intervals.
const promptWeightLevel = 0.95

// promptWeightCI is the interval of statistic stat (mean, median or p80) of
// the population that sorted was drawn from, its method and its coverage.
func promptWeightCI(stat string, sorted []float64, mean float64) (ci [2]float64, method string, coverage float64) {
	if stat == "mean" {
		iv := stats.TInterval(sorted, mean, promptWeightLevel)
		return [2]float64{iv.Lo, iv.Hi}, "t", promptWeightLevel
	}
	q := 0.5
	if stat == "p80" {
		q = 0.8
	}
	lo, hi, coverage := stats.QuantileRanks(len(sorted), q, promptWeightLevel)
	return [2]float64{sorted[lo], sorted[hi]}, "order statistics", coverage
}

// CIMethods names the interval method of each statistic in r, for a
// caption: "t for the mean, order statistics for the median and p80".
func (r *PromptWeightResult) CIMethods() string {
	var methods []string
	byMethod := map[string][]string{}
	for _, s := range r.Stats {
		if byMethod[s.CIMethod] == nil {
			methods = append(methods, s.CIMethod)
		}
		byMethod[s.CIMethod] = append(byMethod[s.CIMethod], s.Stat)
	}
	parts := make([]string, len(methods))
	for i, m := range methods {
		parts[i] = m + " for the " + strings.Join(byMethod[m], " and ")
	}
	return strings.Join(parts, ", ")
}

// CINotes are the sentences a reader needs beside r's intervals: one per
// statistic whose interval covers less than 95% because r has too few
// values for a distribution-free 95% interval.
func (r *PromptWeightResult) CINotes() []string {
	var notes []string
	for _, s := range r.Stats {
		if s.CICoverage < promptWeightLevel {
			notes = append(notes, fmt.Sprintf("%d values are too few for a distribution-free 95%% interval of the %s: the interval shown covers it with probability %s",
				r.N, s.Stat, present.WholePercent(s.CICoverage)))
		}
	}
	return notes
}
