package replay

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestForkOracle replays every scenario in testdata/fork-oracle: the
// scheduler must reproduce each of the fork's schedules exactly.
func TestForkOracle(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "..", "testdata", "fork-oracle", "*.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 28 {
		t.Fatalf("found %d oracle scenarios, expected 28", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			sc, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Replay(filepath.Base(f), sc)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Identical {
				t.Errorf("%s", res.FirstDivergence)
			}
		})
	}
}

// TestDivergenceReported checks that the comparison can fail: each
// mutation of a recorded schedule is reported at the right place.
func TestDivergenceReported(t *testing.T) {
	path := filepath.Join("..", "..", "..", "..", "testdata", "fork-oracle", "tp-644e7f4-fcfs-t16-c256-s32-poisson-lognormal-target22-seed51.json.gz")
	for _, tc := range []struct {
		name      string
		mutate    func(sc *Scenario)
		iteration int
		field     string
	}{
		{"chunk size", func(sc *Scenario) { sc.Iterations[40].Prefills[0][1]++ }, 40, "prefills"},
		{"decode order", func(sc *Scenario) {
			d := sc.Iterations[50].Decodes
			d[0], d[1] = d[1], d[0]
		}, 50, "decodes"},
		{"preemption", func(sc *Scenario) { sc.Iterations[7].Preempted = []int{3} }, 7, "preempted"},
		{"start", func(sc *Scenario) { sc.Iterations[9].Start += 1e-6 }, 9, "start"},
		{"duration", func(sc *Scenario) { sc.Iterations[9].Duration *= 1 + 1e-8 }, 9, "duration"},
		{"iteration count", func(sc *Scenario) { sc.Iterations = sc.Iterations[:len(sc.Iterations)-1] }, 2047, "iteration count"},
		{"output tokens", func(sc *Scenario) { sc.RequestsOut[5].OutputTokens++ }, -1, "requests_out[5].output_tokens"},
		{"completed", func(sc *Scenario) { *sc.RequestsOut[6].Completed += 0.001 }, -1, "requests_out[6].completed"},
		{"threshold counter", func(sc *Scenario) { sc.Summary.ThresholdBlockedAdmissions++ }, -1, "summary.threshold_blocked_admissions"},
		{"skip counter", func(sc *Scenario) { sc.Summary.RunningPrefillSkipsByCause["budget"]-- }, -1, "summary.running_prefill_skips_by_reason.budget"},
		{"predictor target", func(sc *Scenario) { sc.Config.TargetTime = 21.5 }, -2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			tc.mutate(sc)
			res, err := Replay("x", sc)
			if err != nil {
				t.Fatal(err)
			}
			d := res.FirstDivergence
			if res.Identical || d == nil {
				t.Fatal("mutated schedule reported identical")
			}
			if tc.iteration != -2 && (d.Iteration != tc.iteration || d.Field != tc.field) {
				t.Errorf("divergence at %d %q, want %d %q: %s", d.Iteration, d.Field, tc.iteration, tc.field, d)
			}
		})
	}
}

// TestStopRuleMatters: the 7960897 KV-tight scenario only replays with that
// commit's per-attempt stop rule.
func TestStopRuleMatters(t *testing.T) {
	sc, err := Load(filepath.Join("..", "..", "..", "..", "testdata", "fork-oracle", "greedy-7960897-fcfs-t0-c256-s32-offline-lognormal-kvtight-seed31.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	sc.Source.Commit = "0d6b0bdfe54e3a0d88f2553e1b80e7521896417b"
	res, err := Replay("x", sc)
	if err != nil {
		t.Fatal(err)
	}
	if res.Identical {
		t.Error("replayed identically with the total stop rule")
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"syntax", "{\n\"format\": \"fork-oracle/1\",\n\"name\": x}", "line 3"},
		{"format", `{"format": "other/2"}`, `format: "other/2"`},
		{"commit", `{"format": "fork-oracle/1", "source": {"commit": "abc", "variant": "greedy"}}`, `source.commit: "abc"`},
		{"variant", `{"format": "fork-oracle/1", "source": {"commit": "0d6b0bdfe54e3a0d88f2553e1b80e7521896417b", "variant": "magic"}}`, `source.variant: "magic"`},
		{"watermark", `{"format": "fork-oracle/1", "source": {"commit": "0d6b0bdfe54e3a0d88f2553e1b80e7521896417b", "variant": "greedy"}, "config": {"watermark": 0.02}}`, "config.watermark: 0.02"},
		{"ids", `{"format": "fork-oracle/1", "source": {"commit": "0d6b0bdfe54e3a0d88f2553e1b80e7521896417b", "variant": "greedy"}, "requests": [{"id": 3}]}`, "requests[0]: id 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
