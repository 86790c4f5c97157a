// Package exec is the engine that runs the user's own benchmark command once
// per cell: an argv list and environment rendered with
// text/template over the cell's parameters, run in its own process group, and
// the metric CSVs it wrote harvested into the cell's folder.
//
// Two ways to find the CSVs:
//
//   - The command takes {{.OutputDir}}: OutputDir is a fresh folder inside
//     the cell's temporary folder; afterwards the CSVs under
//     OutputDir/replica_0/plots (or OutputDir/<one folder>/replica_0/plots,
//     as Sarathi's timestamped layout does) move to dir/replica_0/plots.
//     Cells are fully isolated and may run in parallel.
//   - The command writes under a fixed root (Sarathi's offline_inference_output/
//     <timestamp>/): Outputs is a glob of its plots folders. The engine lists
//     the matches before the run and takes the one folder that is new after
//     it; none or several new folders fail the cell. Cells that share a root
//     are serialized — by an in-process mutex and by a lock file in the
//     store's lock folder, so that two `lab run` processes (or Slurm tasks on
//     a shared filesystem) never run two such commands at once — because a
//     folder created by a concurrent run would otherwise be indistinguishable
//     from ours. The CSVs are copied; the engine's own folder is left as it
//     was, as the old bash loop did.
package exec

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"text/template"
	"time"

	"github.com/schedlab/schedlab/lab/internal/fsutil"

	"github.com/gofrs/flock"

	"github.com/schedlab/schedlab/lab/internal/engine"
	"github.com/schedlab/schedlab/lab/metrics/source"
	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

// kindName is the engine kind in specs and cell inputs.
const kindName = "exec"

// ImportMarker as the program of a command marks an experiment that `lab
// import` made from a legacy tree: its cells come from the tree, and the
// engine refuses to run the ones the tree lacked.
const ImportMarker = "legacy-import"

// DefaultGrace is how long a cancelled command's process group has between
// SIGTERM and SIGKILL.
const DefaultGrace = 10 * time.Second

// Names a template may use besides the swept parameters.
const (
	fieldRepeat    = "Repeat"
	fieldSeed      = "Seed"
	fieldOutputDir = "OutputDir"
)

// Engine runs one command per cell. It is safe for concurrent use.
type Engine struct {
	command []string
	env     map[string]string
	workdir string // absolute
	outputs string // glob as written in the spec ("" with OutputDir)
	timeout time.Duration
	reader  string   // metrics reader ("" or "sarathi": the command writes the CSVs)
	maxFail *float64 // engine.exec.max_failed_share as written (nil: default)

	argv    []*template.Template
	envKeys []string // sorted
	envTmpl map[string]*template.Template

	// Grace is the time between SIGTERM and SIGKILL when a run is cancelled.
	Grace time.Duration

	mu    sync.Mutex
	roots map[string]*sync.Mutex // output root → in-process lock
}

// Kind registers the exec engine: its spec block is a spec.ExecConfig.
var Kind = engine.Kind{
	Name:   kindName,
	Config: func() spec.EngineConfig { return new(spec.ExecConfig) },
	New: func(s *spec.Spec) (engine.Engine, error) {
		return New(s.Engine.Config.(*spec.ExecConfig), s.Path, s.ParamNames())
	},
}

// New builds the engine for cfg. specPath is the spec file the config came
// from: a relative (or empty) workdir is resolved against its folder, so the
// same spec means the same command wherever `lab` is started; "~" expands to
// the home folder. params are the swept parameter names.
func New(cfg *spec.ExecConfig, specPath string, params []string) (*Engine, error) {
	if cfg == nil {
		return nil, errors.New("exec engine: no configuration")
	}
	if len(cfg.Command) == 0 {
		return nil, errors.New("exec engine: command is empty, expected the argv list of the benchmark command")
	}
	for _, p := range params {
		switch p {
		case fieldRepeat, fieldSeed, fieldOutputDir:
			return nil, fmt.Errorf("exec engine: swept parameter %q collides with the template field .%s", p, p)
		}
	}
	wd, err := resolveWorkdir(cfg.Workdir, specPath)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		command: append([]string(nil), cfg.Command...),
		env:     map[string]string{},
		workdir: wd,
		outputs: cfg.Outputs,
		timeout: cfg.Timeout.Duration,
		reader:  cfg.Metrics,
		maxFail: cfg.MaxFailedShare,
		envTmpl: map[string]*template.Template{},
		Grace:   DefaultGrace,
		roots:   map[string]*sync.Mutex{},
	}
	for i, a := range cfg.Command {
		t, err := parse(fmt.Sprintf("command[%d]", i), a)
		if err != nil {
			return nil, err
		}
		e.argv = append(e.argv, t)
	}
	for k, v := range cfg.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return nil, fmt.Errorf("exec engine: env name %q is not a valid variable name", k)
		}
		t, err := parse("env."+k, v)
		if err != nil {
			return nil, err
		}
		e.env[k] = v
		e.envTmpl[k] = t
		e.envKeys = append(e.envKeys, k)
	}
	sort.Strings(e.envKeys)

	// Validate every template against a sample cell (spec validation has
	// done so already for specs from files; engines built in code have not).
	sample := spec.Cell{Point: spec.Point{}}
	for _, p := range params {
		sample.Point[p] = 0
	}
	if _, _, err := e.render(sample, "/out"); err != nil {
		return nil, err
	}
	if cfg.Metrics != "" && !source.IsReader(cfg.Metrics) {
		return nil, fmt.Errorf("exec engine: unknown metrics reader %q; expected one of: %s", cfg.Metrics, strings.Join(source.Readers, ", "))
	}
	if v := cfg.MaxFailedShare; v != nil && !(*v >= 0 && *v <= 1) {
		return nil, fmt.Errorf("exec engine: max_failed_share %v: expected a fraction from 0 to 1", *v)
	}
	// The same test as spec validation, so both agree on the mode.
	usesOut := cfg.UsesOutputDir()
	if e.reader != "" && e.reader != source.Sarathi && !usesOut {
		return nil, fmt.Errorf("exec engine: metrics %s reads the files the command writes into {{.OutputDir}}, and the command does not take it", e.reader)
	}
	switch {
	case usesOut && e.outputs != "":
		return nil, errors.New("exec engine: the command takes {{.OutputDir}} and outputs is set too; use one of them")
	case !usesOut && e.outputs == "":
		return nil, errors.New("exec engine: the command does not take {{.OutputDir}} and outputs is empty; " +
			"expected one of them (e.g. outputs: offline_inference_output/*/replica_0/plots)")
	case e.outputs != "":
		if _, err := filepath.Match(e.outputs, ""); err != nil {
			return nil, fmt.Errorf("exec engine: outputs %q is not a valid glob: %v", e.outputs, err)
		}
		if globRoot(e.outputsAbs()) == e.outputsAbs() {
			return nil, fmt.Errorf("exec engine: outputs %q has no wildcard; expected a glob such as offline_inference_output/*/replica_0/plots whose * matches the folder each run creates", e.outputs)
		}
	}
	return e, nil
}

func parse(name, text string) (*template.Template, error) {
	t, err := spec.ParseTemplate(name, text)
	if err != nil {
		return nil, fmt.Errorf("exec engine: %s: %v", name, err)
	}
	return t, nil
}

func resolveWorkdir(wd, specPath string) (string, error) {
	if wd == "~" || strings.HasPrefix(wd, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("exec engine: workdir %q: %v", wd, err)
		}
		wd = filepath.Join(home, wd[1:])
	}
	if !filepath.IsAbs(wd) {
		base := "."
		if specPath != "" {
			base = filepath.Dir(specPath)
		}
		wd = filepath.Join(base, wd)
	}
	abs, err := filepath.Abs(wd)
	if err != nil {
		return "", fmt.Errorf("exec engine: workdir %q: %v", wd, err)
	}
	return abs, nil
}

// Kind returns "exec".
func (e *Engine) Kind() string { return kindName }

// Identity is what determines a cell's result: the command and env as
// templates (not rendered: the parameters are hashed separately), the
// absolute workdir and the outputs glob. Not the timeout: a longer timeout
// does not change what a finished run produced.
func (e *Engine) Identity() any {
	id := identity{Kind: kindName, Command: e.command, Workdir: e.workdir, Env: e.env, Outputs: e.outputs, MaxFailedShare: e.maxFail}
	if e.reader != source.Sarathi {
		id.Metrics = e.reader
	}
	return id
}

// identity is hashed into every cell address. The reader and the failure
// limit are omitted when unset, so Sarathi experiments keep the addresses
// they had before readers existed; they are part of it when set, because
// they decide what the cell's metric files hold and whether it counts.
type identity struct {
	Kind           string            `json:"kind"`
	Command        []string          `json:"command"`
	Workdir        string            `json:"workdir"`
	Env            map[string]string `json:"env"`
	Outputs        string            `json:"outputs"`
	Metrics        string            `json:"metrics,omitempty"`
	MaxFailedShare *float64          `json:"max_failed_share,omitempty"`
}

// DefaultTimeout is the spec's per-cell timeout (0: none). The runner
// enforces it unless --timeout overrides it.
func (e *Engine) DefaultTimeout() time.Duration { return e.timeout }

// Workdir is the absolute folder the command runs in.
func (e *Engine) Workdir() string { return e.workdir }

// Argv renders the command line of cell c with the given output folder.
func (e *Engine) Argv(c spec.Cell, outputDir string) ([]string, error) {
	a, _, err := e.render(c, outputDir)
	return a, err
}

func (e *Engine) render(c spec.Cell, outputDir string) (argv, env []string, err error) {
	data := spec.TemplateData(c, outputDir)
	var buf bytes.Buffer
	for _, t := range e.argv {
		buf.Reset()
		if err := t.Execute(&buf, data); err != nil {
			return nil, nil, fmt.Errorf("exec engine: %v", err)
		}
		argv = append(argv, buf.String())
	}
	for _, k := range e.envKeys {
		buf.Reset()
		if err := e.envTmpl[k].Execute(&buf, data); err != nil {
			return nil, nil, fmt.Errorf("exec engine: %v", err)
		}
		env = append(env, k+"="+buf.String())
	}
	return argv, env, nil
}

// Run runs the command for req.Cell and leaves its CSVs in
// req.Dir/replica_0/plots. See the package comment for how they are found.
func (e *Engine) Run(ctx context.Context, req engine.Request) error {
	c, dir, stdout, stderr := req.Cell, req.Dir, req.Stdout, req.Stderr
	if e.command[0] == ImportMarker {
		return &engine.ExitError{Code: 127, Reason: "imported experiment: this cell was not in the legacy tree and cannot be run (" +
			strings.Join(e.command, " ") + ")"}
	}
	if e.outputs == "" {
		out := filepath.Join(dir, "output")
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
		argv, env, err := e.render(c, out)
		if err != nil {
			return err
		}
		if err := e.runCommand(ctx, argv, env, req.GPU, stdout, stderr); err != nil {
			return err
		}
		if e.reader != "" && e.reader != source.Sarathi {
			return e.readMetrics(out, filepath.Join(dir, filepath.Dir(sarathi.PlotsDir)), stderr)
		}
		if err := harvestOutputDir(out, filepath.Join(dir, sarathi.PlotsDir)); err != nil {
			return err
		}
		return writeSarathiSummary(dir)
	}

	argv, env, err := e.render(c, "")
	if err != nil {
		return err
	}
	pattern := e.outputsAbs()
	unlock, err := e.lockRoot(ctx, globRoot(pattern), req)
	if err != nil {
		return err
	}
	defer unlock()
	before, err := matches(pattern)
	if err != nil {
		return err
	}
	if err := e.runCommand(ctx, argv, env, req.GPU, stdout, stderr); err != nil {
		return err
	}
	after, err := matches(pattern)
	if err != nil {
		return err
	}
	var fresh []string
	for m := range after {
		if !before[m] {
			fresh = append(fresh, m)
		}
	}
	sort.Strings(fresh)
	switch len(fresh) {
	case 0:
		return &engine.ExitError{Reason: fmt.Sprintf("the command exited 0 but created no new folder matching outputs %q", pattern)}
	case 1:
		if err := copyCSVs(fresh[0], filepath.Join(dir, sarathi.PlotsDir), false); err != nil {
			return err
		}
		return writeSarathiSummary(dir)
	default:
		return &engine.ExitError{Reason: fmt.Sprintf("the command created %d new folders matching outputs %q (%s); expected exactly one",
			len(fresh), pattern, strings.Join(fresh, ", "))}
	}
}

func (e *Engine) outputsAbs() string {
	if filepath.IsAbs(e.outputs) {
		return filepath.Clean(e.outputs)
	}
	return filepath.Join(e.workdir, e.outputs)
}

// globRoot is the longest leading part of pattern without a glob
// metacharacter: the folder under which the command creates its outputs.
func globRoot(pattern string) string {
	parts := strings.Split(pattern, string(filepath.Separator))
	for i, p := range parts {
		if strings.ContainsAny(p, `*?[\`) {
			root := strings.Join(parts[:i], string(filepath.Separator))
			if root == "" {
				root = string(filepath.Separator)
			}
			return root
		}
	}
	return pattern
}

func matches(pattern string) (map[string]bool, error) {
	ms, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(ms))
	for _, m := range ms {
		if st, err := os.Stat(m); err == nil && st.IsDir() {
			set[m] = true
		}
	}
	return set, nil
}

// lockRoot serializes the runs that share an output root: first among this
// engine's goroutines, then across processes with a lock file named after
// the root in lockDir (the store's lock folder; the system temp folder when
// there is none).
func (e *Engine) lockRoot(ctx context.Context, root string, req engine.Request) (func(), error) {
	defer req.Queue()() // waiting for our turn is not running
	lockDir := req.LockDir
	e.mu.Lock()
	m := e.roots[root]
	if m == nil {
		m = &sync.Mutex{}
		e.roots[root] = m
	}
	e.mu.Unlock()
	// A mutex cannot wait on ctx; poll TryLock so cancellation is prompt.
	for !m.TryLock() {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	if lockDir == "" {
		lockDir = os.TempDir()
	}
	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		m.Unlock()
		return nil, err
	}
	sum := sha256.Sum256([]byte(root))
	fl := flock.New(filepath.Join(lockDir, "exec-outputs-"+hex.EncodeToString(sum[:8])+".lock"))
	ok, err := fl.TryLockContext(ctx, 50*time.Millisecond)
	if err != nil || !ok {
		m.Unlock()
		if err == nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("exec engine: locking output root %s: %w", root, err)
	}
	return func() {
		fl.Unlock()
		m.Unlock()
	}, nil
}

// runCommand runs argv in its own process group. When ctx is done the group
// gets SIGTERM, then SIGKILL after e.Grace. When the command exits, whatever
// it left running in its group is killed, so no stray worker keeps a GPU.
func (e *Engine) runCommand(ctx context.Context, argv, env []string, gpu string, stdout, stderr io.Writer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// A bare name is looked up on PATH; a relative path with a separator
	// ("./bench.sh") is relative to the workdir, as in a shell started there.
	cmd := osexec.Command(argv[0], argv[1:]...)
	cmd.Dir = e.workdir
	cmd.Env = mergeEnv(os.Environ(), env, gpu)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setParentDeathSignal(cmd.SysProcAttr)
	// Bounds the wait for output pipes held open by leftover children (only
	// when stdout/stderr are not files).
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		// fork/exec names the program even when the folder is the problem.
		if fi, serr := os.Stat(e.workdir); serr != nil || !fi.IsDir() {
			return &engine.ExitError{Code: 127, Reason: fmt.Sprintf("cannot start %s: workdir %s is not a folder on this host", argv[0], e.workdir)}
		}
		return &engine.ExitError{Code: 127, Reason: fmt.Sprintf("cannot start %s: %v", argv[0], err)}
	}
	pgid := cmd.Process.Pid
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		grace := e.Grace
		t := time.NewTimer(grace)
		select {
		case err = <-done:
			t.Stop()
		case <-t.C:
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			err = <-done
		}
	}
	// The leader is gone; kill whatever it left behind in its group.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)

	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", argv[0], ctx.Err())
	}
	if err == nil {
		return nil
	}
	var xe *osexec.ExitError
	if errors.As(err, &xe) {
		if ws, ok := xe.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return &engine.ExitError{Code: -1, Reason: fmt.Sprintf("%s killed by signal %v", argv[0], ws.Signal())}
		}
		return &engine.ExitError{Code: xe.ExitCode(), Reason: fmt.Sprintf("%s exited with status %d", argv[0], xe.ExitCode())}
	}
	return &engine.ExitError{Code: -1, Reason: fmt.Sprintf("%s: %v", argv[0], err)}
}

// mergeEnv returns base with the spec's variables and then the runner's
// CUDA_VISIBLE_DEVICES (when it assigns GPUs) overriding same-named entries.
func mergeEnv(base, spec []string, cuda string) []string {
	over := append([]string(nil), spec...)
	if cuda != "" {
		over = append(over, "CUDA_VISIBLE_DEVICES="+cuda)
	}
	names := map[string]bool{}
	for _, kv := range over {
		names[kv[:strings.IndexByte(kv, '=')]] = true
	}
	out := make([]string, 0, len(base)+len(over))
	for _, kv := range base {
		i := strings.IndexByte(kv, '=')
		if i > 0 && names[kv[:i]] {
			continue
		}
		out = append(out, kv)
	}
	return append(out, over...)
}

// harvestOutputDir moves the CSVs of out's plots folder into plots and
// removes out when nothing else is left in it.
func harvestOutputDir(out, plots string) error {
	src := filepath.Join(out, sarathi.PlotsDir)
	if st, err := os.Stat(src); err != nil || !st.IsDir() {
		cands, _ := filepath.Glob(filepath.Join(out, "*", sarathi.PlotsDir))
		switch len(cands) {
		case 1:
			src = cands[0]
		case 0:
			return &engine.ExitError{Reason: fmt.Sprintf("the command exited 0 but wrote no %s folder under {{.OutputDir}}", sarathi.PlotsDir)}
		default:
			return &engine.ExitError{Reason: fmt.Sprintf("the command wrote %d */%s folders under {{.OutputDir}}; expected one", len(cands), sarathi.PlotsDir)}
		}
	}
	if err := copyCSVs(src, plots, true); err != nil {
		return err
	}
	removeEmptyDirs(out)
	return nil
}

// copyCSVs copies (or, with move, renames) every regular *.csv file of src
// into dst: the five required metrics and any other the engine wrote.
func copyCSVs(src, dst string, move bool) error {
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, ent := range ents {
		if !strings.HasSuffix(ent.Name(), ".csv") || !ent.Type().IsRegular() {
			continue
		}
		from, to := filepath.Join(src, ent.Name()), filepath.Join(dst, ent.Name())
		if move {
			if err := os.Rename(from, to); err == nil {
				continue
			}
		}
		if err := fsutil.CopyFile(from, to); err != nil {
			return err
		}
	}
	return nil
}

// removeEmptyDirs removes dir's empty folders bottom-up, and dir itself if
// it ends up empty. Anything else the command wrote is kept with the cell.
func removeEmptyDirs(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if e.IsDir() {
			removeEmptyDirs(filepath.Join(dir, e.Name()))
		}
	}
	_ = os.Remove(dir) // fails, as intended, when not empty
}
