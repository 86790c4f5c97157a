package analysis

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"testing"

	"github.com/schedlab/schedlab/lab/sarathi"
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
	r, err := SecondsPerPrefillToken(pwFiles("basic", "run_a", "run_b"), PromptWeightOptions{Seed: 1})
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

// Same seed, same intervals, whatever the number of workers; another seed,
// other intervals. The interval of the mean has about the width normal
// theory predicts (±1.96·σ/√n).
func TestPromptWeightBootstrap(t *testing.T) {
	root := genTree(t)
	files := []string{
		filepath.Join(root, "20250101_120000", "3", sarathi.FileName(sarathi.PrefillExecPlusPreemptNorm)),
		filepath.Join(root, "20250101_120001", "3", sarathi.FileName(sarathi.PrefillExecPlusPreemptNorm)),
	}
	a, err := SecondsPerPrefillToken(files, PromptWeightOptions{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	prev := runtime.GOMAXPROCS(1)
	b, err := SecondsPerPrefillToken(files, PromptWeightOptions{Seed: 7})
	runtime.GOMAXPROCS(prev)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed, different results with one worker")
	}
	c, err := SecondsPerPrefillToken(files, PromptWeightOptions{Seed: 8})
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(a.Stats, c.Stats) {
		t.Error("another seed gave identical intervals")
	}
	var sd float64
	mean := a.Stats[0].Seconds
	for _, v := range a.Sorted {
		sd += (v - mean) * (v - mean)
	}
	sd = math.Sqrt(sd / float64(a.N-1))
	theory := 2 * 1.96 * sd / math.Sqrt(float64(a.N))
	width := a.Stats[0].CI95[1] - a.Stats[0].CI95[0]
	if width < 0.8*theory || width > 1.2*theory {
		t.Errorf("mean's interval width %v, normal theory %v", width, theory)
	}
	for _, s := range a.Stats {
		if !(s.CI95[0] < s.Seconds && s.Seconds < s.CI95[1]) {
			t.Errorf("%s = %v outside %v", s.Stat, s.Seconds, s.CI95)
		}
	}
}

// The counting bootstrap computes a resample's order statistics exactly as
// sorting the resample would.
func TestBootstrapOrderStatistics(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, n := range []int{1, 2, 5, 6, 101} {
		sorted := make([]float64, n)
		for i := range sorted {
			sorted[i] = float64(rng.IntN(50))
		}
		slices.Sort(sorted)
		got := bootstrap(sorted, 20, 3)
		// Recompute resample by resample with the same generator.
		var means, meds, p80s []float64
		for b := range 20 {
			r := rand.New(rand.NewPCG(3, uint64(b)))
			res := make([]float64, n)
			var sum float64
			for i := range res {
				j := r.IntN(n)
				res[i] = sorted[j]
				sum += sorted[j]
			}
			slices.Sort(res)
			means = append(means, sum/float64(n))
			meds = append(meds, Median(res))
			p80s = append(p80s, Percentile(res, 0.8))
		}
		ci := func(xs []float64) [2]float64 {
			slices.Sort(xs)
			return [2]float64{Percentile(xs, 0.025), Percentile(xs, 0.975)}
		}
		if got["median"] != ci(meds) || got["p80"] != ci(p80s) || !near(got["mean"][0], ci(means)[0]) {
			t.Errorf("n=%d: bootstrap %v, by sorting median %v p80 %v mean %v", n, got, ci(meds), ci(p80s), ci(means))
		}
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

// Byte counts and their int32 fallback (taken when an index is drawn more
// often than a byte holds; forced here by lowering the limit) give the
// same intervals, to the bit.
func TestBootstrapByteCountsFallBackExactly(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	defer func(l uint8) { maxCount8 = l }(maxCount8)
	for _, n := range []int{1, 2, 7, 8, 9, 1001, 20000} {
		sorted := make([]float64, n)
		for i := range sorted {
			sorted[i] = rng.ExpFloat64()
		}
		slices.Sort(sorted)
		maxCount8 = 255
		bytes := bootstrap(sorted, 41, 3)
		for _, limit := range []uint8{2, 1} {
			maxCount8 = limit
			if wide := bootstrap(sorted, 41, 3); !reflect.DeepEqual(wide, bytes) {
				t.Errorf("n=%d, limit %d: %v; with byte counts %v", n, limit, wide, bytes)
			}
		}
	}
}

func BenchmarkBootstrap50k(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	sorted := make([]float64, 50000)
	for i := range sorted {
		sorted[i] = rng.ExpFloat64()
	}
	slices.Sort(sorted)
	for b.Loop() {
		bootstrap(sorted, 1000, 0)
	}
}
