// Package e2e holds end-to-end tests of `lab run` and `lab cell run` with
// the exec engine that need real processes and signals: they build the lab
// binary and the fake engine (lab/cmd/fakeengine) once and check no
// crosstalk between cells, kill -9 and resume, concurrent runs, timeouts,
// failures, --fail-fast, retries, SIGINT and import. The command line's
// contract (statuses, output, store effects) is in lab/cmd/lab's scripts.
package e2e
