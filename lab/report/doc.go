// Package report writes an experiment's report: one self-contained HTML
// page (reports/<experiment>/index.html) that walks through every step of
// the selection — raw per-cell metrics, normalization by the baseline,
// aggregation across repeats, scores per weight preset, the choice, the
// statistics when present and the prompt_weight derivation — plus
// summary.json and summary.csv beside it for machines.
//
// The page works offline: the Apache ECharts library (vendored from the npm
// package, see assets/README.md) is inlined into a <script> element and the
// charts are described by option JSON built with go-echarts. go-echarts'
// own page renderer is not used because it loads the library from a CDN
// host; the report renders the option JSON into its own template instead.
// The charts of the selection steps come from exported builders
// (NormalizationChart, AggregationChart, ScoreChart, PromptWeightChart)
// that the Go notebooks display too (notebook.ChartHTML), so a notebook draws
// each step exactly as the report does.
//
// The report computes nothing itself: its Input is an experiment's
// analysis (experiment.Experiment.ReportInput), every number computed by
// lab/analysis. It only lays the numbers out (formatted by lab/present, as
// the lab command and the notebooks format them), rounds them for
// plotting (six significant digits; summary.json keeps full precision) and
// downsamples large distributions to a fixed number of quantiles so that
// the page stays small (well under 3 MB for 101 sweep points × 10 repeats).
//
// Output is deterministic: the same inputs give byte-identical files. The
// only time in the page is the "generated" date, which callers set (tests
// fix it).
package report
