package perreq

import (
	"fmt"
)

// Columns is the per-request part of a vLLM `bench serve --save-detailed`
// result and of an SGLang `bench_serving --output-details` line: parallel
// lists with one entry per request, in the order the requests were sent.
// SGLang's client is adapted from vLLM's, so the keys and their meaning are
// the same. A nil list is a key the file lacks.
type Columns struct {
	InputLens  []int       `json:"input_lens"`
	OutputLens []int       `json:"output_lens"`
	TTFTs      []float64   `json:"ttfts"`
	ITLs       [][]float64 `json:"itls"`
	Errors     []*string   `json:"errors"`
	// Latencies (vLLM ≥ 0.11) are the end-to-end latencies; without them
	// the latency is ttft + Σ itl, the time of the last token.
	Latencies []float64 `json:"latencies"`
	// GeneratedTexts are not used (token counts come from OutputLens) but
	// are part of the schema and must parse.
	GeneratedTexts []*string `json:"generated_texts"`
}

// Requests checks the lists and returns one Request per entry. hint says how
// to make the tool write the lists (its detail flag), for the error when
// they are missing.
//
// A request failed when its error message is not empty, or when it has no
// first token (ttft 0, as the clients leave it for a request that never
// streamed a token).
func (c *Columns) Requests(hint string) ([]Request, error) {
	if c.TTFTs == nil || c.ITLs == nil || c.Errors == nil || c.OutputLens == nil || c.InputLens == nil {
		var missing []string
		for _, k := range []struct {
			name string
			nil_ bool
		}{{"input_lens", c.InputLens == nil}, {"output_lens", c.OutputLens == nil}, {"ttfts", c.TTFTs == nil},
			{"itls", c.ITLs == nil}, {"errors", c.Errors == nil}} {
			if k.nil_ {
				missing = append(missing, `"`+k.name+`"`)
			}
		}
		return nil, fmt.Errorf("no per-request results: missing %v (%s)", missing, hint)
	}
	n := len(c.TTFTs)
	for _, k := range []struct {
		name string
		n    int
	}{{"input_lens", len(c.InputLens)}, {"output_lens", len(c.OutputLens)}, {"itls", len(c.ITLs)}, {"errors", len(c.Errors)}} {
		if k.n != n {
			return nil, fmt.Errorf("%q has %d entries but \"ttfts\" has %d; expected one per request", k.name, k.n, n)
		}
	}
	if c.Latencies != nil && len(c.Latencies) != n {
		return nil, fmt.Errorf("\"latencies\" has %d entries but \"ttfts\" has %d; expected one per request", len(c.Latencies), n)
	}
	if n == 0 {
		return nil, fmt.Errorf("the benchmark sent no request (\"ttfts\" is empty)")
	}
	reqs := make([]Request, n)
	for i := range reqs {
		r := Request{ID: Index(i), PromptTokens: c.InputLens[i], OutputTokens: c.OutputLens[i], TTFT: c.TTFTs[i], ITL: c.ITLs[i]}
		if c.Errors[i] != nil {
			r.Error = *c.Errors[i]
		}
		switch {
		case r.Error != "":
			r.Failed = true
		case r.TTFT == 0:
			r.Failed, r.Error = true, "no token received (ttft 0, no error message)"
		}
		if c.Latencies != nil {
			r.Latency = c.Latencies[i]
		} else {
			r.Latency = r.TTFT
			for _, g := range r.ITL {
				r.Latency += g
			}
		}
		reqs[i] = r
	}
	return reqs, nil
}
