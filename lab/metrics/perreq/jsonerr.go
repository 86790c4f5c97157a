package perreq

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// DecodeError words a JSON decoding error of data with its line and column
// (encoding/json reports byte offsets), e.g. for Python's bare NaN, which
// json.dump writes for a NaN float and which JSON does not allow.
func DecodeError(data []byte, lineOffset int, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		l, c := lineCol(data, se.Offset)
		return fmt.Errorf("line %d, column %d: %v", l+lineOffset, c, err)
	case errors.As(err, &te):
		l, c := lineCol(data, te.Offset)
		msg := fmt.Sprintf("line %d, column %d: key %q: expected %v, got JSON %s", l+lineOffset, c, strings.TrimPrefix(te.Field, "Columns."), te.Type, te.Value)
		if te.Value == "string" {
			msg += " (a NaN or Infinity, as Python writes them, reads as a string)"
		}
		return errors.New(msg)
	}
	return err
}

func lineCol(data []byte, off int64) (int, int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, col + 1
}

// QuotePythonNonFinite returns data with the bare NaN, Infinity and
// -Infinity tokens that Python's json module writes for non-finite floats
// (outside strings) turned into JSON strings. Aggregates the readers do not
// use (SGLang's mean latency of a run whose requests all failed is NaN) then
// no longer break decoding, while a non-finite value in a field they use
// fails as a string where a number was expected, naming the field.
func QuotePythonNonFinite(data []byte) []byte {
	var out []byte // nil until a token is found
	inStr, esc := false, false
	last := 0
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		if c == '"' {
			inStr = true
			continue
		}
		for _, tok := range []string{"NaN", "Infinity", "-Infinity"} {
			if bytes.HasPrefix(data[i:], []byte(tok)) {
				out = append(out, data[last:i]...)
				out = append(out, '"')
				out = append(out, tok...)
				out = append(out, '"')
				i += len(tok) - 1
				last = i + 1
				break
			}
		}
	}
	if out == nil {
		return data
	}
	return append(out, data[last:]...)
}
