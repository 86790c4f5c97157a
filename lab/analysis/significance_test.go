package analysis

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/golden"
	"github.com/schedlab/schedlab/lab/internal/stats"
	"github.com/schedlab/schedlab/lab/spec"
)

var updateSignificance = golden.Update // -update

// sweep describes a synthetic sweep: every metric of point t in repeat r is
// base_k · drift_r · effect(t) · exp(noise·N(0,1)), so the true score ratio
// of t against the baseline is effect(t) and repeats differ by a common
// drift that pairing removes.
type sweep struct {
	points  []float64
	repeats int
	effect  map[float64]float64 // missing: 1
	noise   float64             // sd of the per-cell log noise
	drift   float64             // sd of the per-repeat log drift
	absent  map[[2]int]bool     // {repeat, point index} cells left out
}

func (sw sweep) table(seed uint64) *Table {
	rng := rand.New(rand.NewPCG(seed, 99))
	pts := make([]Point, len(sw.points))
	for i, v := range sw.points {
		pts[i] = Point{v}
	}
	reps := make([]string, sw.repeats)
	for r := range reps {
		reps[r] = fmt.Sprintf("r%02d", r)
	}
	t := NewTable([]string{"min_chunk_threshold"}, pts, reps)
	base := [5]float64{2.0, 0.05, 0.4, 0.002, 0.03}
	for r := range reps {
		d := math.Exp(sw.drift * rng.NormFloat64())
		for p, v := range sw.points {
			if sw.absent[[2]int{r, p}] {
				continue
			}
			e, ok := sw.effect[v]
			if !ok {
				e = 1
			}
			var m [5]float64
			for k := range m {
				m[k] = base[k] * d * e * math.Exp(sw.noise*rng.NormFloat64())
			}
			t.Cells[r][p] = Cell{Present: true, Summary: Summary{
				RequestP95: m[0], RequestExecNorm: m[1], PrefillP95: m[2], PrefillExecNorm: m[3], DecodeNorm: m[4], Requests: 100,
			}}
		}
	}
	return t
}

func selectSweep(t *testing.T, sw sweep, seed uint64, agg string) *Selection {
	t.Helper()
	s, err := Select(sw.table(seed), Options{Baseline: Point{0}, Weights: spec.DefaultWeights, Agg: agg, Preset: "default"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func rowOf(t *testing.T, s *Selection, v float64) int {
	t.Helper()
	for i, r := range s.Rows {
		if r.Point[0] == v {
			return i
		}
	}
	t.Fatalf("no row %v", v)
	return -1
}

// TestSignificanceFindsEffect: a −3% effect at 6 with 1% noise and 10%
// repeat drift is found with 10 repeats: chosen, better, significant after
// Holm, and the most frequent winner; the null points stay "same".
func TestSignificanceFindsEffect(t *testing.T) {
	sw := sweep{points: []float64{0, 2, 4, 6, 8}, repeats: 10, effect: map[float64]float64{6: 0.97}, noise: 0.01, drift: 0.1}
	s := selectSweep(t, sw, 1, "mean")
	sig, err := s.Significance(SignificanceOptions{Seed: 7, Resamples: 2000})
	if err != nil {
		t.Fatal(err)
	}
	i6 := rowOf(t, s, 6)
	p := sig.Points[i6]
	if s.Best != i6 || !sig.Significant || p.Verdict != Better {
		t.Fatalf("best %v, significant %v, verdict %s; want 6, true, better\n%s", s.Recommended(), sig.Significant, p.Verdict, sig.Conclusion)
	}
	if p.Pairs != 10 || p.RawP != 2.0/1024 || p.P > 0.01 {
		t.Errorf("pairs %d raw p %v Holm p %v, want 10, 2/1024, ≤ 0.01", p.Pairs, p.RawP, p.P)
	}
	if !(p.ScoreCI[0] < 0.97 && 0.97 < p.ScoreCI[1]) || p.ScoreCI[1] > 0.99 {
		t.Errorf("score ratio %v %v, want an interval around 0.97 below 0.99", p.ScoreRatio, p.ScoreCI)
	}
	if p.WinProbability < 0.9 {
		t.Errorf("win probability %v, want ≥ 0.9", p.WinProbability)
	}
	for i, q := range sig.Points {
		if i != i6 && q.Verdict != Same {
			t.Errorf("null point %v: verdict %s (p %v, ci %v)", q.Point, q.Verdict, q.P, q.ScoreCI)
		}
	}
	if !strings.HasPrefix(sig.Conclusion, "min_chunk_threshold = 6: score −") || !strings.Contains(sig.Conclusion, "vs 0, p = ") ||
		!strings.Contains(sig.Conclusion, "(Holm), best in ") || sig.PowerNote != "" {
		t.Errorf("conclusion %q, power note %q", sig.Conclusion, sig.PowerNote)
	}
}

// TestSignificanceFalsePositiveRate: with no true effect, a two-point
// sweep with 10 repeats ends in a verdict other than "same" in about
// α = 5% of data sets (the exact test's level is 25/512; a vanishing margin
// keeps the margin out of the way). 400 seeded trials must land within ±3
// binomial standard deviations. With 5 points Holm keeps the family-wise
// rate at or below α.
func TestSignificanceFalsePositiveRate(t *testing.T) {
	const trials = 400
	opt := SignificanceOptions{Margin: 1e-9, Resamples: 400}
	count := func(points []float64, trials int) (hits int) {
		sw := sweep{points: points, repeats: 10, noise: 0.02, drift: 0.1}
		for trial := range trials {
			s := selectSweep(t, sw, uint64(1000+trial), "mean")
			opt.Seed = uint64(trial)
			sig, err := s.Significance(opt)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range sig.Points {
				if p.Verdict != Same {
					hits++
					break
				}
			}
		}
		return hits
	}
	rate := 25.0 / 512
	mean, sd := trials*rate, math.Sqrt(trials*rate*(1-rate))
	if got := count([]float64{0, 6}, trials); math.Abs(float64(got)-mean) > 3*sd {
		t.Errorf("two points: %d of %d null sweeps had a verdict, want %.1f ± %.1f", got, trials, mean, 3*sd)
	}
	const fam = 150
	if got := count([]float64{0, 2, 4, 6, 8}, fam); float64(got) > fam*0.05+3*math.Sqrt(fam*0.05*0.95) {
		t.Errorf("five points: %d of %d null sweeps had a verdict, want ≤ 5%% family-wise", got, fam)
	}
}

// TestSignificancePowerFloor: 3 repeats of a clear −5% effect cannot be
// significant: the exact test's floor is p = 0.25; the conclusion keeps
// the baseline and the power note says so and how many repeats to run.
func TestSignificancePowerFloor(t *testing.T) {
	sw := sweep{points: []float64{0, 4, 6}, repeats: 3, effect: map[float64]float64{6: 0.95}, noise: 0.01, drift: 0.1}
	s := selectSweep(t, sw, 3, "mean")
	sig, err := s.Significance(SignificanceOptions{Seed: 1, Resamples: 2000})
	if err != nil {
		t.Fatal(err)
	}
	i6 := rowOf(t, s, 6)
	if s.Best != i6 {
		t.Fatalf("best %v, want 6", s.Recommended())
	}
	for _, p := range sig.Points {
		if !p.Baseline && (p.RawP < 0.25 || p.P < 0.25) {
			t.Errorf("%v: p %v (raw %v) below the 3-pair floor 0.25", p.Point, p.P, p.RawP)
		}
	}
	if sig.Significant || sig.Points[i6].Verdict != Same {
		t.Errorf("significant %v verdict %s with 3 repeats", sig.Significant, sig.Points[i6].Verdict)
	}
	if !strings.HasPrefix(sig.Conclusion, "no other min_chunk_threshold beats 0 significantly; keep 0 (lowest score: min_chunk_threshold = 6, score −") {
		t.Errorf("conclusion %q", sig.Conclusion)
	}
	// Holm over 2 comparisons at 0.05: the best is tested at 0.025, which
	// needs 2^(1−n) ≤ 0.025, n ≥ 7.
	if sig.Power == nil || sig.Power.ExactFloor != 7 || sig.Power.Needed < 7 {
		t.Fatalf("power %+v, want floor 7", sig.Power)
	}
	want := "with 3 pairs the exact sign-flip test cannot go below p = 0.25 (two-sided); Holm over 2 comparisons needs ≥ 7 repeats to reach p ≤ 0.05"
	if !strings.HasPrefix(sig.PowerNote, want) {
		t.Errorf("power note %q, want prefix %q", sig.PowerNote, want)
	}
}

// TestSignificanceHand checks every number of a 3-repeat, 2-point
// selection against a direct computation from the per-repeat scores.
func TestSignificanceHand(t *testing.T) {
	tab := NewTable([]string{"threshold"}, []Point{{0}, {6}}, []string{"a", "b", "c"})
	set := func(r, p int, v [5]float64) {
		tab.Cells[r][p] = Cell{Present: true, Summary: Summary{RequestP95: v[0], RequestExecNorm: v[1], PrefillP95: v[2], PrefillExecNorm: v[3], DecodeNorm: v[4]}}
	}
	set(0, 0, [5]float64{10, 1, 4, 1, 1})
	set(0, 1, [5]float64{9, 1, 4, 1, 1}) // request −10%
	set(1, 0, [5]float64{20, 2, 8, 2, 2})
	set(1, 1, [5]float64{20, 2, 6, 2, 2}) // prefill −25%
	set(2, 0, [5]float64{10, 1, 4, 1, 1})
	set(2, 1, [5]float64{11, 1, 4, 1, 1}) // request +10%
	s, err := Select(tab, Options{Baseline: Point{0}, Weights: spec.DefaultWeights})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := s.Significance(SignificanceOptions{Seed: 3, Resamples: 3000})
	if err != nil {
		t.Fatal(err)
	}
	// Per-repeat scores of 6 (the baseline scores Σw = 1):
	// 1 − 0.35·0.1, 1 − 0.35·0.25, 1 + 0.35·0.1.
	scores := []float64{1 - 0.035, 1 - 0.0875, 1 + 0.035}
	logs := make([]float64, 3)
	for i, v := range scores {
		logs[i] = math.Log(v)
	}
	p := sig.Points[1]
	if want := math.Exp(stats.Mean(logs)); math.Abs(p.ScoreRatio-want) > 1e-12 {
		t.Errorf("score ratio %v, want geometric mean %v", p.ScoreRatio, want)
	}
	// The exact test on these logs (its own enumeration is tested in
	// lab/stats); signs −, −, + give |Σ| below the all-same-sign patterns,
	// so p = 4/8 here.
	ref, _ := stats.SignFlip(logs, 0, nil)
	if ref.P != 0.5 {
		t.Fatalf("reference p %v, want 0.5", ref.P)
	}
	if p.RawP != ref.P || p.P != ref.P || p.Pairs != 3 {
		t.Errorf("p %v raw %v pairs %d, want %v (one comparison: Holm changes nothing), 3", p.P, p.RawP, p.Pairs, ref.P)
	}
	if want := math.Exp(math.Log(0.75) / 3); math.Abs(p.MetricRatio[2]-want) > 1e-12 {
		t.Errorf("prefill ratio %v, want %v", p.MetricRatio[2], want)
	}
	if p.MetricCI[4] != [2]float64{1, 1} || p.MetricRatio[4] != 1 {
		t.Errorf("decode ratio %v %v, want exactly 1 [1, 1]", p.MetricRatio[4], p.MetricCI[4])
	}
	b := sig.Points[0]
	if !b.Baseline || b.ScoreRatio != 1 || b.P != 1 || b.Verdict != Same || b.Pairs != 3 {
		t.Errorf("baseline row %+v", b)
	}
	if math.Abs(b.WinProbability+p.WinProbability-1) > 1e-12 {
		t.Errorf("win probabilities %v + %v, want 1", b.WinProbability, p.WinProbability)
	}
}

// TestSignificanceMissingCells: pairs are the repeats having both the
// point and the baseline; a repeat without the baseline falls back to its
// smallest point in Select and contributes no pair.
func TestSignificanceMissingCells(t *testing.T) {
	sw := sweep{points: []float64{0, 4, 6}, repeats: 6, noise: 0.01, drift: 0.1,
		absent: map[[2]int]bool{{0, 0}: true, {1, 2}: true, {2, 1}: true, {2, 2}: true}}
	s := selectSweep(t, sw, 5, "median")
	sig, err := s.Significance(SignificanceOptions{Seed: 1, Resamples: 500})
	if err != nil {
		t.Fatal(err)
	}
	// Repeat 0 lacks 0; repeat 1 lacks 6; repeat 2 has only 0.
	if got := [3]int{sig.Points[0].Pairs, sig.Points[1].Pairs, sig.Points[2].Pairs}; got != [3]int{5, 4, 3} {
		t.Errorf("pairs %v, want [5 4 3]", got)
	}
	if !sig.Baseline.equal(Point{0}) {
		t.Errorf("baseline %v, want 0", sig.Baseline)
	}
}

// TestSignificanceNoSharedRepeat: a point never measured with the baseline
// has no ratio, no p and no interval (null in JSON), and is not counted in
// the Holm family.
func TestSignificanceNoSharedRepeat(t *testing.T) {
	sw := sweep{points: []float64{0, 6}, repeats: 2, noise: 0.01, drift: 0.1, absent: map[[2]int]bool{{0, 1}: true, {1, 0}: true}}
	s := selectSweep(t, sw, 1, "mean")
	sig, err := s.Significance(SignificanceOptions{Seed: 1, Resamples: 100})
	if err != nil {
		t.Fatal(err)
	}
	if sig.Compared != 0 || sig.Significant || sig.PowerNote == "" {
		t.Errorf("compared %d significant %v note %q", sig.Compared, sig.Significant, sig.PowerNote)
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(sig.RowJSON(1)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"score_ratio":null,"score_ratio_ci":null,"p_value":null,"verdict":"same"`) {
		t.Errorf("JSON %s", buf.String())
	}
}

func (p Point) equal(q Point) bool { return p.Compare(q) == 0 }

// TestSignificanceDeterministic: the same seed gives byte-identical JSON
// and sentences; another seed moves the resampled numbers. Also a golden
// file pins the whole output of one sweep.
func TestSignificanceDeterministic(t *testing.T) {
	sw := sweep{points: []float64{0, 2, 4, 6, 8}, repeats: 5, effect: map[float64]float64{4: 0.985, 6: 0.98}, noise: 0.01, drift: 0.05}
	render := func(seed uint64) []byte {
		var out []byte
		for _, agg := range Aggregations {
			s := selectSweep(t, sw, 11, agg)
			sig, err := s.Significance(SignificanceOptions{Seed: seed, Resamples: 1000})
			if err != nil {
				t.Fatal(err)
			}
			rows := make([]RowJSON, len(sig.Points))
			for i := range rows {
				rows[i] = sig.RowJSON(i)
			}
			b, err := json.MarshalIndent(struct {
				Agg string `json:"run_agg"`
				SummaryJSON
				Rows []RowJSON `json:"thresholds"`
			}{agg, sig.SummaryJSON(), rows}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			out = append(append(out, b...), '\n')
		}
		return out
	}
	a, b, c := render(42), render(42), render(43)
	if !bytes.Equal(a, b) {
		t.Error("same seed, different output")
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds, identical output")
	}
	golden := filepath.Join("testdata", "significance", "sweep5x5.golden.json")
	if *updateSignificance {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, a, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run Deterministic ./lab/analysis -update)", err)
	}
	if !bytes.Equal(a, want) {
		got, exp := strings.Split(string(a), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(got), len(exp)) {
			if got[i] != exp[i] {
				t.Fatalf("output differs from %s at line %d (rerun with -update if intended):\ngot  %s\nwant %s", golden, i+1, got[i], exp[i])
			}
		}
		t.Fatalf("output differs from %s in length (%d vs %d lines)", golden, len(got), len(exp))
	}
}

func TestRobustness(t *testing.T) {
	sw := sweep{points: []float64{0, 4, 6}, repeats: 6, effect: map[float64]float64{6: 0.9}, noise: 0.01, drift: 0.1}
	tab := sw.table(2)
	presets := []spec.Preset{{Name: "default", Weights: spec.DefaultWeights}, {Name: "ttft", Weights: spec.Weights{Prefill: 1}}}
	sels, err := SelectAll(tab, presets, Point{0})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Robustness(sels), "the lowest score is at min_chunk_threshold = 6 under all 8 preset × aggregation combinations"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// Force a different choice for one selection.
	sels[3].Best = 1
	want := "the min_chunk_threshold of the lowest score changes across presets × aggregations: 6 under default/mean, default/median, default/p90, ttft/mean, ttft/median, ttft/p90, ttft/max; 4 under default/max"
	if got := Robustness(sels); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if Robustness(sels[:1]) != "" {
		t.Error("one selection: want no sentence")
	}
}

func TestSignificanceOptionsErrors(t *testing.T) {
	s := selectSweep(t, sweep{points: []float64{0, 6}, repeats: 3, noise: 0.01}, 1, "mean")
	for _, o := range []SignificanceOptions{{Alpha: 1.5}, {Margin: -0.1}, {Level: 1}, {Power: 2}, {Resamples: -1}, {WinResamples: -3}} {
		if _, err := s.Significance(o); err == nil {
			t.Errorf("%+v: want an error", o)
		}
	}
}

// BenchmarkSignificance101x10: a 101-point sweep with 10 repeats at the
// default 10,000 resamples (every interval, test and the win probability).
func BenchmarkSignificance101x10(b *testing.B) {
	pts := make([]float64, 101)
	for i := range pts {
		pts[i] = float64(i)
	}
	sw := sweep{points: pts, repeats: 10, effect: map[float64]float64{40: 0.97}, noise: 0.01, drift: 0.1}
	s, err := Select(sw.table(1), Options{Baseline: Point{0}, Weights: spec.DefaultWeights, Agg: "median"})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Significance(SignificanceOptions{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCountedAggregator: walking counts over presorted distinct values
// gives the same bits as the selection's own aggregator on the expanded
// multiset, for every aggregation (the win probability relies on it).
func TestCountedAggregator(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 0))
	for _, agg := range []string{"median", "p90", "max"} {
		counted, err := countedAggregator(agg)
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := aggregator(agg)
		for trial := range 500 {
			n := 1 + rng.IntN(12)
			vals := make([]float64, n)
			for i := range vals {
				vals[i] = 0.9 + 0.2*rng.Float64()
				if i > 0 && rng.IntN(4) == 0 {
					vals[i] = vals[i-1] // ties
				}
			}
			sorted := make([]int, n) // repeat ids in ascending value order
			for i := range sorted {
				sorted[i] = i
			}
			slices.SortStableFunc(sorted, func(a, b int) int { return cmp.Compare(vals[a], vals[b]) })
			sv := make([]float64, n)
			for i, r := range sorted {
				sv[i] = vals[r]
			}
			counts := make([]int, n)
			var expanded []float64
			total := 0
			for total == 0 {
				for r := range counts {
					counts[r] = rng.IntN(3)
					total += counts[r]
				}
			}
			for r, c := range counts {
				for range c {
					expanded = append(expanded, vals[r])
				}
			}
			if got, want := counted(sorted, sv, counts, total), ref(expanded); got != want {
				t.Fatalf("%s trial %d: counted %v, aggregator %v (vals %v counts %v)", agg, trial, got, want, vals, counts)
			}
		}
	}
	if _, err := countedAggregator("p99"); err == nil {
		t.Error("want an error for an unknown aggregation")
	}
}

// TestSignificanceAll: sharing the per-preset comparisons across
// aggregations changes nothing.
func TestSignificanceAll(t *testing.T) {
	sw := sweep{points: []float64{0, 2, 4, 6}, repeats: 6, effect: map[float64]float64{4: 0.98}, noise: 0.01, drift: 0.1}
	presets := []spec.Preset{{Name: "default", Weights: spec.DefaultWeights}, {Name: "ttft", Weights: spec.Weights{Prefill: 1}}}
	sels, err := SelectAll(sw.table(4), presets, Point{0})
	if err != nil {
		t.Fatal(err)
	}
	opt := SignificanceOptions{Seed: 5, Resamples: 500}
	all, err := SignificanceAll(sels, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range sels {
		one, err := s.Significance(opt)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(rowsJSON(all[i]))
		b, _ := json.Marshal(rowsJSON(one))
		if !bytes.Equal(a, b) || all[i].Conclusion != one.Conclusion {
			t.Errorf("selection %d (%s/%s): shared and single results differ", i, s.Preset, s.Agg)
		}
	}
	// The presets' score ratios differ (different weights), the metric
	// intervals do not.
	if all[0].Points[2].ScoreRatio == all[4].Points[2].ScoreRatio || all[0].Points[2].MetricCI != all[4].Points[2].MetricCI {
		t.Error("want per-preset score ratios and shared metric intervals")
	}
}

func rowsJSON(sig *Significance) []RowJSON {
	out := make([]RowJSON, len(sig.Points))
	for i := range out {
		out[i] = sig.RowJSON(i)
	}
	return out
}

// BenchmarkSignificanceAll101x10: what `lab select SPEC` adds for a
// 101-point, 10-repeat sweep with two presets × four aggregations.
func BenchmarkSignificanceAll101x10(b *testing.B) {
	pts := make([]float64, 101)
	for i := range pts {
		pts[i] = float64(i)
	}
	sw := sweep{points: pts, repeats: 10, effect: map[float64]float64{40: 0.97}, noise: 0.01, drift: 0.1}
	presets := []spec.Preset{{Name: "default", Weights: spec.DefaultWeights}, {Name: "ttft", Weights: spec.Weights{Prefill: 1}}}
	sels, err := SelectAll(sw.table(1), presets, Point{0})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := SignificanceAll(sels, SignificanceOptions{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSignificanceOnePoint(t *testing.T) {
	s := selectSweep(t, sweep{points: []float64{0}, repeats: 3, noise: 0.01}, 1, "mean")
	sig, err := s.Significance(SignificanceOptions{Seed: 1, Resamples: 100})
	if err != nil {
		t.Fatal(err)
	}
	if sig.Significant || sig.Conclusion != "no other min_chunk_threshold beats 0 significantly; keep 0" ||
		sig.PowerNote != "only min_chunk_threshold = 0 has results: nothing to compare" || sig.Points[0].WinProbability != 1 {
		t.Errorf("conclusion %q, note %q, win %v", sig.Conclusion, sig.PowerNote, sig.Points[0].WinProbability)
	}
}

// TestSignificanceGrid: a two-parameter sweep names its points by both
// parameters in sentences.
func TestSignificanceGrid(t *testing.T) {
	pts := []Point{{0, -0.01}, {0, -0.001}, {6, -0.01}, {6, -0.001}}
	tab := NewTable([]string{"min_chunk_threshold", "prompt_weight"}, pts, []string{"a", "b", "c"})
	rng := rand.New(rand.NewPCG(1, 2))
	for r := range tab.Cells {
		for p := range tab.Cells[r] {
			e := 1.0
			if p == 3 {
				e = 0.95
			}
			v := func() float64 { return e * math.Exp(0.01*rng.NormFloat64()) }
			tab.Cells[r][p] = Cell{Present: true, Summary: Summary{RequestP95: v(), RequestExecNorm: v(), PrefillP95: v(), PrefillExecNorm: v(), DecodeNorm: v()}}
		}
	}
	s, err := Select(tab, Options{Baseline: Point{0, -0.01}, Weights: spec.DefaultWeights})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := s.Significance(SignificanceOptions{Seed: 1, Resamples: 500})
	if err != nil {
		t.Fatal(err)
	}
	want := "no other point beats min_chunk_threshold = 0, prompt_weight = -0.01 significantly; keep it (lowest score: min_chunk_threshold = 6, prompt_weight = -0.001, score −"
	if !strings.HasPrefix(sig.Conclusion, want) {
		t.Errorf("conclusion %q\nwant prefix %q", sig.Conclusion, want)
	}
	if !strings.Contains(sig.PowerNote, "for min_chunk_threshold = 6, prompt_weight = -0.001 with 80% power") {
		t.Errorf("power note %q", sig.PowerNote)
	}
}

// TestConclusionOtherPointBetter: the lowest score (4: −8% on average but
// noisy) is not significant while 2 (a steady −3%) is. The conclusion must
// not say that nothing beats the baseline.
func TestConclusionOtherPointBetter(t *testing.T) {
	reps := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	tab := NewTable([]string{"min_chunk_threshold"}, []Point{{0}, {2}, {4}}, reps)
	for r := range reps {
		noisy := 1.05
		if r%2 == 0 {
			noisy = 0.8
		}
		for p, f := range []float64{1, 0.97 + 0.001*float64(r%3), noisy} {
			tab.Cells[r][p] = Cell{Present: true, Summary: Summary{RequestP95: f, RequestExecNorm: f, PrefillP95: f, PrefillExecNorm: f, DecodeNorm: f}}
		}
	}
	s, err := Select(tab, Options{Baseline: Point{0}, Weights: spec.DefaultWeights})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := s.Significance(SignificanceOptions{Seed: 1, Resamples: 2000})
	if err != nil {
		t.Fatal(err)
	}
	if s.Recommended()[0] != 4 || sig.Significant || sig.Points[1].Verdict != Better || sig.Points[2].Verdict != Same {
		t.Fatalf("choice %v significant %v verdicts %s %s; want 4, false, better at 2, same at 4",
			s.Recommended(), sig.Significant, sig.Points[1].Verdict, sig.Points[2].Verdict)
	}
	want := "min_chunk_threshold = 4 has the lowest score but does not beat 0 significantly (score −"
	if !strings.HasPrefix(sig.Conclusion, want) || !strings.Contains(sig.Conclusion, "; significantly better than 0: min_chunk_threshold = 2") ||
		strings.Contains(sig.Conclusion, "no other") {
		t.Errorf("conclusion %q", sig.Conclusion)
	}
}
