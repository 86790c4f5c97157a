package sarathi

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/schedlab/schedlab/lab/internal/fsutil"
)

// MaxTimeBetweenTokens is the per-request metric of a run's worst decode
// stall: the largest gap in seconds between two consecutive output tokens
// of the request (first → second token included). A request with fewer
// than two output tokens has no row.
const MaxTimeBetweenTokens = "max_time_between_tokens"

// RunSummaryFile is where, relative to a run's output folder, the
// cell-level facts live (next to the plots folder).
const RunSummaryFile = "replica_0/run_summary.json"

// RequestsPerSecond is the name guards and specs use for the run's
// throughput, RunSummary.RequestsPerSecond.
const RequestsPerSecond = "requests_per_second"

// RunSummary is run_summary.json: facts about a whole run that no
// per-request file holds. Every field but Source is optional; a source
// that cannot observe a per-request metric lists it in Unavailable rather
// than writing made-up values.
type RunSummary struct {
	// Source names what produced the run: "sim", "gpu", "sarathi",
	// "vllm-bench", "sglang-bench" or "csv".
	Source         string `json:"source"`
	Requests       *int   `json:"requests,omitempty"`
	RequestsFailed *int   `json:"requests_failed,omitempty"`
	// MakespanSeconds runs from the first arrival to the last completion.
	MakespanSeconds *float64 `json:"makespan_seconds,omitempty"`
	// RequestsPerSecond is completed requests / MakespanSeconds.
	RequestsPerSecond *float64 `json:"requests_per_second,omitempty"`
	// Preemptions counts the scheduler's preemptions where the source
	// knows them.
	Preemptions *int     `json:"preemptions,omitempty"`
	Unavailable []string `json:"unavailable,omitempty"`
}

// Int makes an optional count field.
func Int(v int) *int { return &v }

// Float makes an optional float field.
func Float(v float64) *float64 { return &v }

// Marshal is the file's bytes: indented JSON with a final newline, fields
// in a fixed order, so identical facts give identical files.
func (s RunSummary) Marshal() ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// WriteRunSummary writes s as dir/replica_0/run_summary.json.
func WriteRunSummary(dir string, s RunSummary) error {
	data, err := s.Marshal()
	if err != nil {
		return err
	}
	p := filepath.Join(dir, RunSummaryFile)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(p, data)
}

// ErrNoRunSummary is wrapped by ReadRunSummary when the file does not exist.
var ErrNoRunSummary = errors.New("no run_summary.json")

// ReadRunSummary reads a run_summary.json file. Unknown fields are allowed
// (a newer writer may add some); a missing source or a number that is
// negative or not finite is an error naming the file and field.
func ReadRunSummary(path string) (RunSummary, error) {
	var s RunSummary
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, fmt.Errorf("%s: %w", path, ErrNoRunSummary)
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	if err := s.check(); err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// IsUnavailable reports whether the source declared metric unobservable.
func (s RunSummary) IsUnavailable(metric string) bool {
	for _, m := range s.Unavailable {
		if m == metric {
			return true
		}
	}
	return false
}

func (s RunSummary) check() error {
	if strings.TrimSpace(s.Source) == "" {
		return errors.New(`field "source": missing, want the source of the run (sim, gpu, sarathi, vllm-bench, sglang-bench, csv)`)
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"makespan_seconds", s.MakespanSeconds}, {"requests_per_second", s.RequestsPerSecond}} {
		if f.v != nil && !(*f.v >= 0 && !math.IsInf(*f.v, 0)) {
			return fmt.Errorf("field %q: %v, want a finite number ≥ 0", f.name, *f.v)
		}
	}
	for _, f := range []struct {
		name string
		v    *int
	}{{"requests", s.Requests}, {"requests_failed", s.RequestsFailed}, {"preemptions", s.Preemptions}} {
		if f.v != nil && *f.v < 0 {
			return fmt.Errorf("field %q: %d, want a count ≥ 0", f.name, *f.v)
		}
	}
	return nil
}
