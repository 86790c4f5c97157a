package main

import (
	"context"
	"fmt"
	"io"

	"github.com/schedlab/schedlab/lab/docs"
)

// helpTopic prints one reference topic (`lab help spec`) or, for a command's
// name, that command's flags (`lab help run` is `lab run -h`).
func helpTopic(ctx context.Context, env *cmdEnv, name string) int {
	if text, err := docs.Read(name); err == nil {
		fmt.Fprint(env.stdout, text)
		return 0
	}
	if _, ok := commands[name]; ok {
		return runMain(ctx, env, []string{name, "-h"})
	}
	_, err := docs.Read(name)
	fmt.Fprintf(env.stderr, "lab help: %v\n", err)
	return 2
}

// helpTopics lists the reference topics under the command list.
func helpTopics(w io.Writer) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "reference (lab help <topic>):")
	for _, t := range docs.Topics() {
		fmt.Fprintf(w, "  %-14s %s\n", t.Name, t.Title)
	}
}
