package sched

// Request is one request of a workload.
type Request struct {
	// ID names the request in the metric files ("0_<ID>").
	ID int
	// Arrival is when the request reaches the engine, in seconds.
	Arrival float64
	// PromptTokens and OutputTokens (the first token, produced when the
	// prefill completes, included) are the lengths; OutputTokens ≥ 1.
	PromptTokens, OutputTokens int
}

// Chunk is a prefill chunk: NewTokens new tokens over Cached tokens already
// in the sequence's KV cache (Cached = 0 for a first chunk).
type Chunk struct{ Seq, NewTokens, Cached int }

// Decode is one decode token of a sequence attending over Cached tokens.
type Decode struct{ Seq, Cached int }

// Batch is what one iteration runs. Seq is the index of the request in the
// slice given to Simulate. The scheduler reuses a Batch's slices: an
// Executor must not keep them after Execute returns.
type Batch struct {
	Prefills []Chunk
	Decodes  []Decode
	// Preempted are sequences preempted while this batch was formed: their
	// KV blocks are freed before the batch runs; they restart from a first
	// chunk later (recompute).
	Preempted []int
	// Finished are sequences whose last token this batch produces: their KV
	// can be freed after it runs.
	Finished []int
}

// Tokens is the number of new tokens in the batch.
func (b *Batch) Tokens() int {
	n := len(b.Decodes)
	for _, c := range b.Prefills {
		n += c.NewTokens
	}
	return n
}

// Empty reports whether the batch has nothing to run.
func (b *Batch) Empty() bool { return len(b.Prefills) == 0 && len(b.Decodes) == 0 }

// Executor runs a batch and says how long it took, in seconds. The
// simulator's executor predicts it (lab/internal/sim/perfmodel); the GPU engine's runs it.
type Executor interface {
	Execute(b *Batch) (seconds float64, err error)
}

// ExecutorFunc adapts a function to Executor.
type ExecutorFunc func(b *Batch) (float64, error)

// Execute calls f.
func (f ExecutorFunc) Execute(b *Batch) (float64, error) { return f(b) }

// Predictor predicts how long a batch would take, in the unit of
// Config.TargetTime, for time-budget chunking: the scheduler asks it about
// the batch formed so far with a candidate chunk appended (the last
// element of b.Prefills). It must not keep b.
type Predictor interface {
	Predict(b *Batch) float64
}

// PredictorFunc adapts a function to Predictor.
type PredictorFunc func(b *Batch) float64

// Predict calls f.
func (f PredictorFunc) Predict(b *Batch) float64 { return f(b) }

// Counters count how often each scheduling rule acted in a run: they tell a
// knob that changed nothing apart from one that never got to act.
type Counters struct {
	// ThresholdBlockedAdmissions: admission stopped at a request that had
	// arrived, fit the KV cache (watermark included) and max_num_seqs, only
	// because 0 < budget left < min_chunk_threshold.
	ThresholdBlockedAdmissions int `json:"threshold_blocked_admissions"`
	// PredictorBlockedAdmissions: the same, stopped because no candidate
	// chunk met the time budget (time_budget chunking).
	PredictorBlockedAdmissions int `json:"predictor_blocked_admissions"`
	// Skips* count running sequences with an unfinished prefill that got no
	// chunk in an iteration, by reason: 0 < budget left < threshold, no
	// budget left, no candidate within the time budget.
	SkipsThreshold int `json:"running_prefill_skips_threshold"`
	SkipsBudget    int `json:"running_prefill_skips_budget"`
	SkipsPredictor int `json:"running_prefill_skips_predictor"`
	// ForcedSingleToken: chunks forced to one token because nothing else was
	// in the batch and no candidate met the time budget.
	ForcedSingleToken int `json:"forced_single_token"`
	// ReadmissionDrops: preempted sequences dropped as ignored when they
	// reached the head of the queue again (now longer than max_model_len,
	// or than the KV cache can ever hold).
	ReadmissionDrops int `json:"readmission_drops"`
}

// RunningPrefillSkips is the number of skips over all reasons.
func (c Counters) RunningPrefillSkips() int {
	return c.SkipsThreshold + c.SkipsBudget + c.SkipsPredictor
}

// RequestTrace is one request's timeline. Times are in seconds on the
// simulation clock. Field meanings follow sarathi-serve's SequenceState.
type RequestTrace struct {
	ID      int
	Arrival float64
	// PromptTokens is the original prompt length; OutputTokens the tokens
	// produced (the first included).
	PromptTokens, OutputTokens int
	// Ignored: dropped at the head of the waiting queue because it was
	// longer than MaxModelLen or than the KV cache can ever admit (with the
	// watermark); it has no metrics. Usually it never ran; a sequence
	// dropped on readmission after a preemption did (Preemptions > 0), and
	// Completed is the time of the drop.
	Ignored bool
	// Started: some iteration ran part of it (Scheduled is then valid).
	Started bool
	// Scheduled (s): start of the first iteration that ran part of it.
	Scheduled float64
	// PrefillDone (f): end of the iteration that completed its prompt. After
	// a recompute preemption it is the completion of the re-prefill, as in
	// sarathi-serve (on_prompt_processing_completed overwrites it).
	PrefillDone float64
	// Completed (c): end of the iteration that produced its last token.
	Completed float64
	// ExecTime sums the durations of the iterations the request was part of
	// (a chunk or a decode), over all attempts.
	ExecTime float64
	// Preemptions counts recompute preemptions.
	Preemptions int
	// TokenTimes are the times each output token was produced.
	TokenTimes []float64
}

// Iteration is one line of the per-iteration log.
type Iteration struct {
	Start, Duration float64
	// PrefillChunks and PrefillTokens: chunks in the batch and their new
	// tokens; Decodes: decode tokens; Tokens = PrefillTokens + Decodes.
	PrefillChunks, PrefillTokens, Decodes, Tokens int
	// Preempted sequences while forming the batch; Finished after it.
	Preempted, Finished int
	// Running and Waiting when the batch was formed (finished ones still
	// count as running; waiting: arrived only).
	Running, Waiting int
}

// Trace is the outcome of Simulate.
type Trace struct {
	Requests   []RequestTrace // in the order given to Simulate
	Iterations []Iteration
	// Ignored counts requests not run (see RequestTrace.Ignored).
	Ignored int
	// Preemptions counts recompute preemptions over all requests.
	Preemptions int
	// Counters count the threshold's, the budget's and the predictor's
	// actions.
	Counters Counters
	// End is the clock when the last request completed.
	End float64

	// tokenStore backs the requests' TokenTimes (WithReuse hands it to
	// the next trace).
	tokenStore []float64
}
