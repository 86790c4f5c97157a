package report

import (
	_ "embed"
)

// EChartsVersion is the version of the npm package echarts whose
// dist/echarts.min.js is vendored in assets/ (see assets/README.md for why
// this version and how to refresh it).
const EChartsVersion = "5.4.3"

// echartsSHA256 is the digest of assets/echarts.min.js; a test checks it so
// that a refresh that forgets to update EChartsVersion is caught.
const echartsSHA256 = "1156429a16a38cb8604dcc6518c19406d4226142d908f8edd2e3531443c54d19"

// echartsJS is inlined into every report, so a report needs no network.
//
//go:embed assets/echarts.min.js
var echartsJS string

// echartsNotice is the Apache NOTICE of the vendored library, repeated in
// the page next to the inlined code.
//
//go:embed assets/NOTICE
var echartsNotice string

// EChartsJS returns the vendored Apache ECharts library (minified), so that
// other pages of the lab (the notebooks' inline charts) inline the very same
// copy the report does.
func EChartsJS() string { return echartsJS }
