package stats

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// SelectKth leaves the k-th smallest value at k with nothing larger before
// it and nothing smaller after it, for every k, on sizes either side of
// the sampling step and on data with many ties, sorted and reversed runs.
func TestSelectKth(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	shapes := map[string]func(i, n int) float64{
		"random":   func(int, int) float64 { return rng.Float64() },
		"ties":     func(int, int) float64 { return float64(rng.IntN(4)) },
		"constant": func(int, int) float64 { return 2.5 },
		"sorted":   func(i, _ int) float64 { return float64(i) },
		"reversed": func(i, n int) float64 { return float64(n - i) },
		"organ":    func(i, n int) float64 { return float64(min(i, n-i)) },
	}
	names := make([]string, 0, len(shapes))
	for name := range shapes {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, n := range []int{1, 2, 15, 16, 17, 100, 599, 600, 601, 2000, 10000} {
			x := make([]float64, n)
			for i := range x {
				x[i] = shapes[name](i, n)
			}
			sorted := slices.Sorted(slices.Values(x))
			ks := []int{0, n / 40, n / 2, n - 1 - n/40, n - 1, rng.IntN(n)}
			for _, k := range ks {
				y := slices.Clone(x)
				SelectKth(y, k)
				if y[k] != sorted[k] {
					t.Fatalf("%s n=%d k=%d: x[k] = %v, want %v", name, n, k, y[k], sorted[k])
				}
				for i, v := range y {
					if (i < k && v > y[k]) || (i > k && v < y[k]) {
						t.Fatalf("%s n=%d k=%d: x[%d] = %v on the wrong side of %v", name, n, k, i, v, y[k])
					}
				}
				if slices.Sort(y); !slices.Equal(y, sorted) {
					t.Fatalf("%s n=%d k=%d: values changed, not only reordered", name, n, k)
				}
			}
		}
	}
}

func BenchmarkSelectKth10k(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float64, 10000)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	y := make([]float64, len(x))
	for _, k := range []int{250, 5000, 9750} {
		b.Run("k="+strconv.Itoa(k), func(b *testing.B) {
			for b.Loop() {
				copy(y, x)
				SelectKth(y, k)
			}
		})
	}
}

// When the partitioning rounds run out, what is left is sorted: the same
// order statistic, however few rounds were allowed.
func TestSelectKthSortsWhenRoundsRunOut(t *testing.T) {
	defer func(f func(int) int) { selectRounds = f }(selectRounds)
	rng := rand.New(rand.NewPCG(9, 9))
	x := make([]float64, 5000)
	for i := range x {
		x[i] = float64(rng.IntN(300))
	}
	sorted := slices.Sorted(slices.Values(x))
	for _, rounds := range []int{0, 1, 2} {
		selectRounds = func(int) int { return rounds }
		for _, k := range []int{0, 125, 2500, 4875, 4999} {
			y := slices.Clone(x)
			SelectKth(y, k)
			if y[k] != sorted[k] {
				t.Fatalf("%d rounds, k=%d: %v, want %v", rounds, k, y[k], sorted[k])
			}
			for i, v := range y {
				if (i < k && v > y[k]) || (i > k && v < y[k]) {
					t.Fatalf("%d rounds, k=%d: x[%d] = %v on the wrong side", rounds, k, i, v)
				}
			}
		}
	}
}
