package source

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ReadRunSummary reads replicaDir/run_summary.json. A cell without one
// (engines and trees from before the file existed) gives nil and no error.
func ReadRunSummary(replicaDir string) (*RunSummary, error) {
	path := filepath.Join(replicaDir, RunSummaryFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s RunSummary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if s.Source == "" {
		return nil, fmt.Errorf("%s: \"source\" is missing; expected the name of the engine or reader that wrote the cell", path)
	}
	return &s, nil
}

// Marshal is the file's bytes: indented JSON with a final newline, fields in
// a fixed order, so identical facts give identical files.
func (s *RunSummary) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
