//go:build linux

package sarathi

import (
	"os"
	"syscall"
)

// mapFile maps a regular file read-only, so that reading a big one costs
// page faults on the page cache instead of a kernel copy into a buffer as
// big as the file (readFile maps only files above wholeReadMax: for smaller
// ones one read(2) into a reused buffer is cheaper than the faults and the
// munmap). ok is false when the file cannot be mapped (the caller then
// reads it): not a regular file, empty (a 0-byte mapping is an error), or
// larger than 4 GiB or than an int. The mapping covers the size at Stat: a
// file that grows meanwhile is read up to that size; one that shrinks makes
// the vanished pages fault, which parseMapped turns into an error (Write
// replaces files by renaming, but an exec engine or a user's copy may
// rewrite one in place).
func mapFile(f *os.File) (data []byte, unmap func(), ok bool) {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() <= 0 || st.Size() > 1<<32 || int64(int(st.Size())) != st.Size() {
		return nil, nil, false
	}
	data, err = syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, false
	}
	_ = syscall.Madvise(data, syscall.MADV_SEQUENTIAL)
	return data, func() { syscall.Munmap(data) }, true
}
