package perfmodel

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// nnls solves min ‖A·x − b‖₂ subject to x ≥ 0 by Lawson and Hanson's
// active-set method ("Solving Least Squares Problems", 1974, ch. 23). A is
// m×n row-major. It is exact for the small problems here (≈100×15).
func nnls(a []float64, m, n int, b []float64) ([]float64, error) {
	A := mat.NewDense(m, n, a)
	B := mat.NewVecDense(m, b)
	x := make([]float64, n)
	passive := make([]bool, n)
	w := make([]float64, n)
	const tol = 1e-12
	gradient := func() {
		// w = Aᵀ(b − A x)
		r := mat.NewVecDense(m, nil)
		r.MulVec(A, mat.NewVecDense(n, x))
		r.SubVec(B, r)
		var g mat.VecDense
		g.MulVec(A.T(), r)
		for j := range w {
			w[j] = g.AtVec(j)
		}
	}
	// solve returns the unconstrained least-squares solution on the passive set.
	solve := func() ([]float64, error) {
		var idx []int
		for j, p := range passive {
			if p {
				idx = append(idx, j)
			}
		}
		sub := mat.NewDense(m, len(idx), nil)
		for k, j := range idx {
			for i := 0; i < m; i++ {
				sub.Set(i, k, A.At(i, j))
			}
		}
		var qr mat.QR
		qr.Factorize(sub)
		var z mat.VecDense
		if err := qr.SolveVecTo(&z, false, B); err != nil {
			return nil, err
		}
		s := make([]float64, n)
		for k, j := range idx {
			s[j] = z.AtVec(k)
		}
		return s, nil
	}
	for iter := 0; iter < 30*n; iter++ {
		gradient()
		best, bestJ := tol, -1
		for j := range w {
			if !passive[j] && w[j] > best {
				best, bestJ = w[j], j
			}
		}
		if bestJ < 0 {
			return x, nil
		}
		passive[bestJ] = true
		for inner := 0; ; inner++ {
			if inner > 3*n {
				return nil, fmt.Errorf("nnls: inner loop did not converge")
			}
			s, err := solve()
			if err != nil {
				return nil, err
			}
			feasible := true
			for j, p := range passive {
				if p && s[j] <= 0 {
					feasible = false
				}
			}
			if feasible {
				x = s
				break
			}
			alpha := math.Inf(1)
			for j, p := range passive {
				if p && s[j] <= 0 {
					alpha = math.Min(alpha, x[j]/(x[j]-s[j]))
				}
			}
			for j := range x {
				x[j] += alpha * (s[j] - x[j])
				if passive[j] && x[j] <= tol {
					passive[j] = false
					x[j] = 0
				}
			}
		}
	}
	return nil, fmt.Errorf("nnls: did not converge")
}
