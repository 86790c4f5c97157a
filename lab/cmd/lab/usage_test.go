package main

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestFlagHelpArgNames checks every command's -h: a flag line shows an
// argument name only for a flag that takes one. The flag package turns the
// first `quoted` word of a usage string into the argument's name, which once
// made `-no-select` read as if it took "lab select SPEC".
func TestFlagHelpArgNames(t *testing.T) {
	var cmds [][]string
	for name := range commands {
		switch name {
		case "sim":
			cmds = append(cmds, []string{"sim", "predict"}, []string{"sim", "run"}, []string{"sim", "fit"})
		case "cell":
			cmds = append(cmds, []string{"cell", "run"})
		default:
			cmds = append(cmds, []string{name})
		}
	}
	sort.Slice(cmds, func(i, j int) bool { return strings.Join(cmds[i], " ") < strings.Join(cmds[j], " ") })
	// The names the flag package gives by type, and the ones written on purpose.
	typeNames := []string{"string", "int", "uint", "float", "duration", "value"}
	line := regexp.MustCompile(`(?m)^  -(\S+) (.+)$`)
	for _, c := range cmds {
		code, _, stderr := runLab(t, append(c, "-h")...)
		if code != 0 {
			t.Errorf("lab %s -h: exit %d, want 0\n%s", strings.Join(c, " "), code, stderr)
			continue
		}
		flags := line.FindAllStringSubmatch(stderr, -1)
		if len(flags) == 0 && c[0] != "sim" {
			t.Errorf("lab %s -h lists no flags:\n%s", strings.Join(c, " "), stderr)
		}
		for _, m := range flags {
			if !slices.Contains(typeNames, m[2]) {
				t.Errorf("lab %s -h: flag -%s shows the argument name %q (a `quoted` word in its usage?)", strings.Join(c, " "), m[1], m[2])
			}
		}
	}
}
