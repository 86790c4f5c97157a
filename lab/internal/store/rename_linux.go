package store

import (
	"errors"

	"golang.org/x/sys/unix"
)

// exchange atomically swaps two existing paths (renameat2 RENAME_EXCHANGE,
// Linux ≥ 3.15 on most local filesystems). An error means nothing moved.
func exchange(a, b string) error {
	return unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
}

func isEINVAL(err error) bool { return errors.Is(err, unix.EINVAL) }
