package sched

import (
	"bytes"
	"runtime"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// gzipMember is how much uncompressed data each gzip member holds.
const gzipMember = 1 << 20

// gzipParallel compresses data as a sequence of gzip members of
// gzipMember bytes each (the last shorter), compressed concurrently at
// level 1 (BestSpeed), in order. A gzip file may hold several members one
// after another (RFC 1952); gzip -d, Python's gzip and Go's gzip.Reader
// read them as one stream. The bytes depend only on data — not on the
// number of cores — and no member header holds a name or a time, so the
// output is deterministic. Splitting costs ~0.1% of size (each member
// restarts its 32 KB window and adds 18 bytes) and on 2 cores halves the
// time of the simulator's iteration log, which was the largest part of a
// cell's.
//
// The compressor is github.com/klauspost/compress's gzip, not the standard
// library's: on the 15 MB log of a 10,000-request cell its level 1 took
// 0.59 s against compress/gzip's 1.37 s at BestSpeed (same loaded 2-core
// machine, 5 runs each) and wrote 5.16 MB instead of 5.65 MB.
// lab/docs/benchmarks.md has the numbers.
func gzipParallel(data []byte) ([]byte, error) {
	n := max(1, (len(data)+gzipMember-1)/gzipMember)
	parts := make([]*bytes.Buffer, n)
	errs := make([]error, n)
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			zw := gzipWriters.Get().(*gzip.Writer)
			defer gzipWriters.Put(zw)
			for i := range work {
				chunk := data[i*gzipMember : min(len(data), (i+1)*gzipMember)]
				buf := gzipBuffers.Get().(*bytes.Buffer)
				buf.Reset()
				zw.Reset(buf)
				zw.Write(chunk)
				errs[i] = zw.Close()
				parts[i] = buf
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	size := 0
	for _, p := range parts {
		size += p.Len()
	}
	out := make([]byte, 0, size)
	for _, p := range parts {
		out = append(out, p.Bytes()...)
		gzipBuffers.Put(p)
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Compressors and member buffers are reused across cells: a run writes
// one log per cell, and allocating a compressor's state and its output
// anew each time was a fifth of the log's cost.
var (
	gzipWriters = sync.Pool{New: func() any {
		zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // a valid level: no error
		return zw
	}}
	gzipBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)
