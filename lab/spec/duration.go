package spec

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// Durations are written as Go duration strings ("90s", "2h", "1h30m"). A
// bare number is rejected rather than guessed to be seconds or nanoseconds.

// String is the Go form ("2h0m0s"); "" for zero.
func (d Duration) String() string {
	if d.Duration == 0 {
		return ""
	}
	return d.Duration.String()
}

// UnmarshalYAML lets goccy/go-yaml decode a Duration outside Parse.
func (d *Duration) UnmarshalYAML(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		s = string(b)
	}
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalYAML writes the Go duration string.
func (d Duration) MarshalYAML() ([]byte, error) {
	return []byte(strconv.Quote(d.Duration.String())), nil
}

// MarshalJSON writes the Go duration string, so hashes and cell.json read
// "2h0m0s" rather than a count of nanoseconds.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.Duration.String()) }

// UnmarshalJSON reads what MarshalJSON writes.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

func parseDuration(s string) (time.Duration, error) {
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("expected a duration such as \"90s\", \"45m\" or \"2h\", got %q", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("a duration must not be negative, got %q", s)
	}
	return v, nil
}

// decodeDuration is the decoder hook for Duration.
func decodeDuration(d *decoder, n ast.Node, path string, v reflect.Value) {
	if n == nil || n.Type() == ast.NullType {
		v.Set(reflect.Zero(v.Type()))
		return
	}
	sc, ok := n.(ast.ScalarNode)
	s, isStr := "", false
	if ok {
		s, isStr = sc.GetValue().(string)
	}
	if !isStr {
		d.failf(path, d.posOf(n), "%s: expected a duration such as \"90s\", \"45m\" or \"2h\", got %s", fieldName(path), describe(n))
		return
	}
	dur, err := parseDuration(s)
	if err != nil {
		d.failf(path, d.posOf(n), "%s: %v", fieldName(path), err)
		return
	}
	v.Set(reflect.ValueOf(Duration{dur}))
}
