package slurm_test

import (
	"errors"
	"strings"
	"testing"
)

func TestClusterVerdict(t *testing.T) {
	dnsErr := errors.New("exit status 1")
	dnsOut := "sinfo: error: resolve_ctls_from_dns_srv: res_nsearch error: Unknown host"
	tests := []struct {
		name      string
		ci        string
		haveSinfo bool
		out       string
		err       error
		skip      bool
		msg       string // substring; "" means run
	}{
		{"cluster answers", "", true, "idle\n", nil, false, ""},
		{"cluster answers in CI", "true", true, "mixed\n", nil, false, ""},
		{"no sinfo, not CI", "", false, "", nil, true, ".ci/slurm-setup.sh"},
		{"no sinfo, CI", "true", false, "", nil, false, "CI is set"},
		{"client but no cluster, not CI", "", true, dnsOut, dnsErr, true, "BASE=/tmp/slurm-ci FAKE_GPUS=2"},
		{"client but no cluster, CI=false", "false", true, dnsOut, dnsErr, true, "no cluster answers"},
		{"client but no cluster, CI", "true", true, dnsOut, dnsErr, false, "no cluster answers"},
		{"node down, CI", "1", true, "down\n", nil, false, "no cluster answers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			skip, msg := clusterVerdict(tc.ci, tc.haveSinfo, tc.out, tc.err, "")
			if skip != tc.skip || !strings.Contains(msg, tc.msg) || (tc.msg == "") != (msg == "") {
				t.Errorf("clusterVerdict = %v, %q; want skip=%v and a message with %q", skip, msg, tc.skip, tc.msg)
			}
		})
	}
}
