package spec

// SimConfig configures the embedded simulator engine (DESIGN §8, §9).
// Owned by the simulator work (issue 4); the fields below are the agreed
// shape and may be extended.
type SimConfig struct {
	Model     string          `yaml:"model"`          // e.g. llama-3-8b
	GPU       string          `yaml:"gpu"`            // h200 | h100
	Mode      string          `yaml:"mode,omitempty"` // graph (default) | eager
	Scheduler SchedulerConfig `yaml:"scheduler"`
	Workload  WorkloadConfig  `yaml:"workload"`
}

// SchedulerConfig is the chunked-prefill scheduler's configuration, shared by
// the sim and gpu engines. Swept parameters with these names override it.
type SchedulerConfig struct {
	ChunkSize            int     `yaml:"chunk_size"`
	MaxNumSeqs           int     `yaml:"max_num_seqs"`
	Policy               string  `yaml:"policy"` // fcfs | spf | srtf | aging
	TimeWeight           float64 `yaml:"time_weight,omitempty"`
	PromptWeight         float64 `yaml:"prompt_weight,omitempty"`
	MinChunkThreshold    int     `yaml:"min_chunk_threshold,omitempty"`
	OrderWaiting         bool    `yaml:"order_waiting,omitempty"`
	GPUMemoryUtilization float64 `yaml:"gpu_memory_utilization,omitempty"`
}

// WorkloadConfig describes the requests of one run.
type WorkloadConfig struct {
	Trace           string   `yaml:"trace,omitempty"` // splitwise_conv | arxiv_summarization | a CSV path
	Lengths         *Lengths `yaml:"lengths,omitempty"`
	Requests        int      `yaml:"requests"`
	MaxTokens       int      `yaml:"max_tokens,omitempty"`
	MaxPromptTokens int      `yaml:"max_prompt_tokens,omitempty"`
	Arrival         Arrival  `yaml:"arrival,omitempty"`
}

// Lengths are synthetic prompt and output lengths.
type Lengths struct {
	Prompt Distribution `yaml:"prompt"`
	Output Distribution `yaml:"output"`
}

// Distribution of a length: fixed, uniform or lognormal.
type Distribution struct {
	Kind  string  `yaml:"kind"` // fixed | uniform | lognormal
	Value int     `yaml:"value,omitempty"`
	Min   int     `yaml:"min,omitempty"`
	Max   int     `yaml:"max,omitempty"`
	Mu    float64 `yaml:"mu,omitempty"`
	Sigma float64 `yaml:"sigma,omitempty"`
}

// Arrival process of the requests.
type Arrival struct {
	Process string  `yaml:"process,omitempty"` // offline (default) | poisson | trace
	QPS     float64 `yaml:"qps,omitempty"`
	Scale   float64 `yaml:"scale,omitempty"` // trace: time scale factor
}
