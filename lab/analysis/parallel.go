package analysis

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// forEach runs fn(0) … fn(n−1) on GOMAXPROCS workers and returns the error
// of the lowest i that failed, so the message does not depend on
// scheduling. The analysis' loops over points are independent by design —
// every point draws from its own random stream (stream) — so running
// them at once changes no number; after a failure the remaining indices
// are still run (they are cheap, and a partial result is never returned).
func forEach(n int, fn func(i int) error) error {
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				errs[i] = fn(i)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
