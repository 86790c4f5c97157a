package sched

import (
	"bytes"
	"compress/gzip"
	"io"
	"math/rand/v2"
	"os/exec"
	"runtime"
	"testing"
)

func TestWriteGzipParallel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	text := func(n int) []byte {
		b := make([]byte, 0, n+32)
		for len(b) < n {
			b = append(b, "12,0.5"...)
			b = append(b, byte('0'+rng.IntN(10)), '\n')
		}
		return b[:n]
	}
	for _, size := range []int{0, 1, gzipMember - 1, gzipMember, gzipMember + 1, 3*gzipMember + gzipMember/2} {
		data := text(size)
		var zb bytes.Buffer
		if err := writeGzipParallel(&zb, data); err != nil {
			t.Fatal(err)
		}
		z := zb.Bytes()
		zr, err := gzip.NewReader(bytes.NewReader(z))
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: Go's reader gives %d bytes (%v), want %d", size, len(got), err, len(data))
		}
		if gz, err := exec.LookPath("gzip"); err == nil {
			cmd := exec.Command(gz, "-dc")
			cmd.Stdin = bytes.NewReader(z)
			out, err := cmd.Output()
			if err != nil || !bytes.Equal(out, data) {
				t.Errorf("size %d: gzip -d gives %d bytes (%v), want %d", size, len(out), err, len(data))
			}
		}
		// The same bytes whatever the number of cores.
		prev := runtime.GOMAXPROCS(1)
		var z1 bytes.Buffer
		err = writeGzipParallel(&z1, data)
		runtime.GOMAXPROCS(prev)
		if err != nil || !bytes.Equal(z1.Bytes(), z) {
			t.Errorf("size %d: output differs with GOMAXPROCS=1", size)
		}
	}
}
