package lab

// Helpers for the Go notebooks under notebooks/ (GoNB kernel). A notebook
// cell is compiled as its own small program in a temporary module that
// replaces github.com/schedlab/schedlab with this repository, so these
// helpers only locate the repository and its store and lay out results for
// display; every number comes from the same packages the CLI calls.

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// ModulePath is this module's import path; the notebooks' temporary module
// replaces it with the repository on disk.
const ModulePath = "github.com/schedlab/schedlab"

// RootEnv names the environment variable that points notebooks at the
// repository (.ci/notebooks sets it).
const RootEnv = "SCHEDLAB_ROOT"

// NotebookRoot returns the repository a notebook works in: $SCHEDLAB_ROOT
// when set; else the directory the running program's go.mod replaced this
// module with (a GoNB cell is built against exactly that tree); else the
// nearest directory at or above the working directory whose go.mod declares
// this module. The result is absolute.
func NotebookRoot() (string, error) {
	if r := os.Getenv(RootEnv); r != "" {
		if err := checkModuleRoot(r); err != nil {
			return "", fmt.Errorf("$%s: %w", RootEnv, err)
		}
		return filepath.Abs(r)
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == ModulePath && d.Replace != nil && filepath.IsAbs(d.Replace.Path) {
				if checkModuleRoot(d.Replace.Path) == nil {
					return d.Replace.Path, nil
				}
			}
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if checkModuleRoot(dir) == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	return "", fmt.Errorf("no %s checkout found: set $%s to the repository root (searched upwards from %s)", ModulePath, RootEnv, wd)
}

// checkModuleRoot reports whether dir/go.mod declares this module.
func checkModuleRoot(dir string) error {
	name := filepath.Join(dir, "go.mod")
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if mod, ok := strings.CutPrefix(line, "module "); ok {
			if strings.Trim(strings.TrimSpace(mod), `"`) == ModulePath {
				return nil
			}
			return fmt.Errorf("%s: module %s, expected %s", name, strings.TrimSpace(mod), ModulePath)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return errors.New(name + ": no module line")
}

// NotebookStoreDir is the store a notebook opens: $LAB_STORE when set (as
// for the CLI), else root/.lab — the store `just run` fills when run from
// the repository root, rather than a .lab beside the notebook.
func NotebookStoreDir(root string) string {
	if s := os.Getenv("LAB_STORE"); s != "" {
		return s
	}
	return filepath.Join(root, ".lab")
}
