// Package version says which lab built a binary or wrote a cell record.
package version

import (
	"runtime/debug"
)

// Version is the lab's version; set at link time with
// -ldflags "-X github.com/schedlab/schedlab/lab/internal/version.Version=…"
// for releases.
var Version = "0.1.0-dev"

// VCSCommit returns the VCS revision the binary was built from (with
// "+dirty" when the tree had local changes), or "" when unknown.
func VCSCommit() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev != "" && dirty {
		rev += "+dirty"
	}
	return rev
}

// String is the version with the commit, "0.1.0-dev (abc123)", or the
// version alone when the commit is unknown.
func String() string {
	if c := VCSCommit(); c != "" {
		return Version + " (" + c + ")"
	}
	return Version
}
