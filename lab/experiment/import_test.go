package experiment

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/schedlab/schedlab/lab/internal/engine/engines" // specs name engine kinds
	"github.com/schedlab/schedlab/lab/internal/golden"
	"github.com/schedlab/schedlab/lab/legacy"
	"github.com/schedlab/schedlab/lab/sarathi"

	"github.com/schedlab/schedlab/lab/spec"
)

var update = golden.Update // -update

// The spec an import writes is part of the interface (users edit and keep
// it): compare it with a golden file, and check that it parses as a spec.
func TestSpecYAMLGolden(t *testing.T) {
	root := t.TempDir()
	for _, ts := range []string{"20250101_120000", "20250102_093000"} {
		for _, th := range []string{"0", "2", "10"} {
			mk(t, filepath.Join(root, "threshold_output", ts, th), nil)
		}
	}
	tree, err := legacy.Scan(filepath.Join(root, "threshold_output"))
	if err != nil {
		t.Fatal(err)
	}
	// A fixed root so the golden file does not depend on the temp folder.
	got := LegacySpecYAML(tree, "threshold_output", "/data/threshold_output")
	golden := filepath.Join("testdata", "import-spec.golden.yaml")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("LegacySpecYAML differs from %s:\n%s", golden, got)
	}
	s, err := spec.Parse("import.yaml", got)
	if err != nil {
		t.Fatal(err)
	}
	if s.Repeats != 2 || s.Engine.Kind() != "exec" || s.Engine.Config.(*spec.ExecConfig).Command[0] != ImportCommand || len(s.Cells()) != 6 {
		t.Errorf("parsed spec: %+v", s)
	}
}

// mk writes a threshold folder holding the given metrics (all required
// ones when nil), one value each.
func mk(t *testing.T, dir string, metrics []string) {
	t.Helper()
	if metrics == nil {
		metrics = sarathi.Required
	}
	for _, m := range metrics {
		if err := sarathi.Write(dir, m, []sarathi.Row{{RequestID: "0_0", Value: 1}}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLegacySpecName(t *testing.T) {
	for in, want := range map[string]string{
		"threshold_output": "threshold_output",
		"Run 2025 (H100)":  "run-2025-h100-",
		"__x":              "x",
		"???":              "legacy-import",
	} {
		if got := LegacySpecName(in); got != want {
			t.Errorf("LegacySpecName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSpecYAMLCannotBeInjected(t *testing.T) {
	inject := "x\nseed: 666\nrepeats: 1\n# "
	tests := []struct {
		name, absRoot, specName, repeat string
		wantErr                         string // "" when the spec must parse
	}{
		{"newline in a timestamp folder", "/data/t", "t", inject, ""},
		{"newline in the root", "/data/t" + inject, "t", "2024", ""},
		{"carriage return and invalid UTF-8", "/data/\r\xff", "t", "a\rseed: 5", ""},
		{"newline in --name", "/data/t", "t\nseed: 666", "2024", "name:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tree := &legacy.Tree{Root: tc.absRoot, Thresholds: []int{0, 1}, Repeats: []legacy.Repeat{{Name: tc.repeat}}}
			text := LegacySpecYAML(tree, tc.specName, tc.absRoot)
			s, err := spec.Parse("imported.yaml", text)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse = %v, want an error about %q:\n%s", err, tc.wantErr, text)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v\n%s", err, text)
			}
			if s.Seed != 0 || s.Repeats != 1 {
				t.Errorf("injected: seed %d, repeats %d\n%s", s.Seed, s.Repeats, text)
			}
			for _, line := range strings.Split(string(text), "\n") {
				if strings.HasPrefix(line, "seed:") {
					t.Errorf("a line of the spec is %q:\n%s", line, text)
				}
			}
		})
	}
}
