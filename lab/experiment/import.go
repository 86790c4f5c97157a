package experiment

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/schedlab/schedlab/lab/internal/fsutil"
	labversion "github.com/schedlab/schedlab/lab/internal/version"
	"github.com/schedlab/schedlab/lab/legacy"

	"github.com/schedlab/schedlab/lab/internal/engine/exec"
	"github.com/schedlab/schedlab/lab/internal/runner"
	"github.com/schedlab/schedlab/lab/internal/store"
	"github.com/schedlab/schedlab/lab/sarathi"
)

// ImportCommand is the exec command of an imported experiment: a marker
// naming where the cells came from, not a program. The engine identity
// (and so every cell hash) is thereby tied to the tree's absolute path.
const ImportCommand = exec.ImportMarker

// LegacySpecName turns a folder name into a valid experiment name
// ([a-z0-9][a-z0-9._-]*): lower case, every run of other characters
// becomes "-": "threshold_output" stays, "Run 2025 (H100)" → "run-2025-h100-".
func LegacySpecName(folder string) string {
	s := strings.ToLower(folder)
	s = regexp.MustCompile(`[^a-z0-9._-]+`).ReplaceAllString(s, "-")
	s = strings.TrimLeft(s, "._-")
	if s == "" {
		return "legacy-import"
	}
	return s
}

// LegacySpecYAML is the experiment spec of an imported tree: an exec engine whose
// command marks it as imported from the tree's absolute root, the
// thresholds present as the sweep and one repeat per timestamp folder.
// Repeat r is the r-th timestamp folder in name order; the comment lists
// them. absRoot must be absolute.
func LegacySpecYAML(t *legacy.Tree, name, absRoot string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Imported by `lab import` from the legacy tree %s\n", commentText(absRoot))
	b.WriteString("# (<timestamp>/<threshold>/*.csv). Its cells are in the store; the exec command\n")
	b.WriteString("# below is a marker, not a program, so `lab run` cannot produce missing cells.\n")
	b.WriteString("# Repeats, in timestamp-folder order:\n")
	for i, r := range t.Repeats {
		fmt.Fprintf(&b, "#   repeat %d = %s\n", i, commentText(r.Name))
	}
	if !plainName.MatchString(name) {
		// Quoted, so that a --name holding a newline stays one (invalid)
		// name instead of becoming more YAML; the spec then rejects it.
		name = strconv.Quote(name)
	}
	fmt.Fprintf(&b, "name: %s\n", name)
	fmt.Fprintf(&b, "description: %s\n", strconv.Quote(fmt.Sprintf("Legacy threshold_output tree %s: %d repeats, thresholds %s",
		absRoot, len(t.Repeats), ints(t.Thresholds))))
	b.WriteString("engine:\n  exec:\n")
	fmt.Fprintf(&b, "    workdir: %s\n", strconv.Quote(absRoot))
	fmt.Fprintf(&b, "    command: [%s, %s]\n", ImportCommand, strconv.Quote(absRoot))
	b.WriteString("    outputs: \"*/*\"   # <timestamp>/<threshold>, under workdir\n")
	b.WriteString("sweep:\n")
	fmt.Fprintf(&b, "  %s: [%s]\n", legacy.Param, ints(t.Thresholds))
	fmt.Fprintf(&b, "repeats: %d\n", len(t.Repeats))
	return []byte(b.String())
}

// plainName is what SpecName produces: safe as a plain YAML scalar.
var plainName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// commentText is s as it may appear in a YAML comment: unchanged when every
// character is printable, Go-quoted otherwise. A folder name holding a
// newline (or a carriage return, or not valid UTF-8) written raw would end
// the comment and inject YAML into the generated spec.
func commentText(s string) string {
	for _, r := range s {
		if r == utf8.RuneError || !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

func ints(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

// ImportResult counts what ImportLegacy did. Skipped names each threshold
// folder left out and why (Scan's warnings included), sorted.
type ImportResult struct {
	Imported, Present int
	Skipped           []string
	// Missing are the (repeat, threshold) cells of the spec that the tree
	// does not provide, as "repeat R (name) min_chunk_threshold=T".
	Missing []string
}

// ImportLegacy commits one ok cell per complete (repeat, threshold) folder
// of t into the experiment's store, addressed as cells of its spec (the
// spec LegacySpecYAML wrote, parsed back, so that every later command
// computes the same hashes).
// Every CSV of the folder is copied to replica_0/plots/; a folder whose
// five metrics do not pass sarathi.Check is skipped and reported. The
// record's start and end are the CSVs' modification times (when the old
// run wrote them); its executor is "import". Cells already in the store
// are left as they are, so importing twice changes nothing.
func (x *Experiment) ImportLegacy(ctx context.Context, t *legacy.Tree) (*ImportResult, error) {
	s, st := x.Spec, x.Store
	plan, err := x.Plan()
	if err != nil {
		return nil, err
	}
	type key struct {
		repeat    int
		threshold float64
	}
	byKey := map[key]runner.Planned{}
	for _, p := range plan {
		byKey[key{p.Cell.Repeat, p.Cell.Point[legacy.Param]}] = p
	}
	res := &ImportResult{Skipped: append([]string(nil), t.Warnings...)}
	for r, rep := range t.Repeats {
		for _, th := range t.Thresholds {
			c := rep.Cell(th)
			p, ok := byKey[key{r, float64(th)}]
			if !ok {
				return nil, fmt.Errorf("%s: repeat %d threshold %d is not a cell of %s", rep.Dir, r, th, s.Path)
			}
			if c == nil {
				res.Missing = append(res.Missing, fmt.Sprintf("repeat %d (%s) %s=%d", r, rep.Name, legacy.Param, th))
				continue
			}
			if err := ctx.Err(); err != nil {
				return res, err
			}
			if err := sarathi.Check(c.Dir); err != nil {
				res.Skipped = append(res.Skipped, fmt.Sprintf("%s: %v, threshold skipped for this repeat", c.Dir, err))
				continue
			}
			done, err := importCell(st, p, c, labversion.Version, labversion.VCSCommit(), CellInputs(s, x.Engine, p.Cell))
			if err != nil {
				return res, err
			}
			if done {
				res.Imported++
			} else {
				res.Present++
			}
		}
	}
	sort.Strings(res.Skipped)
	return res, nil
}

func importCell(st *store.Store, p runner.Planned, c *legacy.Cell, version, commit string, in store.Inputs) (bool, error) {
	txn, err := st.Begin(p.Hash)
	if errors.Is(err, store.ErrExists) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("importing %s: %w", c.Dir, err)
	}
	plots := filepath.Join(txn.Dir(), sarathi.PlotsDir)
	if err := os.MkdirAll(plots, 0o755); err != nil {
		txn.Abort()
		return false, err
	}
	ents, err := os.ReadDir(c.Dir)
	if err != nil {
		txn.Abort()
		return false, err
	}
	var first, last time.Time
	for _, ent := range ents {
		if !strings.HasSuffix(ent.Name(), ".csv") || !ent.Type().IsRegular() {
			continue
		}
		info, err := ent.Info()
		if err != nil {
			txn.Abort()
			return false, err
		}
		if m := info.ModTime().UTC(); first.IsZero() || m.Before(first) {
			first = m
		}
		if m := info.ModTime().UTC(); m.After(last) {
			last = m
		}
		if err := fsutil.CopyFile(filepath.Join(c.Dir, ent.Name()), filepath.Join(plots, ent.Name())); err != nil {
			txn.Abort()
			return false, err
		}
	}
	rec := &store.Record{
		Hash: p.Hash, Inputs: in, Status: store.StatusOK, Reason: "imported from " + c.Dir,
		Start: first, End: last, Attempts: 1, LabVersion: version, LabCommit: commit, Executor: "import",
	}
	if err := txn.Commit(rec); err != nil {
		return false, fmt.Errorf("importing %s: %w", c.Dir, err)
	}
	return true, nil
}
