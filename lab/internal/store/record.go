package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Record statuses.
const (
	StatusOK     = "ok"
	StatusFailed = "failed"
)

// RecordFormat is the version of cell.json's schema written by this code.
const RecordFormat = 1

// Record is a committed cell's cell.json.
type Record struct {
	Format          int       `json:"format"`
	Hash            string    `json:"hash"`
	Inputs          Inputs    `json:"inputs"`
	Status          string    `json:"status"` // "ok" | "failed"
	ExitCode        int       `json:"exit_code"`
	Reason          string    `json:"reason,omitempty"`
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	DurationSeconds float64   `json:"duration_seconds"`
	Attempts        int       `json:"attempts"`

	Host               string `json:"host"`
	CUDAVisibleDevices string `json:"cuda_visible_devices,omitempty"`
	GPUName            string `json:"gpu_name,omitempty"`
	GPUDriver          string `json:"gpu_driver,omitempty"`

	LabVersion string `json:"lab_version"`
	LabCommit  string `json:"lab_commit,omitempty"`
	Executor   string `json:"executor,omitempty"` // local | slurm

	// Files maps every file of the cell except cell.json (relative,
	// slash-separated path) to its hex SHA-256 ("symlink:<target>" for a
	// symbolic link). Commit fills it; Verify checks it.
	Files map[string]string `json:"files"`
}

// OK reports whether the cell succeeded.
func (r *Record) OK() bool { return r != nil && r.Status == StatusOK }

func readRecord(path string) (*Record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return decodeRecord(b)
}

// decodeRecord reads cell.json strictly; numbers inside Inputs.Config stay
// json.Number so that HashInputs of the record equals the original hash.
func decodeRecord(b []byte) (*Record, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var r Record
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("invalid %s: %w", RecordFile, err)
	}
	return &r, nil
}

func encodeRecord(r *Record) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
