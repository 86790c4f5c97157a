// Package gpu is the gpu engine: lab/internal/sim/sched, the scheduler the simulator
// runs, driving real forward passes of a Llama-shaped model in a PyTorch
// worker process.
//
// The worker (worker.py, embedded and written to the user's cache folder at
// run time) speaks a line protocol on stdin/stdout: init loads a model shape
// (llama-3-8b, llama-2-7b or tiny) with seeded random weights or a local
// safetensors checkpoint and allocates a paged KV cache; step frees
// sequences, then runs one forward pass over the batch's prefill chunks and
// decodes and answers the measured time (CUDA events on a GPU,
// perf_counter on a CPU); shutdown ends it. The worker checks the
// scheduler's KV bookkeeping and fails loudly when it is wrong.
//
// The engine builds the cell's workload (lab/internal/sim/workload), runs lab/internal/sim/sched with
// an Executor that sends each Batch to the worker, and advances the clock by
// the measured forward time plus the scheduler's own wall time between
// batches. Its outputs are the simulator's: the Sarathi metric files,
// iterations.csv, and gpu_steps.csv and gpu.json with what was measured.
package gpu
