package main

import (
	"errors"
	"flag"
	"fmt"
)

// Exit statuses: 0 success, 1 the work failed (a cell, a check, a file),
// 2 the command line was wrong (lab help cli).

// parseFlags parses a command's flags (all before the positional
// arguments). A bad flag is a usage error: the flag package has printed the
// problem and the usage, and the status is 2.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitCodeError{code: 2}
	}
	return nil
}

// usageError is a wrong command line (status 2) with its explanation.
func usageError(format string, args ...any) error {
	return &exitCodeError{code: 2, err: fmt.Errorf(format, args...)}
}
