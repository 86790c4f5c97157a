package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/schedlab/schedlab/lab/internal/store"
)

func init() {
	register(&command{
		name:  "verify",
		usage: "[--store DIR] [--json]: re-hash every cell; name altered, missing, extra and incomplete ones",
		run:   runVerify,
	})
}

// verifyReport is `lab verify --json` (schema: stable).
type verifyReport struct {
	Store    string          `json:"store"`
	Cells    int             `json:"cells"`
	Problems []store.Problem `json:"problems"`
}

func runVerify(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "verify", "[--store DIR] [--json]")
	root := fs.String("store", store.DefaultRoot(), "store folder ($LAB_STORE overrides the default)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return &exitCodeError{code: 2, err: fmt.Errorf("unexpected arguments: %q", fs.Args())}
	}
	st, err := openExistingStore(*root, false)
	if err != nil {
		return err
	}
	cells, err := st.List()
	if err != nil {
		return err
	}
	probs, err := st.Verify()
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		if probs == nil {
			probs = []store.Problem{}
		}
		if err := enc.Encode(verifyReport{Store: st.Root(), Cells: len(cells), Problems: probs}); err != nil {
			return err
		}
	} else {
		for _, p := range probs {
			fmt.Fprintln(env.stdout, p.String())
		}
		fmt.Fprintf(env.stderr, "lab verify: %d cells in %s, %d problems\n", len(cells), st.Root(), len(probs))
	}
	if len(probs) > 0 {
		return &exitCodeError{code: 1}
	}
	return nil
}

// openExistingStore opens a store that must already exist: verify and gc
// on a mistyped path must say so, not create an empty store and report it
// clean. Unless write is set it creates nothing either (store.OpenReadOnly):
// `lab verify --store ~` must not leave cells/, tmp/ and locks/ in a folder
// that is not a store; it reports that cells/ is missing instead.
func openExistingStore(root string, write bool) (*store.Store, error) {
	if fi, err := os.Stat(root); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no store at %s (set --store or LAB_STORE)", root)
		}
		return nil, err
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", root)
	}
	if _, err := os.Stat(filepath.Join(root, "cells")); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s is not a lab store (it has no cells/ folder)", root)
	}
	if !write {
		return store.OpenReadOnly(root)
	}
	return store.Open(root)
}
