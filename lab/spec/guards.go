package spec

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// Guard is one user-facing metric statistic that a candidate point must not
// make worse than the baseline (select.guards): Metric names a per-request
// metric file (prefill_e2e_time, request_e2e_time, …) and Stat one of
// GuardStats; the cell-level metric requests_per_second (throughput, from
// run_summary.json) takes no statistic.
type Guard struct {
	Metric string `yaml:"metric" json:"metric"`
	Stat   string `yaml:"stat" json:"stat"`
}

// GuardStats are the statistics a per-request guard metric may use.
var GuardStats = []string{"p50", "p95", "p99", "mean"}

// GuardThroughput is the cell-level guard metric: completed requests per
// second of makespan. Higher is better, so its non-inferiority bound is
// 1 − margin instead of 1 + margin.
const GuardThroughput = "requests_per_second"

// GuardThroughputStat is the statistic of the throughput guard: the cell's
// single value.
const GuardThroughputStat = "value"

// DefaultGuards are the guards of a spec without select.guards: TTFT p50,
// p95 and p99, end-to-end latency p95, the p99 of the per-request maximum
// time between tokens, scheduling delay p95 and throughput.
var DefaultGuards = []Guard{
	{"prefill_e2e_time", "p50"},
	{"prefill_e2e_time", "p95"},
	{"prefill_e2e_time", "p99"},
	{"request_e2e_time", "p95"},
	{"max_time_between_tokens", "p99"},
	{"request_scheduling_delay", "p95"},
	{GuardThroughput, GuardThroughputStat},
}

// GuardList is the guards the analysis checks: select.guards, none for
// `guards: none`, DefaultGuards when the field is absent.
func (s Select) GuardList() []Guard {
	switch {
	case s.NoGuards:
		return nil
	case s.Guards != nil:
		return s.Guards
	}
	return DefaultGuards
}

// decodeGuards reads select.guards: `none`, or a list of {metric, stat}.
func decodeGuards(d *decoder, sel *Select, e entry, path string) {
	p := path + ".guards"
	val := d.resolve(e.value)
	d.record(p, e.keyAt, val)
	if sc, ok := val.(*ast.StringNode); ok && sc.Value == "none" {
		sel.NoGuards = true
		return
	}
	if _, ok := val.(*ast.SequenceNode); !ok {
		d.failf(p, d.posOf(val), "%s: expected none or a list of {metric, stat} (e.g. - {metric: prefill_e2e_time, stat: p95}), got %s", fieldName(p), describe(val))
		return
	}
	d.decode(val, p, reflect.ValueOf(&sel.Guards).Elem())
	if sel.Guards == nil {
		sel.Guards = []Guard{}
	}
	for i := range sel.Guards {
		if g := &sel.Guards[i]; g.Metric == GuardThroughput && g.Stat == "" {
			g.Stat = GuardThroughputStat
		}
	}
}

// guardMetricName is what a per-request metric's file name may be.
var guardMetricName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// validateGuards checks select.guards (report skips what could not be
// decoded).
func validateGuards(s *Spec, report reportFunc) {
	if s.Select.Guards != nil && len(s.Select.Guards) == 0 {
		report("$.select.guards", "an empty list; give at least one {metric, stat}, or none to check no guard")
		return
	}
	seen := map[Guard]bool{}
	for i, g := range s.Select.Guards {
		p := fmt.Sprintf("$.select.guards[%d]", i)
		switch {
		case g.Metric == "":
			report(p, "missing metric: expected a metric file name such as prefill_e2e_time, or %s", GuardThroughput)
		case !guardMetricName.MatchString(g.Metric):
			report(p+".metric", "%q is not a metric name: expected the name of a per-request metric file (lower case, digits, _) such as prefill_e2e_time, or %s", g.Metric, GuardThroughput)
		case g.Metric == GuardThroughput && g.Stat != GuardThroughputStat:
			report(p+".stat", "%s is one value per cell: omit stat (or give %s), got %q", GuardThroughput, GuardThroughputStat, g.Stat)
		case g.Metric != GuardThroughput && !slices.Contains(GuardStats, g.Stat):
			report(p+".stat", "expected one of %s, got %q", strings.Join(GuardStats, ", "), g.Stat)
		case seen[g]:
			report(p, "guard %s %s is given twice", g.Metric, g.Stat)
		}
		seen[g] = true
	}
}
