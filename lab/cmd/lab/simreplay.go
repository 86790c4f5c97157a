package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/schedlab/schedlab/lab/internal/sim/replay"
)

// simReplay runs the scheduler on fork-oracle scenarios and compares the
// schedules (lab/internal/sim/replay). Exit 0 only when every file is
// identical; 1 when one differs or cannot be read; 2 on a usage error.
func simReplay(env *cmdEnv, args []string) error {
	fs := newFlags(env, "sim replay", "FILE... [--json]")
	asJSON := fs.Bool("json", false, `print {"files": [{"file", "identical", "iterations", "first_divergence"}], "identical": N, "total": N}`)
	// Flags may come after the files: "lab sim replay A B --json".
	var flags, files []string
	for _, a := range args {
		if len(a) > 1 && a[0] == '-' {
			flags = append(flags, a)
		} else {
			files = append(files, a)
		}
	}
	if err := fs.Parse(append(flags, files...)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitCodeError{code: 2, err: err}
	}
	if fs.NArg() == 0 {
		return &exitCodeError{code: 2, err: errors.New("expected one or more scenario files (.json or .json.gz), e.g. testdata/fork-oracle/*.json.gz")}
	}
	out := struct {
		Files     []*replay.Result `json:"files"`
		Identical int              `json:"identical"`
		Total     int              `json:"total"`
	}{Files: []*replay.Result{}}
	for _, path := range fs.Args() {
		sc, err := replay.Load(path)
		if err != nil {
			return err
		}
		res, err := replay.Replay(path, sc)
		if err != nil {
			return err
		}
		out.Files = append(out.Files, res)
		out.Total++
		if res.Identical {
			out.Identical++
		}
		if !*asJSON {
			if res.Identical {
				fmt.Fprintf(env.stdout, "%s: identical (%d iterations)\n", filepath.Base(path), res.Iterations)
			} else {
				fmt.Fprintf(env.stdout, "%s: DIFFERS: %s\n", filepath.Base(path), res.FirstDivergence)
			}
		}
	}
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(env.stdout, "%d of %d scenarios identical\n", out.Identical, out.Total)
	}
	if out.Identical != out.Total {
		return &exitCodeError{code: 1}
	}
	return nil
}
