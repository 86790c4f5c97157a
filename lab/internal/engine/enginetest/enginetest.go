// Package enginetest is the conformance suite every engine kind passes: the
// contract of engine.Engine checked from outside, through the registry, the
// way the runner uses an engine.
package enginetest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/schedlab/schedlab/lab/internal/engine"
	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

// Case describes one engine kind under test by spec texts. The kind must be
// registered (engine.Register) in the test binary.
type Case struct {
	// Spec is a spec whose first cell succeeds.
	Spec string
	// Changed is Spec with a change to the engine block that changes
	// results: its engine's identity must differ.
	Changed string
	// Failing is a spec whose first cell fails; its error must contain
	// Reason.
	Failing, Reason string
	// Slow, optional, is a spec whose first cell runs for a second or more,
	// so that cancellation is checked midway; without it, with a context
	// cancelled before Run.
	Slow string
	// Cancel bounds how long Run may take to return once cancelled
	// (default 10 s).
	Cancel time.Duration
}

// Run checks c's engine: it writes the metric layout, its identity is
// stable (same config, same identity; a changed config, another one), it
// honours cancellation and it reports failures with a reason.
func Run(t *testing.T, c Case) {
	t.Helper()
	t.Run("MetricLayout", func(t *testing.T) {
		e, s := build(t, c.Spec)
		dir := t.TempDir()
		var stdout, stderr bytes.Buffer
		if err := e.Run(t.Context(), engine.Request{Cell: s.Cells()[0], Dir: dir, Stdout: &stdout, Stderr: &stderr}); err != nil {
			t.Fatalf("first cell: %v\nstderr:\n%s", err, stderr.String())
		}
		if err := sarathi.Check(filepath.Join(dir, sarathi.PlotsDir)); err != nil {
			t.Errorf("metric layout: %v", err)
		}
	})
	t.Run("Identity", func(t *testing.T) {
		// One folder: an engine may resolve paths against the spec's.
		dir := t.TempDir()
		e1, s := buildIn(t, dir, "a.yaml", c.Spec)
		e2, _ := buildIn(t, dir, "a.yaml", c.Spec)
		if e1.Kind() != s.Engine.Kind() {
			t.Errorf("Kind() = %q, the spec's engine is %q", e1.Kind(), s.Engine.Kind())
		}
		id1, id2 := identity(t, e1), identity(t, e2)
		if id1 != id2 {
			t.Errorf("same config, different identities:\n%s\n%s", id1, id2)
		}
		e3, _ := buildIn(t, dir, "b.yaml", c.Changed)
		if id3 := identity(t, e3); id3 == id1 {
			t.Errorf("changed config, same identity:\n%s", id1)
		}
	})
	t.Run("Cancellation", func(t *testing.T) {
		text := c.Slow
		if text == "" {
			text = c.Spec
		}
		e, s := build(t, text)
		ctx, cancel := context.WithCancel(t.Context())
		if c.Slow == "" {
			cancel()
		} else {
			time.AfterFunc(300*time.Millisecond, cancel)
		}
		defer cancel()
		limit := c.Cancel
		if limit == 0 {
			limit = 10 * time.Second
		}
		done := make(chan error, 1)
		start := time.Now()
		go func() {
			done <- e.Run(ctx, engine.Request{Cell: s.Cells()[0], Dir: t.TempDir(), Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}})
		}()
		select {
		case err := <-done:
			if err == nil {
				t.Error("a cancelled run reported success")
			}
		case <-time.After(limit + 300*time.Millisecond):
			t.Fatalf("Run did not return within %v of the cancellation (started %v ago)", limit, time.Since(start))
		}
	})
	t.Run("FailureReason", func(t *testing.T) {
		e, s := build(t, c.Failing)
		err := e.Run(t.Context(), engine.Request{Cell: s.Cells()[0], Dir: t.TempDir(), Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}})
		switch {
		case err == nil:
			t.Fatal("the failing cell succeeded")
		case strings.TrimSpace(err.Error()) == "":
			t.Error("failure without a reason")
		case !strings.Contains(err.Error(), c.Reason):
			t.Errorf("failure %q does not say %q", err, c.Reason)
		}
	})
}

// build parses text from a file in a fresh folder (relative paths in the
// spec resolve there) and builds its engine through the registry.
func build(t *testing.T, text string) (engine.Engine, *spec.Spec) {
	t.Helper()
	return buildIn(t, t.TempDir(), "conformance.yaml", text)
}

func buildIn(t *testing.T, dir, name, text string) (engine.Engine, *spec.Spec) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := spec.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(s)
	if err != nil {
		t.Fatal(err)
	}
	return e, s
}

func identity(t *testing.T, e engine.Engine) string {
	t.Helper()
	b, err := json.Marshal(e.Identity())
	if err != nil {
		t.Fatalf("identity is not JSON-encodable: %v", err)
	}
	return string(b)
}
