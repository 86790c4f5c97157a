package perreq

import (
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/sarathi"
)

// The definitions of the package comment, on hand-computed requests.
func TestFromRequestsDefinitions(t *testing.T) {
	reqs := []Request{
		{ID: "0", OutputTokens: 4, TTFT: 0.5, ITL: []float64{0.1, 0.3, 0.2}, Latency: 1.5},
		{ID: "1", OutputTokens: 1, TTFT: 0.25, Latency: 0.25},
		{ID: "2", Failed: true, Error: "Traceback (most recent call last):\n  File \"x\"\nValueError: boom\n"},
		{ID: "3", OutputTokens: 0, TTFT: 0.125, Latency: 0.125},
	}
	res, err := FromRequests("vllm-bench", reqs, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]sarathi.Row{
		sarathi.PrefillE2ETime:             {{RequestID: "0", Value: 0.5}, {RequestID: "1", Value: 0.25}, {RequestID: "3", Value: 0.125}},
		sarathi.RequestE2ETime:             {{RequestID: "0", Value: 1.5}, {RequestID: "1", Value: 0.25}, {RequestID: "3", Value: 0.125}},
		sarathi.DecodeExecPlusPreemptNorm:  {{RequestID: "0", Value: 0.25}, {RequestID: "1", Value: 0}},
		sarathi.DecodeTokenExecPlusPreempt: {{RequestID: "0", Value: 0.1}, {RequestID: "0", Value: 0.3}, {RequestID: "0", Value: 0.2}},
		MaxTimeBetweenTokens:               {{RequestID: "0", Value: 0.3}},
	}
	if len(res.Metrics) != len(want) {
		t.Errorf("metrics %v", res.Metrics)
	}
	for m, rows := range want {
		got := res.Metrics[m]
		if len(got) != len(rows) {
			t.Errorf("%s: %v, want %v", m, got, rows)
			continue
		}
		for i := range rows {
			if got[i] != rows[i] {
				t.Errorf("%s[%d] = %v, want %v", m, i, got[i], rows[i])
			}
		}
	}
	if res.Requests != 4 || res.Failed != 1 || res.Completed() != 3 || res.FailedShare() != 0.25 {
		t.Errorf("counts: %+v", res)
	}
	if len(res.Errors) != 1 || res.Errors[0] != "request 2: ValueError: boom" {
		t.Errorf("errors %q", res.Errors)
	}
	s := res.Summary()
	if *s.RequestsPerSecond != 1.5 || *s.MakespanSeconds != 2 || len(s.Unavailable) != 5 {
		t.Errorf("summary %+v", s)
	}
}

func TestFromRequestsErrors(t *testing.T) {
	tests := []struct {
		name string
		r    Request
		want string
	}{
		{"no first token", Request{ID: "7", TTFT: 0, Latency: 1}, "request 7: ttft 0"},
		{"latency below ttft", Request{ID: "7", TTFT: 2, Latency: 1}, "below its ttft"},
		{"negative gap", Request{ID: "7", TTFT: 1, Latency: 2, ITL: []float64{-1}}, "itl[0] = -1"},
		{"negative tokens", Request{ID: "7", TTFT: 1, Latency: 2, OutputTokens: -1}, "negative token count"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromRequests("csv", []Request{tc.r}, 1)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
