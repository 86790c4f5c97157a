package workload

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/spec"
)

func f64(v float64) *float64 { return &v }

func open(t *testing.T, cfg spec.WorkloadConfig) *Source {
	t.Helper()
	s, err := Open(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRepeatsPairAndDiffer: the spec seed fixes the prompts, the cell seed
// varies outputs and arrivals; the same seeds give the same requests.
func TestRepeatsPairAndDiffer(t *testing.T) {
	s := open(t, spec.WorkloadConfig{Trace: "splitwise_conv", Requests: 500, Arrival: spec.Arrival{Process: "trace"}})
	a, _ := s.Requests(1, 100)
	b, _ := s.Requests(1, 100)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seeds, different requests")
	}
	c, _ := s.Requests(1, 101)
	sameOut, sameArr := 0, 0
	for i := range a {
		if a[i].PromptTokens != c[i].PromptTokens {
			t.Fatalf("request %d: prompt changed across repeats", i)
		}
		if a[i].OutputTokens == c[i].OutputTokens {
			sameOut++
		}
		if a[i].Arrival == c[i].Arrival {
			sameArr++
		}
	}
	if sameOut > 100 || sameArr > 10 {
		t.Errorf("repeats too alike: %d equal outputs, %d equal arrivals of 500", sameOut, sameArr)
	}
	d, _ := s.Requests(2, 100)
	if d[0].PromptTokens == a[0].PromptTokens && d[1].PromptTokens == a[1].PromptTokens && d[2].PromptTokens == a[2].PromptTokens {
		t.Error("another experiment seed drew the same window")
	}
	// Output variation keeps the mean: lognormal factor of mean 1.
	var sa, sc float64
	for i := range a {
		sa += float64(a[i].OutputTokens)
	}
	s0 := open(t, spec.WorkloadConfig{Trace: "splitwise_conv", Requests: 500, OutputVariation: f64(0)})
	base, _ := s0.Requests(1, 100)
	for i := range base {
		sc += float64(base[i].OutputTokens)
	}
	if r := sa / sc; r < 0.95 || r > 1.05 {
		t.Errorf("mean output changed by the variation: ratio %.3f", r)
	}
	// Without variation, outputs are the trace's, the same in every repeat.
	base2, _ := s0.Requests(1, 999)
	for i := range base {
		if base[i].OutputTokens != base2[i].OutputTokens {
			t.Fatal("output_variation 0 still varies outputs")
		}
	}
	if base[0].Arrival != 0 || base[499].Arrival != 0 {
		t.Error("offline arrivals are not all 0")
	}
}

func TestArrivals(t *testing.T) {
	s := open(t, spec.WorkloadConfig{Trace: "splitwise_conv", Requests: 2000, Arrival: spec.Arrival{Process: "poisson", QPS: 8}})
	r, _ := s.Requests(1, 5)
	if rate := float64(len(r)-1) / r[len(r)-1].Arrival; math.Abs(rate-8)/8 > 0.1 {
		t.Errorf("poisson rate %.2f, want about 8", rate)
	}
	tr := open(t, spec.WorkloadConfig{Trace: "splitwise_conv", Requests: 2000, Arrival: spec.Arrival{Process: "trace", Scale: 0.5, Jitter: f64(0)}})
	x, _ := tr.Requests(1, 5)
	// The window's trace times, scaled by 0.5: about 5.5 req/s becomes 11.
	if rate := float64(len(x)-1) / x[len(x)-1].Arrival; rate < 8 || rate > 14 {
		t.Errorf("scaled trace rate %.2f, want about 11", rate)
	}
	for i := 1; i < len(x); i++ {
		if x[i].Arrival < x[i-1].Arrival {
			t.Fatalf("trace times out of order without jitter at %d", i)
		}
	}
	if _, err := Open(spec.WorkloadConfig{Trace: "arxiv_summarization", Requests: 10, Arrival: spec.Arrival{Process: "trace"}}, ""); err == nil || !strings.Contains(err.Error(), "no arrived_at") {
		t.Errorf("arxiv has no timestamps: %v", err)
	}
}

func TestCapsAndSynthetic(t *testing.T) {
	s := open(t, spec.WorkloadConfig{Trace: "arxiv_summarization", Requests: 300, MaxTokens: 100, MaxPromptTokens: 2000})
	r, _ := s.Requests(3, 4)
	for _, q := range r {
		if q.OutputTokens > 100 || q.PromptTokens > 2000 || q.OutputTokens < 1 {
			t.Fatalf("caps not applied: %+v", q)
		}
	}
	syn := open(t, spec.WorkloadConfig{Requests: 1000, Lengths: &spec.Lengths{
		Prompt: spec.Distribution{Kind: "uniform", Min: 10, Max: 20},
		Output: spec.Distribution{Kind: "lognormal", Mu: math.Log(100), Sigma: 0.5, Max: 300},
	}})
	a, _ := syn.Requests(1, 1)
	b, _ := syn.Requests(1, 2)
	diff := 0
	for i := range a {
		if a[i].PromptTokens < 10 || a[i].PromptTokens > 20 || a[i].OutputTokens > 300 {
			t.Fatalf("out of range: %+v", a[i])
		}
		if a[i].PromptTokens != b[i].PromptTokens {
			t.Fatal("synthetic prompts changed across repeats")
		}
		if a[i].OutputTokens != b[i].OutputTokens {
			diff++
		}
	}
	if diff < 500 {
		t.Errorf("synthetic outputs barely vary across repeats: %d of 1000", diff)
	}
	fx := open(t, spec.WorkloadConfig{Requests: 3, Lengths: &spec.Lengths{Prompt: spec.Distribution{Kind: "fixed", Value: 7}, Output: spec.Distribution{Kind: "fixed", Value: 9}}})
	c, _ := fx.Requests(1, 1)
	for _, q := range c {
		if q.PromptTokens != 7 || q.OutputTokens != 9 {
			t.Fatalf("fixed lengths: %+v", q)
		}
	}
}

// TestWideLognormal: draws past int64 are capped, not wrapped to 1. With
// mu 20 and sigma 10, about 1% of the draws exceed 2^63.
func TestWideLognormal(t *testing.T) {
	for _, d := range []spec.Distribution{
		{Kind: "lognormal", Mu: 20, Sigma: 10, Max: 5000},
		{Kind: "lognormal", Mu: 20, Sigma: 10},
	} {
		r := rand.New(rand.NewPCG(1, 2))
		z := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < 2000; i++ {
			v := draw(r, d)
			if x := 20 + 10*z.NormFloat64(); x > 43 && (v < 5000 || d.Max > 0 && v != 5000) {
				t.Fatalf("%+v: draw e^%.1f gave %d", d, x, v)
			}
		}
	}
}

func TestUserCSV(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ok.csv", "num_decode_tokens,arrived_at,num_prefill_tokens\n5,0.5,100\n6,1.0,200.0\n")
	s, err := Open(spec.WorkloadConfig{Trace: "ok.csv", Requests: 2, OutputVariation: f64(0), Arrival: spec.Arrival{Process: "trace", Jitter: f64(0)}}, dir)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := s.Requests(0, 0)
	if r[0].PromptTokens != 100 || r[1].PromptTokens != 200 || r[1].OutputTokens != 6 || r[1].Arrival != 0.5 {
		t.Errorf("columns by name: %+v", r)
	}
	if len(s.Digest()) != 64 {
		t.Error("no digest")
	}
	for _, tc := range []struct{ text, want string }{
		{"a,b\n1,2\n", "bad.csv:1: expected columns num_prefill_tokens and num_decode_tokens"},
		{"num_prefill_tokens,num_decode_tokens\n10,2\n10,x\n", "bad.csv:3: num_decode_tokens: \"x\""},
		{"num_prefill_tokens,num_decode_tokens\n0,2\n", "bad.csv:2: num_prefill_tokens"},
		{"num_prefill_tokens,num_decode_tokens,arrived_at\n1,2,-1\n", "bad.csv:2: arrived_at"},
	} {
		write("bad.csv", tc.text)
		_, err := Open(spec.WorkloadConfig{Trace: "bad.csv", Requests: 1}, dir)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
	if _, err := Open(spec.WorkloadConfig{Trace: "missing.csv", Requests: 1}, dir); err == nil || !strings.Contains(err.Error(), "neither a shipped trace") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Open(spec.WorkloadConfig{Trace: "ok.csv", Requests: 3}, dir); err == nil || !strings.Contains(err.Error(), "only 2 rows") {
		t.Errorf("too many requests: %v", err)
	}
}
