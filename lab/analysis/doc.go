// Package analysis turns per-request metric files into the choice of a sweep
// value, with exactly the arithmetic of the old select_threshold.py workflow,
// so that users get the same answer, to the last digit, from schedlab as
// from the script they trust:
//
//  1. Summarize: per cell, the P95 of request_execution_time and of
//     prefill_e2e_time and the means of the three normalized metrics.
//  2. Select: per repeat, ratios of every point's summary to that repeat's
//     baseline; per point, the ratios aggregated across the repeats that have
//     it (mean, median, p90 or max); a weighted score; the smallest score wins,
//     ties to the smallest point.
//  3. SecondsPerPrefillToken: the prompt_weight derivation (seconds per
//     prefill token, turned into AGING weights).
//
// "Exactly" is meant literally: means are summed the way numpy sums (pairwise
// within blocks of 8192 values), percentiles interpolate the way numpy's
// default "linear" method does, and no expression is left for the compiler to
// fuse into a multiply-add. The parity tests compare every number with a
// Python reference implementation of the old script (testdata/legacy).
//
// The package is numbers only: it reads metric files and imports no store,
// runner or engine (lab/experiment assembles an experiment's analysis from
// it; lab/legacy reads old trees into its Table). Its text and JSON forms
// lay numbers out through lab/present.
//
// Loading is streaming and parallel: a Table keeps five summary numbers per
// cell, never the request values, so memory does not grow with the number of
// files.
package analysis
