package store

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"time"
)

// GPU is one device as nvidia-smi lists it.
type GPU struct {
	Index  string `json:"index"`
	UUID   string `json:"uuid"`
	Name   string `json:"name"`
	Driver string `json:"driver"`
}

// HostInfo describes the machine a cell runs on, for its record.
type HostInfo struct {
	Hostname           string
	CUDAVisibleDevices string // of this process ("" when unset)
	GPUs               []GPU  // every GPU nvidia-smi lists (none without it)
	// GPUName and GPUDriver describe the GPUs CUDAVisibleDevices selects
	// (all GPUs when it is unset): distinct names joined by ", ".
	GPUName, GPUDriver string
}

// nvidiaSMITimeout bounds the nvidia-smi query: a wedged driver must not
// stall a run.
const nvidiaSMITimeout = 10 * time.Second

// CollectHost gathers the hostname, CUDA_VISIBLE_DEVICES and, when
// nvidia-smi is on PATH, the GPUs with their driver version. Failures leave
// fields empty: host information is provenance, never a reason to fail.
func CollectHost(ctx context.Context) HostInfo {
	return collectHost(ctx, nvidiaSMITimeout)
}

func collectHost(ctx context.Context, timeout time.Duration) HostInfo {
	h := HostInfo{CUDAVisibleDevices: os.Getenv("CUDA_VISIBLE_DEVICES")}
	h.Hostname, _ = os.Hostname()
	if path, err := exec.LookPath("nvidia-smi"); err == nil {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, path,
			"--query-gpu=index,uuid,name,driver_version", "--format=csv,noheader")
		// Killed at the timeout; and do not wait for children that
		// inherited its stdout.
		cmd.WaitDelay = time.Second
		if out, err := cmd.Output(); err == nil {
			h.GPUs = parseNvidiaSMI(string(out))
		}
	}
	return h.WithDevices(h.CUDAVisibleDevices)
}

// parseNvidiaSMI reads `nvidia-smi --query-gpu=index,uuid,name,driver_version
// --format=csv,noheader` output.
func parseNvidiaSMI(out string) []GPU {
	var gpus []GPU
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, ",")
		if len(f) != 4 {
			continue
		}
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		gpus = append(gpus, GPU{Index: f[0], UUID: f[1], Name: f[2], Driver: f[3]})
	}
	return gpus
}

// WithDevices returns h describing the devices a cell was given: visible
// is its CUDA_VISIBLE_DEVICES (indexes or UUIDs, comma-separated; "" means
// all GPUs). GPUName and GPUDriver list the distinct values of those GPUs.
func (h HostInfo) WithDevices(visible string) HostInfo {
	h.CUDAVisibleDevices = visible
	var sel []GPU
	if strings.TrimSpace(visible) == "" {
		sel = h.GPUs
	} else {
		for _, id := range strings.Split(visible, ",") {
			id = strings.TrimSpace(id)
			for _, g := range h.GPUs {
				if id != "" && (g.Index == id || g.UUID == id || strings.HasPrefix(g.UUID, id) && strings.HasPrefix(id, "GPU-")) {
					sel = append(sel, g)
					break
				}
			}
		}
	}
	h.GPUName, h.GPUDriver = joinDistinct(sel, func(g GPU) string { return g.Name }), joinDistinct(sel, func(g GPU) string { return g.Driver })
	return h
}

func joinDistinct(gs []GPU, f func(GPU) string) string {
	var out []string
	seen := map[string]bool{}
	for _, g := range gs {
		if v := f(g); v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return strings.Join(out, ", ")
}

// Fill copies the host information into a record.
func (h HostInfo) Fill(r *Record) {
	r.Host = h.Hostname
	r.CUDAVisibleDevices = h.CUDAVisibleDevices
	r.GPUName = h.GPUName
	r.GPUDriver = h.GPUDriver
}
