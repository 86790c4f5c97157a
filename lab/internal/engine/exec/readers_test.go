package exec

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/spec"
)

func TestNewReaderErrors(t *testing.T) {
	two := 2.0
	tests := []struct {
		name string
		cfg  spec.ExecConfig
		want string
	}{
		{"unknown reader", spec.ExecConfig{Command: []string{"x", "{{.OutputDir}}"}, Metrics: "vllm"}, `unknown metrics reader "vllm"`},
		{"reader with outputs glob", spec.ExecConfig{Command: []string{"x"}, Outputs: "o/*/plots", Metrics: "vllm-bench"}, "does not take it"},
		{"share above 1", spec.ExecConfig{Command: []string{"x", "{{.OutputDir}}"}, Metrics: "csv", MaxFailedShare: &two}, "max_failed_share 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(&tc.cfg, "", params)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// A reader (or a failure limit) is part of the identity; a Sarathi spec
// that names neither keeps the identity it had before readers existed.
func TestReaderIdentity(t *testing.T) {
	id := func(cfg spec.ExecConfig) string {
		e, err := New(&cfg, "/s/a.yaml", params)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(e.Identity())
		return string(b)
	}
	cmd := []string{"x", "{{.OutputDir}}"}
	half := 0.5
	plain := id(spec.ExecConfig{Command: cmd})
	if strings.Contains(plain, "metrics") || strings.Contains(plain, "max_failed_share") {
		t.Errorf("plain identity mentions readers: %s", plain)
	}
	if id(spec.ExecConfig{Command: cmd, Metrics: "sarathi"}) != plain {
		t.Error("metrics: sarathi (the default) changed the identity")
	}
	v := id(spec.ExecConfig{Command: cmd, Metrics: "vllm-bench"})
	if v == plain || id(spec.ExecConfig{Command: cmd, Metrics: "vllm-bench", MaxFailedShare: &half}) == v {
		t.Error("the reader or the failure limit does not change the identity")
	}
}
