package main

import "github.com/schedlab/schedlab/lab"

func version() string {
	if c := lab.VCSCommit(); c != "" {
		return lab.Version + " (" + c + ")"
	}
	return lab.Version
}
