package sched

import (
	"context"
	"fmt"
	"math"
	"sort"
)

// Option adjusts a Simulate call.
type Option func(*options)

type options struct {
	ctx   context.Context
	pred  Predictor
	reuse *Trace
}

// WithPredictor sets the latency predictor of time-budget chunking
// (required when Config.Chunking is TimeBudget, unused otherwise).
func WithPredictor(p Predictor) Option { return func(o *options) { o.pred = p } }

// WithContext makes Simulate stop with ctx's error when ctx is cancelled
// (checked before every iteration).
func WithContext(ctx context.Context) Option { return func(o *options) { o.ctx = ctx } }

// WithReuse lets Simulate build its trace in the storage of old, a trace
// that nothing reads any more: its request records, token times and
// iteration log are overwritten. A 10,000-request trace holds ~35 MB that
// would otherwise be allocated and zeroed (fresh pages, faulted in) for
// every cell. A nil old allocates.
func WithReuse(old *Trace) Option { return func(o *options) { o.reuse = old } }

type seqState uint8

const (
	statePending seqState = iota // not arrived yet
	stateWaiting
	stateRunning
	stateFinished
	stateIgnored
)

// seq is the scheduler's state of one request.
type seq struct {
	arrival float64
	// prompt is the current prompt: the original one plus the tokens
	// generated before each recompute preemption.
	prompt int
	// target is the number of output tokens to produce (after caps).
	target int
	// generated counts output tokens over all attempts; genAttempt those
	// of the current attempt (they sit after prompt in the sequence).
	generated, genAttempt int
	// prefilled is how much of prompt the current attempt has processed.
	prefilled int
	blocks    int
	state     seqState
	scheduled bool
	// key orders sequences under the policy (higher first); see doc.go.
	key float64
	// preempted: it was preempted at least once (for ReadmissionDrops).
	preempted bool
}

// scheduler holds the state of one run.
type scheduler struct {
	cfg   Config
	seqs  []seq
	trace *Trace

	order   []int // request indices sorted by arrival (stable)
	next    int   // next index into order not yet arrived
	waiting []int // queue, front first
	running []int
	free    int // free KV blocks
	now     float64
	// watermark: KV blocks an admission must leave free.
	watermark int
	pred      Predictor

	batch   Batch
	inBatch []int // sequences in the batch (for exec time and stamping)
	// scratch buffers reused by form
	kept, prefills []int
}

// Simulate runs reqs through the scheduler with ex timing each batch, and
// returns every request's timeline and the per-iteration log. Requests may
// be in any order; Seq numbers in batches are indices into reqs.
func Simulate(cfg Config, reqs []Request, ex Executor, opts ...Option) (*Trace, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("scheduler config: %w", err)
	}
	o := options{ctx: context.Background()}
	for _, f := range opts {
		f(&o)
	}
	if cfg.Chunking == TimeBudget && o.pred == nil {
		return nil, fmt.Errorf("scheduler config: time_budget chunking needs a latency predictor")
	}
	s := &scheduler{cfg: cfg, free: cfg.NumBlocks, pred: o.pred, watermark: cfg.WatermarkBlocks()}
	if err := s.init(reqs, o.reuse); err != nil {
		return nil, err
	}
	for iter := 0; ; iter++ {
		if err := o.ctx.Err(); err != nil {
			return nil, err
		}
		s.admitArrivals()
		s.form()
		if s.batch.Empty() {
			if len(s.running) > 0 || s.waitingLen() > 0 {
				return nil, fmt.Errorf("scheduler stuck at t=%gs: %d running, %d waiting and nothing schedulable (internal error)", s.now, len(s.running), s.waitingLen())
			}
			if s.next == len(s.order) {
				break
			}
			s.now = math.Max(s.now, s.seqs[s.order[s.next]].arrival)
			continue
		}
		d, err := ex.Execute(&s.batch)
		if err != nil {
			return nil, fmt.Errorf("iteration %d at t=%gs: %w", len(s.trace.Iterations), s.now, err)
		}
		if math.IsNaN(d) || math.IsInf(d, 0) || d < 0 {
			return nil, fmt.Errorf("iteration %d: executor returned %v seconds, expected a finite duration ≥ 0", len(s.trace.Iterations), d)
		}
		s.complete(d)
	}
	s.trace.End = s.now
	return s.trace, nil
}

// init sets up the sequences and the trace of reqs, the trace in old's
// storage when old is not nil (WithReuse).
func (s *scheduler) init(reqs []Request, old *Trace) error {
	n := len(reqs)
	s.seqs = make([]seq, n)
	if old == nil {
		old = &Trace{}
	}
	s.trace = &Trace{Requests: old.Requests[:0], Iterations: old.Iterations[:0], tokenStore: old.tokenStore}
	if cap(s.trace.Requests) >= n {
		s.trace.Requests = s.trace.Requests[:n]
		clear(s.trace.Requests)
	} else {
		s.trace.Requests = make([]RequestTrace, n)
	}
	for i, r := range reqs {
		if r.PromptTokens < 1 || r.OutputTokens < 1 {
			return fmt.Errorf("request %d (id %d): prompt %d and output %d tokens, expected both ≥ 1", i, r.ID, r.PromptTokens, r.OutputTokens)
		}
		if math.IsNaN(r.Arrival) || math.IsInf(r.Arrival, 0) || r.Arrival < 0 {
			return fmt.Errorf("request %d (id %d): arrival %v, expected a finite time ≥ 0", i, r.ID, r.Arrival)
		}
		rt := &s.trace.Requests[i]
		rt.ID, rt.Arrival, rt.PromptTokens = r.ID, r.Arrival, r.PromptTokens
		sq := &s.seqs[i]
		sq.arrival, sq.prompt, sq.target = r.Arrival, r.PromptTokens, r.OutputTokens
	}
	// Token times: one store carved into a slice per request, each capped
	// at its own capacity so that a request producing more than its hint
	// (outputs are not capped, see Config) moves to its own array instead
	// of writing into the next request's.
	hint := func(i int) int {
		if s.tooLong(&s.seqs[i]) {
			return 0
		}
		return min(s.seqs[i].target, s.cfg.MaxModelLen)
	}
	total := 0
	for i := range s.seqs {
		total += hint(i)
	}
	if cap(s.trace.tokenStore) < total {
		s.trace.tokenStore = make([]float64, total)
	}
	store := s.trace.tokenStore[:total]
	for i := range s.seqs {
		if h := hint(i); h > 0 {
			s.trace.Requests[i].TokenTimes, store = store[:0:h], store[h:]
		}
	}
	s.order = make([]int, n)
	for i := range s.order {
		s.order[i] = i
	}
	sort.SliceStable(s.order, func(a, b int) bool {
		return s.seqs[s.order[a]].arrival < s.seqs[s.order[b]].arrival
	})
	s.running = make([]int, 0, s.cfg.MaxNumSeqs)
	if h := iterationsHint(s.seqs, s.cfg); cap(s.trace.Iterations) < h {
		s.trace.Iterations = make([]Iteration, 0, h)
	}
	return nil
}

// tooLong reports whether waiting sequence sq can never be admitted: longer
// than MaxModelLen, or needing more blocks than the cache holds beyond the
// watermark.
func (s *scheduler) tooLong(sq *seq) bool {
	return sq.prompt > s.cfg.MaxModelLen || blocksFor(sq.prompt, s.cfg.BlockSize) > s.cfg.NumBlocks-s.watermark
}

// iterationsHint is a capacity for the iteration log: the output tokens
// over max_num_seqs plus the prompts' chunks, plus 15%: a little above the
// count for loaded and offline runs alike (the main job's engine: 24,000
// iterations for 24,800 hinted with 1,000 requests, 241,000 for 250,000
// with 10,000; offline, max_num_seqs 128: 56,700 for 67,800). Growing the log by append alone (1.25× at a
// time past a few hundred entries) allocated five times its final size —
// ~90 MB for a 10,000-request cell — and copying it was the largest single
// cost of the simulation. Only the capacity depends on it, never the trace.
func iterationsHint(seqs []seq, cfg Config) int {
	tokens, chunks := 0, 0
	for i := range seqs {
		if seqs[i].state != stateIgnored {
			tokens += seqs[i].target
			chunks += (seqs[i].prompt + cfg.ChunkSize - 1) / max(1, cfg.ChunkSize)
		}
	}
	return (tokens/max(1, cfg.MaxNumSeqs)+chunks)*115/100 + 1
}

func blocksFor(tokens, blockSize int) int { return (tokens + blockSize - 1) / blockSize }

// key computes sq's policy key for the waiting queue (higher first), which
// must not change while a request waits.
func (s *scheduler) key(sq *seq) float64 {
	switch s.cfg.Policy {
	case SPF:
		return -float64(sq.prompt)
	case SRTF:
		return -float64(sq.prompt - sq.prefilled)
	case Aging:
		// priority − time_weight·now: the same order as
		// time_weight·(now−arrival) + prompt_weight·remaining.
		return float64(s.cfg.PromptWeight*float64(sq.prompt-sq.prefilled)) - float64(s.cfg.TimeWeight*sq.arrival)
	default: // FCFS
		return -sq.arrival
	}
}

// priority is sq's priority at the clock, computed as the fork computes it
// (the same operations in the same order, no fused multiply-add), so that
// ties and near-ties order the running list exactly as there.
func (s *scheduler) priority(sq *seq) float64 {
	switch s.cfg.Policy {
	case SPF, SRTF:
		return s.key(sq)
	case Aging:
		return float64(s.cfg.TimeWeight*(s.now-sq.arrival)) + float64(s.cfg.PromptWeight*float64(sq.prompt-sq.prefilled))
	default: // FCFS
		return s.now - sq.arrival
	}
}

// before reports whether sequence a runs before b: higher key, then earlier
// arrival, then lower index.
func (s *scheduler) before(a, b int) bool {
	sa, sb := &s.seqs[a], &s.seqs[b]
	if sa.key != sb.key {
		return sa.key > sb.key
	}
	if sa.arrival != sb.arrival {
		return sa.arrival < sb.arrival
	}
	return a < b
}

func (s *scheduler) waitingLen() int { return len(s.waiting) }

// admitArrivals moves requests that have arrived by now into the waiting
// queue (in arrival order, or by policy with OrderWaiting).
func (s *scheduler) admitArrivals() {
	for s.next < len(s.order) {
		i := s.order[s.next]
		if s.seqs[i].arrival > s.now {
			break
		}
		s.next++
		s.seqs[i].state = stateWaiting
		if s.cfg.OrderWaiting {
			s.insertOrdered(i)
		} else {
			s.waiting = append(s.waiting, i)
		}
	}
}

// insertOrdered inserts i into the waiting queue in policy order. Every
// policy's key is constant while a request waits, so the queue stays sorted.
func (s *scheduler) insertOrdered(i int) {
	s.seqs[i].key = s.key(&s.seqs[i])
	pos := sort.Search(len(s.waiting), func(k int) bool { return s.before(i, s.waiting[k]) })
	s.waiting = append(s.waiting, 0)
	copy(s.waiting[pos+1:], s.waiting[pos:])
	s.waiting[pos] = i
}

// preempt frees i's blocks and sends it back to the waiting queue for
// recompute.
func (s *scheduler) preempt(i int) {
	sq := &s.seqs[i]
	s.free += sq.blocks
	sq.blocks = 0
	sq.prompt += sq.genAttempt
	sq.genAttempt = 0
	sq.prefilled = 0
	sq.state = stateWaiting
	sq.preempted = true
	s.trace.Requests[i].Preemptions++
	s.trace.Preemptions++
	s.batch.Preempted = append(s.batch.Preempted, i)
	if s.cfg.OrderWaiting {
		s.insertOrdered(i)
		return
	}
	s.waiting = append(s.waiting, 0)
	copy(s.waiting[1:], s.waiting)
	s.waiting[0] = i
}

// sortRunning orders the running list by the policy's priority, highest
// first, stably: equal priorities keep the list's previous order (decoded,
// then mid-prefill, then newly admitted), as the fork's sort does.
// Insertion sort: the order changes little between iterations.
func (s *scheduler) sortRunning() {
	r := s.running
	for _, i := range r {
		s.seqs[i].key = s.priority(&s.seqs[i])
	}
	for a := 1; a < len(r); a++ {
		x := r[a]
		b := a - 1
		for b >= 0 && s.seqs[x].key > s.seqs[r[b]].key {
			r[b+1] = r[b]
			b--
		}
		r[b+1] = x
	}
}

// form builds this iteration's batch (steps 2–5 of the package doc).
func (s *scheduler) form() {
	b := &s.batch
	b.Prefills, b.Decodes, b.Preempted, b.Finished = b.Prefills[:0], b.Decodes[:0], b.Preempted[:0], b.Finished[:0]
	s.inBatch = s.inBatch[:0]
	s.sortRunning()
	budget := s.cfg.ChunkSize
	bs := s.cfg.BlockSize
	cnt := &s.trace.Counters

	// Decodes, in priority order; the list is consumed from the front and
	// victims are taken from its back, as Sarathi does. Sarathi's
	// can_append_slot: while no block at all is free, preempt (even for a
	// decode that would need none).
	pending := s.running
	kept := s.kept[:0]
	prefills := s.prefills[:0]
	for len(pending) > 0 {
		i := pending[0]
		pending = pending[1:]
		sq := &s.seqs[i]
		if sq.prefilled < sq.prompt {
			prefills = append(prefills, i)
			continue
		}
		selfPreempted := false
		for s.free == 0 {
			if len(pending) > 0 {
				v := pending[len(pending)-1]
				pending = pending[:len(pending)-1]
				s.preempt(v)
				continue
			}
			s.preempt(i)
			selfPreempted = true
		}
		if selfPreempted {
			continue
		}
		// A decode adds one token: at most one new block, and one is free.
		need := blocksFor(sq.prompt+sq.genAttempt, bs) - sq.blocks
		s.free -= need
		sq.blocks += need
		b.Decodes = append(b.Decodes, Decode{Seq: i, Cached: sq.prompt + sq.genAttempt - 1})
		s.inBatch = append(s.inBatch, i)
		if s.lastToken(sq) {
			b.Finished = append(b.Finished, i)
		}
		kept = append(kept, i)
		budget--
	}

	// Chunks for running prefills, in priority order.
	for _, i := range prefills {
		kept = append(kept, i)
		sq := &s.seqs[i]
		bound := s.bound(budget, sq.prompt-sq.prefilled)
		if bound == 0 {
			if budget <= 0 {
				cnt.SkipsBudget++
			} else {
				cnt.SkipsThreshold++
			}
			continue
		}
		q := s.chunk(i, bound)
		if q == 0 {
			cnt.SkipsPredictor++
			continue
		}
		s.addChunk(i, q)
		budget -= q
	}

	// Admissions from the head of the waiting queue, checked in Sarathi's
	// order: too long (dropped), KV with the watermark, max_num_seqs, the
	// budget and threshold, the time budget.
	for len(s.waiting) > 0 {
		i := s.waiting[0]
		sq := &s.seqs[i]
		if s.tooLong(sq) {
			s.waiting = s.waiting[1:]
			s.drop(i)
			continue
		}
		need := blocksFor(sq.prompt, bs)
		if s.free-need < s.watermark || len(kept) >= s.cfg.MaxNumSeqs || budget <= 0 {
			break
		}
		bound := s.bound(budget, sq.prompt)
		if bound == 0 {
			cnt.ThresholdBlockedAdmissions++
			break
		}
		q := s.chunk(i, bound)
		if q == 0 {
			cnt.PredictorBlockedAdmissions++
			break
		}
		s.waiting = s.waiting[1:]
		s.free -= need
		sq.blocks = need
		sq.state = stateRunning
		kept = append(kept, i)
		s.addChunk(i, q)
		budget -= q
	}
	s.running = append(s.running[:0], kept...)
	s.kept, s.prefills = kept, prefills
}

// bound is the largest chunk a sequence with remaining prompt tokens may get
// with budget left: 0 (none) when the budget is gone or below the threshold.
func (s *scheduler) bound(left, remaining int) int {
	if left <= 0 || left < s.cfg.MinChunkThreshold || remaining <= 0 {
		return 0
	}
	return min(remaining, left)
}

// chunk sizes sequence i's chunk given its bound ≥ 1: the bound itself
// (greedy), or the largest grid candidate whose predicted batch time is
// within the target; 0 when none is, except that a batch with nothing else
// in it gets a single token.
func (s *scheduler) chunk(i, bound int) int {
	if s.cfg.Chunking != TimeBudget {
		return bound
	}
	b := &s.batch
	sq := &s.seqs[i]
	best := 0
	try := func(x int) {
		b.Prefills = append(b.Prefills, Chunk{Seq: i, NewTokens: x, Cached: sq.prefilled})
		if s.pred.Predict(b) <= s.cfg.TargetTime {
			best = x
		}
		b.Prefills = b.Prefills[:len(b.Prefills)-1]
	}
	// The fork tries every candidate in increasing order and keeps the last
	// that passes; it does not assume the prediction grows with the chunk.
	try(1)
	g := s.cfg.ChunkSearchGranularity
	for x := g; x < bound; x += g {
		if x > 1 {
			try(x)
		}
	}
	if bound > 1 {
		try(bound)
	}
	if best == 0 && b.Empty() {
		s.trace.Counters.ForcedSingleToken++
		return 1
	}
	return best
}

// drop removes waiting sequence i as ignored (too long to ever admit).
func (s *scheduler) drop(i int) {
	sq := &s.seqs[i]
	sq.state = stateIgnored
	rt := &s.trace.Requests[i]
	rt.Ignored = true
	rt.Completed = s.now
	s.trace.Ignored++
	if sq.preempted {
		s.trace.Counters.ReadmissionDrops++
	}
}

// lastToken reports whether sq's next token is its last under the stop
// rule.
func (s *scheduler) lastToken(sq *seq) bool {
	if s.cfg.StopRule == StopPerAttempt {
		return sq.genAttempt+1 == sq.target
	}
	return sq.generated+1 == sq.target
}

func (s *scheduler) addChunk(i, q int) {
	sq := &s.seqs[i]
	s.batch.Prefills = append(s.batch.Prefills, Chunk{Seq: i, NewTokens: q, Cached: sq.prefilled})
	s.inBatch = append(s.inBatch, i)
	if sq.prefilled+q == sq.prompt && s.lastToken(sq) {
		s.batch.Finished = append(s.batch.Finished, i)
	}
}

// complete advances the clock by d and applies the batch's effects.
func (s *scheduler) complete(d float64) {
	start := s.now
	end := start + d
	s.now = end
	b := &s.batch
	for _, i := range s.inBatch {
		rt := &s.trace.Requests[i]
		if sq := &s.seqs[i]; !sq.scheduled {
			sq.scheduled = true
			rt.Scheduled = start
			rt.Started = true
		}
		rt.ExecTime += d
	}
	prefillTokens := 0
	for _, c := range b.Prefills {
		prefillTokens += c.NewTokens
		sq := &s.seqs[c.Seq]
		sq.prefilled += c.NewTokens
		if sq.prefilled == sq.prompt {
			s.trace.Requests[c.Seq].PrefillDone = end
			s.token(c.Seq, end)
		}
	}
	for _, dc := range b.Decodes {
		s.token(dc.Seq, end)
	}
	running := len(s.running)
	if len(b.Finished) > 0 {
		kept := s.running[:0]
		for _, i := range s.running {
			if s.seqs[i].state == stateRunning {
				kept = append(kept, i)
			}
		}
		s.running = kept
	}
	s.trace.Iterations = append(s.trace.Iterations, Iteration{
		Start: start, Duration: d,
		PrefillChunks: len(b.Prefills), PrefillTokens: prefillTokens, Decodes: len(b.Decodes),
		Tokens: prefillTokens + len(b.Decodes), Preempted: len(b.Preempted), Finished: len(b.Finished),
		Running: running, Waiting: len(s.waiting),
	})
}

// token records an output token of sequence i produced at t.
func (s *scheduler) token(i int, t float64) {
	sq := &s.seqs[i]
	sq.generated++
	sq.genAttempt++
	rt := &s.trace.Requests[i]
	rt.TokenTimes = append(rt.TokenTimes, t)
	rt.OutputTokens = sq.generated
	done := sq.generated == sq.target
	if s.cfg.StopRule == StopPerAttempt {
		done = sq.genAttempt == sq.target
	}
	if done {
		sq.state = stateFinished
		s.free += sq.blocks
		sq.blocks = 0
		rt.Completed = t
	}
}
