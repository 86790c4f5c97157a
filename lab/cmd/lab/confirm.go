package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/schedlab/schedlab/lab"
	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/internal/runner"
	"github.com/schedlab/schedlab/lab/internal/store"
	"github.com/schedlab/schedlab/lab/spec"
)

// runConfirmAfter runs, at the end of `lab run` (unless --no-confirm), the
// prompt_weight confirmation at the decision: cells the store lacks are
// run; the selection and the report printed next show it. Like the
// report, a confirmation that cannot run is a warning that never changes
// the run's exit status; a spec without an AGING scheduler has nothing to
// confirm and says so.
func runConfirmAfter(ctx context.Context, env *cmdEnv, opts *runner.Options) {
	s := opts.Spec
	t, err := lab.LoadTable(s, opts.Store)
	if err != nil {
		return // the selection after the run reports it
	}
	_, dec, err := lab.HeadlineDecision(s, t)
	if err != nil {
		fmt.Fprintf(env.stderr, "lab run: no prompt_weight confirmation: %v\n", err)
		return
	}
	pw, err := promptWeightAt(s, t, dec.Point)
	if err != nil {
		fmt.Fprintf(env.stderr, "lab run: no prompt_weight confirmation: %v\n", err)
		return
	}
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = max(1, len(opts.GPUs))
	}
	_, err = lab.Confirm(ctx, s, opts.Store, dec, pw, lab.ConfirmOptions{Run: true, Jobs: jobs, Progress: env.stderr})
	switch {
	case errors.Is(err, lab.ErrNoConfirmation):
		fmt.Fprintf(env.stderr, "lab run: %v\n", err)
	case err != nil:
		fmt.Fprintf(env.stderr, "lab run: no prompt_weight confirmation: %v\n", err)
	}
}

// promptWeightAt is the spec's prompt_weight derivation at p.
func promptWeightAt(s *spec.Spec, t *analysis.Table, p analysis.Point) (*analysis.PromptWeightResult, error) {
	files, err := t.Files(p, "prefill_time_execution_plus_preemption_normalized")
	if err != nil {
		return nil, err
	}
	return analysis.SecondsPerPrefillToken(files, lab.PromptWeightOptions(s))
}

// loadConfirmation loads the confirmation of s at dec from the store when
// it has run; otherwise it returns nil and a note saying why there is none.
func loadConfirmation(s *spec.Spec, storeDir string, t *analysis.Table, dec *analysis.Decision) (*lab.Confirmation, string) {
	st, err := store.Open(storeDir)
	if err != nil {
		return nil, err.Error()
	}
	pw, err := promptWeightAt(s, t, dec.Point)
	if err != nil {
		return nil, err.Error()
	}
	cf, err := lab.Confirm(context.Background(), s, st, dec, pw, lab.ConfirmOptions{})
	if err != nil {
		return nil, err.Error()
	}
	return cf, ""
}
