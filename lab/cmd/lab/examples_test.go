package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docBlock is one fenced shell example of a markdown file.
type docBlock struct {
	file   string
	line   int    // of the opening fence
	lang   string // sh, bash, shell or console
	text   string
	notRun string // the reason given by a "<!-- not run: … -->" line right before it
}

var (
	fenceRE  = regexp.MustCompile("^```([a-z]*)\\s*$")
	notRunRE = regexp.MustCompile(`^<!-- not run: (.+) -->$`)
	// labCall matches a command line that runs lab (or bin/lab).
	labCall = regexp.MustCompile(`(^|[\s;&|(])(bin/)?lab\s`)
)

// docBlocks lists the shell examples of a markdown file that run lab.
func docBlocks(t *testing.T, path string) []docBlock {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var out []docBlock
	for i := 0; i < len(lines); i++ {
		m := fenceRE.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		j := i + 1
		for j < len(lines) && !strings.HasPrefix(lines[j], "```") {
			j++
		}
		if j == len(lines) {
			t.Fatalf("%s:%d: unclosed code block", path, i+1)
		}
		b := docBlock{file: path, line: i + 1, lang: m[1], text: strings.Join(lines[i+1:j], "\n") + "\n"}
		if i > 0 {
			if nm := notRunRE.FindStringSubmatch(strings.TrimSpace(lines[i-1])); nm != nil {
				b.notRun = nm[1]
			}
		}
		i = j
		switch b.lang {
		case "sh", "bash", "shell", "console":
		default:
			continue
		}
		for _, l := range strings.Split(b.text, "\n") {
			if b.lang == "console" && !strings.HasPrefix(l, "$ ") {
				continue
			}
			if labCall.MatchString(strings.TrimPrefix(l, "$ ")) {
				out = append(out, b)
				break
			}
		}
	}
	return out
}

// TestDocExamples runs every shell example of README.md and lab/docs/*.md
// (what `lab help <topic>` shows) that invokes lab, except those marked
// `<!-- not run: reason -->` (a GPU, a cluster, a Sarathi checkout). The
// examples of one file run in order in one scratch folder that sees the
// repository's experiments/ and testdata/, with bin/lab and lab on PATH and
// a temporary store shared by all files. Each must exit 0. A `console`
// block shows output: after each `$ command` line, the lines up to the next
// one are its expected stdout.
func TestDocExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the documented experiments (-short)")
	}
	repo, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	labBin, err := exec.LookPath("lab")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(repo, "lab", "docs", "*.md"))
	files = append([]string{filepath.Join(repo, "README.md")}, files...)
	store := t.TempDir()
	ran := 0
	for _, f := range files {
		blocks := docBlocks(t, f)
		if len(blocks) == 0 {
			continue
		}
		rel, _ := filepath.Rel(repo, f)
		t.Run(rel, func(t *testing.T) {
			dir := sandbox(t, repo, labBin)
			for _, b := range blocks {
				where := fmt.Sprintf("%s:%d", rel, b.line)
				if b.notRun != "" {
					t.Logf("%s: not run: %s", where, b.notRun)
					continue
				}
				ran++
				if b.lang == "console" {
					runConsoleTo(t, where, dir, store, b.text)
					continue
				}
				if out, err := runShell(dir, store, b.text); err != nil {
					t.Errorf("%s: %v\n%s\n%s", where, err, b.text, out)
				}
			}
		})
	}
	if ran == 0 {
		t.Error("no documented example ran")
	}
}

// sandbox is a scratch folder laid out like the repository's root: the
// module (so `go build ./lab/cmd/lab` works), experiments/ and testdata/ by
// symbolic link, bin/lab prebuilt. What examples write (reports/, bin/)
// stays in it.
func sandbox(t *testing.T, repo, labBin string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"go.mod", "go.sum", "lab", "experiments", "testdata"} {
		if err := os.Symlink(filepath.Join(repo, name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	bin, err := os.ReadFile(labBin)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "bin"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "bin", "lab"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func shellCmd(dir, store, script string) *exec.Cmd {
	cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LAB_STORE="+store)
	return cmd
}

func runShell(dir, store, script string) ([]byte, error) {
	return shellCmd(dir, store, script).CombinedOutput()
}

// errorf is the part of testing.T runConsoleTo reports to.
type errorf interface {
	Helper()
	Errorf(format string, args ...any)
}

// runConsoleTo runs each `$ command` of a console block and compares its
// stdout with the lines shown after it.
func runConsoleTo(t errorf, where, dir, store, text string) {
	t.Helper()
	var cmdLine string
	var want []string
	flush := func() {
		if cmdLine == "" {
			return
		}
		var stdout, stderr bytes.Buffer
		cmd := shellCmd(dir, store, cmdLine)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Errorf("%s: $ %s: %v\n%s", where, cmdLine, err, stderr.String())
		} else if got, exp := stdout.String(), strings.Join(want, ""); got != exp {
			t.Errorf("%s: $ %s\nprints:\n%s\nthe doc shows:\n%s", where, cmdLine, got, exp)
		}
		cmdLine, want = "", nil
	}
	for _, l := range strings.SplitAfter(text, "\n") {
		if c, ok := strings.CutPrefix(l, "$ "); ok {
			flush()
			cmdLine = strings.TrimSpace(c)
			continue
		}
		if l != "" && cmdLine != "" {
			want = append(want, l)
		}
	}
	flush()
}

// docBlocks finds exactly the shell blocks that run lab, with their
// not-run reasons; runConsole compares output.
func TestDocBlocks(t *testing.T) {
	const md = "# T\n\n```sh\nlab run x.yaml\n```\n\n<!-- not run: needs a GPU -->\n```bash\nbin/lab status x.yaml\n```\n\n" +
		"```yaml\nlab: 1\n```\n\n```sh\njust test\n```\n\n```console\n$ lab version\nlab v\n```\n\n```text\nlab run\n```\n"
	path := filepath.Join(t.TempDir(), "t.md")
	os.WriteFile(path, []byte(md), 0o644)
	got := docBlocks(t, path)
	want := []struct {
		line   int
		lang   string
		notRun string
	}{{3, "sh", ""}, {8, "bash", "needs a GPU"}, {20, "console", ""}}
	if len(got) != len(want) {
		t.Fatalf("found %d blocks, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].line != w.line || got[i].lang != w.lang || got[i].notRun != w.notRun {
			t.Errorf("block %d: %+v, want %+v", i, got[i], w)
		}
	}
	// A console block whose shown output differs is reported.
	dir := t.TempDir()
	var rec recorder
	runConsoleTo(&rec, "t.md:1", dir, dir, "$ echo a\nb\n")
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "the doc shows:\nb") {
		t.Errorf("mismatch reported as %q", rec.errs)
	}
	rec = recorder{}
	runConsoleTo(&rec, "t.md:1", dir, dir, "$ echo a\na\n$ true\n")
	if len(rec.errs) != 0 {
		t.Errorf("matching output reported: %q", rec.errs)
	}
}

type recorder struct{ errs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
