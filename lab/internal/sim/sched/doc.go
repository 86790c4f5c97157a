// Package sched is the iteration-level chunked-prefill scheduler of DESIGN §8,
// written once and shared by the embedded simulator (lab/internal/engine/sim) and the
// GPU engine (lab/internal/engine/gpu). What runs a batch is pluggable: an Executor
// returns how long one batch took, either predicted by lab/internal/sim/perfmodel or
// measured on a GPU.
//
// One iteration, faithful to Sarathi-Serve's SarathiScheduler with this fork's
// min_chunk_threshold and AGING policy:
//
//  1. Requests whose arrival time has passed join the waiting queue.
//  2. The running list is ordered by the policy (fcfs, spf, srtf, aging).
//  3. Decodes first, in that order, one token each. A decode that needs a new
//     KV block when none is free preempts the lowest-priority running
//     sequence not yet looked at in this iteration (the tail of the ordered
//     list), or itself when it is the last one. Preemption is by recompute:
//     the sequence's blocks are freed, its prompt becomes prompt + generated
//     tokens, and it goes back to the front of the waiting queue.
//  4. Running sequences whose prefill is unfinished get a chunk of
//     min(remaining prompt, budget left), unless budget left <
//     min_chunk_threshold (then none this iteration).
//  5. Waiting requests are admitted in queue order (arrival order, or policy
//     order with OrderWaiting) while the head fits in free KV blocks (its
//     whole prompt is allocated), running < max_num_seqs, and budget left ≥
//     max(1, min_chunk_threshold). The first that does not fit stops
//     admission (head-of-line, as Sarathi does).
//
// The budget is chunk_size tokens per iteration; each decode uses one.
//
// KV accounting is exact, and differs from sarathi-serve's block manager in
// two places that only matter when the cache is nearly full: Sarathi
// preempts before any decode while no block at all is free (can_append_slot:
// free > 0), even one that needs none, and admits a request only if 1% of
// the blocks stay free afterwards (the watermark). Here a decode preempts
// only when it needs a new block and none is free, and admission may take
// the last block. The two go together: Sarathi's preemption test without
// its watermark thrashes (in the golden tight-cache schedule, 25 preemptions
// instead of 1).
//
// A consequence worth knowing: at most one running sequence is ever
// mid-prefill at the end of an iteration (chunks are handed out greedily, as
// Sarathi's _get_seq_next_num_prefill_tokens does, so only the last chunk of
// a batch can be partial, and it leaves no budget for another). Call it X,
// and B the budget left when X got its chunk (B ≥ max(1, threshold), or X
// would have had none). The next iteration's decodes are the sequences that
// decoded in this one or completed a prefill before X's chunk: at most
// chunk_size − B of them, since each took at least one token of the budget.
// So X finds at least B left and always gets its next chunk: the
// running-prefill half of the threshold rule (step 4) never fires, and
// min_chunk_threshold acts only through admissions (step 5). The rule is
// kept because it is DESIGN §8's, and the tests assert the invariant on
// every schedule they run (checkTrace), so a change that breaks it shows.
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
// Because every sequence's wait grows at the same rate, AGING's order between
// two sequences only changes when a remaining prompt changes or a newcomer
// arrives (its wait starts at zero); the implementation sorts on
// priority − time_weight·now = prompt_weight·remaining − time_weight·arrival,
// which orders exactly like the priority and is exact in floating point.
//
// Time: an iteration starts at the clock, the Executor says how long it ran,
// and everything it produced (chunks done, tokens, completions) is stamped at
// its end. When nothing can run the clock jumps to the next arrival.
//
// Metrics follow sarathi-serve's SequenceState, so simulated and real files
// mean the same (see WriteMetrics).
package sched
