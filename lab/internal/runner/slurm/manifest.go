package slurm

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// ManifestFormat is the version of manifest.json's schema.
const ManifestFormat = 1

// Dir is the store subfolder that holds the Slurm runs.
const Dir = "slurm"

// Manifest is a run's manifest.json: what it submitted and which cell each
// array task runs. It is rewritten (atomically) after every submission.
type Manifest struct {
	Format         int       `json:"format"`
	Run            string    `json:"run"`
	Experiment     string    `json:"experiment"`
	ExperimentHash string    `json:"experiment_hash"`
	Spec           string    `json:"spec"`
	Store          string    `json:"store"`
	Lab            string    `json:"lab"`
	Created        time.Time `json:"created"`
	// Detached is true when no controller watches the run: tasks retry
	// in place (lab cell run --retries) instead of being resubmitted.
	Detached bool `json:"detached"`
	// Sbatch are the options every array was submitted with.
	Sbatch []string `json:"sbatch"`
	Arrays []Array  `json:"arrays"`
}

// Array is one job array of a run.
type Array struct {
	// N numbers the arrays of a run from 1; its script is array-<N>.sh.
	N int `json:"n"`
	// JobID is Slurm's array job id ("" until sbatch has answered).
	JobID string `json:"job_id"`
	// Round is 1 for the first submission of a cell, k+1 for its k-th
	// resubmission after a failure.
	Round     int       `json:"round"`
	Submitted time.Time `json:"submitted"`
	Tasks     []Task    `json:"tasks"`
}

// Task is one array task: SLURM_ARRAY_TASK_ID Task runs cell Cell.
type Task struct {
	Task   int                `json:"task"`
	Cell   string             `json:"cell"`
	Params map[string]float64 `json:"params"`
	Repeat int                `json:"repeat"`
}

// ExitRecord is exit/<job>_<task>.json, written by the batch script once
// `lab cell run` has exited.
type ExitRecord struct {
	JobID              string    `json:"job_id"`
	Task               int       `json:"task"`
	Cell               string    `json:"cell"`
	ExitCode           int       `json:"exit_code"`
	Host               string    `json:"host"`
	CUDAVisibleDevices string    `json:"cuda_visible_devices"`
	End                time.Time `json:"end"`
}

// newRunID names a run by its UTC start time, then random digits so that
// two controllers started in the same second differ.
func newRunID(now time.Time) (string, error) {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:]), nil
}

func (m *Manifest) write(dir string) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, "manifest.json"), buf.Bytes(), 0o644)
}

// writeAtomic writes through a temporary file and a rename, so a reader
// (lab status, a task) never sees half a file.
func writeAtomic(path string, b []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return err
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ReadManifest reads a run folder's manifest.json strictly.
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, "manifest.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if m.Format != ManifestFormat {
		return nil, fmt.Errorf("%s: format %d; this lab reads format %d", path, m.Format, ManifestFormat)
	}
	return &m, nil
}

// readExitRecords reads every exit record of a run folder, keyed by task.
// A file that does not parse is an error naming it: the script writes
// them through a rename, so a torn file means something else wrote there.
func readExitRecords(dir string) (map[taskKey]*ExitRecord, error) {
	out := map[taskKey]*ExitRecord{}
	ents, err := os.ReadDir(filepath.Join(dir, "exit"))
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue // the script's .tmp files
		}
		path := filepath.Join(dir, "exit", e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var r ExitRecord
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("exit record %s: %w", path, err)
		}
		out[taskKey{r.JobID, r.Task}] = &r
	}
	return out, nil
}

// Runs lists the run folders of a store (<store>/slurm/*/manifest.json),
// oldest first.
func Runs(storeRoot string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(storeRoot, Dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		dir := filepath.Join(storeRoot, Dir, e.Name())
		if _, err := os.Stat(filepath.Join(dir, "manifest.json")); e.IsDir() && err == nil {
			out = append(out, dir)
		}
	}
	sort.Strings(out) // run ids start with their UTC time
	return out, nil
}
