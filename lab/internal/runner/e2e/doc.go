// Package e2e holds end-to-end tests of `lab run/plan/status/import/cell`
// with the exec engine: they build the lab binary and the fake engine
// (lab/cmd/fakeengine) once, and drive real processes over real files
// (issue 2's test list: no crosstalk, kill -9 and resume, concurrent runs,
// timeouts, failures, --fail-fast, retries, SIGINT, import).
package e2e
