// Package docs holds schedlab's reference documentation as markdown topics,
// embedded in the binary so that `lab help <topic>` documents the version
// that is running, offline. README.md is the front door; every reference
// fact lives in exactly one topic file here.
package docs

import (
	"embed"
	"fmt"
	"sort"
	"strings"
)

//go:embed *.md
var files embed.FS

// Topic is one help page.
type Topic struct {
	Name  string // file name without .md, what `lab help` takes
	Title string // the page's first heading
}

// Topics lists every topic, sorted by name.
func Topics() []Topic {
	entries, err := files.ReadDir(".")
	if err != nil {
		panic(err) // embedded: cannot fail
	}
	var out []Topic
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".md")
		if !ok {
			continue
		}
		text, _ := files.ReadFile(e.Name())
		out = append(out, Topic{Name: name, Title: title(string(text))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Read returns the markdown of one topic, or an error that lists the topics.
// Lines that are only an HTML comment (markers for the documentation's own
// tests, such as "<!-- not run: needs a GPU -->") are left out: they render
// as nothing on a web page, and so they print as nothing here.
func Read(name string) (string, error) {
	text, err := files.ReadFile(name + ".md")
	if err != nil || strings.ContainsAny(name, "/.") {
		var names []string
		for _, t := range Topics() {
			names = append(names, t.Name)
		}
		return "", fmt.Errorf("no help topic %q; topics: %s", name, strings.Join(names, ", "))
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(string(text), "\n") {
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "<!--") && strings.HasSuffix(t, "-->") {
			continue
		}
		b.WriteString(line)
	}
	return b.String(), nil
}

func title(text string) string {
	for _, line := range strings.Split(text, "\n") {
		if t, ok := strings.CutPrefix(line, "# "); ok {
			return strings.TrimSpace(t)
		}
	}
	return ""
}
