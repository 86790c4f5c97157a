package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/schedlab/schedlab/lab/experiment"
)

// runConfirmAfter runs, at the end of `lab run` (unless --no-confirm), the
// prompt_weight confirmation at a's decision: cells the store lacks are
// run, and a then carries it, so the selection and the report printed
// next show it. Like the report, a confirmation that cannot run is a
// warning that never changes the run's exit status; a spec without an
// AGING scheduler has nothing to confirm and says so.
func runConfirmAfter(ctx context.Context, env *cmdEnv, x *experiment.Experiment, a *experiment.Analysis, opts *experiment.RunOptions) {
	cf, err := x.Confirm(ctx, a, experiment.ConfirmOptions{Run: true, RunOptions: *opts})
	switch {
	case errors.Is(err, experiment.ErrNoConfirmation):
		fmt.Fprintf(env.stderr, "lab run: %v\n", err)
	case err != nil:
		fmt.Fprintf(env.stderr, "lab run: no prompt_weight confirmation: %v\n", err)
	}
	if err != nil {
		a.Confirmation, a.ConfirmationNote = nil, err.Error()
		return
	}
	a.Confirmation, a.ConfirmationNote = cf, ""
}
