package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/store"
)

// A cell whose record cannot be read is listed as corrupt, with the file
// and the problem, instead of failing the whole listing; the counts and
// the summary line say so.
func TestStatusCorruptCell(t *testing.T) {
	dir := t.TempDir()
	specPath := filepath.Join(dir, "gc.yaml")
	if err := os.WriteFile(specPath, []byte(gcSpecText), 0o644); err != nil {
		t.Fatal(err)
	}
	storeDir := filepath.Join(dir, "store")
	st, err := store.Open(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	hashes := commitSpecCells(t, st, specPath)
	bad := filepath.Join(st.CellDir(hashes[1]), store.RecordFile)
	if err := os.WriteFile(bad, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runLab(t, "status", specPath, "--store", storeDir)
	if code != 0 || !strings.Contains(out, "5 ok, 0 failed, 0 missing, 0 running, 1 corrupt (lab verify); 0 to run") ||
		!strings.Contains(out, "corrupt") || !strings.Contains(out, bad) {
		t.Errorf("status: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runLab(t, "plan", specPath, "--store", storeDir, "--json")
	var l cellList
	if err := json.Unmarshal([]byte(out), &l); code != 0 || err != nil {
		t.Fatalf("plan --json: exit %d, %v\n%s%s", code, err, out, errOut)
	}
	if l.Counts["corrupt"] != 1 || l.Counts["ok"] != 5 || l.Cells[1].State != "corrupt" || !strings.Contains(l.Cells[1].Reason, bad) {
		t.Errorf("plan --json: counts %v, cell 1 %+v", l.Counts, l.Cells[1])
	}
}
