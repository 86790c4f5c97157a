package gpu

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/gofrs/flock"
)

// A GPU runs one cell at a time: two workers would each size their KV
// cache from the same free memory, and their timings would mix. Run holds
// a lock per device while its worker lives. The lock is host-local (a file
// in the temporary folder, not the store's lock folder, which a cluster
// shares between hosts whose "GPU 0" are different devices), so it also
// serializes cells of different `lab run` processes and stores on one
// machine. flock(2) locks belong to the open file, so two Runs in one
// process exclude each other too.

var unsafeKey = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// lockDevice takes the lock of device key (the cell's
// CUDA_VISIBLE_DEVICES, or "default") in dir, waiting while another cell
// holds it (said once on log), until ctx is done.
func lockDevice(ctx context.Context, dir, key string, log io.Writer, queue func() (done func())) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("gpu engine: device lock: %w", err)
	}
	path := filepath.Join(dir, "schedlab-gpu-"+unsafeKey.ReplaceAllString(key, "_")+".lock")
	fl := flock.New(path)
	ok, err := fl.TryLock()
	if err != nil {
		return nil, fmt.Errorf("gpu engine: device lock %s: %w", path, err)
	}
	if !ok {
		fmt.Fprintf(log, "gpu engine: waiting for GPU %s: another cell holds %s\n", key, path)
		queued := func() {}
		if queue != nil {
			queued = queue() // waiting for the device is not running: the cell's timeout pauses
		}
		ok, err = fl.TryLockContext(ctx, 100*time.Millisecond)
		queued()
		if err != nil || !ok {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("gpu engine: device lock %s: %v", path, err)
		}
	}
	return func() { fl.Unlock() }, nil
}
