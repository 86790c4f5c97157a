package analysis

import (
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/sarathi"
	"gonum.org/v1/gonum/stat/distuv"
)

func pwFiles(tree string, runs ...string) []string {
	var out []string
	for _, r := range runs {
		out = append(out, filepath.Join(treeDir(tree), r, "0", sarathi.FileName(sarathi.PrefillExecPlusPreemptNorm)))
	}
	return out
}

// Pooled 0.001, 0.002, 0.003 twice: mean 0.002, median 0.002, p80 at
// position 4 of 6 = 0.003; weights in both conventions.
func TestPromptWeightByHand(t *testing.T) {
	r, err := SecondsPerPrefillToken(pwFiles("basic", "run_a", "run_b"), PromptWeightOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.N != 6 || len(r.Sorted) != 6 || !slices.IsSorted(r.Sorted) {
		t.Fatalf("pooled %d values %v, want 6 sorted", r.N, r.Sorted)
	}
	want := map[string]float64{"mean": 0.002, "median": 0.002, "p80": 0.003}
	if len(r.Stats) != 3 {
		t.Fatalf("%d stats, want 3", len(r.Stats))
	}
	for _, s := range r.Stats {
		if !near(s.Seconds, want[s.Stat]) {
			t.Errorf("%s = %v, want %v", s.Stat, s.Seconds, want[s.Stat])
		}
		if s.TimeWeightOne != (Weighting{TimeWeight: 1, PromptWeight: -s.Seconds}) {
			t.Errorf("%s: time_weight=1 convention %+v", s.Stat, s.TimeWeightOne)
		}
		if s.PromptWeightOne != (Weighting{TimeWeight: 1 / s.Seconds, PromptWeight: -1}) {
			t.Errorf("%s: prompt_weight=-1 convention %+v", s.Stat, s.PromptWeightOne)
		}
		if !(s.CI95[0] <= s.Seconds && s.Seconds <= s.CI95[1]) {
			t.Errorf("%s = %v outside its interval %v", s.Stat, s.Seconds, s.CI95)
		}
	}
	if r.Default != (Weighting{TimeWeight: 1, PromptWeight: -0.01}) {
		t.Errorf("engine default %+v", r.Default)
	}
	if len(r.FileMeans) != 2 || !near(r.FileMeans[0], 0.002) {
		t.Errorf("file means %v", r.FileMeans)
	}
	only, err := SecondsPerPrefillToken(pwFiles("basic", "run_a"), PromptWeightOptions{Stats: []string{"median"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(only.Stats) != 1 || only.Stats[0].Stat != "median" {
		t.Errorf("stats subset: %+v", only.Stats)
	}
}

// The intervals are what their methods give, computed from the pooled
// values by hand: Student's t around the mean, and the order statistics
// whose binomial tails hold at most 2.5% each for the median and p80.
func TestPromptWeightIntervals(t *testing.T) {
	root := genTree(t)
	files := []string{
		filepath.Join(root, "20250101_120000", "3", sarathi.FileName(sarathi.PrefillExecPlusPreemptNorm)),
		filepath.Join(root, "20250101_120001", "3", sarathi.FileName(sarathi.PrefillExecPlusPreemptNorm)),
	}
	r, err := SecondsPerPrefillToken(files, PromptWeightOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := r.N
	mean := r.Stats[0].Seconds
	var ss float64
	for _, v := range r.Sorted {
		ss += (v - mean) * (v - mean)
	}
	half := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(0.975) * math.Sqrt(ss/float64(n-1)/float64(n))
	// rank is the 0-based order statistic bounding a tail of at most 2.5%
	// below (lower) or above (upper) the q-quantile, by summing the
	// binomial probabilities.
	rank := func(q float64, upper bool) int {
		b := distuv.Binomial{N: float64(n), P: q}
		cdf := 0.0
		for k := 0; k < n; k++ {
			cdf += b.Prob(float64(k))
			if !upper && cdf > 0.025 {
				return k - 1
			}
			if upper && cdf >= 0.975 {
				return k
			}
		}
		return n - 1
	}
	want := map[string][2]float64{
		"mean":   {mean - half, mean + half},
		"median": {r.Sorted[rank(0.5, false)], r.Sorted[rank(0.5, true)]},
		"p80":    {r.Sorted[rank(0.8, false)], r.Sorted[rank(0.8, true)]},
	}
	methods := map[string]string{"mean": "t", "median": "order statistics", "p80": "order statistics"}
	for _, s := range r.Stats {
		if !near(s.CI95[0], want[s.Stat][0]) || !near(s.CI95[1], want[s.Stat][1]) {
			t.Errorf("%s: interval %v, want %v", s.Stat, s.CI95, want[s.Stat])
		}
		if s.CIMethod != methods[s.Stat] || s.CICoverage < 0.95 || s.CICoverage > 0.96 {
			t.Errorf("%s: method %q coverage %v, want %q and 95–96%%", s.Stat, s.CIMethod, s.CICoverage, methods[s.Stat])
		}
		if !(s.CI95[0] < s.Seconds && s.Seconds < s.CI95[1]) {
			t.Errorf("%s = %v outside %v", s.Stat, s.Seconds, s.CI95)
		}
	}
	if got, want := r.CIMethods(), "t for the mean, order statistics for the median and p80"; got != want {
		t.Errorf("CIMethods() = %q, want %q", got, want)
	}
	if notes := r.CINotes(); len(notes) != 0 {
		t.Errorf("notes on %d values: %q", n, notes)
	}
}

// Six pooled values give a distribution-free 95% interval of the median
// (the range) but none of the p80: its interval ends at the largest value
// and a note says how often it covers.
func TestPromptWeightTooFewValues(t *testing.T) {
	r, err := SecondsPerPrefillToken(pwFiles("basic", "run_a", "run_b"), PromptWeightOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	for _, s := range r.Stats {
		switch s.Stat {
		case "median": // ranks 0 and 5 of 6: 1 − 2·0.5⁶ = 96.9%
			if s.CI95 != [2]float64{r.Sorted[0], r.Sorted[5]} || !near(s.CICoverage, 1-2/64.0) {
				t.Errorf("median: %v covering %v, want the range covering 96.9%%", s.CI95, s.CICoverage)
			}
		case "p80":
			// P(K ≤ 2) = 0.2⁶ + 6·0.8·0.2⁵ + 15·0.8²·0.2⁴ = 1.7% is the
			// last lower tail ≤ 2.5%, and even the largest value leaves an
			// upper tail of 0.8⁶ = 26%: ranks 2 and 5, covering 72.1%.
			lower := math.Pow(0.2, 6) + 6*0.8*math.Pow(0.2, 5) + 15*0.8*0.8*math.Pow(0.2, 4)
			if s.CI95 != [2]float64{r.Sorted[2], r.Sorted[5]} || !near(s.CICoverage, 1-math.Pow(0.8, 6)-lower) {
				t.Errorf("p80: %v covering %v, want ranks 2 and 5 covering 72.1%%", s.CI95, s.CICoverage)
			}
			notes = append(notes, "6 values are too few for a distribution-free 95% interval of the p80: the interval shown covers it with probability 72%")
		}
	}
	if got := r.CINotes(); !reflect.DeepEqual(got, notes) {
		t.Errorf("notes %q, want %q", got, notes)
	}
	var out strings.Builder
	if err := WritePromptWeight(&out, "prompt_weight", r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\nnote: "+notes[0]+"\n") {
		t.Errorf("printed result lacks the note:\n%s", out.String())
	}
}

func TestWeightings(t *testing.T) {
	for _, tc := range []struct {
		w        Weighting
		s        float64
		tw1, pw1 Weighting
	}{
		{Weighting{1, -0.01}, 0.01, Weighting{1, -0.01}, Weighting{100, -1}},
		{Weighting{2, -0.5}, 0.25, Weighting{1, -0.25}, Weighting{4, -1}},
	} {
		if got := tc.w.SecondsPerToken(); got != tc.s {
			t.Errorf("%+v.SecondsPerToken() = %v, want %v", tc.w, got, tc.s)
		}
		tw1, pw1 := WeightingsFor(tc.s)
		if tw1 != tc.tw1 || pw1 != tc.pw1 {
			t.Errorf("WeightingsFor(%v) = %+v, %+v; want %+v, %+v", tc.s, tw1, pw1, tc.tw1, tc.pw1)
		}
	}
}
