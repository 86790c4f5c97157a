package spec

import (
	"fmt"
	"math"
	"strings"

	"github.com/schedlab/schedlab/lab/metrics/source"
	"github.com/schedlab/schedlab/lab/sarathi"
)

// validateReader checks engine.exec.metrics and max_failed_share. A reader
// other than sarathi reads the files the command wrote into {{.OutputDir}},
// so it needs that mode (outputs: globs Sarathi's plots folders).
func (c *ExecConfig) validateReader(usesOut bool, add func(field, msg string)) {
	if c.Metrics != "" && !source.IsReader(c.Metrics) {
		add("metrics", fmt.Sprintf("unknown metrics reader %q; expected one of: %s", c.Metrics, strings.Join(source.Readers, ", ")))
	}
	if c.Reader() != source.Sarathi && source.IsReader(c.Metrics) && c.Outputs != "" {
		add("outputs", fmt.Sprintf("metrics %s reads the files the command writes into {{.OutputDir}}; outputs: only finds Sarathi plots folders: pass {{.OutputDir}} to the command instead", c.Metrics))
	}
	if v := c.MaxFailedShare; v != nil && !(*v >= 0 && *v <= 1) {
		add("max_failed_share", fmt.Sprintf("expected a fraction from 0 to 1 (e.g. 0.05 for 5%%), got %s", formatNum(*v)))
	}
	if c.MaxFailedShare != nil && c.Reader() == source.Sarathi {
		add("max_failed_share", "Sarathi's metric files do not record failed requests; max_failed_share applies to the vllm-bench, sglang-bench and csv readers")
	}
}

// WeightMetrics maps each score weight (its YAML key) to the metric its
// ratio is taken of, in the old script's ratio order.
var WeightMetrics = []struct{ Key, Metric string }{
	{"request", sarathi.RequestExecutionTime},
	{"request_exec_norm", sarathi.RequestExecutionTimeNormalized},
	{"prefill", sarathi.PrefillE2ETime},
	{"prefill_exec_norm", sarathi.PrefillExecPlusPreemptNorm},
	{"decode", sarathi.DecodeExecPlusPreemptNorm},
}

// Weight returns the weight of the given YAML key.
func (w Weights) Weight(key string) float64 {
	switch key {
	case "request":
		return w.Request
	case "request_exec_norm":
		return w.RequestExecNorm
	case "prefill":
		return w.Prefill
	case "prefill_exec_norm":
		return w.PrefillExecNorm
	case "decode":
		return w.Decode
	}
	return math.NaN()
}

// validateReaderWeights rejects a preset that weights a metric the exec
// engine's reader cannot observe: its score would rest on a number that
// does not exist. The error sits at the preset's weight field.
func validateReaderWeights(s *Spec, d *decoder, c *ExecConfig, report reportFunc) {
	un := source.Unavailable(c.Reader())
	if len(un) == 0 {
		return
	}
	for _, pr := range s.Select.Presets {
		for _, wm := range WeightMetrics {
			if pr.Weights.Weight(wm.Key) == 0 || !contains(un, wm.Metric) {
				continue
			}
			path := "$.select.presets." + pr.Name + "." + wm.Key
			what := fmt.Sprintf("preset %q", pr.Name)
			if pr.Name == DefaultPresetName && !d.has("$.select.presets") {
				path, what = "$.engine.exec.metrics", "the default preset (no select.presets given)"
			}
			report(path, "%s weights %s, which the %s reader cannot observe (a benchmark client does not see it); set this weight to 0 (metrics it provides: %s)",
				what, wm.Metric, c.Reader(), strings.Join(observable(un), ", "))
		}
	}
}

// observable are the weighted metrics not in un, as weight keys.
func observable(un []string) []string {
	var out []string
	for _, wm := range WeightMetrics {
		if !contains(un, wm.Metric) {
			out = append(out, wm.Key+" ("+wm.Metric+")")
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
