// Package perfmodel predicts the GPU time of one LLM-serving iteration from
// its batch shape (prefill chunks q over c cached tokens, decodes over k
// cached tokens). Each profile — gpu/model/mode, e.g. h200/llama-3-8b/graph —
// is fitted to real measurements shipped in the binary (profiles/, with the
// README that says how they were taken), by non-negative least squares on
// relative error over features that follow the hardware (see features).
//
// The fit runs when a model is loaded (about a millisecond for 90 points), so
// there is no generated table to keep in sync; Digest (a hash of the data and
// ModelVersion) goes into the simulator's cell identity, so new data or a new
// feature set invalidates cached results. Noise sizes the run-to-run
// variation of an iteration from the measured min/max spread.
package perfmodel
