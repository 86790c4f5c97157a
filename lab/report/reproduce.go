package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/schedlab/schedlab/lab/analysis"
)

// reproduceSkips are the summary.json fields that say when, where or with
// which build a report was made, not what it found: DiffSummaries does not
// compare them.
var reproduceSkips = map[string]bool{
	"generated":           true,
	"lab_version":         true,
	"reproduce":           true,
	"prompt_weight.files": true,
}

// DiffSummaries compares two summary.json documents field by field:
// every number must be the same float64 (compared as the shortest
// round-trip text Write prints, so equal text means equal bits) and every
// string and list length the same, except the fields that only say when,
// where or with which build a report was made (generated, lab_version,
// reproduce, prompt_weight.files). It returns how many numbers were
// compared and one line per difference ("selections[0].thresholds[3].score:
// 0.99 in the report, 0.98 now").
func DiffSummaries(want, got []byte) (numbers int, diffs []string, err error) {
	decode := func(b []byte) (any, error) {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var v any
		err := d.Decode(&v)
		return v, err
	}
	w, err := decode(want)
	if err != nil {
		return 0, nil, fmt.Errorf("the report's summary: %w", err)
	}
	g, err := decode(got)
	if err != nil {
		return 0, nil, fmt.Errorf("the new summary: %w", err)
	}
	var walk func(path string, w, g any)
	walk = func(path string, w, g any) {
		if reproduceSkips[path] {
			return
		}
		switch wv := w.(type) {
		case map[string]any:
			gv, ok := g.(map[string]any)
			if !ok {
				diffs = append(diffs, fmt.Sprintf("%s: an object in the report, %s now", path, short(g)))
				return
			}
			for _, k := range sortedKeys(wv, gv) {
				p := k
				if path != "" {
					p = path + "." + k
				}
				wx, inW := wv[k]
				gx, inG := gv[k]
				switch {
				case reproduceSkips[p]:
				case !inG:
					diffs = append(diffs, fmt.Sprintf("%s: in the report, missing now", p))
				case !inW:
					diffs = append(diffs, fmt.Sprintf("%s: not in the report, %s now", p, short(gx)))
				default:
					walk(p, wx, gx)
				}
			}
		case []any:
			gv, ok := g.([]any)
			if !ok || len(gv) != len(wv) {
				diffs = append(diffs, fmt.Sprintf("%s: %s in the report, %s now", path, short(w), short(g)))
				return
			}
			for i := range wv {
				walk(fmt.Sprintf("%s[%d]", path, i), wv[i], gv[i])
			}
		case json.Number:
			numbers++
			if gv, ok := g.(json.Number); !ok || gv != wv {
				diffs = append(diffs, fmt.Sprintf("%s: %s in the report, %s now", path, wv, short(g)))
			}
		default:
			if fmt.Sprint(w) != fmt.Sprint(g) {
				diffs = append(diffs, fmt.Sprintf("%s: %s in the report, %s now", path, short(w), short(g)))
			}
		}
	}
	walk("", w, g)
	return numbers, diffs, nil
}

func sortedKeys(a, b map[string]any) []string {
	seen := map[string]bool{}
	var ks []string
	for _, m := range []map[string]any{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				ks = append(ks, k)
			}
		}
	}
	slices.Sort(ks)
	return ks
}

// short prints a JSON value in a difference line.
func short(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case []any:
		return fmt.Sprintf("a list of %d", len(x))
	case map[string]any:
		return "an object"
	case string:
		if len(x) > 60 {
			x = x[:57] + "..."
		}
		return strconv.Quote(x)
	}
	return fmt.Sprint(v)
}

// WithinStatistics compares a re-run of an engine that is not
// deterministic with its report: the statistics must reach the same
// decision (significant or not; if significant, the same point), and at
// every point the score-ratio intervals of the two runs must overlap (two
// runs of the same experiment estimate the same ratio; intervals that do
// not overlap say they disagree beyond their noise). It returns the number
// of points checked and one line per disagreement.
func WithinStatistics(want, got *Summary) (checked int, diffs []string, err error) {
	wv, err := newPaperView(want)
	if err != nil {
		return 0, nil, err
	}
	gv, err := newPaperView(got)
	if err != nil {
		return 0, nil, err
	}
	wh, gh := wv.head, gv.head
	if wh.SummaryJSON == nil || gh.SummaryJSON == nil {
		return 0, nil, fmt.Errorf("report %s: no statistics to compare a re-run of a non-deterministic engine with", want.Experiment)
	}
	if wh.Significant != gh.Significant {
		diffs = append(diffs, fmt.Sprintf("decision: significant %v in the report, %v now (%s)", wh.Significant, gh.Significant, gh.Conclusion))
	} else if wh.Significant && analysis.Point(wh.Recommended).Compare(analysis.Point(gh.Recommended)) != 0 {
		diffs = append(diffs, fmt.Sprintf("decision: %s in the report, %s now", analysis.Point(wh.Recommended), analysis.Point(gh.Recommended)))
	}
	for _, r := range wh.Thresholds {
		key := analysis.Point(r.Threshold).String()
		i, ok := gv.rowAt[key]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s=%s: in the report, no result now", want.Param, key))
			continue
		}
		n := gh.Thresholds[i]
		if r.RowJSON == nil || n.RowJSON == nil || r.ScoreRatioCI == nil || n.ScoreRatioCI == nil {
			continue
		}
		checked++
		a, b := *r.ScoreRatioCI, *n.ScoreRatioCI
		if a[1] < b[0] || b[1] < a[0] {
			diffs = append(diffs, fmt.Sprintf("%s=%s: score ratio %s [%s, %s] in the report, %s [%s, %s] now: the intervals do not overlap",
				want.Param, key, g6(*r.ScoreRatio), g6(a[0]), g6(a[1]), g6(*n.ScoreRatio), g6(b[0]), g6(b[1])))
		}
	}
	return checked, diffs, nil
}

func g6(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}
