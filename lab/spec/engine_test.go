package spec

// The engines register their schemas from their own packages, which import
// this one; this package's tests register the three built-in configuration
// types the same way, in the same order, so that specs parse here too.
func init() {
	RegisterEngine(EngineSchema{Kind: "sim", New: func() EngineConfig { return new(SimConfig) }})
	RegisterEngine(EngineSchema{Kind: "exec", New: func() EngineConfig { return new(ExecConfig) }})
	RegisterEngine(EngineSchema{Kind: "gpu", New: func() EngineConfig { return new(GPUConfig) }})
}
