package analysis

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// UnmarshalJSON implements json.Unmarshaler: the inverse of MarshalJSON
// (a number is a one-parameter point, an array a grid point, null none),
// so summary.json and `lab select --json` read back to the same points.
func (p *PointJSON) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*p = nil
		return nil
	case len(b) > 0 && b[0] == '[':
		var xs []float64
		if err := json.Unmarshal(b, &xs); err != nil {
			return fmt.Errorf("point: %w", err)
		}
		*p = xs
		return nil
	}
	var x float64
	if err := json.Unmarshal(b, &x); err != nil {
		return fmt.Errorf("point: want a number, an array of numbers or null: %w", err)
	}
	*p = PointJSON{x}
	return nil
}
