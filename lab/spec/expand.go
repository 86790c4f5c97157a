package spec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
)

// ParamNames are the swept parameters in file order.
func (s *Spec) ParamNames() []string { return s.Sweep.Names() }

// Names are the swept parameter names, in sweep order.
func (sw Sweep) Names() []string {
	names := make([]string, len(sw))
	for i, p := range sw {
		names[i] = p.Name
	}
	return names
}

// Points is the grid of the sweep: the cartesian product of the parameters'
// values, the first parameter outermost (it changes slowest), each
// parameter's values in the order given.
func (s *Spec) Points() []Point {
	if len(s.Sweep) == 0 {
		return nil
	}
	n := 1
	for _, p := range s.Sweep {
		n *= len(p.Values)
	}
	points := make([]Point, 0, n)
	idx := make([]int, len(s.Sweep))
	for range n {
		pt := make(Point, len(s.Sweep))
		for j, p := range s.Sweep {
			pt[p.Name] = p.Values[idx[j]]
		}
		points = append(points, pt)
		// Odometer increment, last parameter fastest.
		for j := len(idx) - 1; j >= 0; j-- {
			idx[j]++
			if idx[j] < len(s.Sweep[j].Values) {
				break
			}
			idx[j] = 0
		}
	}
	return points
}

// Cells is every unit of work: each point (in Points order) × each repeat
// (inner loop). A repeat's seed depends only on the spec seed and the
// repeat index, never on the point, so repeat r of every point shares its
// random numbers (common random numbers: differences between points are
// not blurred by different workloads).
func (s *Spec) Cells() []Cell {
	points := s.Points()
	cells := make([]Cell, 0, len(points)*max(s.Repeats, 0))
	for _, pt := range points {
		for r := 0; r < s.Repeats; r++ {
			cells = append(cells, Cell{Point: pt, Repeat: r, Seed: CellSeed(s.Seed, r)})
		}
	}
	return cells
}

// CellSeed derives the seed of repeat r from the spec seed:
//
//	z = uint64(seed)*1_000_003 + uint64(r)      (wrapping arithmetic)
//	z = splitmix64(z)                           (Steele, Lea, Flood 2014)
//	seed_r = int64(z >> 33)                     (31 bits)
//
// splitmix64 spreads neighbouring inputs over the whole range, so seeds
// 0,1,2 and repeats 0,1,2 give unrelated streams. The result is kept to 31
// bits (0 ≤ seed_r < 2^31) so that every consumer accepts it: numpy's
// legacy seed, torch, C int.
func CellSeed(seed int64, r int) int64 {
	z := uint64(seed)*1_000_003 + uint64(r)
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return int64(z >> 33)
}

// Key is a stable, readable text for the point over the given parameter
// names, in that order: "min_chunk_threshold=6 prompt_weight=-0.01".
func (p Point) Key(names []string) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(n)
		b.WriteByte('=')
		if v, ok := p[n]; ok {
			b.WriteString(formatNum(v))
		} else {
			b.WriteString("?")
		}
	}
	return b.String()
}

// canonicalSpec is what Hash encodes: the resolved spec (defaults applied,
// ranges expanded, presets in order) without its description, path or
// source text, so that comments, formatting, key order and a reworded
// description do not change the hash, while any change to what is run or
// how it is analysed does. A field added to Spec that changes what runs or
// how it is analysed must be added here too.
type canonicalSpec struct {
	Name        string           `json:"name"`
	Engine      Engine           `json:"engine"`
	Sweep       []canonicalParam `json:"sweep"`
	Repeats     int              `json:"repeats"`
	Seed        int64            `json:"seed"`
	Baseline    Point            `json:"baseline"`
	Aggregation string           `json:"aggregation"`
	Presets     []Preset         `json:"presets"`
	Margin      float64          `json:"margin"`
	PromptStats []string         `json:"prompt_weight_stats"`
	By          []string         `json:"by,omitempty"` // omitempty: specs without it keep their hash
	// Guards is set only when they differ from DefaultGuards, so specs
	// without select.guards keep their hash.
	Guards *[]Guard `json:"guards,omitempty"`
}

type canonicalParam struct {
	Name   string    `json:"name"`
	Values []float64 `json:"values"`
}

// Hash is the experiment's hash: hex SHA-256 of the canonical JSON encoding
// of the resolved spec (see canonicalSpec). Map keys are sorted by
// encoding/json, numbers use Go's shortest round-trip form.
func (s *Spec) Hash() string {
	c := canonicalSpec{
		Name: s.Name, Engine: s.Engine, Repeats: s.Repeats, Seed: s.Seed,
		Baseline: s.Baseline, Aggregation: s.Select.Aggregation,
		Presets: s.Select.Presets, Margin: s.Select.Margin, PromptStats: s.PromptWeight.Stats,
		By: s.Select.By,
	}
	if g := s.Select.GuardList(); !slices.Equal(g, DefaultGuards) {
		c.Guards = &g
	}
	for _, p := range s.Sweep {
		c.Sweep = append(c.Sweep, canonicalParam{p.Name, p.Values})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		// Only NaN or Inf can fail here, and Validate rejects them; a
		// spec that slipped through still gets a distinct, stable hash.
		buf.Reset()
		buf.WriteString("unencodable:" + err.Error())
	}
	sum := sha256.Sum256(bytes.TrimRight(buf.Bytes(), "\n"))
	return hex.EncodeToString(sum[:])
}
