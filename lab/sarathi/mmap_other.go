//go:build !linux

package sarathi

import "os"

// mapFile is not available here: files are read.
func mapFile(f *os.File) (data []byte, unmap func(), ok bool) { return nil, nil, false }
