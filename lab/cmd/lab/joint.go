package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/experiment"
	"github.com/schedlab/schedlab/lab/present"
)

// byConditionJSON is `lab select SPEC --json` for a spec with select.by.
type byConditionJSON struct {
	Experiment string `json:"experiment"`
	Hash       string `json:"experiment_hash"`
	analysis.ConditionsJSON
	Warnings []string `json:"warnings"`
}

// selectByCondition is `lab select` for a spec with select.by: one decision
// per condition, as a table and, for two condition parameters, a map.
func selectByCondition(env *cmdEnv, a *experiment.Analysis, asJSON bool) error {
	s, t, c := a.Spec, a.Table, a.Conditions
	if asJSON {
		w := append([]string{}, t.Warnings...)
		return writeJSON(env.stdout, byConditionJSON{Experiment: s.Name, Hash: s.Hash(), ConditionsJSON: c.JSON(), Warnings: w})
	}
	warn(env.stderr, t.Warnings)
	fmt.Fprintf(env.stdout, "experiment %s: %s chosen per condition (%s) over %d points × %d repeats\n\n",
		s.Name, strings.Join(c.Knobs, ", "), strings.Join(c.By, " × "), len(t.Points), len(t.Repeats))
	return writeConditions(env.stdout, c)
}

// writeConditions prints one row per condition — the decision, its effect
// on the score with the interval, and the old script's lowest score — then,
// for two condition parameters, the map of decisions.
func writeConditions(w io.Writer, c *analysis.Conditions) error {
	head := append(append([]string{}, c.By...), "decision", "verdict", "score vs baseline [95% CI]", "old script's lowest score", "why")
	body, changed := c.Rows(present.ChangeCI, whyShort)
	if err := writeLeft(w, append([][]string{head}, body...)); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d of %d conditions change %s from the baseline %s.\n", changed, len(c.Results), strings.Join(c.Knobs, ", "), c.Results[0].Significance.Baseline)
	if len(c.By) != 2 {
		return nil
	}
	// The map: first condition parameter down, second across.
	var ys, xs []float64
	cell := map[[2]float64]string{}
	for _, r := range c.Results {
		y, x := r.Values[0], r.Values[1]
		if len(ys) == 0 || ys[len(ys)-1] != y {
			ys = append(ys, y)
		}
		if !containsF(xs, x) {
			xs = append(xs, x)
		}
		d := r.Decision
		txt := "keep " + d.Point.String()
		if d.Verdict == analysis.Change {
			txt = d.Point.String() + " " + present.ChangeCI(r.Effect, r.EffectCI)
		}
		cell[[2]float64{y, x}] = txt
	}
	fmt.Fprintf(w, "\nmap of decisions (%s down, %s across; a change shows its score vs baseline):\n", c.By[0], c.By[1])
	m := [][]string{{c.By[0] + " \\ " + c.By[1]}}
	for _, x := range xs {
		m[0] = append(m[0], analysis.Point{x}.String())
	}
	for _, y := range ys {
		row := []string{analysis.Point{y}.String()}
		for _, x := range xs {
			v, ok := cell[[2]float64{y, x}]
			if !ok {
				v = "(no results)"
			}
			row = append(row, v)
		}
		m = append(m, row)
	}
	return writeLeft(w, m)
}

// writeJoint prints, for a sweep of two or more parameters, the score
// ratio to the baseline and the verdict over each grid through the
// decision, then each parameter's slice through it.
func writeJoint(w io.Writer, j *analysis.Joint) error {
	fmt.Fprintf(w, "\njoint decision: %s (baseline %s, lowest score %s)\n", pointNamed(j.Params, j.Decided), pointNamed(j.Params, j.Baseline), pointNamed(j.Params, j.Lowest))
	fmt.Fprintf(w, "decision: %s\n", j.Decision.Reason)
	fmt.Fprintln(w, "score vs baseline; verdict + better, - worse, = same, g: a guard blocks it; [D] decision, [B] baseline, [L] lowest score")
	for _, g := range j.Grids {
		title := g.Y + " (down) × " + g.X + " (across)"
		if l := analysis.Label(g.AtParams, g.At); l != "" {
			title += ", a slice " + l + " (the decision's values)"
		}
		fmt.Fprintf(w, "\n%s:\n", title)
		rows := [][]string{{g.Y + " \\ " + g.X}}
		for _, x := range g.XValues {
			rows[0] = append(rows[0], analysis.Point{x}.String())
		}
		for iy, y := range g.YValues {
			row := []string{analysis.Point{y}.String()}
			for _, c := range g.Cells[iy] {
				row = append(row, cellText(c))
			}
			rows = append(rows, row)
		}
		if err := writeLeft(w, rows); err != nil {
			return err
		}
	}
	for _, sl := range j.Slices {
		fmt.Fprintf(w, "\nslice along %s %s:\n", sl.Param, analysis.Label(sl.AtParams, sl.At))
		rows := [][]string{{sl.Param, "score", "score vs baseline [95% CI]", "verdict"}}
		for _, r := range sl.Rows {
			if !r.Present {
				rows = append(rows, []string{analysis.Point{r.Value}.String(), "(no results)", "", ""})
				continue
			}
			rows = append(rows, []string{analysis.Point{r.Value}.String() + marks(r.GridCell), strconv.FormatFloat(r.Score, 'f', 6, 64), present.ChangeCI(r.Ratio, r.CI), string(r.Verdict)})
		}
		if err := writeLeft(w, rows); err != nil {
			return err
		}
	}
	return nil
}

func cellText(c analysis.GridCell) string {
	if !c.Present {
		return "·"
	}
	v := map[analysis.Verdict]string{analysis.Better: "+", analysis.Worse: "-", analysis.Same: "="}[c.Verdict]
	if c.Blocked == analysis.BlockedGuardWorse || c.Blocked == analysis.BlockedGuardInconclusive {
		v += "g"
	}
	return present.Change(c.Ratio) + " " + v + marks(c)
}

// whyShort says in a few words why a condition's decision is what it is.
func whyShort(d *analysis.Decision) string {
	if d.Verdict == analysis.Change {
		if len(d.Blocked) > 0 {
			return fmt.Sprintf("significantly better, guards ok (%d better point(s) failed a guard)", len(d.Blocked))
		}
		return "significantly better, guards ok"
	}
	for _, b := range d.Blocked {
		switch b.Kind {
		case analysis.BlockedGuardWorse:
			return "better score rejected: " + guardNames(b.Guards) + " worse"
		case analysis.BlockedGuardInconclusive:
			return "better score, but " + guardNames(b.Guards) + " inconclusive"
		}
	}
	return "no point significantly better"
}

func guardNames(gs []analysis.GuardResult) string {
	var names []string
	for _, g := range gs {
		names = append(names, g.Guard.Metric+" "+g.Guard.Stat+" "+present.ChangeCI(g.Ratio, g.CI))
		if len(names) == 2 {
			break
		}
	}
	return strings.Join(names, ", ")
}

func marks(c analysis.GridCell) string {
	var m string
	if c.Decided {
		m += "D"
	}
	if c.Baseline {
		m += "B"
	}
	if c.Lowest {
		m += "L"
	}
	if m == "" {
		return ""
	}
	return " [" + m + "]"
}

func pointNamed(params []string, p analysis.Point) string {
	parts := make([]string, len(params))
	for i, n := range params {
		parts[i] = n + " = " + p[i:i+1].String()
	}
	return strings.Join(parts, ", ")
}

func containsF(xs []float64, v float64) bool {
	for _, x := range xs {
		if x == v {
			return true
		}
	}
	return false
}

// writeLeft writes rows as left-aligned columns separated by two spaces.
func writeLeft(w io.Writer, rows [][]string) error {
	width := map[int]int{}
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-len([]rune(c))))
			}
		}
		b.WriteByte('\n')
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}
