package gpu

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestLockDevice: a second cell on the same GPU waits for the first (and
// says so), another GPU does not wait, and cancellation ends the wait.
func TestLockDevice(t *testing.T) {
	dir := t.TempDir()
	var log strings.Builder
	unlock, err := lockDevice(t.Context(), dir, "0", &log, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := lockDevice(t.Context(), dir, "1", &log, nil)
	if err != nil {
		t.Fatal(err)
	}
	other()

	got := make(chan error, 1)
	go func() {
		u, err := lockDevice(t.Context(), dir, "0", &strings.Builder{}, nil)
		if err == nil {
			u()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("the second lock of GPU 0 returned %v while the first is held", err)
	case <-time.After(300 * time.Millisecond):
	}
	unlock()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second lock was not granted after the first was released")
	}

	unlock, err = lockDevice(t.Context(), dir, "0,1", &log, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	var wlog strings.Builder
	if _, err := lockDevice(ctx, dir, "0,1", &wlog, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting past the deadline: %v", err)
	}
	if !strings.Contains(wlog.String(), "waiting for GPU 0,1") || !strings.Contains(wlog.String(), "schedlab-gpu-0_1.lock") {
		t.Errorf("log %q", wlog.String())
	}
}
