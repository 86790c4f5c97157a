package sched

import (
	"bytes"
	"io"
	"runtime"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// gzipMember is how much uncompressed data each gzip member holds.
const gzipMember = 1 << 20

// writeGzipParallel writes data to w gzip-compressed, as a sequence of
// gzip members of gzipMember bytes each (the last shorter), compressed
// concurrently and written in order. A gzip file may hold several members
// one after another (RFC 1952); gzip -d, Python's gzip and Go's
// gzip.Reader read them as one stream. The bytes depend only on data — not
// on the number of cores — and no member header holds a name or a time, so
// the output is deterministic. Splitting costs ~0.1% of size (each member
// restarts and adds 18 bytes) and on 2 cores halves the time of the
// simulator's iteration log.
//
// The compressor is github.com/klauspost/compress's gzip in its
// Huffman-only mode (no search for repeated strings): on the main job's
// 1.55 MB logs of digits and commas it is 4.5× faster than that package's
// level 1 (1.8 ms against 8 ms per log), which was a quarter of a
// simulated cell's CPU time, for logs 29% larger (44% of the text instead
// of 34%: most of what level 1 gains on digits is their entropy coding,
// which Huffman-only keeps). lab/docs/benchmarks.md has the numbers.
func writeGzipParallel(w io.Writer, data []byte) error {
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
	var err error
	for i, p := range parts {
		if err == nil {
			err = errs[i]
		}
		if err == nil {
			_, err = w.Write(p.Bytes())
		}
		gzipBuffers.Put(p)
	}
	return err
}

// Compressors and member buffers are reused across cells: a run writes
// one log per cell, and allocating a compressor's state and its output
// anew each time was a fifth of the log's cost.
var (
	gzipWriters = sync.Pool{New: func() any {
		zw, _ := gzip.NewWriterLevel(nil, gzip.HuffmanOnly) // a valid level: no error
		return zw
	}}
	gzipBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)
