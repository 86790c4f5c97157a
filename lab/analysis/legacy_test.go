package analysis_test

import (
	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/legacy"
)

func init() {
	analysis.LoadLegacy = legacy.LoadTable
	analysis.ErrLegacyEmpty = legacy.ErrEmpty
}
