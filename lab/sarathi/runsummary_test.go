package sarathi

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunSummaryRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want := RunSummary{Source: "sim", Requests: Int(10), RequestsFailed: Int(0), MakespanSeconds: Float(2.5),
		RequestsPerSecond: Float(4), Preemptions: Int(3), Unavailable: []string{"request_execution_time"}}
	if err := WriteRunSummary(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRunSummary(filepath.Join(dir, RunSummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if got.Source != "sim" || *got.Requests != 10 || *got.RequestsFailed != 0 || *got.RequestsPerSecond != 4 ||
		*got.Preemptions != 3 || !got.IsUnavailable("request_execution_time") || got.IsUnavailable("prefill_e2e_time") {
		t.Errorf("read back %+v", got)
	}
}

func TestReadRunSummaryErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadRunSummary(filepath.Join(dir, "none.json")); !errors.Is(err, ErrNoRunSummary) {
		t.Errorf("missing file: %v", err)
	}
	for _, tc := range []struct{ name, data, want string }{
		{"no-source", `{"requests": 3}`, `field "source": missing`},
		{"negative", `{"source": "csv", "requests_per_second": -1}`, `field "requests_per_second": -1`},
		{"count", `{"source": "csv", "requests_failed": -2}`, `field "requests_failed": -2`},
		{"syntax", `{"source": `, "unexpected end of JSON input"},
		{"type", `{"source": "csv", "requests": "many"}`, "cannot unmarshal string"},
	} {
		p := filepath.Join(dir, tc.name+".json")
		if err := os.WriteFile(p, []byte(tc.data), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadRunSummary(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v, want one naming %s and %q", tc.name, err, p, tc.want)
		}
	}
	if err := WriteRunSummary(dir, RunSummary{}); err == nil {
		t.Error("writing a summary without a source succeeded")
	}
}
