package gpu

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// workerScript is the Python worker, embedded so that the lab binary is
// self-contained: it is written to a cache folder on first use.
//
//go:embed worker.py
var workerScript []byte

// ScriptDigest is the hex SHA-256 of the embedded worker script. It is part
// of the engine's identity: a changed worker measures differently, so its
// cells must not be served from the cache of the old one.
func ScriptDigest() string {
	sum := sha256.Sum256(workerScript)
	return hex.EncodeToString(sum[:])
}

// WriteScript writes the embedded worker into dir (created if needed) under
// a name that carries its digest, unless an identical file is already
// there, and returns its path. The write is atomic (temporary file, then
// rename), so concurrent cells sharing dir never see a partial script.
func WriteScript(dir string) (string, error) {
	path := filepath.Join(dir, "gpu-worker-"+ScriptDigest()[:16]+".py")
	if b, err := os.ReadFile(path); err == nil && bytes.Equal(b, workerScript) {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("gpu worker script: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".gpu-worker-*")
	if err != nil {
		return "", fmt.Errorf("gpu worker script: %w", err)
	}
	_, werr := tmp.Write(workerScript)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("gpu worker script: %w", werr)
	}
	return path, nil
}

// scriptDir is where the worker script is written by default: the user's
// cache folder, else the temporary folder.
func scriptDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "schedlab")
	}
	return filepath.Join(os.TempDir(), "schedlab")
}
