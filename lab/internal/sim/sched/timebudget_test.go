package sched

import (
	"reflect"
	"testing"
)

// TestTimeBudgetHandTraced checks time-budget chunking on tiny inputs traced
// by hand. Chunk 8, grid step 2, no threshold.
func TestTimeBudgetHandTraced(t *testing.T) {
	tokensPlus4D := PredictorFunc(func(b *Batch) float64 { return float64(b.Tokens() + 3*len(b.Decodes)) })
	tests := []struct {
		name   string
		target float64
		pred   Predictor
		reqs   []Request
		want   []string
		counts Counters
	}{{
		// Predicted time = prefill tokens + 4·decodes, target 4.
		// it0: A's candidates 1, 2, 4, 6: 4 is the largest ≤ 4. B's 1, 2, 4
		// on top of A's 4 all exceed 4 → admission stops (predictor).
		// it1: A's last 2 (candidates 1, 2); B admitted with 2 (4 + 2 > 4).
		// it2: A's decode predicts 4 alone, B's candidates 1, 2, 4 all
		// exceed → B, mid-prefill, is skipped (the running-prefill rule the
		// greedy scheduler never reaches). it3: B alone gets its last 4.
		name:   "predictor skips a running prefill",
		target: 4,
		pred:   tokensPlus4D,
		reqs:   []Request{{ID: 0, PromptTokens: 6, OutputTokens: 2}, {ID: 1, PromptTokens: 6, OutputTokens: 1}},
		want:   []string{"P[0:4/0]", "P[0:2/4 1:2/0]", "D[0/6]F[0]", "P[1:4/2]F[1]"},
		counts: Counters{PredictorBlockedAdmissions: 1, SkipsPredictor: 1},
	}, {
		// A target below any batch's cost: each chunk is the forced single
		// token of an otherwise empty batch, and the decode after it cannot
		// share its iteration with B's chunk.
		name:   "forced single token",
		target: 0.5,
		pred:   tokensPlus4D,
		reqs:   []Request{{ID: 0, PromptTokens: 2, OutputTokens: 2}, {ID: 1, PromptTokens: 1, OutputTokens: 1}},
		want:   []string{"P[0:1/0]", "P[0:1/1]", "D[0/2]F[0]", "P[1:1/0]F[1]"},
		counts: Counters{ForcedSingleToken: 3, PredictorBlockedAdmissions: 3},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base()
			cfg.Chunking, cfg.TargetTime, cfg.ChunkSearchGranularity = TimeBudget, tc.target, 2
			rec := &recorder{}
			tr, err := Simulate(cfg, tc.reqs, rec, WithPredictor(tc.pred))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, b := range rec.batches {
				got = append(got, show(b))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("batches\n got %q\nwant %q", got, tc.want)
			}
			if tr.Counters != tc.counts {
				t.Errorf("counters %+v, want %+v", tr.Counters, tc.counts)
			}
			checkTrace(t, cfg, tc.reqs, rec, tr)
		})
	}
}

// TestTimeBudgetRunningPrefillSkips is the counter-example to the greedy
// invariant of the package doc: with time-budget chunking several
// sequences are mid-prefill at once and running prefills are skipped, for
// the threshold, the budget and the predictor alike.
func TestTimeBudgetRunningPrefillSkips(t *testing.T) {
	reqs := randomRequests(400, 11)
	cfg := Config{ChunkSize: 256, MaxNumSeqs: 32, MinChunkThreshold: 16, BlockSize: 16, NumBlocks: 1 << 16, MaxModelLen: 1 << 20, Policy: FCFS,
		Chunking: TimeBudget, TargetTime: 0.022, ChunkSearchGranularity: 32}
	dur := func(b *Batch) float64 {
		p := b.Tokens() - len(b.Decodes)
		return 0.012 + 0.00004*float64(p) + 0.00001*float64(len(b.Decodes)) + 0.0005*float64(len(b.Prefills))
	}
	rec := &recorder{dur: dur}
	tr, err := Simulate(cfg, reqs, rec, WithPredictor(PredictorFunc(dur)))
	if err != nil {
		t.Fatal(err)
	}
	checkTrace(t, cfg, reqs, rec, tr)
	c := tr.Counters
	if c.SkipsPredictor == 0 || c.SkipsThreshold+c.SkipsBudget == 0 || c.PredictorBlockedAdmissions == 0 {
		t.Errorf("counters %+v: expected predictor skips, threshold or budget skips, and predictor-blocked admissions", c)
	}
	// Several sequences mid-prefill at the end of an iteration.
	prefilled := make([]int, len(reqs))
	maxMid := 0
	for _, b := range rec.batches {
		for _, p := range b.Preempted {
			prefilled[p] = 0
		}
		for _, ch := range b.Prefills {
			prefilled[ch.Seq] = ch.Cached + ch.NewTokens
		}
		mid := 0
		for i, r := range reqs {
			if prefilled[i] > 0 && prefilled[i] < r.PromptTokens {
				mid++
			}
		}
		maxMid = max(maxMid, mid)
	}
	if maxMid < 2 {
		t.Errorf("at most %d sequence mid-prefill at once, expected several", maxMid)
	}
	// Every batch respects the target unless it is a forced single token.
	for k, b := range rec.batches {
		if d := dur(&b); d > cfg.TargetTime && !(len(b.Decodes) == 0 && len(b.Prefills) == 1 && b.Prefills[0].NewTokens == 1) {
			t.Fatalf("iteration %d predicts %g s > target %g: %s", k, d, cfg.TargetTime, show(b))
		}
	}
}

// TestStopRules: a sequence preempted after k tokens produces its output
// length in all (total) or k more (per attempt). Block size 2, 5 blocks:
// B is preempted after 2 tokens (see TestHandTraced).
func TestStopRules(t *testing.T) {
	for _, tc := range []struct {
		rule string
		want int
	}{{StopTotal, 4}, {"", 4}, {StopPerAttempt, 6}} {
		cfg := base()
		cfg.BlockSize, cfg.NumBlocks, cfg.StopRule = 2, 5, tc.rule
		reqs := []Request{{ID: 0, PromptTokens: 3, OutputTokens: 4}, {ID: 1, PromptTokens: 3, OutputTokens: 4}}
		rec := &recorder{}
		tr, err := Simulate(cfg, reqs, rec)
		if err != nil {
			t.Fatal(err)
		}
		if r := tr.Requests[1]; r.Preemptions != 1 || r.OutputTokens != tc.want {
			t.Errorf("stop rule %q: B preempted %d times, %d tokens, want 1 and %d", tc.rule, r.Preemptions, r.OutputTokens, tc.want)
		}
		checkTrace(t, cfg, reqs, rec, tr)
	}
}

// TestDrops: an over-long request is dropped when it reaches the queue
// head, stamped with the time of the drop; a preempted sequence that has
// grown past max_model_len is dropped on readmission (1 s per iteration).
func TestDrops(t *testing.T) {
	t.Run("long prompt", func(t *testing.T) {
		cfg := base()
		cfg.MaxModelLen = 10
		reqs := []Request{{ID: 0, PromptTokens: 3, OutputTokens: 2}, {ID: 1, Arrival: 0.5, PromptTokens: 50, OutputTokens: 1}}
		tr, err := Simulate(cfg, reqs, &recorder{})
		if err != nil {
			t.Fatal(err)
		}
		r := tr.Requests[1]
		if !r.Ignored || r.Started || r.Completed != 1 || tr.Ignored != 1 || tr.Counters.ReadmissionDrops != 0 {
			t.Errorf("dropped request %+v, trace ignored %d, counters %+v", r, tr.Ignored, tr.Counters)
		}
	})
	t.Run("readmission", func(t *testing.T) {
		// Block size 2, 4 blocks. it1: A's decode finds no free block and
		// preempts B (3+1 tokens ≤ 4: readmitted at once). it2: the same
		// again, but B now holds 3+1+1 = 5 > max_model_len 4 tokens: dropped.
		cfg := base()
		cfg.BlockSize, cfg.NumBlocks, cfg.MaxModelLen = 2, 4, 4
		reqs := []Request{{ID: 0, PromptTokens: 3, OutputTokens: 3}, {ID: 1, PromptTokens: 3, OutputTokens: 3}}
		rec := &recorder{}
		tr, err := Simulate(cfg, reqs, rec)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, b := range rec.batches {
			got = append(got, show(b))
		}
		want := []string{"P[0:3/0 1:3/0]", "P[1:4/0]D[0/3]X[1]", "D[0/4]X[1]F[0]"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("batches %q, want %q", got, want)
		}
		r := tr.Requests[1]
		if !r.Ignored || r.OutputTokens != 2 || r.Preemptions != 2 || r.Completed != 2 || tr.Counters.ReadmissionDrops != 1 {
			t.Errorf("dropped request %+v, counters %+v", r, tr.Counters)
		}
		checkTrace(t, cfg, reqs, rec, tr)
	})
}
