package metrics

import (
	"slices"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/sarathi"
)

// The table covers exactly the files the selection requires, once each,
// with distinct keys, and its names read as the outputs print them.
func TestTable(t *testing.T) {
	var files, keys []string
	for _, m := range All {
		files = append(files, m.File)
		keys = append(keys, m.Key)
		if m.Unit == "" || (m.Stat != P95 && m.Stat != Mean) || m.Summary == "" {
			t.Errorf("%s: incomplete entry %+v", m.Key, m)
		}
	}
	want := slices.Clone(sarathi.Required)
	slices.Sort(want)
	slices.Sort(files)
	if !slices.Equal(files, want) {
		t.Errorf("files %v, want sarathi.Required %v", files, want)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(keys)))) != len(All) {
		t.Errorf("keys %v are not distinct", keys)
	}
	for _, tc := range []struct {
		m                  Metric
		label, name, ratio string
	}{
		{All[0], "P95 request_execution_time", "request_execution_time p95", "request_ratio"},
		{All[3], "mean prefill_time_execution_plus_preemption_normalized", "prefill_time_execution_plus_preemption_normalized mean", "prefill_exec_norm_ratio"},
	} {
		if tc.m.Label() != tc.label || tc.m.Name() != tc.name || tc.m.Ratio() != tc.ratio {
			t.Errorf("%s: label %q name %q ratio %q", tc.m.Key, tc.m.Label(), tc.m.Name(), tc.m.Ratio())
		}
	}
}

func TestByKey(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"prefill", "prefill", ""},
		{"decode_ratio", "decode", ""},
		{"ttft", "", `unknown metric "ttft": want one of request, request_exec_norm, prefill, prefill_exec_norm, decode`},
	} {
		m, err := ByKey(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ByKey(%q) = %v, want error %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || m.Key != tc.want {
			t.Errorf("ByKey(%q) = %q, %v; want %q", tc.in, m.Key, err, tc.want)
		}
	}
}
