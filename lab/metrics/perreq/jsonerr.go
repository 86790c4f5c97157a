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
		return fmt.Errorf("line %d, column %d: key %q: expected %v, got JSON %s", l+lineOffset, c, strings.TrimPrefix(te.Field, "Columns."), te.Type, te.Value)
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
