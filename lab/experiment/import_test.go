package experiment

import (
	"os"
	"path/filepath"
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
