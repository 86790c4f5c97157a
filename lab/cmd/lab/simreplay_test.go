package main

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSimReplayForkOracle runs `lab sim replay` on every scenario in
// testdata/fork-oracle: the scheduler must reproduce every one of the fork's
// schedules.
func TestSimReplayForkOracle(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "testdata", "fork-oracle", "*.json.gz"))
	if err != nil || len(files) < 28 {
		t.Fatalf("%d oracle scenarios (%v), expected 28", len(files), err)
	}
	code, out, errs := runLab(t, append([]string{"sim", "replay", "--json"}, files...)...)
	var got struct {
		Files []struct {
			File            string
			Identical       bool
			Iterations      int
			FirstDivergence any `json:"first_divergence"`
		}
		Identical, Total int
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("exit %d, %v: %s %s", code, err, out, errs)
	}
	for _, f := range got.Files {
		if !f.Identical || f.FirstDivergence != nil || f.Iterations == 0 {
			t.Errorf("%s: identical %v, %d iterations, first divergence %v", f.File, f.Identical, f.Iterations, f.FirstDivergence)
		}
	}
	if code != 0 || got.Identical != len(files) || got.Total != len(files) {
		t.Errorf("exit %d, %d of %d identical, want all %d: %s", code, got.Identical, got.Total, len(files), errs)
	}
}

func TestSimReplayDiffersAndUsage(t *testing.T) {
	src := filepath.Join("..", "..", "..", "testdata", "fork-oracle", "greedy-0d6b0bd-fcfs-t70-c256-s32-offline-short-seed12.json.gz")
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(gz)
	if err != nil {
		t.Fatal(err)
	}
	// Iteration 0 admits request 0 first; say the fork gave it one token more.
	lines := strings.Split(string(data), "\n")
	k := 0
	for k < len(lines) && !strings.HasPrefix(lines[k], `{"start"`) {
		k++
	}
	if k == len(lines) || !strings.Contains(lines[k], `"prefills":[[0,`) {
		t.Fatalf("unexpected first iteration line %d: %.200s", k, lines[k])
	}
	i := strings.Index(lines[k], `"prefills":[[0,`) + len(`"prefills":[[0,`)
	j := i + strings.IndexByte(lines[k][i:], ']')
	lines[k] = lines[k][:i] + "199" + lines[k][j:]
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runLab(t, "sim", "replay", src, bad)
	if code != 1 || !strings.Contains(out, "-seed12.json.gz: identical") || !strings.Contains(out, "bad.json: DIFFERS: iteration 0 differs in prefills") ||
		!strings.Contains(out, "fork: decodes [] prefills [0:199") || !strings.HasSuffix(out, "1 of 2 scenarios identical\n") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "expected one or more scenario files"},
		{[]string{"--bogus", src}, 2, "flag provided but not defined"},
		{[]string{filepath.Join(dir, "missing.json")}, 1, "missing.json"},
	} {
		code, _, errs := runLab(t, append([]string{"sim", "replay"}, tc.args...)...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
}
