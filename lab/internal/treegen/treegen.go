// Package treegen writes synthetic legacy threshold_output trees
// (<root>/<repeat>/<threshold>/<metric>.csv, Sarathi format) for the
// selection's tests and benchmarks. Values are deterministic in the seed and
// depend on the threshold the way a real sweep's might (a shallow optimum
// with run-to-run noise), so that selections on them are not trivial.
package treegen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/schedlab/schedlab/lab/sarathi"
)

// Options size a tree.
type Options struct {
	Thresholds int // thresholds 0 … Thresholds-1
	Repeats    int
	Rows       int // requests per file
	Seed       uint64
	// DropFile, when > 0, leaves out one random CSV of about that fraction
	// of threshold folders (those are skipped for their repeat).
	DropFile float64
	// Extra adds a non-integer folder to every repeat and a stray file to
	// the root, which selection must ignore.
	Extra bool
}

// RepeatName is the folder name of repeat r, a timestamp like the old
// bash loop wrote.
func RepeatName(r int) string {
	return fmt.Sprintf("20250101_%06d", 120000+r)
}

// Generate writes the tree under root (created if needed).
func Generate(root string, o Options) error {
	ids := make([]string, o.Rows)
	for i := range ids {
		ids[i] = "0_" + strconv.Itoa(i)
	}
	rows := make([]sarathi.Row, o.Rows)
	for i := range rows {
		rows[i].RequestID = ids[i]
	}
	for r := range o.Repeats {
		rng := rand.New(rand.NewPCG(o.Seed, uint64(r)))
		runFactor := 1 + 0.05*rng.NormFloat64()
		rdir := filepath.Join(root, RepeatName(r))
		if o.Extra {
			if err := os.MkdirAll(filepath.Join(rdir, "logs"), 0o755); err != nil {
				return err
			}
		}
		for t := range o.Thresholds {
			dir := filepath.Join(rdir, strconv.Itoa(t))
			drop := -1
			if o.DropFile > 0 && rng.Float64() < o.DropFile {
				drop = rng.IntN(len(sarathi.Required))
			}
			// A shallow optimum near a third of the range.
			x := (float64(t) - float64(o.Thresholds)/3) / math.Max(1, float64(o.Thresholds))
			shape := runFactor * (1 + 0.3*x*x + 0.01*rng.NormFloat64())
			for mi, m := range sarathi.Required {
				if mi == drop {
					continue
				}
				scale := metricScale(m) * shape * (1 + 0.02*float64(mi)*x)
				for i := range rows {
					rows[i].Value = scale * math.Exp(0.5*rng.NormFloat64())
				}
				if err := sarathi.Write(dir, m, rows); err != nil {
					return err
				}
			}
			if drop >= 0 {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return err
				}
			}
		}
	}
	if o.Extra {
		if err := os.WriteFile(filepath.Join(root, "README.txt"), []byte("not a repeat\n"), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func metricScale(m string) float64 {
	switch m {
	case sarathi.RequestExecutionTime:
		return 2.5
	case sarathi.RequestExecutionTimeNormalized:
		return 0.02
	case sarathi.PrefillE2ETime:
		return 0.8
	case sarathi.PrefillExecPlusPreemptNorm:
		return 0.0004
	default:
		return 0.03
	}
}
