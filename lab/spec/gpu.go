package spec

// GPUConfig configures the gpu engine: the Go scheduler (lab/sched) driving a
// PyTorch worker process (issue 9). Owned by that work; may be extended.
type GPUConfig struct {
	Model      string          `yaml:"model"`                // llama-3-8b | llama-2-7b | tiny
	Device     string          `yaml:"device,omitempty"`     // cuda (default when present) | cpu
	Checkpoint string          `yaml:"checkpoint,omitempty"` // optional local safetensors path
	Python     string          `yaml:"python,omitempty"`     // interpreter, default /usr/bin/python3
	Scheduler  SchedulerConfig `yaml:"scheduler"`
	Workload   WorkloadConfig  `yaml:"workload"`
}
