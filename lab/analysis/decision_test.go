package analysis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

// guardSweep describes a synthetic experiment written as real run folders:
// point p of repeat r has every score metric scaled by score[p]·wobble and
// every per-request latency metric of a guard scaled by lat[p][metric]·
// (1 + jitter[p]·(±1 alternating over repeats)); throughput is 10/tput[p].
type guardSweep struct {
	points  []float64
	repeats int
	score   []float64
	lat     []map[string]float64 // metric → factor; missing: 1
	jitter  []float64
	tput    []float64 // throughput divisor; 0: 1
	omit    []string  // metric files (or requests_per_second) no cell has
}

var guardMetrics = []string{sarathi.PrefillE2ETime, sarathi.RequestE2ETime, sarathi.MaxTimeBetweenTokens, sarathi.RequestSchedulingDelay}

func (g guardSweep) table(t *testing.T) *Table {
	t.Helper()
	root := t.TempDir()
	pts := make([]Point, len(g.points))
	for i, v := range g.points {
		pts[i] = Point{v}
	}
	reps := make([]string, g.repeats)
	for r := range reps {
		reps[r] = fmt.Sprintf("repeat %d", r)
	}
	tab := NewTable([]string{"min_chunk_threshold"}, pts, reps)
	for r := range reps {
		drift := 1 + 0.05*float64(r%3)
		sign := float64(1 - 2*(r%2))
		for p := range pts {
			run := filepath.Join(root, fmt.Sprintf("r%d-p%d", r, p))
			plots := filepath.Join(run, sarathi.PlotsDir)
			wob := 1 + 0.002*float64((r*7+p*3)%5)
			f := g.score[p] * drift * wob
			tab.Cells[r][p] = Cell{Present: true, Dir: plots, Summary: Summary{
				RequestP95: 2 * f, RequestExecNorm: 0.05 * f, PrefillP95: 0.4 * f, PrefillExecNorm: 0.002 * f, DecodeNorm: 0.03 * f, Requests: 20,
			}}
			for _, m := range guardMetrics {
				if slices.Contains(g.omit, m) {
					continue
				}
				lf, ok := g.lat[p][m]
				if !ok {
					lf = 1
				}
				lf *= drift * (1 + g.jitter[p]*sign)
				rows := make([]sarathi.Row, 20)
				for i := range rows {
					rows[i] = sarathi.Row{RequestID: fmt.Sprintf("0_%d", i), Value: lf * (0.1 + 0.01*float64(i))}
				}
				if err := sarathi.Write(plots, m, rows); err != nil {
					t.Fatal(err)
				}
			}
			if !slices.Contains(g.omit, spec.GuardThroughput) {
				d := g.tput[p]
				if d == 0 {
					d = 1
				}
				rs := sarathi.RunSummary{Source: "sim", RequestsPerSecond: sarathi.Float(10 / (d * drift))}
				if err := sarathi.WriteRunSummary(run, rs); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return tab
}

// decide selects (mean, default weights, baseline 0), computes the
// significance and the decision.
func (g guardSweep) decide(t *testing.T, guards []spec.Guard) (*Selection, *Decision) {
	t.Helper()
	tab := g.table(t)
	s, err := Select(tab, Options{Baseline: Point{0}, Weights: spec.DefaultWeights, Preset: "default"})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := s.Significance(SignificanceOptions{Seed: 7, Resamples: 2000, WinResamples: 200})
	if err != nil {
		t.Fatal(err)
	}
	d, err := Decide(tab, s, sig, guards)
	if err != nil {
		t.Fatal(err)
	}
	return s, d
}

// fourPoints: 1 is 10% better on the score and harmless; 2 is 15% better
// (the lowest score) but its TTFT is +12%; 3 is the same as 0.
func fourPoints() guardSweep {
	return guardSweep{
		points: []float64{0, 1, 2, 3}, repeats: 8,
		score:  []float64{1, 0.9, 0.85, 1},
		lat:    []map[string]float64{nil, nil, {sarathi.PrefillE2ETime: 1.12}, nil},
		jitter: []float64{0, 0.001, 0.005, 0.001},
		tput:   []float64{0, 0, 0, 0},
	}
}

func TestDecide(t *testing.T) {
	type want struct {
		point    float64
		verdict  DecisionVerdict
		blocked  []string // "point kind"
		lowest   float64
		reason   string // substring of the reason or a blocker's text
		warnings int
	}
	inconclusive := fourPoints()
	inconclusive.jitter[1] = 0.04 // TTFT ±4% per repeat: the interval crosses 1%
	slowTput := fourPoints()
	slowTput.tput[1] = 1.05 // throughput −4.8%: higher is better, so this is worse
	fastTput := fourPoints()
	fastTput.tput[1] = 0.8 // throughput +25%: fine
	nothing := fourPoints()
	nothing.score = []float64{1, 0.999, 0.998, 1}
	noE2E := fourPoints()
	noE2E.omit = []string{sarathi.RequestE2ETime, spec.GuardThroughput}
	for _, tc := range []struct {
		name   string
		sweep  guardSweep
		guards []spec.Guard
		want   want
	}{
		{"guard rejects the lowest score", fourPoints(), spec.DefaultGuards,
			want{1, Change, []string{"2 guard-worse"}, 2, "change to min_chunk_threshold = 1", 0}},
		{"no guards: the lowest score", fourPoints(), nil,
			want{2, Change, nil, 2, "no guards checked", 0}},
		{"inconclusive guard blocks", inconclusive, spec.DefaultGuards,
			want{0, Keep, []string{"2 guard-worse", "1 guard-inconclusive"}, 2, "keep min_chunk_threshold = 0: every significantly better point fails a guard", 0}},
		{"lower throughput is worse", slowTput, spec.DefaultGuards,
			want{0, Keep, []string{"2 guard-worse", "1 guard-worse"}, 2, "throughput −4.8%", 0}},
		{"higher throughput is ok", fastTput, spec.DefaultGuards,
			want{1, Change, []string{"2 guard-worse"}, 2, "all 7 guards ok", 0}},
		{"nothing significant", nothing, spec.DefaultGuards,
			want{0, Keep, []string{"2 not-significant"}, 2, "no other point is significantly better", 0}},
		{"missing metrics are skipped with a warning", noE2E, spec.DefaultGuards,
			want{1, Change, []string{"2 guard-worse"}, 2, "all 5 guards ok", 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, d := tc.sweep.decide(t, tc.guards)
			var blocked []string
			text := d.Reason
			for _, b := range d.Blocked {
				blocked = append(blocked, fmt.Sprintf("%s %s", b.Point, b.Kind))
				text += "\n" + b.Text
			}
			if d.Point[0] != tc.want.point || d.Verdict != tc.want.verdict || !slices.Equal(blocked, tc.want.blocked) ||
				d.LowestScore.Point[0] != tc.want.lowest || !strings.Contains(text, tc.want.reason) || len(d.Warnings) != tc.want.warnings {
				t.Errorf("decision %s %s, blocked %q, lowest %s, %d warnings %q\nreason: %s\nwant %+v",
					d.Point, d.Verdict, blocked, d.LowestScore.Point, len(d.Warnings), d.Warnings, text, tc.want)
			}
			// The old script's argmin, bit for bit.
			if d.LowestScore.Point.Compare(s.Recommended()) != 0 || math.Float64bits(d.LowestScore.Score) != math.Float64bits(s.Rows[s.Best].Score) {
				t.Errorf("lowest score %s %v, selection's %s %v", d.LowestScore.Point, d.LowestScore.Score, s.Recommended(), s.Rows[s.Best].Score)
			}
			// The decided point passes every guard; the baseline's are 1.
			for i, pg := range d.Guards.Points {
				if pg.Point.Compare(d.Point) == 0 && d.Verdict == Change && !pg.OK() {
					t.Errorf("decided point %s has a guard that is not ok: %+v", pg.Point, pg.Results)
				}
				if pg.Baseline {
					for _, r := range pg.Results {
						if r.Ratio != 1 || r.Verdict != GuardOK {
							t.Errorf("baseline guard %+v", r)
						}
					}
				}
				if len(pg.Results) != len(d.Guards.Guards) || len(d.GuardsJSON(i)) != len(pg.Results) {
					t.Errorf("point %s: %d results for %d guards", pg.Point, len(pg.Results), len(d.Guards.Guards))
				}
			}
		})
	}
}

// TestDecisionGolden pins the decision's JSON (reason sentences, guard
// ratios and intervals) for the main case.
func TestDecisionGolden(t *testing.T) {
	s, d := fourPoints().decide(t, spec.DefaultGuards)
	j := s.JSON()
	j.AddDecision(d)
	got, err := json.MarshalIndent(struct {
		Decision    DecisionJSON    `json:"decision"`
		LowestScore LowestScoreJSON `json:"lowest_score"`
		Guards      [][]GuardJSON   `json:"guards"`
	}{j.Decision, j.LowestScore, func() (g [][]GuardJSON) {
		for _, th := range j.Thresholds {
			g = append(g, th.Guards)
		}
		return g
	}()}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "decision", "four-points.golden.json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("decision JSON differs from %s (rerun with -update if intended):\n%s", path, got)
	}
}

// TestGuardVerdict pins the non-inferiority rule at the margin's edges,
// both directions.
func TestGuardVerdict(t *testing.T) {
	lat := spec.Guard{Metric: sarathi.PrefillE2ETime, Stat: "p95"}
	tput := spec.Guard{Metric: spec.GuardThroughput, Stat: spec.GuardThroughputStat}
	for _, tc := range []struct {
		g    spec.Guard
		ci   [2]float64
		want GuardVerdict
	}{
		{lat, [2]float64{0.9, 1.01}, GuardOK},
		{lat, [2]float64{0.9, 1.0101}, GuardInconclusive},
		{lat, [2]float64{1.0101, 1.2}, GuardWorse},
		{lat, [2]float64{1.01, 1.2}, GuardInconclusive},
		{tput, [2]float64{0.99, 1.2}, GuardOK},
		{tput, [2]float64{0.98, 1.2}, GuardInconclusive},
		{tput, [2]float64{0.9, 0.985}, GuardWorse},
		{tput, [2]float64{0.9, 0.99}, GuardInconclusive},
	} {
		if got := guardVerdict(tc.g, tc.ci, 0.01); got != tc.want {
			t.Errorf("%s %v: %s, want %s", tc.g.Metric, tc.ci, got, tc.want)
		}
	}
}

// A guard file that exists but is broken is an error naming the file, not
// a skipped guard.
func TestGuardBadFile(t *testing.T) {
	g := fourPoints()
	tab := g.table(t)
	bad := filepath.Join(tab.Cells[3][1].Dir, sarathi.FileName(sarathi.RequestSchedulingDelay))
	if err := os.WriteFile(bad, []byte("Request Id,request_scheduling_delay,cdf\n0_1,abc,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Select(tab, Options{Baseline: Point{0}, Weights: spec.DefaultWeights})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := s.Significance(SignificanceOptions{Seed: 1, Resamples: 200, WinResamples: 20})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Decide(tab, s, sig, spec.DefaultGuards)
	if err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("error %v, want one naming %s", err, bad)
	}
}

// Subset keeps the given points' cells and works as a table of its own.
func TestSubsetDecide(t *testing.T) {
	tab := fourPoints().table(t)
	sub := tab.Subset([]Point{{0}, {2}, {3}, {9}})
	if len(sub.Points) != 3 || sub.Cells[0][1].Dir != tab.Cells[0][2].Dir {
		t.Fatalf("subset points %v", sub.Points)
	}
	s, err := Select(sub, Options{Baseline: Point{0}, Weights: spec.DefaultWeights})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := s.Significance(SignificanceOptions{Seed: 1, Resamples: 2000, WinResamples: 20})
	if err != nil {
		t.Fatal(err)
	}
	d, err := Decide(sub, s, sig, spec.DefaultGuards)
	if err != nil {
		t.Fatal(err)
	}
	if d.Verdict != Keep || len(d.Blocked) != 1 || d.Blocked[0].Kind != BlockedGuardWorse ||
		!strings.Contains(d.Blocked[0].Text, "TTFT p95 +12") || !strings.Contains(d.Blocked[0].Text, ": rejected") {
		t.Errorf("decision %s %s, blocked %+v", d.Point, d.Verdict, d.Blocked)
	}
}

// Load keeps TTFT's p50/p95/p99 for the guards; they must be the values
// the guards compute from the file itself, to the bit.
func TestGuardTTFTFromLoadMatchesFile(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(4, 4))
	tab := NewTable([]string{"min_chunk_threshold"}, []Point{{0}, {1}}, []string{"a", "b", "c"})
	var cells []CellFiles
	for r := range 3 {
		for p := range 2 {
			plots := filepath.Join(dir, fmt.Sprintf("%d-%d", r, p))
			for _, m := range append(slices.Clone(sarathi.Required), sarathi.RequestE2ETime) {
				rows := make([]sarathi.Row, 1001+r*10+p)
				for i := range rows {
					rows[i] = sarathi.Row{RequestID: fmt.Sprintf("0_%d", i), Value: rng.ExpFloat64() * 0.37}
				}
				if err := sarathi.Write(plots, m, rows); err != nil {
					t.Fatal(err)
				}
			}
			cells = append(cells, CellFiles{Repeat: r, Point: Point{float64(p)}, Dir: plots})
		}
	}
	if err := tab.Load(cells); err != nil {
		t.Fatal(err)
	}
	guards := []spec.Guard{{Metric: sarathi.PrefillE2ETime, Stat: "p50"}, {Metric: sarathi.PrefillE2ETime, Stat: "p95"},
		{Metric: sarathi.PrefillE2ETime, Stat: "p99"}, {Metric: sarathi.PrefillE2ETime, Stat: "mean"}, {Metric: sarathi.RequestE2ETime, Stat: "p95"}}
	kept, err := tab.guardValues([]int{0, 1}, guards)
	if err != nil {
		t.Fatal(err)
	}
	for r := range tab.Cells {
		for p := range tab.Cells[r] {
			if !tab.Cells[r][p].ttft.ok {
				t.Fatalf("cell %d/%d: Load kept no TTFT quantiles", r, p)
			}
			tab.Cells[r][p].ttft = ttftQuantiles{}
		}
	}
	read, err := tab.guardValues([]int{0, 1}, guards)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(kept, read) {
		t.Errorf("guard values from Load's quantiles %v, from the files %v", kept, read)
	}
}
