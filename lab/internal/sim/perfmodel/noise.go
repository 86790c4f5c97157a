package perfmodel

import "math"

// rangeToSigma is the expected range of n normal samples in standard
// deviations (d2 of control-chart tables): 3.078 for n = 10, the profiles'
// repetition count. Spread/d2 estimates the relative standard deviation.
var rangeToSigma = map[int]float64{2: 1.128, 3: 1.693, 4: 2.059, 5: 2.326, 6: 2.534, 7: 2.704, 8: 2.847, 9: 2.970, 10: 3.078, 15: 3.472, 20: 3.735, 25: 3.931}

// Noise is the iteration-time noise of a profile, per group: the mean over
// the group's measurements of (ms_max − ms_min)/ms_median (Spread) and the
// relative standard deviation it implies (Sigma = Spread/d2(reps)).
type Noise struct {
	Spread map[string]float64
	Sigma  map[string]float64
}

func noiseOf(ms []Measurement) Noise {
	n := Noise{Spread: map[string]float64{}, Sigma: map[string]float64{}}
	count := map[string]int{}
	sigma := map[string]float64{}
	for i := range ms {
		m := &ms[i]
		r := (m.MsMax - m.MsMin) / m.MsMedian
		n.Spread[m.Group] += r
		d2, ok := rangeToSigma[m.Reps]
		if !ok {
			d2 = 3.078 // reps unknown: assume the profiles' 10
		}
		sigma[m.Group] += r / d2
		count[m.Group]++
	}
	for g, c := range count {
		n.Spread[g] /= float64(c)
		n.Sigma[g] = sigma[g] / float64(c)
	}
	return n
}

// GroupOf names the group a shape belongs to, for its noise.
func GroupOf(s *Shape) string {
	switch {
	case len(s.Prefills) > 0 && s.Decodes > 0:
		return "mixed"
	case len(s.Prefills) > 0:
		return "prefill"
	}
	return "decode"
}

// Factor turns a standard normal draw z into the multiplicative noise of a
// shape's group: 1 + σ·z, with z clamped to ±3 so a time is never negative.
func (n Noise) Factor(s *Shape, z float64) float64 {
	z = math.Max(-3, math.Min(3, z))
	return 1 + n.Sigma[GroupOf(s)]*z
}
