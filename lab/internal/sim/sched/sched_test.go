package sched

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// recorder is an Executor that keeps a copy of every batch and takes a fixed
// time per iteration (or dur(b) when set).
type recorder struct {
	batches []Batch
	dur     func(b *Batch) float64
}

func (r *recorder) Execute(b *Batch) (float64, error) {
	r.batches = append(r.batches, Batch{
		Prefills:  append([]Chunk(nil), b.Prefills...),
		Decodes:   append([]Decode(nil), b.Decodes...),
		Preempted: append([]int(nil), b.Preempted...),
		Finished:  append([]int(nil), b.Finished...),
	})
	if r.dur != nil {
		return r.dur(b), nil
	}
	return 1, nil
}

// show renders a batch compactly: P[seq q/c ...] D[seq/c ...] X[preempted] F[finished].
func show(b Batch) string {
	var sb strings.Builder
	if len(b.Prefills) > 0 {
		sb.WriteString("P[")
		for k, c := range b.Prefills {
			if k > 0 {
				sb.WriteByte(' ')
			}
			fmt.Fprintf(&sb, "%d:%d/%d", c.Seq, c.NewTokens, c.Cached)
		}
		sb.WriteString("]")
	}
	if len(b.Decodes) > 0 {
		sb.WriteString("D[")
		for k, d := range b.Decodes {
			if k > 0 {
				sb.WriteByte(' ')
			}
			fmt.Fprintf(&sb, "%d/%d", d.Seq, d.Cached)
		}
		sb.WriteString("]")
	}
	if len(b.Preempted) > 0 {
		fmt.Fprintf(&sb, "X%v", b.Preempted)
	}
	if len(b.Finished) > 0 {
		fmt.Fprintf(&sb, "F%v", b.Finished)
	}
	return sb.String()
}

func base() Config {
	return Config{ChunkSize: 8, MaxNumSeqs: 4, BlockSize: 4, NumBlocks: 1000, MaxModelLen: 1 << 20, Policy: FCFS}
}

// TestHandTraced checks the exact batch of every iteration on tiny inputs
// traced by hand (the derivations are in the comments).
func TestHandTraced(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(c *Config)
		reqs []Request
		want []string
	}{{
		// Threshold 0 is plain Sarathi: the budget is filled to the last token.
		// it0: A gets 6, budget 2 left → B admitted with a 2-token chunk.
		// it1: A decodes over 6; B's chunk 3 over 2 finishes its prompt.
		// it2: both decode and finish.
		name: "threshold 0 fills the budget",
		reqs: []Request{{ID: 0, PromptTokens: 6, OutputTokens: 3}, {ID: 1, PromptTokens: 5, OutputTokens: 2}},
		want: []string{"P[0:6/0 1:2/0]", "P[1:3/2]D[0/6]", "D[0/7 1/5]F[0 1]"},
	}, {
		// Threshold 3: after A's 6 tokens, budget 2 < 3 → B waits; next
		// iteration budget 7 ≥ 3 admits B whole.
		name: "threshold 3 defers a 2-token chunk",
		cfg:  func(c *Config) { c.MinChunkThreshold = 3 },
		reqs: []Request{{ID: 0, PromptTokens: 6, OutputTokens: 3}, {ID: 1, PromptTokens: 5, OutputTokens: 2}},
		want: []string{"P[0:6/0]", "P[1:5/0]D[0/6]", "D[0/7 1/5]F[0 1]"},
	}, {
		// A running prefill continues in the next iteration. Chunk 8,
		// threshold 3. it0: A (12) gets 8. it1: A gets its last 4, budget
		// 4 ≥ 3 admits B (prompt 9) with 4. it2: A decodes, leaving budget
		// 7 ≥ 3 (it always does: see the package doc), B gets its last 5.
		// it3: both decode.
		name: "running prefill continues",
		cfg:  func(c *Config) { c.MinChunkThreshold = 3 },
		reqs: []Request{{ID: 0, PromptTokens: 12, OutputTokens: 3}, {ID: 1, PromptTokens: 9, OutputTokens: 2}},
		want: []string{"P[0:8/0]", "P[0:4/8 1:4/0]", "P[1:5/4]D[0/12]", "D[0/13 1/9]F[0 1]"},
	}, {
		// Decodes use the budget first: chunk 4, threshold 3. it0: A and B
		// (prompt 1) leave 2 < 3 → C (prompt 5) is not admitted. it1, it2:
		// two decodes leave 2 → still not. it3: A and B are done, C gets 4;
		// it4: its last 1 (a running prefill: budget 4 ≥ 3).
		name: "decodes eat the budget",
		cfg:  func(c *Config) { c.ChunkSize = 4; c.MinChunkThreshold = 3 },
		reqs: []Request{{ID: 0, PromptTokens: 1, OutputTokens: 3}, {ID: 1, PromptTokens: 1, OutputTokens: 3}, {ID: 2, PromptTokens: 5, OutputTokens: 1}},
		want: []string{"P[0:1/0 1:1/0]", "D[0/1 1/1]", "D[0/2 1/2]F[0 1]", "P[2:4/0]", "P[2:1/4]F[2]"},
	}, {
		// max_num_seqs 2 stops the third admission even with budget left.
		name: "max_num_seqs",
		cfg:  func(c *Config) { c.MaxNumSeqs = 2 },
		reqs: []Request{{ID: 0, PromptTokens: 2, OutputTokens: 2}, {ID: 1, PromptTokens: 2, OutputTokens: 2}, {ID: 2, PromptTokens: 2, OutputTokens: 1}},
		want: []string{"P[0:2/0 1:2/0]", "D[0/2 1/2]F[0 1]", "P[2:2/0]F[2]"},
	}, {
		// Recompute preemption. Block size 2, 5 blocks.
		// it0: A, B (prompt 3: 2 blocks each, 1 free) prefill. it1: decodes
		// over 3 need no block. it2: A needs a 3rd block (free 1→0); B needs
		// one, nothing is left after it in the list → B preempts itself: its
		// 2 blocks are freed, prompt 3+2 = 5, front of the queue; it needs 3
		// blocks > 2 free → not admitted. it3: A finishes (blocks freed after).
		// it4: B re-prefills 5 tokens over 0 cached, producing its 3rd token.
		// it5: B decodes over 5 and finishes.
		name: "preemption frees blocks and recomputes",
		cfg:  func(c *Config) { c.BlockSize = 2; c.NumBlocks = 5 },
		reqs: []Request{{ID: 0, PromptTokens: 3, OutputTokens: 4}, {ID: 1, PromptTokens: 3, OutputTokens: 4}},
		want: []string{"P[0:3/0 1:3/0]", "D[0/3 1/3]", "D[0/4]X[1]", "D[0/5]F[0]", "P[1:5/0]", "D[1/5]F[1]"},
	}, {
		// The victim is the lowest-priority sequence not yet looked at: with
		// A, B, C decoding and one free block, A takes it, B needs one →
		// C (the tail) is preempted and B runs. C recomputes prompt 2+1 and
		// its re-prefill yields its 2nd and last token.
		name: "victim is the tail",
		cfg:  func(c *Config) { c.BlockSize = 2; c.NumBlocks = 4 },
		reqs: []Request{{ID: 0, PromptTokens: 2, OutputTokens: 2}, {ID: 1, PromptTokens: 2, OutputTokens: 2}, {ID: 2, PromptTokens: 2, OutputTokens: 2}},
		want: []string{"P[0:2/0 1:2/0 2:2/0]", "D[0/2 1/2]X[2]F[0 1]", "P[2:3/0]F[2]"},
	}, {
		// spf: the shorter waiting prompt goes first when the queue is
		// ordered by the policy. X (prompt 8) blocks it0; A (6) and B (2)
		// both wait; B is admitted first.
		name: "spf orders the waiting queue",
		cfg:  func(c *Config) { c.Policy = SPF; c.OrderWaiting = true },
		reqs: []Request{{ID: 0, PromptTokens: 8, OutputTokens: 1}, {ID: 1, Arrival: 0.5, PromptTokens: 6, OutputTokens: 1}, {ID: 2, Arrival: 0.6, PromptTokens: 2, OutputTokens: 1}},
		want: []string{"P[0:8/0]F[0]", "P[2:2/0 1:6/0]F[2 1]"},
	}, {
		// Ignored: prompt longer than max_model_len never runs.
		name: "long prompt ignored",
		cfg:  func(c *Config) { c.MaxModelLen = 5 },
		reqs: []Request{{ID: 0, PromptTokens: 6, OutputTokens: 1}, {ID: 1, PromptTokens: 3, OutputTokens: 1}},
		want: []string{"P[1:3/0]F[1]"},
	}, {
		// Arrivals: nothing until t=2.5; the clock jumps there.
		name: "clock jumps to arrivals",
		reqs: []Request{{ID: 0, Arrival: 2.5, PromptTokens: 3, OutputTokens: 1}, {ID: 1, Arrival: 10, PromptTokens: 3, OutputTokens: 1}},
		want: []string{"P[0:3/0]F[0]", "P[1:3/0]F[1]"},
	}, {
		// The 1% watermark: 100 blocks of 4 keep 1 free. A (50 blocks)
		// leaves 50; B would leave 0 < 1 → waits for A to finish, though
		// the budget and the blocks would take it.
		name: "watermark keeps 1% of the blocks free",
		cfg:  func(c *Config) { c.ChunkSize, c.NumBlocks = 512, 100 },
		reqs: []Request{{ID: 0, PromptTokens: 200, OutputTokens: 1}, {ID: 1, PromptTokens: 200, OutputTokens: 1}},
		want: []string{"P[0:200/0]F[0]", "P[1:200/0]F[1]"},
	}, {
		// Preemption while no block is free, even for a decode that needs
		// none. Block size 2, 4 blocks, watermark 0: A and B (3 tokens, 2
		// blocks each) fill the cache. it1: A's decode over 3 needs no block
		// (4 tokens in 2 blocks) but none is free → the tail B is preempted,
		// and readmitted in the same pass (prompt 3+1, 2 blocks, front of the
		// queue); its re-prefill yields its 2nd and last token. it2: A takes
		// a block freed by B.
		name: "no free block preempts before any decode",
		cfg:  func(c *Config) { c.BlockSize, c.NumBlocks = 2, 4 },
		reqs: []Request{{ID: 0, PromptTokens: 3, OutputTokens: 3}, {ID: 1, PromptTokens: 3, OutputTokens: 2}},
		want: []string{"P[0:3/0 1:3/0]", "P[1:4/0]D[0/3]X[1]F[1]", "D[0/4]F[0]"},
	}, {
		// Outputs are not capped at max_model_len: only admission checks it.
		name: "decoding goes past max_model_len",
		cfg:  func(c *Config) { c.MaxModelLen = 5 },
		reqs: []Request{{ID: 0, PromptTokens: 3, OutputTokens: 5}},
		want: []string{"P[0:3/0]", "D[0/3]", "D[0/4]", "D[0/5]", "D[0/6]F[0]"},
	}, {
		// A prompt needing more blocks than the cache holds (10 blocks of
		// 4, watermark 0: 41 tokens need 11) is dropped at the queue head
		// instead of blocking it forever.
		name: "a prompt that can never fit is dropped",
		cfg:  func(c *Config) { c.NumBlocks = 10 },
		reqs: []Request{{ID: 0, PromptTokens: 41, OutputTokens: 1}, {ID: 1, PromptTokens: 3, OutputTokens: 1}},
		want: []string{"P[1:3/0]F[1]"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			rec := &recorder{}
			tr, err := Simulate(cfg, tc.reqs, rec)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, b := range rec.batches {
				got = append(got, show(b))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("batches:\n got %q\nwant %q", got, tc.want)
			}
			checkTrace(t, cfg, tc.reqs, rec, tr)
		})
	}
}

// TestPreemptionTimeline checks the request timelines of the preemption
// case above (1 s per iteration).
func TestPreemptionTimeline(t *testing.T) {
	cfg := base()
	cfg.BlockSize, cfg.NumBlocks = 2, 5
	reqs := []Request{{ID: 0, PromptTokens: 3, OutputTokens: 4}, {ID: 1, PromptTokens: 3, OutputTokens: 4}}
	tr, err := Simulate(cfg, reqs, &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	want := []RequestTrace{
		{ID: 0, PromptTokens: 3, OutputTokens: 4, Started: true, Scheduled: 0, PrefillDone: 1, Completed: 4, ExecTime: 4, TokenTimes: []float64{1, 2, 3, 4}},
		// B: ran in it0, it1, it4, it5; its re-prefill completes at 5.
		{ID: 1, PromptTokens: 3, OutputTokens: 4, Started: true, Scheduled: 0, PrefillDone: 5, Completed: 6, ExecTime: 4, Preemptions: 1, TokenTimes: []float64{1, 2, 5, 6}},
	}
	if !reflect.DeepEqual(tr.Requests, want) {
		t.Errorf("requests:\n got %+v\nwant %+v", tr.Requests, want)
	}
	if tr.Preemptions != 1 || tr.End != 6 || len(tr.Iterations) != 6 {
		t.Errorf("preemptions %d end %g iterations %d, want 1 6 6", tr.Preemptions, tr.End, len(tr.Iterations))
	}
}

// TestAgingReordersAsWaitsGrow: X occupies iteration 0; A (prompt 8) and B
// (prompt 2) arrive meanwhile. With prompt_weight −0.1, A's priority at any
// time is t−arrival_A−0.8 and B's t−arrival_B−0.2: B goes first unless A has
// waited 0.6 s longer than B.
func TestAgingReordersAsWaitsGrow(t *testing.T) {
	for _, tc := range []struct {
		arrivalB float64
		want     string
	}{
		{0.55, "P[2:2/0 1:6/0]F[2]"}, // A waited 0.45 s more: not enough
		{0.65, "P[2:2/0 1:6/0]F[2]"}, // 0.55 s: still not
		{0.75, "P[1:8/0]F[1]"},       // 0.65 s > 0.6: A first, and takes the whole budget
	} {
		cfg := base()
		cfg.Policy, cfg.OrderWaiting, cfg.TimeWeight, cfg.PromptWeight = Aging, true, 1, -0.1
		reqs := []Request{{ID: 0, PromptTokens: 8, OutputTokens: 1}, {ID: 1, Arrival: 0.1, PromptTokens: 8, OutputTokens: 1}, {ID: 2, Arrival: tc.arrivalB, PromptTokens: 2, OutputTokens: 1}}
		rec := &recorder{}
		if _, err := Simulate(cfg, reqs, rec); err != nil {
			t.Fatal(err)
		}
		if got := show(rec.batches[1]); got != tc.want {
			t.Errorf("B arriving at %g: iteration 1 = %s, want %s", tc.arrivalB, got, tc.want)
		}
	}
}

// TestRunningOrderFollowsPolicy: the running list's order decides the
// preemption victim (the tail). A, B, C (prompts 3, 2, 1; block size 2; 4
// blocks, all taken after the prefills). Only B's first decode needs a new
// block. fcfs/srtf/aging order A, B, C → C is the victim; spf orders C, B, A
// → A is. (At most one running sequence is mid-prefill at any time — an
// admission needs budget left over after every running prefill's chunk — so
// the running order matters for decodes and victims, and the waiting order,
// OrderWaiting, for who starts first.)
func TestRunningOrderFollowsPolicy(t *testing.T) {
	reqs := []Request{{ID: 0, PromptTokens: 3, OutputTokens: 2}, {ID: 1, PromptTokens: 2, OutputTokens: 2}, {ID: 2, PromptTokens: 1, OutputTokens: 2}}
	for _, tc := range []struct{ pol, want string }{
		{FCFS, "D[0/3 1/2]X[2]F[0 1]"},
		{SRTF, "D[0/3 1/2]X[2]F[0 1]"},
		{Aging, "D[0/3 1/2]X[2]F[0 1]"},
		{SPF, "D[2/1 1/2]X[0]F[2 1]"},
	} {
		cfg := base()
		cfg.Policy, cfg.BlockSize, cfg.NumBlocks, cfg.TimeWeight, cfg.PromptWeight = tc.pol, 2, 4, 1, -0.01
		rec := &recorder{}
		tr, err := Simulate(cfg, reqs, rec)
		if err != nil {
			t.Fatal(err)
		}
		if got := show(rec.batches[1]); got != tc.want {
			t.Errorf("%s: iteration 1 = %s, want %s", tc.pol, got, tc.want)
		}
		checkTrace(t, cfg, reqs, rec, tr)
	}
}

// TestThresholdProperty runs a random workload and checks the defining
// property of every iteration: if a request was left waiting although there
// was room (running < max_num_seqs, KV plentiful), the budget left was below
// max(1, threshold) — and for running prefills the same.
func TestThresholdProperty(t *testing.T) {
	reqs := randomRequests(300, 7)
	for _, th := range []int{0, 1, 5, 16, 63} {
		cfg := Config{ChunkSize: 64, MaxNumSeqs: 8, MinChunkThreshold: th, BlockSize: 16, NumBlocks: 1 << 20, MaxModelLen: 1 << 20, Policy: FCFS}
		rec := &recorder{dur: func(b *Batch) float64 { return 0.001 + 0.0001*float64(b.Tokens()) }}
		tr, err := Simulate(cfg, reqs, rec)
		if err != nil {
			t.Fatal(err)
		}
		for k, it := range tr.Iterations {
			left := cfg.ChunkSize - it.Tokens
			if it.Waiting > 0 && it.Running < cfg.MaxNumSeqs && left >= max(1, th) {
				t.Fatalf("threshold %d, iteration %d: %d waiting, %d running, budget left %d ≥ %d", th, k, it.Waiting, it.Running, left, max(1, th))
			}
			// Every chunk beyond what fills the budget respects the rule: a
			// chunk is only added when the budget left before it was ≥ th.
			b := rec.batches[k]
			used := len(b.Decodes)
			for _, c := range b.Prefills {
				if before := cfg.ChunkSize - used; before < max(1, th) {
					t.Fatalf("threshold %d, iteration %d: chunk of %d added with budget %d", th, k, c.NewTokens, before)
				}
				used += c.NewTokens
			}
		}
		checkTrace(t, cfg, reqs, rec, tr)
	}
}

// TestPreemptionRandom: a tight KV cache forces many preemptions; the
// bookkeeping must stay consistent (checkTrace) and every request finish.
func TestPreemptionRandom(t *testing.T) {
	reqs := randomRequests(200, 3)
	for _, pol := range Policies {
		cfg := Config{ChunkSize: 128, MaxNumSeqs: 16, MinChunkThreshold: 8, BlockSize: 16, NumBlocks: 120, MaxModelLen: 1 << 20, Policy: pol, TimeWeight: 1, PromptWeight: -0.01}
		rec := &recorder{dur: func(b *Batch) float64 { return 0.002 + 0.00005*float64(b.Tokens()) }}
		tr, err := Simulate(cfg, reqs, rec)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Preemptions == 0 {
			t.Errorf("%s: expected preemptions with a tight cache", pol)
		}
		checkTrace(t, cfg, reqs, rec, tr)
	}
}

func randomRequests(n int, seed uint64) []Request {
	r := rand.New(rand.NewPCG(seed, 1))
	reqs := make([]Request, n)
	t := 0.0
	for i := range reqs {
		t += r.ExpFloat64() * 0.02
		reqs[i] = Request{ID: i, Arrival: t, PromptTokens: 1 + r.IntN(400), OutputTokens: 1 + r.IntN(60)}
	}
	return reqs
}

// checkTrace replays the recorded batches independently and checks the
// trace against them: KV bookkeeping (cached counts), execution times,
// prefill/completion stamps and token times, iteration log counts.
func checkTrace(t *testing.T, cfg Config, reqs []Request, rec *recorder, tr *Trace) {
	t.Helper()
	if len(rec.batches) != len(tr.Iterations) {
		t.Fatalf("%d batches, %d iterations", len(rec.batches), len(tr.Iterations))
	}
	n := len(reqs)
	kv := make([]int, n)     // tokens in KV per sequence (current attempt)
	prompt := make([]int, n) // current prompt
	done := make([]int, n)   // prefilled of current prompt
	gen := make([]int, n)
	exec := make([]float64, n)
	var tokTimes = make([][]float64, n)
	prefillDone := make([]float64, n)
	for i, r := range reqs {
		prompt[i] = r.PromptTokens
	}
	// mid is the sequence left mid-prefill by the previous batch (-1: none).
	// The package doc claims that with greedy chunking at most one exists,
	// and that it always gets a chunk in the next batch unless preempted:
	// the running-prefill half of the threshold rule never fires. The
	// simulator docs' experiment notes rest on it. Time-budget chunking
	// breaks it (TestTimeBudgetRunningPrefillSkips).
	greedy := cfg.Chunking != TimeBudget
	mid := -1
	for k, b := range rec.batches {
		it := tr.Iterations[k]
		end := it.Start + it.Duration
		if k > 0 && it.Start < tr.Iterations[k-1].Start+tr.Iterations[k-1].Duration {
			t.Fatalf("iteration %d starts before the previous ended", k)
		}
		if greedy && mid >= 0 && !slices.Contains(b.Preempted, mid) && !slices.ContainsFunc(b.Prefills, func(c Chunk) bool { return c.Seq == mid }) {
			t.Fatalf("iteration %d: seq %d is mid-prefill and got no chunk: %s", k, mid, show(b))
		}
		mid = -1
		tokens := 0
		for _, p := range b.Preempted {
			// recompute: the prompt becomes everything the sequence holds.
			prompt[p] = tr.Requests[p].PromptTokens + gen[p]
			kv[p], done[p] = 0, 0
		}
		for _, c := range b.Prefills {
			if greedy && mid >= 0 {
				t.Fatalf("iteration %d: seqs %d and %d both left mid-prefill: %s", k, mid, c.Seq, show(b))
			}
			if c.Cached != kv[c.Seq] || c.Cached != done[c.Seq] {
				t.Fatalf("iteration %d: seq %d chunk over %d cached, KV holds %d", k, c.Seq, c.Cached, kv[c.Seq])
			}
			kv[c.Seq] += c.NewTokens
			done[c.Seq] += c.NewTokens
			tokens += c.NewTokens
			exec[c.Seq] += it.Duration
			if done[c.Seq] == prompt[c.Seq] {
				prefillDone[c.Seq] = end
				gen[c.Seq]++
				tokTimes[c.Seq] = append(tokTimes[c.Seq], end)
			} else if done[c.Seq] > prompt[c.Seq] {
				t.Fatalf("iteration %d: seq %d prefilled past its prompt", k, c.Seq)
			} else {
				mid = c.Seq
			}
		}
		for _, d := range b.Decodes {
			if done[d.Seq] != prompt[d.Seq] {
				t.Fatalf("iteration %d: seq %d decodes before its prefill is done", k, d.Seq)
			}
			// KV holds the prompt and all generated tokens but the last.
			if d.Cached != kv[d.Seq] {
				t.Fatalf("iteration %d: seq %d decode over %d cached", k, d.Seq, d.Cached)
			}
			kv[d.Seq]++
			gen[d.Seq]++
			exec[d.Seq] += it.Duration
			tokTimes[d.Seq] = append(tokTimes[d.Seq], end)
			tokens++
		}
		if it.Tokens != tokens || it.Decodes != len(b.Decodes) || it.PrefillChunks != len(b.Prefills) || it.Preempted != len(b.Preempted) {
			t.Fatalf("iteration %d log %+v does not match batch %s", k, it, show(b))
		}
		if tokens > cfg.ChunkSize && len(b.Prefills) > 0 {
			t.Fatalf("iteration %d: %d tokens over chunk_size %d", k, tokens, cfg.ChunkSize)
		}
	}
	for i := range reqs {
		r := &tr.Requests[i]
		if r.Ignored {
			if gen[i] != r.OutputTokens || (gen[i] != 0 && r.Preemptions == 0) {
				t.Fatalf("ignored request %d ran (%d tokens) without a preemption", i, gen[i])
			}
			continue
		}
		want := reqs[i].OutputTokens
		if cfg.StopRule == StopPerAttempt {
			want = -1 // checked by TestStopRules
		}
		if gen[i] != r.OutputTokens || (want >= 0 && r.OutputTokens != want) {
			t.Fatalf("request %d: %d tokens generated, trace says %d, asked %d", i, gen[i], r.OutputTokens, reqs[i].OutputTokens)
		}
		if math.Abs(exec[i]-r.ExecTime) > 1e-9*math.Max(1, exec[i]) {
			t.Fatalf("request %d: exec time %g, replay %g", i, r.ExecTime, exec[i])
		}
		if r.PrefillDone != prefillDone[i] || r.Completed != tokTimes[i][len(tokTimes[i])-1] || !reflect.DeepEqual(r.TokenTimes, tokTimes[i]) {
			t.Fatalf("request %d: stamps f=%g c=%g, replay f=%g tokens %v", i, r.PrefillDone, r.Completed, prefillDone[i], tokTimes[i])
		}
		if r.Scheduled < r.Arrival || r.PrefillDone <= r.Scheduled || r.Completed < r.PrefillDone {
			t.Fatalf("request %d: a=%g s=%g f=%g c=%g out of order", i, r.Arrival, r.Scheduled, r.PrefillDone, r.Completed)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		mod  func(c *Config)
		want string
	}{
		{func(c *Config) { c.MinChunkThreshold = 8 }, "min_chunk_threshold: 8, expected < chunk_size (8)"},
		{func(c *Config) { c.MinChunkThreshold = -1 }, "min_chunk_threshold: -1"},
		{func(c *Config) { c.ChunkSize = 0 }, "chunk_size: 0"},
		{func(c *Config) { c.Policy = "lifo" }, `policy: "lifo"`},
		{func(c *Config) { c.NumBlocks = 0 }, "num_blocks: 0"},
		{func(c *Config) { c.PromptWeight = math.NaN() }, "prompt_weight"},
	} {
		c := base()
		tc.mod(&c)
		_, err := Simulate(c, []Request{{PromptTokens: 1, OutputTokens: 1}}, &recorder{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want it to contain %q", err, tc.want)
		}
	}
	c := base()
	if _, err := Simulate(c, []Request{{PromptTokens: 0, OutputTokens: 1}}, &recorder{}); err == nil {
		t.Error("prompt 0 accepted")
	}
	bad := ExecutorFunc(func(*Batch) (float64, error) { return math.NaN(), nil })
	if _, err := Simulate(c, []Request{{PromptTokens: 1, OutputTokens: 1}}, bad); err == nil {
		t.Error("NaN duration accepted")
	}
	boom := errors.New("boom")
	failing := ExecutorFunc(func(*Batch) (float64, error) { return 0, boom })
	if _, err := Simulate(c, []Request{{PromptTokens: 1, OutputTokens: 1}}, failing); !errors.Is(err, boom) {
		t.Errorf("executor error not wrapped: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Simulate(c, []Request{{PromptTokens: 1, OutputTokens: 1}}, &recorder{}, WithContext(ctx)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

// A trace built in an earlier trace's storage (WithReuse) is right (the
// independent replay of checkTrace) and is the trace built fresh: from bigger and smaller earlier traces, with token times
// that outgrow their share of the store (outputs longer than
// MaxModelLen), and along a chain of reuses.
func TestReuseGivesTheSameTrace(t *testing.T) {
	beyondMaxLen := func(n int, seed uint64) []Request {
		r := rand.New(rand.NewPCG(seed, 2))
		reqs := make([]Request, n)
		for i := range reqs {
			reqs[i] = Request{ID: i, Arrival: 0.01 * float64(i), PromptTokens: 1 + r.IntN(20), OutputTokens: 1 + r.IntN(60)}
		}
		return reqs
	}
	tight := Config{ChunkSize: 128, MaxNumSeqs: 16, MinChunkThreshold: 8, BlockSize: 16, NumBlocks: 120, MaxModelLen: 1 << 20, Policy: Aging, TimeWeight: 1, PromptWeight: -0.01}
	short := base()
	short.MaxModelLen = 25
	cases := []struct {
		name string
		cfg  Config
		reqs []Request
	}{
		{"tight cache, preemptions", tight, randomRequests(200, 3)},
		{"outputs beyond max_model_len", short, beyondMaxLen(150, 4)},
		{"few requests", base(), randomRequests(20, 5)},
	}
	exported := func(tr *Trace) Trace {
		c := *tr
		c.tokenStore = nil
		return c
	}
	dur := func(b *Batch) float64 { return 0.002 + 0.00005*float64(b.Tokens()) }
	var prev *Trace
	for round := range 2 {
		for _, c := range cases {
			fresh, err := Simulate(c.cfg, c.reqs, &recorder{dur: dur})
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{dur: dur}
			reused, err := Simulate(c.cfg, c.reqs, rec, WithReuse(prev))
			if err != nil {
				t.Fatal(err)
			}
			// The replay checks the token times on their own: a request's
			// times running into the next one's share would pass a
			// comparison of two traces that share the bug.
			checkTrace(t, c.cfg, c.reqs, rec, reused)
			if !reflect.DeepEqual(exported(fresh), exported(reused)) {
				t.Errorf("round %d, %s: the trace built in an earlier one's storage differs from the fresh one", round, c.name)
			}
			prev = reused
		}
	}
}
