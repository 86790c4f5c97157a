//go:build !linux

package store

import (
	"errors"
	"syscall"
)

// exchange is unsupported here: replace falls back to two renames.
func exchange(a, b string) error { return errors.ErrUnsupported }

func isEINVAL(err error) bool { return errors.Is(err, syscall.EINVAL) }
