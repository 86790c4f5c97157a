package analysis

import (
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/sarathi"
)

// PromptWeightAt pools the same files as Files at that point, and names a
// point outside the sweep.
func TestPromptWeightAt(t *testing.T) {
	tab := loadTree(t, "missing_file")
	opt := PromptWeightOptions{Stats: []string{"median", "p80"}}
	for _, p := range tab.Points {
		got, err := tab.PromptWeightAt(p, opt)
		if err != nil {
			t.Fatal(err)
		}
		files, err := tab.Files(p, sarathi.PrefillExecPlusPreemptNorm)
		if err != nil {
			t.Fatal(err)
		}
		want, err := SecondsPerPrefillToken(files, opt)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Files) != len(want.Files) || got.N != want.N || got.Stats[0] != want.Stats[0] {
			t.Errorf("%s: %d files, %d values, %+v; want %d, %d, %+v", p, len(got.Files), got.N, got.Stats[0], len(want.Files), want.N, want.Stats[0])
		}
	}
	if _, err := tab.PromptWeightAt(Point{99}, opt); err == nil || !strings.Contains(err.Error(), "threshold=99 is not a point") {
		t.Errorf("point outside the sweep: %v", err)
	}
}
