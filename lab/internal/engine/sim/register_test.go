package sim

import "github.com/schedlab/schedlab/lab/internal/engine"

// This package's tests parse sim specs: register the kind as the
// registration list does (the list itself imports this package).
func init() { engine.Register(Kind) }
