package spec

import (
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
)

// Limits checked before a spec is parsed, so that a hostile or mistaken
// file (a generated 50 MB list, 200 KB of nested brackets, /dev/zero) is
// refused at once with a message instead of taking gigabytes and minutes
// of the YAML parser. A real spec is a few KB and a few levels deep.
const (
	// MaxSpecBytes is the largest spec file accepted (1 MiB).
	MaxSpecBytes = 1 << 20
	// MaxSpecDepth is the deepest nesting of flow collections ([…], {…})
	// accepted.
	MaxSpecDepth = 64
	// MaxNameBytes bounds the experiment's name: it names the report's
	// folder (reports/<name>/) and an imported spec's file
	// (experiments/<name>.yaml), and a file name holds at most 255 bytes.
	MaxNameBytes = 200
)

// ParseFile reads and parses the spec at path. Only a regular file is read
// (a FIFO or a device would block or never end), and only up to
// MaxSpecBytes.
func ParseFile(path string) (*Spec, error) {
	// O_NONBLOCK: opening a FIFO must not wait for a writer; it changes
	// nothing for a regular file.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &Error{File: path, Msg: fmt.Sprintf("not a regular file (%s); a spec is a YAML file", describeMode(fi.Mode()))}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxSpecBytes+1))
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

func describeMode(m os.FileMode) string {
	switch t := m.Type(); {
	case m.IsDir():
		return "a folder"
	case t&os.ModeNamedPipe != 0:
		return "a named pipe"
	case t&os.ModeSocket != 0:
		return "a socket"
	case t&os.ModeDevice != 0:
		return "a device"
	}
	return m.Type().String()
}

// checkLimits refuses text over MaxSpecBytes or nested deeper than
// MaxSpecDepth. The depth scan counts [ and { outside quoted strings and
// comments; it is a guard, not a parser: text inside a block scalar counts
// too, which only matters past 64 open brackets.
func checkLimits(path string, text []byte) *Error {
	if len(text) > MaxSpecBytes {
		return &Error{File: path, Msg: fmt.Sprintf("the spec is larger than %d bytes (1 MiB); a spec is a short YAML file — generate the sweep with a range {from, to, step} instead of a long list", MaxSpecBytes)}
	}
	depth, line, col := 0, 1, 0
	var quote byte // the open quote, or 0
	var prev byte  // the previous byte that is not a space or tab
	comment, escaped := false, false
	for i, c := range text {
		col++
		switch {
		case c == '\n':
			line, col, comment = line+1, 0, false
			prev = '\n'
			continue
		case comment:
			continue
		case quote != 0:
			switch {
			case escaped:
				escaped = false
			case c == '\\' && quote == '"':
				escaped = true
			case c == quote:
				quote = 0
			}
		case c == '#' && (i == 0 || text[i-1] == ' ' || text[i-1] == '\t' || text[i-1] == '\n'):
			comment = true
		case (c == '"' || c == '\'') && (prev == 0 || strings.IndexByte(":-[{,\n", prev) >= 0):
			// A quote opens a scalar only where a scalar starts; an
			// apostrophe inside plain text (don't) is text.
			quote = c
		case c == '[' || c == '{':
			depth++
			if depth > MaxSpecDepth {
				return &Error{File: path, Line: line, Col: col, Msg: fmt.Sprintf("nested more than %d levels deep; a spec needs a few", MaxSpecDepth)}
			}
		case c == ']' || c == '}':
			if depth > 0 {
				depth--
			}
		}
		if c != ' ' && c != '\t' {
			prev = c
		}
	}
	return nil
}
