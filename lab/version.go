// Package lab is the small public API that the CLI, the report and the
// notebooks share: open an experiment, load its results from the store,
// select, and locate its report.
package lab

import (
	"runtime/debug"
)

// Version is the lab's version; set at link time with
// -ldflags "-X github.com/schedlab/schedlab/lab.Version=…" for releases.
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
