package treegen

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// CacheDir is where benchmarks keep the trees they generate and reuse
// between runs: $SCHEDLAB_BENCH_CACHE, else schedlab/bench under the
// user's cache folder (~/.cache on Linux). lab/docs/benchmarks.md
// documents it.
func CacheDir() string {
	if d := os.Getenv("SCHEDLAB_BENCH_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "schedlab", "bench")
	}
	return filepath.Join(os.TempDir(), "schedlab-bench")
}

// Cached returns a tree of the given size in CacheDir, generating it on
// first use (a marker file says it is complete: an interrupted generation
// starts over; delete the folder to free the space), and its size in
// bytes. It says on log what it generates or reuses, and where: a
// benchmark's own log shows only with -v.
func Cached(o Options, log io.Writer) (root string, bytes int64, err error) {
	root = filepath.Join(CacheDir(), fmt.Sprintf("bigtree-%dx%dx%d-seed%d", o.Thresholds, o.Repeats, o.Rows, o.Seed))
	marker := filepath.Join(root, ".complete")
	if _, err := os.Stat(marker); err != nil {
		fmt.Fprintf(log, "bench: generating a legacy tree of %d thresholds × %d repeats × 5 CSVs × %d rows (about %.2f GB) into %s; it is kept for later runs (delete it to free the space; SCHEDLAB_BENCH_CACHE moves it)\n",
			o.Thresholds, o.Repeats, o.Rows, float64(o.Thresholds*o.Repeats*o.Rows)*5*34/1e9, root)
		os.RemoveAll(root)
		if err := Generate(root, o); err != nil {
			return "", 0, err
		}
		if err := os.WriteFile(marker, nil, 0o644); err != nil {
			return "", 0, err
		}
	} else {
		fmt.Fprintf(log, "bench: using the generated tree in %s (delete it to free the space)\n", root)
	}
	err = filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				bytes += info.Size()
			}
		}
		return err
	})
	return root, bytes, err
}
