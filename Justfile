# schedlab tasks. Every recipe installs what it needs through `setup`, which
# is idempotent: run any of them on a fresh machine.

set shell := ["bash", "-euo", "pipefail", "-c"]

bin := "bin/lab"

# List the recipes.
default:
    @just --list

# Install what builds, tests, reports and notebooks need (idempotent).
setup:
    .ci/setup

# Build the lab command into bin/lab. -trimpath keeps the checkout's path out
# of the binary and so out of Go's cache keys: a second clone (or a moved
# one) reuses the compiled packages instead of rebuilding all of them.
build:
    @[ -x {{bin}} ] || echo "build: compiling {{bin}} for the first time (with its dependencies: about a minute on 2 cores; later builds take seconds)" >&2
    go build -trimpath -o {{bin}} ./lab/cmd/lab

# The main job: the default experiment on the embedded simulator, ending in its selection and report.
run spec="experiments/min-chunk-threshold.yaml" *args="": build
    {{bin}} run {{spec}} {{args}}

# Run every test (CI runs this).
test: setup
    @echo "test: go vet, then go test of every package (a first run compiles everything first: several minutes)" >&2
    go vet ./...
    go test -count=1 -timeout 40m ./...

# Benchmarks: runner overhead, selection on a big tree (and its ratio to the old script), simulator, report.
# The selection benchmark generates a 3.4 GB legacy tree once and keeps it in
# ~/.cache/schedlab/bench (SCHEDLAB_BENCH_CACHE overrides; lab/docs/benchmarks.md).
bench: setup
    @echo "bench: every benchmark of ./lab/...; the big-tree one generates 3.4 GB once into ${SCHEDLAB_BENCH_CACHE:-~/.cache/schedlab/bench} and reuses it (delete the folder to free the space)" >&2
    go test -run '^$' -bench . -benchmem ./lab/...

# Write the report of an experiment (reports/<experiment>/index.html).
report spec="experiments/min-chunk-threshold.yaml": build
    {{bin}} report {{spec}}

# Execute every notebook (or the ones named) headless into reports/notebooks/.
notebooks *nbs="": setup build
    .ci/notebooks {{nbs}}

# Compare the simulator with a real GPU (needs CUDA and PyTorch; fails clearly without): the spec on the gpu and sim engines, sim/GPU per metric.
gpu-check spec="experiments/gpu-check.yaml" *args="":
    go build -trimpath -o bin/gpucheck ./lab/cmd/gpucheck
    bin/gpucheck {{args}} {{spec}}
