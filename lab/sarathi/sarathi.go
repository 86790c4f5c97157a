// Package sarathi reads and writes the per-request metric files that a
// Sarathi-Serve style engine writes under replica_0/plots/: one CSV per
// metric with header "Request Id,<metric>,cdf", one row per request.
//
// Every engine of schedlab (sim, exec, gpu) produces this layout, so every
// later stage treats simulated and real runs alike. Readers find columns by
// name, so Vidur's files (an extra unnamed leading index column) load as they
// are.
package sarathi

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"

	"github.com/schedlab/schedlab/lab/internal/fsutil"
)

// PlotsDir is where, relative to a run's output folder, the metric files live.
const PlotsDir = "replica_0/plots"

// The five metrics the selection needs.
const (
	RequestExecutionTime           = "request_execution_time"
	RequestExecutionTimeNormalized = "request_execution_time_normalized"
	PrefillE2ETime                 = "prefill_e2e_time"
	PrefillExecPlusPreemptNorm     = "prefill_time_execution_plus_preemption_normalized"
	DecodeExecPlusPreemptNorm      = "decode_time_execution_plus_preemption_normalized"
)

// Further metrics the simulator and GPU engine write; kept when present.
const (
	RequestE2ETime             = "request_e2e_time"
	RequestSchedulingDelay     = "request_scheduling_delay"
	PrefillExecPlusPreemptTime = "prefill_time_execution_plus_preemption"
	DecodeTokenExecPlusPreempt = "decode_token_execution_plus_preemption_time"
)

// Required lists the five metrics every run must produce, in the order the
// old selection script reports them.
var Required = []string{
	RequestExecutionTime,
	RequestExecutionTimeNormalized,
	PrefillE2ETime,
	PrefillExecPlusPreemptNorm,
	DecodeExecPlusPreemptNorm,
}

// FileName is the file a metric is stored in.
func FileName(metric string) string { return metric + ".csv" }

// Row is one request's value of a metric.
type Row struct {
	RequestID string
	Value     float64
}

// Write writes a metric file into dir (created if needed), atomically (a
// temporary file renamed into place): Format's bytes.
func Write(dir, metric string, rows []Row) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(filepath.Join(dir, FileName(metric)), Format(metric, rows))
}

// Format returns a metric file in the Sarathi format: rows sorted by value
// (stable, so ties keep their order), cdf = rank/N. Values are written with
// the shortest representation that parses back to the same float64, so
// files are byte-identical for identical inputs.
func Format(metric string, rows []Row) []byte {
	order := stableOrder(rows)
	// Formatted straight into one buffer sized for the usual row (request
	// id, two shortest-form floats: ~40 bytes), so it grows at most once.
	buf := make([]byte, 0, 48*(len(rows)+1)+len(metric))
	buf = append(buf, "Request Id,"...)
	buf = append(buf, metric...)
	buf = append(buf, ",cdf\n"...)
	n := float64(len(rows))
	for i, k := range order {
		r := &rows[k]
		buf = append(buf, r.RequestID...)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, r.Value, 'g', -1, 64)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, float64(i+1)/n, 'g', -1, 64)
		buf = append(buf, '\n')
	}
	return buf
}

// stableOrder returns the indices of rows in the order of a stable sort by
// "a.Value < b.Value": ties keep their input order, and so do NaNs. Without
// NaNs that order is the one of (value, index) pairs, which an unstable
// sort finds in O(n log n) — on a main-job cell's 1,000 rows in half the
// time of the stable sort's O(n log² n) merging, which was a third of
// writing the files. With a NaN "<" is no ordering, so the stable sort
// itself decides, as it always did.
func stableOrder(rows []Row) []int32 {
	order := make([]int32, len(rows))
	for i := range order {
		order[i] = int32(i)
	}
	less := func(a, b int32) int {
		switch va, vb := rows[a].Value, rows[b].Value; {
		case va < vb:
			return -1
		case vb < va:
			return 1
		}
		return 0
	}
	if slices.ContainsFunc(rows, func(r Row) bool { return math.IsNaN(r.Value) }) {
		slices.SortStableFunc(order, less)
		return order
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := less(a, b); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return order
}

// ErrNoValues is wrapped by the error ReadValues returns for a file whose
// metric column holds no value at all.
var ErrNoValues = errors.New("no values")

// ReadValues returns the values of column metric in the CSV file at path, in
// file order. Empty fields are skipped (as the old script did). A missing
// column, a non-numeric value, NaN or ±Inf, or a file with no values is an
// error that names the file and, where there is one, the line.
//
// The reader streams the file and does not allocate per row. It understands
// the simple CSV that engines write (no quoted fields containing commas or
// newlines); a quoted header or value is unquoted.
func ReadValues(path, metric string) ([]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readFile(f, path, metric, nil)
}

// AppendValues is ReadValues appending to dst, for callers that reuse a buffer.
func AppendValues(dst []float64, path, metric string) ([]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return dst, err
	}
	defer f.Close()
	return readFile(f, path, metric, dst)
}

// readFile reads the values of a small file whole (readWhole), of a big
// one from its memory mapping where possible (mmap_linux.go), else as a
// stream.
func readFile(f *os.File, path, metric string, dst []float64) ([]float64, error) {
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > 0 && st.Size() <= wholeReadMax {
		return readWhole(f, int(st.Size()), path, metric, dst)
	}
	if data, unmap, ok := mapFile(f); ok {
		defer unmap()
		return parseMapped(data, path, metric, dst)
	}
	return readValues(f, path, metric, dst)
}

// readWhole reads f, of size bytes at Stat, with one read(2) into a pooled
// buffer and parses it in place. A file that grew since is read again as a
// stream, whole; one that shrank is parsed as far as it goes.
func readWhole(f *os.File, size int, path, metric string, dst []float64) ([]float64, error) {
	bp := wholeBufs.Get().(*[]byte)
	defer wholeBufs.Put(bp)
	if cap(*bp) < size+1 {
		*bp = make([]byte, size+1)
	}
	// One byte more than the size: reading it means the file grew.
	n, err := io.ReadFull(f, (*bp)[:size+1])
	switch err {
	case io.ErrUnexpectedEOF, io.EOF:
		return parseValues(&sliceLines{(*bp)[:n]}, path, metric, dst)
	case nil:
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return dst, fmt.Errorf("%s: %w", path, err)
		}
		return readValues(f, path, metric, dst)
	}
	return dst, fmt.Errorf("%s: %w", path, err)
}

// wholeReadMax is the largest file read whole into a pooled buffer rather
// than mapped: for small files one read(2) costs less than a mapping's page
// faults and its munmap, which interrupts every core's TLB.
const wholeReadMax = 16 << 20

var wholeBufs = sync.Pool{New: func() any { return new([]byte) }}

// parseMapped parses a file's memory mapping. If the file shrinks while it
// is mapped (an engine or a copy rewriting it in place), touching the pages
// past its new end raises SIGBUS, which would kill the whole process with a
// fatal runtime error; here the fault becomes a panic (debug.SetPanicOnFault,
// for this goroutine only) that is recovered into an error naming the file.
func parseMapped(data []byte, path, metric string, dst []float64) (vals []float64, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			vals, err = dst, fmt.Errorf("%s: the file shrank while it was being read (is something rewriting it?)", path)
		}
	}()
	return parseValues(&sliceLines{data}, path, metric, dst)
}

func readValues(r io.Reader, path, metric string, dst []float64) ([]float64, error) {
	return parseValues(bufLines{bufio.NewReaderSize(r, 64<<10)}, path, metric, dst)
}

// lineReader yields lines without their terminators; the last one (maybe
// empty) comes with io.EOF.
type lineReader interface {
	readLine() ([]byte, error)
}

type bufLines struct{ br *bufio.Reader }

func (l bufLines) readLine() ([]byte, error) { return readLine(l.br) }

// sliceLines splits a file's bytes (its memory mapping) in place, like
// readLine does a stream, without copying them into a buffer.
type sliceLines struct{ data []byte }

func (l *sliceLines) readLine() ([]byte, error) {
	var line []byte
	var err error
	if i := bytes.IndexByte(l.data, '\n'); i >= 0 {
		line, l.data = l.data[:i], l.data[i+1:]
	} else {
		line, l.data, err = l.data, nil, io.EOF
	}
	for len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, err
}

// plainRows parses, in one pass over the bytes, the rows at the start of
// l that have the form engines write — the value a plain decimal between
// commas (or ending the row), no spaces, no quotes, the row ending in
// "\n" — and appends their values to dst. It stops before the first other
// row (empty, quoted, short, the last one without "\n", a value that is not
// a plain decimal), which the general path then reads and, if it is wrong,
// words the error for; n is the number of rows consumed. The values are
// parseFloat's (parseDecimalPrefix is its first step), so the result is
// the same as the general path's, which scans each line three times
// (newline, commas, spaces) with a call each: reading a 10,000-row file
// takes ~40% less time (BenchmarkReadValues).
func (l *sliceLines) plainRows(col int, dst []float64) (_ []float64, n int) {
	data := l.data
rows:
	for {
		i := 0
		for range col {
			if i = indexDelim(data, i, true); i == len(data) || data[i] != ',' {
				break rows
			}
			i++
		}
		v, m, ok := parseDecimalPrefix(data[i:])
		if i += m; !ok || i == len(data) || data[i] != ',' && data[i] != '\n' {
			break
		}
		i = indexDelim(data, i, false)
		if i == len(data) {
			break
		}
		dst = append(dst, v)
		data = data[i+1:]
		n++
	}
	l.data = data
	return dst, n
}

// indexDelim returns the index of the first '\n' (or, with comma, ',' or
// '\n') in data at or after i, or len(data). It tests eight bytes at a
// time: a byte of w equals c exactly where w^c has a zero byte, and
// (x − 0x01…01) &^ x & 0x80…80 marks zero bytes, its lowest mark always
// at the first one (a borrow only marks bytes above it). Request ids and
// cdf fields are a few bytes, shorter than a call to bytes.IndexByte.
func indexDelim(data []byte, i int, comma bool) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	zeros := func(x uint64) uint64 { return (x - ones) &^ x & highs }
	for ; i+8 <= len(data); i += 8 {
		w := binary.LittleEndian.Uint64(data[i:])
		m := zeros(w ^ '\n'*ones)
		if comma {
			m |= zeros(w ^ ','*ones)
		}
		if m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(data); i++ {
		if data[i] == '\n' || comma && data[i] == ',' {
			return i
		}
	}
	return i
}

func parseValues(lines lineReader, path, metric string, dst []float64) ([]float64, error) {
	header, err := lines.readLine()
	if err != nil && (err != io.EOF || len(header) == 0) {
		if err == io.EOF {
			return dst, fmt.Errorf("%s: empty file, expected a header with column %q", path, metric)
		}
		return dst, fmt.Errorf("%s: %w", path, err)
	}
	col := -1
	ncol := 0
	forEachField(header, func(i int, field []byte) {
		ncol++
		if col < 0 && string(unquote(bytes.TrimSpace(field))) == metric {
			col = i // the first such column, as pandas reads it
		}
	})
	if col < 0 {
		return dst, fmt.Errorf("%s:1: no column %q in header %q", path, metric, string(bytes.TrimSpace(header)))
	}
	start := len(dst)
	fast, _ := lines.(*sliceLines)
	for line := 2; ; line++ {
		if fast != nil {
			var n int
			dst, n = fast.plainRows(col, dst)
			line += n
		}
		b, err := lines.readLine()
		if len(b) > 0 {
			field, ok := nthField(b, col)
			if !ok {
				return dst, fmt.Errorf("%s:%d: row has fewer than %d fields", path, line, col+1)
			}
			field = unquote(bytes.TrimSpace(field))
			if len(field) > 0 {
				v, perr := parseFloat(field)
				if errors.Is(perr, strconv.ErrRange) {
					return dst, fmt.Errorf("%s:%d: column %q: %q is beyond float64's range (±1.8e308)", path, line, metric, string(field))
				}
				if perr != nil {
					return dst, fmt.Errorf("%s:%d: column %q: %q is not a number", path, line, metric, string(field))
				}
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return dst, fmt.Errorf("%s:%d: column %q: %q is not a finite number", path, line, metric, string(field))
				}
				dst = append(dst, v)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return dst, fmt.Errorf("%s:%d: %w", path, line, err)
		}
	}
	if len(dst) == start {
		return dst, fmt.Errorf("%s: column %q: %w", path, metric, ErrNoValues)
	}
	return dst, nil
}

// parseFloat (parsefloat.go) parses b without converting it to a string
// on the heap.

// readLine returns the next line without its terminator ("\n" or "\r\n").
// The slice is only valid until the next call.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// A very long line: fall back to an allocating read. The first part
		// must be copied before reading on, which refills the buffer it
		// points into.
		head := append([]byte(nil), line...)
		rest, err2 := br.ReadBytes('\n')
		line = append(head, rest...)
		err = err2
	}
	// Strip trailing "\r" and "\n" (a hand-written loop: bytes.TrimRight
	// with a two-byte cutset showed up in the selection's profile).
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	return line, err
}

func forEachField(line []byte, fn func(i int, field []byte)) {
	for i := 0; ; i++ {
		j := bytes.IndexByte(line, ',')
		if j < 0 {
			fn(i, line)
			return
		}
		fn(i, line[:j])
		line = line[j+1:]
	}
}

func nthField(line []byte, n int) ([]byte, bool) {
	for i := 0; i < n; i++ {
		j := bytes.IndexByte(line, ',')
		if j < 0 {
			return nil, false
		}
		line = line[j+1:]
	}
	if j := bytes.IndexByte(line, ','); j >= 0 {
		line = line[:j]
	}
	return line, true
}

func unquote(b []byte) []byte {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		return b[1 : len(b)-1]
	}
	return b
}

// Missing returns the required metrics that have no file in dir, in the
// order of Required.
func Missing(dir string) []string {
	var missing []string
	for _, m := range Required {
		if _, err := os.Stat(filepath.Join(dir, FileName(m))); err != nil {
			missing = append(missing, m)
		}
	}
	return missing
}

// Check verifies that dir holds the five required metric files, each with
// its column and at least one finite value. It returns the first problem.
func Check(dir string) error { return CheckExcept(dir, nil) }

// CheckExcept is Check for a source that cannot observe the metrics in
// unavailable (run_summary.json's list): their files may be absent, and
// must be, since a file there would contradict the list.
func CheckExcept(dir string, unavailable []string) error {
	skip := func(m string) bool { return slices.Contains(unavailable, m) }
	for _, m := range Missing(dir) {
		if !skip(m) {
			return fmt.Errorf("%s: missing %s", dir, FileName(m))
		}
	}
	var buf []float64
	for _, m := range Required {
		if skip(m) {
			if _, err := os.Stat(filepath.Join(dir, FileName(m))); err == nil {
				return fmt.Errorf("%s: %s is present but run_summary.json lists %s as unavailable", dir, FileName(m), m)
			}
			continue
		}
		var err error
		buf, err = AppendValues(buf[:0], filepath.Join(dir, FileName(m)), m)
		if err != nil {
			return err
		}
	}
	return nil
}
