// Package sched is the iteration-level chunked-prefill scheduler, written once and shared by the embedded simulator (lab/internal/engine/sim) and the
// GPU engine (lab/internal/engine/gpu). What runs a batch is pluggable: an Executor
// returns how long one batch took, either predicted by lab/internal/sim/perfmodel or
// measured on a GPU.
//
// One iteration, schedule for schedule the fork's OptSarathiScheduler
// (Sarathi-Serve with min_chunk_threshold and the AGING policy) and its
// block manager; every scenario in testdata/fork-oracle, recorded from the
// fork's own code, replays identically (lab/internal/sim/replay):
//
//  1. Requests whose arrival time has passed join the waiting queue.
//  2. The running list is ordered by the policy's priority at the
//     iteration's start, highest first, stably (ties keep the previous
//     order: decoded, then mid-prefill, then newly admitted).
//  3. Decodes first, in that order, one token of the budget each. Before
//     each, while no KV block at all is free (Sarathi's can_append_slot,
//     even for a decode that needs no new block), the lowest-priority
//     running sequence not yet looked at in this iteration (the tail of the
//     ordered list) is preempted, or the sequence itself when it is the
//     last one. Preemption is by recompute: the sequence's blocks are
//     freed, its prompt becomes prompt + generated tokens, and it goes back
//     to the front of the waiting queue.
//  4. Running sequences whose prefill is unfinished get a chunk (see
//     chunking below), unless the budget left is 0 or below
//     min_chunk_threshold: then none this iteration (a skip, counted).
//  5. Waiting requests are taken from the head of the queue (arrival order,
//     preempted sequences first; policy order with OrderWaiting), checking in
//     this order: a sequence longer than max_model_len (prompt + tokens
//     generated before a preemption), or needing more KV blocks than the
//     cache has beyond the watermark, is dropped as ignored and the next one
//     is looked at; admission stops when the head's blocks would leave fewer
//     than the watermark (1% of the blocks) free, when max_num_seqs
//     sequences are running, when no budget is left, when the budget left is
//     below min_chunk_threshold (counted), or when time-budget chunking finds
//     no chunk (counted). An admitted sequence gets all its blocks and a
//     chunk in the same iteration.
//  6. After the batch, a sequence whose prefill completed produced its first
//     token, every decode one more; a sequence stops when its tokens over
//     all attempts reach its output length (StopTotal), or, with
//     StopPerAttempt, those of its current attempt (an older fork commit's
//     check). Outputs are not capped at max_model_len: only the admission
//     checks lengths, as in the fork.
//
// The budget is chunk_size tokens per iteration; each decode uses one.
//
// Chunking. Greedy (Sarathi's rule): a chunk is min(remaining prompt, budget
// left). TimeBudget (the fork's latency-predictor variant): the candidates
// are 1, every multiple of ChunkSearchGranularity below that bound, and the
// bound; the chunk is the largest whose predicted batch time (the batch so
// far plus this chunk, Predictor) is ≤ TargetTime. When none passes, a
// running prefill is skipped and an admission stops — except in a batch
// with nothing else in it, where the chunk is forced to 1 token so the run
// always progresses.
//
// Two choices where the fork has no answer: a prompt that can never fit the
// KV cache beside the watermark, and a preempted sequence that has grown past
// it, would block the fork's queue forever; here they are dropped as ignored
// when they reach its head, like an over-long prompt (counted in
// Counters.ReadmissionDrops when it had run).
//
// A consequence of greedy chunking worth knowing: at most one running
// sequence is ever mid-prefill at the end of an iteration (only the last
// chunk of a batch can be partial, and it leaves no budget for another).
// Call it X, and B the budget left when X got its chunk (B ≥ max(1,
// threshold), or X would have had none). The next iteration's decodes are
// the sequences that decoded in this one or completed a prefill before X's
// chunk: at most chunk_size − B of them, since each took at least one token
// of the budget. So X finds at least B left and always gets its next chunk:
// with greedy chunking the running-prefill half of the threshold rule
// (step 4) never fires, and min_chunk_threshold acts only through
// admissions (step 5). The tests assert it on every greedy schedule they run
// (checkTrace). Time-budget chunking breaks it: a chunk smaller than the
// budget leaves room for an admission, several sequences are mid-prefill at
// once, and running prefills are skipped by the threshold, the budget and
// the predictor (TestTimeBudgetRunningPrefillSkips; the oracle's
// time-predictor scenarios do the same).
//
// Policies, as keys where the higher key runs first (ties: earlier arrival,
// then lower index):
//
//	fcfs   −arrival
//	spf    −prompt tokens (the current prompt, prompt+generated after a recompute)
//	srtf   −remaining prompt tokens (prompt not yet prefilled; 0 once decoding),
//	       what a real scheduler can observe: output lengths are unknown to it
//	aging  time_weight·wait_seconds + prompt_weight·remaining_prompt_tokens,
//	       wait_seconds = now − arrival. With prompt_weight < 0 a long remaining
//	       prompt lowers the priority; waiting raises it.
//
// The running list is sorted on the priority itself, computed as the fork
// does (fcfs: now − arrival; aging: time_weight·(now − arrival) +
// prompt_weight·remaining, no fused multiply-add), so that ties and
// rounding order sequences exactly as there. The ordered waiting queue
// (OrderWaiting) uses priority − time_weight·now, constant while a request
// waits (ties: earlier arrival, then lower index).
//
// Time: an iteration starts at the clock, the Executor says how long it ran,
// and everything it produced (chunks done, tokens, completions) is stamped at
// its end. When nothing can run the clock jumps to the next arrival.
//
// Metrics follow sarathi-serve's SequenceState, so simulated and real files
// mean the same (see WriteMetrics).
package sched
