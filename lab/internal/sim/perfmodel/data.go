package perfmodel

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// profiles holds the measured latencies (copied from the project's shared
// gpu-profile folder, with their README) so the binary is self-contained.
//
//go:embed profiles
var profiles embed.FS

// Measurement is one line of a profile: one forward pass of one batch shape.
type Measurement struct {
	GPU   string `json:"gpu"`
	Model string `json:"model"`
	Mode  string `json:"mode"`
	Group string `json:"group"` // decode | prefill | mixed
	// Prefill chunks as [q, c]: q new tokens over c cached.
	Prefill     [][2]int `json:"prefill"`
	DecodeBatch int      `json:"decode_batch"`
	DecodeKV    int      `json:"decode_kv"`
	Tokens      int      `json:"tokens"`
	MsMedian    float64  `json:"ms_median"`
	MsMin       float64  `json:"ms_min"`
	MsMax       float64  `json:"ms_max"`
	Reps        int      `json:"reps"`

	line int // 1-based line in its file
	file string
}

// Name is gpu/model/mode, e.g. "h200/llama-3-8b/graph".
type Name struct{ GPU, Model, Mode string }

func (n Name) String() string { return n.GPU + "/" + n.Model + "/" + n.Mode }

// ParseName parses "gpu/model/mode"; the mode may be left out (graph).
func ParseName(s string) (Name, error) {
	parts := strings.Split(s, "/")
	switch len(parts) {
	case 2:
		return Name{parts[0], parts[1], "graph"}, nil
	case 3:
		return Name{parts[0], parts[1], parts[2]}, nil
	}
	return Name{}, fmt.Errorf("profile %q: expected gpu/model/mode, e.g. h200/llama-3-8b/graph", s)
}

// data is every embedded measurement, parsed once per call of loadAll.
func loadAll() ([]Measurement, error) {
	entries, err := fs.Glob(profiles, "profiles/*-iterations.jsonl")
	if err != nil {
		return nil, err
	}
	sort.Strings(entries)
	var all []Measurement
	for _, path := range entries {
		data, err := profiles.ReadFile(path)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for line := 1; sc.Scan(); line++ {
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			var m Measurement
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, line, err)
			}
			if m.MsMedian <= 0 || m.MsMin <= 0 || m.MsMax < m.MsMin {
				return nil, fmt.Errorf("%s:%d: bad timings (median %g, min %g, max %g)", path, line, m.MsMedian, m.MsMin, m.MsMax)
			}
			m.line, m.file = line, path
			all = append(all, m)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return all, nil
}

// Profiles lists the measured profiles, sorted.
func Profiles() ([]Name, error) {
	all, err := loadAll()
	if err != nil {
		return nil, err
	}
	seen := map[Name]bool{}
	var names []Name
	for _, m := range all {
		n := Name{m.GPU, m.Model, m.Mode}
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	sort.Slice(names, func(i, j int) bool { return names[i].String() < names[j].String() })
	return names, nil
}

// Measurements returns the points of one profile, in file order.
func Measurements(n Name) ([]Measurement, error) {
	all, err := loadAll()
	if err != nil {
		return nil, err
	}
	var out []Measurement
	for _, m := range all {
		if m.GPU == n.GPU && m.Model == n.Model && m.Mode == n.Mode {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		names, _ := Profiles()
		var list []string
		for _, p := range names {
			list = append(list, p.String())
		}
		return nil, fmt.Errorf("no measured profile %s; measured: %s", n, strings.Join(list, ", "))
	}
	return out, nil
}

// Digest is the SHA-256 of every embedded profile file (name and content,
// in name order) and ModelVersion: changing the data or the model's
// structure changes it, and with it the sim engine's cell addresses.
func Digest() (string, error) {
	entries, err := fs.Glob(profiles, "profiles/*")
	if err != nil {
		return "", err
	}
	sort.Strings(entries)
	h := sha256.New()
	fmt.Fprintf(h, "perfmodel %s\n", ModelVersion)
	for _, p := range entries {
		data, err := profiles.ReadFile(p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", p, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Device is a GPU's description from the profile's *-device.json.
type Device struct {
	GPU        string  `json:"gpu"`
	NvidiaSMI  string  `json:"nvidia_smi"`
	BF16TFLOPS float64 `json:"bf16_tflops"`
	CopyTBps   float64 `json:"copy_TBps"`
}

// LoadDevice reads the device file of gpu (h200, h100).
func LoadDevice(gpu string) (Device, error) {
	var d Device
	data, err := profiles.ReadFile("profiles/" + gpu + "-device.json")
	if err != nil {
		return d, fmt.Errorf("no device description for GPU %q", gpu)
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return d, fmt.Errorf("profiles/%s-device.json: %w", gpu, err)
	}
	return d, nil
}
