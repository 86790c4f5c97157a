package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/schedlab/schedlab/lab/experiment"
	"github.com/schedlab/schedlab/lab/internal/store"
	"github.com/schedlab/schedlab/lab/spec"
)

func init() {
	register(&command{
		name:  "gc",
		usage: "[--store DIR] [--delete] [--json] [SPEC...]: list (or delete) cells no experiment references",
		run:   runGC,
	})
}

// gcCell is one unreferenced cell in `lab gc --json` (schema: stable).
type gcCell struct {
	Hash   string             `json:"hash"`
	Status string             `json:"status"` // ok | failed | unreadable
	Engine string             `json:"engine,omitempty"`
	Params map[string]float64 `json:"params,omitempty"`
	Repeat int                `json:"repeat"`
	Bytes  int64              `json:"bytes"`
	// Removed is set with --delete; Error says why a cell was kept, or,
	// with Removed, which of its files could not be deleted (the cell is
	// gone from the store; its files wait in tmp/ for the next cleanup).
	Removed bool   `json:"removed,omitempty"`
	Error   string `json:"error,omitempty"`
}

type gcReport struct {
	Store      string   `json:"store"`
	Specs      []string `json:"specs"`
	Cells      int      `json:"cells"`
	Referenced int      `json:"referenced"`
	// Kept counts unreferenced-looking cells kept because a spec of their
	// engine kind could not be expanded on this machine.
	Kept         int      `json:"kept_unknown"`
	Unreferenced []gcCell `json:"unreferenced"`
	Deleted      bool     `json:"deleted"`
}

func runGC(ctx context.Context, env *cmdEnv, args []string) error {
	fset := newFlags(env, "gc", "[--store DIR] [--delete] [--json] [SPEC...]")
	root := fset.String("store", store.DefaultRoot(), "store folder ($LAB_STORE overrides the default)")
	del := fset.Bool("delete", false, "remove the unreferenced cells and leftover temporary folders")
	asJSON := fset.Bool("json", false, "print JSON")
	specs, err := parseInterleaved(fset, args)
	if err != nil {
		return err
	}
	if len(specs) == 0 {
		specs, _ = filepath.Glob(filepath.Join("experiments", "*.yaml"))
		if len(specs) == 0 {
			return &exitCodeError{code: 2, err: errors.New("no SPEC given and no experiments/*.yaml here: gc needs the experiments whose cells are still in use")}
		}
	}
	sort.Strings(specs)

	// Every spec must parse: deleting on partial knowledge would delete
	// cells that a broken spec still references. A spec whose engine
	// cannot be built on this machine (a gpu engine without a GPU) has
	// unknown cell addresses: every cell of that engine kind is kept.
	referenced := map[string]bool{}
	protected := map[string]bool{}
	for _, p := range specs {
		s, err := spec.ParseFile(p)
		if err != nil {
			return fmt.Errorf("%w\n(gc keeps everything while any spec is broken)", err)
		}
		hashes, err := experiment.CellHashes(s)
		if err != nil {
			protected[s.Engine.Kind()] = true
			fmt.Fprintf(env.stderr, "lab gc: cannot compute the cells of %s here (%v); keeping every %s cell\n", p, err, s.Engine.Kind())
			continue
		}
		for _, h := range hashes {
			referenced[h] = true
		}
	}
	st, err := openExistingStore(*root, *del)
	if err != nil {
		return err
	}
	all, err := st.List()
	if err != nil {
		return err
	}
	rep := gcReport{Store: st.Root(), Specs: specs, Cells: len(all), Unreferenced: []gcCell{}, Deleted: *del}
	for _, h := range all {
		if referenced[h] {
			rep.Referenced++
			continue
		}
		c := gcCell{Hash: h, Status: "unreadable", Bytes: dirSize(st.CellDir(h))}
		if rec, err := st.Get(h); err == nil && rec != nil {
			c.Status, c.Engine, c.Params, c.Repeat = rec.Status, rec.Inputs.Engine, rec.Inputs.Params, rec.Inputs.Repeat
		}
		if protected[c.Engine] {
			rep.Kept++
			continue
		}
		if *del {
			var left *store.LeftoverError
			switch err := st.Remove(h); {
			case err == nil:
				c.Removed = true
			case errors.As(err, &left):
				c.Removed, c.Error = true, err.Error()
			default:
				c.Error = err.Error()
			}
		}
		rep.Unreferenced = append(rep.Unreferenced, c)
	}
	var cleanErr error
	if *del {
		cleanErr = st.CleanTemp()
	}

	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		var total int64
		removed := 0
		for _, c := range rep.Unreferenced {
			total += c.Bytes
			line := fmt.Sprintf("%s %-10s %-4s %s repeat=%d %s", c.Hash, c.Status, c.Engine, paramText(c.Params), c.Repeat, humanBytes(c.Bytes))
			switch {
			case c.Removed:
				removed++
				line += " removed"
				if c.Error != "" {
					line += " (" + c.Error + ")"
				}
			case c.Error != "":
				line += " kept: " + c.Error
			}
			fmt.Fprintln(env.stdout, strings.TrimRight(line, " "))
		}
		fmt.Fprintf(env.stderr, "lab gc: %d of %d cells referenced by %d spec%s; %d unreferenced (%s)",
			rep.Referenced, rep.Cells, len(specs), plural(len(specs)), len(rep.Unreferenced), humanBytes(total))
		if rep.Kept > 0 {
			fmt.Fprintf(env.stderr, "; %d kept (engine not available here)", rep.Kept)
		}
		if *del {
			fmt.Fprintf(env.stderr, ", %d removed\n", removed)
		} else if len(rep.Unreferenced) > 0 {
			fmt.Fprintf(env.stderr, "; run with --delete to remove them\n")
		} else {
			fmt.Fprintln(env.stderr)
		}
	}
	if cleanErr != nil {
		return fmt.Errorf("some temporary folders could not be deleted: %w", cleanErr)
	}
	for _, c := range rep.Unreferenced {
		if c.Error != "" && !c.Removed {
			return &exitCodeError{code: 1, err: fmt.Errorf("some cells were kept: %s", c.Error)}
		}
	}
	return nil
}

// paramText prints parameters sorted by name: "a=1 b=0.5".
func paramText(p map[string]float64) string {
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	sort.Strings(names)
	return spec.Point(p).Key(names)
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			if fi, err := e.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
