package analysis

import (
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/schedlab/schedlab/lab/internal/stats"
	"github.com/schedlab/schedlab/lab/sarathi"
)

// DefaultPromptWeight is the engine's default AGING prompt_weight (with
// time_weight 1) that derived weights are compared with.
const DefaultPromptWeight = -0.01

// DefaultResamples is the number of bootstrap resamples behind each
// confidence interval: enough for stable 2.5%/97.5% percentiles (about ±0.5
// percentile points) while staying well under a second on 200,000 values.
const DefaultResamples = 1000

// PromptWeightStats are the statistics of seconds per prefill token that can
// be reported, in their reporting order.
var PromptWeightStats = []string{"mean", "median", "p80"}

// PromptWeightOptions configure SecondsPerPrefillToken.
type PromptWeightOptions struct {
	// Seed makes the bootstrap reproducible: same values and seed, same
	// intervals.
	Seed uint64
	// Resamples is the number of bootstrap resamples (0: DefaultResamples).
	Resamples int
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
	// request-level bootstrap does not see.
	FileMeans []float64          `json:"file_means"`
	Seed      uint64             `json:"seed"`
	Resamples int                `json:"resamples"`
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
	// CI95 is a seeded percentile-bootstrap 95% interval of Seconds.
	CI95 [2]float64 `json:"ci95"`
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
// a percentile-bootstrap 95% interval.
//
// The bootstrap resamples requests independently from the pool (B =
// Resamples, resample i seeded with (Seed, i), so the result does not depend
// on the number of workers). It treats requests as independent and so
// understates run-to-run variation; FileMeans show that spread.
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
	B := opt.Resamples
	if B <= 0 {
		B = DefaultResamples
	}
	res := &PromptWeightResult{Files: slices.Clone(files), Seed: opt.Seed, Resamples: B,
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
	if len(vals) > math.MaxInt32 {
		// The bootstrap counts draws of an index in int32s.
		return nil, fmt.Errorf("analysis: prompt_weight: %d values pooled from %d files: at most %d can be resampled", len(vals), len(files), math.MaxInt32)
	}
	res.N = len(vals)
	mean := Mean(vals) // before sorting: np.mean sums in file order
	sorted := vals
	slices.Sort(sorted)
	res.Sorted = sorted
	point := map[string]float64{"mean": mean, "median": Median(sorted), "p80": Percentile(sorted, 0.8)}
	boot := bootstrap(sorted, B, opt.Seed)
	for _, s := range stats {
		v := point[s]
		if v <= 0 {
			return nil, fmt.Errorf("analysis: prompt_weight: the %s of seconds per prefill token is %v: "+
				"it must be positive to give weights (files: %s …)", s, v, files[0])
		}
		tw1, pw1 := WeightingsFor(v)
		res.Stats = append(res.Stats, PromptWeightStat{
			Stat: s, Seconds: v, CI95: boot[s], TimeWeightOne: tw1, PromptWeightOne: pw1,
		})
	}
	return res, nil
}

// bootstrap returns percentile-bootstrap 95% intervals of the mean, median
// and p80 of sorted. A resample draws n indices into sorted with
// replacement; counting how often each index is drawn gives the resample's
// order statistics without sorting it (one pass over the counts).
// Resample b draws from its own stream (seed, b), so the result does not
// depend on the number of workers.
func bootstrap(sorted []float64, B int, seed uint64) map[string][2]float64 {
	n := len(sorted)
	means := make([]float64, B)
	medians := make([]float64, B)
	p80s := make([]float64, B)
	mi, mfrac, mlast := quantileIndex(n, 0.8)
	// The order statistics needed, ascending: median's one or two, p80's
	// one or two.
	var ks []int
	if n%2 == 0 {
		ks = append(ks, n/2-1)
	}
	ks = append(ks, n/2)
	if mlast {
		ks = append(ks, n-1)
	} else {
		ks = append(ks, mi, mi+1)
	}
	slices.Sort(ks)
	// finish computes resample b's statistics from its sum and the order
	// statistics ks (in vals).
	finish := func(b int, sum float64, vals []float64) {
		means[b] = sum / float64(n)
		at := func(k int) float64 { return vals[slices.Index(ks, k)] }
		if n%2 == 1 {
			medians[b] = at(n / 2)
		} else {
			medians[b] = (at(n/2-1) + at(n/2)) / 2
		}
		if mlast {
			p80s[b] = at(n - 1)
		} else {
			p80s[b] = lerp(at(mi), at(mi+1), mfrac)
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), B) {
		wg.Go(func() {
			// Counts are bytes (padded to whole words): a quarter of the
			// memory to clear and to walk, eight at a time. An index drawn
			// more often than a byte holds makes that resample start over
			// with int32 counts (the same draws, so the same numbers).
			counts := make([]uint8, (n+7)/8*8)
			var wide []int32
			vals := make([]float64, len(ks))
			for {
				b := int(next.Add(1) - 1)
				if b >= B {
					return
				}
				clear(counts)
				sum, ok := stats.Resample(stats.NewPCG(seed, uint64(b)), sorted, counts, maxCount8)
				if ok {
					orderStats8(counts, ks, sorted, vals)
				} else {
					if wide == nil {
						wide = make([]int32, n)
					}
					clear(wide)
					sum, _ = stats.Resample(stats.NewPCG(seed, uint64(b)), sorted, wide, math.MaxInt32)
					orderStats(wide, ks, sorted, vals)
				}
				finish(b, sum, vals)
			}
		})
	}
	wg.Wait()
	ci := func(xs []float64) [2]float64 {
		slices.Sort(xs)
		return [2]float64{Percentile(xs, 0.025), Percentile(xs, 0.975)}
	}
	return map[string][2]float64{"mean": ci(means), "median": ci(medians), "p80": ci(p80s)}
}

// orderStats sets vals[i] to the ks[i]-th smallest value (0-based, ks
// ascending) of the resample whose counts (how often each index into
// sorted was drawn) are given.
func orderStats(counts []int32, ks []int, sorted, vals []float64) {
	c, ki := 0, 0
	for j, m := range counts {
		c += int(m)
		for ki < len(ks) && c > ks[ki] {
			vals[ki] = sorted[j]
			ki++
		}
		if ki == len(ks) {
			return
		}
	}
}

// orderStats8 is orderStats for byte counts padded to whole words: words
// whose eight counts do not reach the next rank are skipped with one sum.
func orderStats8(counts []uint8, ks []int, sorted, vals []float64) {
	c, ki, j := 0, 0, 0
	for ki < len(ks) {
		for j+8 <= len(counts) {
			s := byteSum(binary.LittleEndian.Uint64(counts[j:]))
			if c+s > ks[ki] {
				break
			}
			c += s
			j += 8
		}
		c += int(counts[j])
		for ki < len(ks) && c > ks[ki] {
			vals[ki] = sorted[j]
			ki++
		}
		j++
	}
}

// byteSum is the sum of the eight bytes of w: pairs of bytes added into
// four 16-bit lanes, then the lanes added by one multiplication into the
// top lane (the total, at most 2040, fits it).
func byteSum(w uint64) int {
	const lanes = 0x00FF00FF00FF00FF
	w = w&lanes + w>>8&lanes
	return int(w * 0x0001000100010001 >> 48)
}

// maxCount8 is the most a byte count holds (a variable so that tests can
// make resamples fall back to int32 counts).
var maxCount8 uint8 = 255
