package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/schedlab/schedlab/lab/experiment"
	"github.com/schedlab/schedlab/lab/internal/store"
	"github.com/schedlab/schedlab/lab/legacy"
	"github.com/schedlab/schedlab/lab/spec"
)

func init() {
	register(&command{
		name:     "import",
		finishes: true,
		usage:    "threshold_output/ [--name NAME] [--spec-out FILE] [--store DIR] [--force]: turn a legacy tree into an experiment",
		run:      runImport,
	})
}

// runImport is `lab import`: it writes a spec for a legacy
// threshold_output/<timestamp>/<threshold>/ tree (experiments/<name>.yaml by
// default) and commits its CSVs as ok cells of that spec, so that `lab
// select`, `lab report` and the notebooks read old results like new ones.
func runImport(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "import", "threshold_output/ [flags]")
	name := fs.String("name", "", "experiment name (default: the folder name, lower case, other characters as -)")
	specOut := fs.String("spec-out", "", "where to write the spec (default experiments/<name>.yaml)")
	storeRoot := fs.String("store", store.DefaultRoot(), "store folder ($LAB_STORE overrides the default)")
	force := fs.Bool("force", false, "overwrite an existing, different spec file")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return &exitCodeError{code: 2, err: fmt.Errorf("expected one legacy folder, got %d arguments", len(pos))}
	}
	root, err := filepath.Abs(pos[0])
	if err != nil {
		return err
	}
	tree, err := legacy.Scan(root)
	if err != nil {
		return err
	}
	if *name == "" {
		*name = experiment.LegacySpecName(filepath.Base(root))
	}
	if *specOut == "" {
		*specOut = filepath.Join("experiments", *name+".yaml")
	}
	text := experiment.LegacySpecYAML(tree, *name, root)
	if old, err := os.ReadFile(*specOut); err == nil && !bytes.Equal(old, text) && !*force {
		return fmt.Errorf("%s exists and differs from the spec of this import; use --spec-out or --force", *specOut)
	}
	// Validate before writing: a name the spec rejects must not leave a file.
	if _, err := spec.Parse(*specOut, text); err != nil {
		return fmt.Errorf("the spec this import would write to %s is not valid (nothing written; --name?):\n%w", *specOut, err)
	}
	if err := os.MkdirAll(filepath.Dir(*specOut), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(*specOut, text, 0o644); err != nil {
		return err
	}
	x, err := experiment.Open(*specOut, *storeRoot, experiment.Options{})
	if err != nil {
		return err
	}
	res, err := x.ImportLegacy(ctx, tree)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%s: %d repeats × %d thresholds from %s: %d cells imported, %d already in the store, %d missing, %d skipped\n",
		*specOut, len(tree.Repeats), len(tree.Thresholds), root, res.Imported, res.Present, len(res.Missing), len(res.Skipped))
	for _, m := range res.Missing {
		fmt.Fprintf(env.stdout, "  missing: %s\n", m)
	}
	for _, w := range res.Skipped {
		fmt.Fprintf(env.stdout, "  skipped: %s\n", w)
	}
	fmt.Fprintf(env.stdout, "next: lab select %s --store %s\n", *specOut, x.Store.Root())
	return nil
}
