// Command gpucheck measures how far the simulator is from a real GPU: it
// runs an experiment spec whose engine is gpu (default
// experiments/gpu-check.yaml) on the gpu engine, runs the same spec on the
// sim engine (same scheduler, workload, seeds and KV capacity; the profile
// of the GPU it ran on), and prints per metric and sweep point the sim/GPU
// ratio of the five numbers the selection uses. `just gpu-check` runs it.
//
// It needs a CUDA GPU unless -allow-cpu is given (tests run the tiny shape
// on the CPU with it). The interpreter is the spec's python, else
// $LAB_PYTHON, else the first of python3 (PATH) and /usr/bin/python3 whose
// torch sees CUDA.
//
//	gpucheck [-out DIR] [-repeats N] [-sim-gpu h200|h100] [-sim-model M] [-allow-cpu] [SPEC]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	_ "github.com/schedlab/schedlab/lab/internal/engine/engines" // every engine kind, for spec parsing
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var o options
	flag.StringVar(&o.out, "out", "reports/gpu-check", "folder for the cells' outputs and gpu-check.json / .md")
	flag.StringVar(&o.simGPU, "sim-gpu", "", "the simulator profile's GPU (default: from the device name: h200 or h100)")
	flag.StringVar(&o.simModel, "sim-model", "", "the simulator's model (default: the gpu engine's)")
	flag.IntVar(&o.repeats, "repeats", 0, "run N repeats instead of the spec's (fewer GPU cells, for a short device run)")
	flag.BoolVar(&o.allowCPU, "allow-cpu", false, "run even when the worker is not on a CUDA device (tests)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: gpucheck [-out DIR] [-repeats N] [-sim-gpu h200|h100] [-sim-model M] [-allow-cpu] [SPEC]")
		flag.PrintDefaults()
	}
	flag.Parse()
	o.spec = "experiments/gpu-check.yaml"
	switch flag.NArg() {
	case 0:
	case 1:
		o.spec = flag.Arg(0)
	default:
		flag.Usage()
		os.Exit(2)
	}
	if os.Getenv("LAB_PYTHON") == "" {
		if p := findCUDAPython(); p != "" {
			os.Setenv("LAB_PYTHON", p)
		}
	}
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gpu-check:", err)
		os.Exit(1)
	}
}

// findCUDAPython returns the first candidate interpreter whose torch sees a
// CUDA device, or "".
func findCUDAPython() string {
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		cmd := exec.Command(p, "-c", "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)")
		if cmd.Run() == nil {
			return p
		}
	}
	return ""
}
