// Package store keeps experiment results as content-addressed cell folders.
//
// A cell is one engine run: one sweep point, one repeat. Its address is the
// hex SHA-256 of the canonical JSON of its Inputs (engine kind, engine
// identity, parameter values, repeat, spec seed), so the same inputs always
// land in the same folder and a rerun finds the work already done.
//
// Layout under the root (default .lab, or $LAB_STORE):
//
//	cells/<hash>/         committed cells: cell.json + the engine's files
//	tmp/<hash>.<suffix>/  cells being written (or left by a crash)
//	locks/cells/<hash>.lock  one lock file per cell (never deleted)
//	locks/                other cross-process locks (engine.Request.LockDir)
//
// Writing a cell is a transaction: Begin takes the cell's exclusive file
// lock (flock(2), so it also excludes other goroutines of the same process
// and works between processes; on a cluster the root must be on a
// filesystem with working flock) and creates a fresh temporary folder on
// the same filesystem; the engine writes there; Commit hashes every file
// into cell.json, fsyncs, and renames the folder into cells/ in one step.
// A crash at any instant therefore leaves either a complete committed cell
// or a temporary folder, which Verify reports as incomplete and CleanTemp
// removes once no process holds its lock.
//
// Failed runs are committed too (status "failed", with the engine's logs):
// the record is evidence. The runner treats a failed record as work still to
// do, and a later success replaces it atomically.
package store
