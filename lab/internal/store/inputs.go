package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Inputs are everything that determines a cell's result, and nothing else:
// never timestamps, paths that do not matter or outputs.
type Inputs struct {
	Engine string             `json:"engine"` // "sim" | "exec" | "gpu"
	Config any                `json:"config"` // engine.Identity()
	Params map[string]float64 `json:"params"`
	Repeat int                `json:"repeat"`
	Seed   int64              `json:"seed"` // spec seed (the cell seed is derived from it)
}

// HashInputs is the cell's address: the hex SHA-256 of the canonical JSON
// of in (see Canonical).
func HashInputs(in Inputs) (string, error) {
	b, err := Canonical(in)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Canonical encodes v as canonical JSON: object keys sorted, no
// insignificant space, no HTML escaping, numbers in their shortest
// round-trip form. v is first encoded with encoding/json (so struct tags
// and MarshalJSON apply) and then normalised through a generic decode, so
// that a struct and the same data read back from cell.json encode to the
// same bytes. NaN and infinities are rejected.
func Canonical(v any) ([]byte, error) {
	if in, ok := v.(Inputs); ok {
		for k, p := range in.Params {
			if math.IsNaN(p) || math.IsInf(p, 0) {
				return nil, fmt.Errorf("store: parameter %s is %v; inputs must be finite", k, p)
			}
		}
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("store: encoding inputs: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("store: normalising inputs: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(normNumbers(generic)); err != nil {
		return nil, fmt.Errorf("store: encoding inputs: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// normNumbers rewrites every json.Number into the shortest form of its
// value, so 1.0, 1 and 1e0 (the same float) hash alike, while integers too
// large for a float64 keep their exact digits.
func normNumbers(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normNumbers(e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = normNumbers(e)
		}
		return t
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return json.Number(strconv.FormatInt(i, 10)) // exact; "-0" → "0"
		}
		if f, err := t.Float64(); err == nil {
			if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				return json.Number(fmt.Sprintf("%d", int64(f)))
			}
			b, _ := json.Marshal(f)
			return json.Number(b)
		}
		return t
	}
	return v
}
