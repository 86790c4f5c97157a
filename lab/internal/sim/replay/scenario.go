// Package replay runs the scheduler (lab/internal/sim/sched) on a scenario
// recorded from the fork's own scheduler — its configuration, its
// deterministic iteration-time formula and its requests — and compares the
// schedule batch for batch with the one the fork produced. The scenarios
// and their format are described in testdata/fork-oracle/README.md; the
// `lab sim replay` command is a thin layer over Replay.
package replay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/schedlab/schedlab/lab/internal/fsutil"

	"github.com/schedlab/schedlab/lab/internal/sim/sched"
)

// Format is the only scenario format version this package reads.
const Format = "fork-oracle/1"

// Scenario is one oracle file: inputs and the fork's schedule.
type Scenario struct {
	Format   string   `json:"format"`
	Name     string   `json:"name"`
	Source   Source   `json:"source"`
	Config   Config   `json:"config"`
	Executor Executor `json:"executor"`
	Requests []struct {
		ID           int     `json:"id"`
		Arrival      float64 `json:"arrival"`
		PromptTokens int     `json:"prompt_tokens"`
		OutputTokens int     `json:"output_tokens"`
	} `json:"requests"`
	Iterations  []Iteration  `json:"iterations"`
	RequestsOut []RequestOut `json:"requests_out"`
	Summary     Summary      `json:"summary"`
}

// Source names the fork commit and scheduler variant that produced a file.
type Source struct {
	Commit      string `json:"commit"`
	CommitShort string `json:"commit_short"`
	Variant     string `json:"variant"` // greedy | time_predictor
}

// Config is the scheduler configuration of a scenario. TargetTime is in
// milliseconds, as the fork's predictor works.
type Config struct {
	ChunkSize              int        `json:"chunk_size"`
	MaxNumSeqs             int        `json:"max_num_seqs"`
	MinChunkThreshold      int        `json:"min_chunk_threshold"`
	Policy                 string     `json:"policy"`
	TimeWeight             *float64   `json:"time_weight"`
	PromptWeight           *float64   `json:"prompt_weight"`
	BlockSize              int        `json:"block_size"`
	NumGPUBlocks           int        `json:"num_gpu_blocks"`
	MaxModelLen            int        `json:"max_model_len"`
	Watermark              float64    `json:"watermark"`
	WatermarkBlocks        int        `json:"watermark_blocks"`
	TargetTime             float64    `json:"target_time"`
	ChunkSearchGranularity int        `json:"chunk_search_granularity"`
	Predictor              *Predictor `json:"predictor"`
}

// Predictor is the linear latency predictor of the time-predictor variant
// (milliseconds): ((a + b·prefill_tokens) + c·decodes) + e·chunks.
type Predictor struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
	C float64 `json:"c"`
	E float64 `json:"e"`
}

// Executor is the scenario's iteration-time formula (seconds):
// ((A + B·prefill_tokens) + C·decodes) + E·chunks.
type Executor struct {
	Units        string `json:"units"`
	Coefficients struct {
		A, B, C, E *float64
	} `json:"coefficients"`
}

// Iteration is one batch of the fork's schedule.
type Iteration struct {
	Start     float64  `json:"start"`
	Duration  float64  `json:"duration"`
	Decodes   []int    `json:"decodes"`
	Prefills  [][2]int `json:"prefills"`
	Preempted []int    `json:"preempted"`
}

// RequestOut is one request's outcome in the fork's run (nil times: never).
type RequestOut struct {
	ID             int      `json:"id"`
	FirstScheduled *float64 `json:"first_scheduled"`
	PrefillDone    *float64 `json:"prefill_done"`
	Completed      *float64 `json:"completed"`
	OutputTokens   int      `json:"output_tokens"`
	Preemptions    int      `json:"preemptions"`
	Ignored        bool     `json:"ignored"`
}

// Summary holds the fork run's counts.
type Summary struct {
	Iterations                 int            `json:"iterations"`
	Preemptions                int            `json:"preemptions"`
	Makespan                   float64        `json:"makespan"`
	ThresholdBlockedAdmissions int            `json:"threshold_blocked_admissions"`
	RunningPrefillSkipsByCause map[string]int `json:"running_prefill_skips_by_reason"`
	Ignored                    int            `json:"ignored"`
	ReadmissionDrops           int            `json:"readmission_drops"`
	PredictorBlockedAdmissions int            `json:"predictor_blocked_admissions"`
	ForcedSingleToken          int            `json:"forced_single_token"`
	OutputTokens               int            `json:"output_tokens"`
	PrefillTokens              int            `json:"prefill_tokens"`
}

// stopRules maps the fork commits whose scheduler the scenarios come from
// to the stop rule each had (see sched.StopTotal, sched.StopPerAttempt).
var stopRules = map[string]string{
	"0d6b0bdfe54e3a0d88f2553e1b80e7521896417b": sched.StopTotal,
	"796089745f62d7ee3ed3e19ddf3b44cc23683741": sched.StopPerAttempt,
	"644e7f42bc64fd8a96ffdde014107cd0e4404347": sched.StopTotal,
}

// Load reads a scenario file (.json, or gzip-compressed .json.gz) and
// checks that it is complete and that every setting it uses is one the
// scheduler models.
func Load(path string) (*Scenario, error) {
	r, err := fsutil.OpenMaybeGzip(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sc, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sc, nil
}

// Parse decodes and checks a scenario's JSON text.
func Parse(data []byte) (*Scenario, error) {
	var sc Scenario
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&sc); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		return nil, err
	}
	if err := sc.check(); err != nil {
		return nil, err
	}
	return &sc, nil
}

func (sc *Scenario) check() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if sc.Format != Format {
		bad("format: %q, expected %q", sc.Format, Format)
		return errors.Join(errs...)
	}
	if _, ok := stopRules[sc.Source.Commit]; !ok {
		bad("source.commit: %q, expected one of the fork commits this scheduler models (0d6b0bd, 7960897, 644e7f4)", sc.Source.Commit)
	}
	c := &sc.Config
	switch sc.Source.Variant {
	case "greedy":
	case "time_predictor":
		if c.Predictor == nil {
			bad("config.predictor: missing, expected {a, b, c, e} for the time_predictor variant")
		}
	default:
		bad("source.variant: %q, expected greedy or time_predictor", sc.Source.Variant)
	}
	if c.Policy == sched.Aging && (c.TimeWeight == nil || c.PromptWeight == nil) {
		bad("config: policy aging needs time_weight and prompt_weight")
	}
	if c.Watermark != sched.Watermark {
		bad("config.watermark: %v, expected %v (the block manager's default, which the scheduler models)", c.Watermark, sched.Watermark)
	}
	cfg := sc.SchedConfig()
	if err := cfg.Validate(); err != nil {
		bad("config: %w", err)
	} else if c.WatermarkBlocks != cfg.WatermarkBlocks() {
		bad("config.watermark_blocks: %d, expected floor(%v × %d) = %d", c.WatermarkBlocks, c.Watermark, c.NumGPUBlocks, cfg.WatermarkBlocks())
	}
	if sc.Executor.Units != "seconds" {
		bad("executor.units: %q, expected \"seconds\"", sc.Executor.Units)
	}
	k := sc.Executor.Coefficients
	if k.A == nil || k.B == nil || k.C == nil || k.E == nil {
		bad("executor.coefficients: expected A, B, C and E")
	}
	if len(sc.Requests) == 0 {
		bad("requests: empty, expected at least one")
	}
	for i, r := range sc.Requests {
		if r.ID != i {
			bad("requests[%d]: id %d, expected %d (ids are indices)", i, r.ID, i)
			break
		}
	}
	if len(sc.RequestsOut) != len(sc.Requests) {
		bad("requests_out: %d entries, expected one per request (%d)", len(sc.RequestsOut), len(sc.Requests))
	}
	for k, it := range sc.Iterations {
		for _, p := range it.Prefills {
			if p[0] < 0 || p[0] >= len(sc.Requests) || p[1] < 1 {
				bad("iterations[%d].prefills: [%d, %d], expected a request id and a chunk ≥ 1", k, p[0], p[1])
			}
		}
	}
	return errors.Join(errs...)
}

// SchedConfig is the scheduler configuration that reproduces the
// scenario's. TargetTime stays in milliseconds: the replay's predictor
// works in the fork's unit.
func (sc *Scenario) SchedConfig() sched.Config {
	c := &sc.Config
	cfg := sched.Config{
		ChunkSize: c.ChunkSize, MaxNumSeqs: c.MaxNumSeqs, MinChunkThreshold: c.MinChunkThreshold,
		BlockSize: c.BlockSize, NumBlocks: c.NumGPUBlocks, MaxModelLen: c.MaxModelLen, Policy: c.Policy,
		StopRule: stopRules[sc.Source.Commit],
	}
	if c.TimeWeight != nil {
		cfg.TimeWeight = *c.TimeWeight
	}
	if c.PromptWeight != nil {
		cfg.PromptWeight = *c.PromptWeight
	}
	if sc.Source.Variant == "time_predictor" {
		cfg.Chunking = sched.TimeBudget
		cfg.TargetTime = c.TargetTime
		cfg.ChunkSearchGranularity = c.ChunkSearchGranularity
	}
	return cfg
}
