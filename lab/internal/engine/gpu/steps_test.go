package gpu

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestStepsRoundTrip(t *testing.T) {
	steps := []StepRecord{
		{ForwardMS: 12.5, WallMS: 12.75, SchedMS: 0.03125, Tokens: 258, KVBlocksUsed: 40, Prefills: [][2]int{{200, 0}, {56, 1024}}, Decodes: 2, DecodeKV: 900},
		{ForwardMS: 7, WallMS: 7.5, SchedMS: 0, Tokens: 32, KVBlocksUsed: 41, Decodes: 32, DecodeKV: 32768},
		{ForwardMS: 1e-3, Tokens: 1, Prefills: [][2]int{{1, 0}}},
	}
	path := filepath.Join(t.TempDir(), "gpu_steps.csv")
	if err := WriteSteps(path, steps); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSteps(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, steps) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, steps)
	}
}

func TestReadStepsErrors(t *testing.T) {
	h := StepsHeader + "\n"
	cases := []struct{ name, text, want string }{
		{"empty", "", ":1: header \"\""},
		{"fields", h + "0,1,1,0,5,1,0,0\n", ":2: 8 fields, expected 9"},
		{"iteration", h + "1,1,1,0,5,1,0,0,5:0\n", ":2: iteration \"1\", expected 0"},
		{"ms", h + "0,-1,1,0,5,1,0,0,5:0\n", ":2: forward_ms \"-1\", expected milliseconds ≥ 0"},
		{"int", h + "0,1,1,0,x,1,0,0,5:0\n", ":2: tokens \"x\", expected an integer ≥ 0"},
		{"chunk", h + "0,1,1,0,5,1,0,0,5:0 0:3\n", ":2: prefill chunk \"0:3\", expected new:cached"},
		{"chunk separator", h + "0,1,1,0,5,1,0,0,5-0\n", ":2: prefill chunk \"5-0\""},
	}
	for _, c := range cases {
		path := filepath.Join(t.TempDir(), "s.csv")
		os.WriteFile(path, []byte(c.text), 0o644)
		_, err := ReadSteps(path)
		if err == nil || !strings.Contains(err.Error(), path+c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, path+c.want)
		}
	}
}
