// Package present formats the lab's numbers for people: percent changes,
// probabilities, p-values, intervals, sweep points and right-aligned text
// tables. The analysis' sentences, the lab command, the report and the
// notebooks all format through it, so a number reads the same wherever it
// is shown. It imports nothing of the lab: every layer may use it.
package present

import (
	"io"
	"math"
	"strconv"
	"strings"
)

// Change formats a ratio as a signed percent change with a true minus
// sign: one decimal ("−3.1%") from 1% on, two below ("−0.12%"), so that
// small effects do not all print as 0.0%. No change prints unsigned
// ("0.00%").
func Change(ratio float64) string { return ChangeN(ratio, ChangeDigits(ratio)) }

// ChangeDigits is the number of decimals for ratios printed together (an
// estimate and its interval): 2 when all are within 1% of 1, else 1.
func ChangeDigits(ratios ...float64) int {
	for _, r := range ratios {
		if math.Abs(r-1) >= 0.01 {
			return 1
		}
	}
	return 2
}

// ChangeN formats a ratio as a signed percent change with d decimals.
//
// A change of a million percent or more prints in e-notation ("+1.5e+08%")
// and an infinite one as "+∞%": a huge metric value must not print hundreds
// of digits or "+Inf". A ratio that is not a number prints as "–".
func ChangeN(ratio float64, d int) string {
	v := (ratio - 1) * 100
	if math.IsNaN(v) {
		return "–"
	}
	s := strconv.FormatFloat(math.Abs(v), 'f', d, 64)
	switch {
	case math.IsInf(v, 0):
		s = "∞"
	case math.Abs(v) >= 1e6:
		s = strconv.FormatFloat(math.Abs(v), 'g', 2, 64)
	}
	switch {
	case strings.Trim(s, "0.") == "":
		return s + "%"
	case v < 0:
		return "−" + s + "%"
	}
	return "+" + s + "%"
}

// ChangeCI formats a ratio and its interval as percent changes, all three
// with the decimals ChangeDigits gives them together: "−2.1% [−3.0%, −1.2%]".
// Without an interval (an end is not a number) it is Change(ratio).
func ChangeCI(ratio float64, ci [2]float64) string {
	if math.IsNaN(ci[0]) || math.IsNaN(ci[1]) {
		return Change(ratio)
	}
	d := ChangeDigits(ratio, ci[0], ci[1])
	return ChangeN(ratio, d) + " [" + ChangeN(ci[0], d) + ", " + ChangeN(ci[1], d) + "]"
}

// Percent formats a fraction with the digits it has: a margin or a
// confidence level ("1%", "0.5%", "95%").
func Percent(f float64) string { return strconv.FormatFloat(100*f, 'f', -1, 64) + "%" }

// WholePercent formats a probability as a whole percent ("87%").
func WholePercent(p float64) string { return strconv.FormatFloat(100*p, 'f', 0, 64) + "%" }

// PercentN formats a probability with d decimals ("87.50%"), for table
// columns whose values are compared with each other.
func PercentN(p float64, d int) string { return strconv.FormatFloat(100*p, 'f', d, 64) + "%" }

// PValue prints p with the digits that matter: 0.25, 0.062, 0.004, < 0.001.
func PValue(p float64) string {
	switch {
	case p < 0.001:
		return "< 0.001"
	case p < 0.1:
		return strconv.FormatFloat(p, 'f', 3, 64)
	}
	return strconv.FormatFloat(p, 'f', 2, 64)
}

// Num formats a number for text and tables: six significant digits, "–"
// for a number that does not exist (NaN: e.g. an interval from one pair).
func Num(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// Fixed formats v with d decimals, as the old script's tables do.
func Fixed(v float64, d int) string { return strconv.FormatFloat(v, 'f', d, 64) }

// Short formats v with 4 significant digits (prompt_weight tables).
func Short(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// Exact formats v in the shortest form that reads back exactly.
func Exact(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Interval formats [lo, hi] with Num, or "–" when it does not exist.
func Interval(iv [2]float64) string {
	if math.IsNaN(iv[0]) || math.IsNaN(iv[1]) {
		return "–"
	}
	return "[" + Num(iv[0]) + ", " + Num(iv[1]) + "]"
}

// Value formats one parameter value in the shortest form that reads back
// exactly; whole numbers are written out ("2000000", as the old script's
// pandas table prints a threshold, not "2e+06").
func Value(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e21 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// Point is a sweep point's values separated by commas ("6", "6,0.25").
func Point(p []float64) string {
	parts := make([]string, len(p))
	for i, v := range p {
		parts[i] = Value(v)
	}
	return strings.Join(parts, ",")
}

// PointName names a point in sentences: "min_chunk_threshold = 6", or for
// a grid "min_chunk_threshold = 4, prompt_weight = -0.01". params are the
// swept parameters in the point's order.
func PointName(params []string, p []float64) string {
	if len(params) != len(p) || len(p) <= 1 {
		return strings.Join(params, ",") + " = " + Point(p)
	}
	parts := make([]string, len(p))
	for i, v := range p {
		parts[i] = params[i] + " = " + Value(v)
	}
	return strings.Join(parts, ", ")
}

// PointValue is a point in lists after the parameter was named: "6", or
// for a grid "(4, -0.01)".
func PointValue(p []float64) string {
	if len(p) <= 1 {
		return Point(p)
	}
	return "(" + strings.ReplaceAll(Point(p), ",", ", ") + ")"
}

// PointList is "min_chunk_threshold = 4, 8" (a grid: "a, b = (1, 2), (3, 4)").
func PointList(params []string, ps [][]float64) string {
	vals := make([]string, len(ps))
	for i, p := range ps {
		vals[i] = PointValue(p)
	}
	return strings.Join(params, ", ") + " = " + strings.Join(vals, ", ")
}

// Capitalize upper-cases a sentence's first letter.
func Capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// WriteColumns writes right-aligned columns (each cols[i] is a header
// then its cells; all of the same length) joined by sep, without
// trailing blanks.
func WriteColumns(w io.Writer, cols [][]string, sep string) error {
	widths := make([]int, len(cols))
	for i, c := range cols {
		for _, s := range c {
			widths[i] = max(widths[i], len([]rune(s)))
		}
	}
	var b, line strings.Builder
	for row := range cols[0] {
		line.Reset()
		for i, c := range cols {
			if i > 0 {
				line.WriteString(sep)
			}
			line.WriteString(strings.Repeat(" ", widths[i]-len([]rune(c[row]))))
			line.WriteString(c[row])
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}
