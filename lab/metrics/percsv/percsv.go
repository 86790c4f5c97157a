// Package percsv reads the generic per-request CSV, for engines that have
// neither Sarathi's metric files nor a vLLM or SGLang benchmark: one row per
// request, a header naming the columns.
//
//	request_id,prefill_e2e_time,request_e2e_time,max_time_between_tokens,error
//	0,0.215,3.91,0.081,
//	1,,,,"timeout after 600 s"
//
// request_id is required and unique; every other column is optional and is
// one of Columns (values in seconds, or seconds per token for the
// _normalized ones) or error. An empty value means "not observed for this
// request" (the request has no row in that metric's file); a non-empty error
// marks the request failed (its values are ignored). A metric whose column
// is absent is unavailable for the cell (run_summary.json says so).
package percsv

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/schedlab/schedlab/lab/metrics/perreq"
	"github.com/schedlab/schedlab/lab/metrics/source"
	"github.com/schedlab/schedlab/lab/sarathi"
)

// Column names besides the metrics.
const (
	IDColumn    = "request_id"
	ErrorColumn = "error"
)

// Columns are the metric columns the file may have, sorted.
var Columns = func() []string {
	c := []string{
		sarathi.RequestExecutionTime, sarathi.RequestExecutionTimeNormalized, sarathi.PrefillE2ETime,
		sarathi.PrefillExecPlusPreemptNorm, sarathi.DecodeExecPlusPreemptNorm,
		sarathi.RequestE2ETime, sarathi.RequestSchedulingDelay, sarathi.PrefillExecPlusPreemptTime,
		perreq.MaxTimeBetweenTokens,
	}
	slices.Sort(c)
	return c
}()

// Read reads the one *.csv file directly under outDir.
func Read(outDir string) (*perreq.Result, error) {
	found, err := filepath.Glob(filepath.Join(outDir, "*.csv"))
	if err != nil {
		return nil, err
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no per-request CSV (*.csv) in %s; expected the command to write one into {{.OutputDir}}", outDir)
	case 1:
	default:
		return nil, fmt.Errorf("%d CSV files in %s (%s); expected one per-request CSV", len(found), outDir, strings.Join(found, ", "))
	}
	f, err := os.Open(found[0])
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", found[0], err)
	}
	return res, nil
}

// Parse reads the CSV from r. Errors name the line and column.
func Parse(r io.Reader) (*perreq.Result, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("empty file; expected a header line starting with " + IDColumn)
	}
	if err != nil {
		return nil, err
	}
	idCol, errCol := -1, -1
	metricCol := map[int]string{}
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if seen[h] {
			return nil, fmt.Errorf("line 1: column %q appears twice", h)
		}
		seen[h] = true
		switch {
		case h == IDColumn:
			idCol = i
		case h == ErrorColumn:
			errCol = i
		case slices.Contains(Columns, h):
			metricCol[i] = h
		default:
			return nil, fmt.Errorf("line 1: unknown column %q; expected %s, %s or a metric: %s", h, IDColumn, ErrorColumn, strings.Join(Columns, ", "))
		}
	}
	if idCol < 0 {
		return nil, fmt.Errorf("line 1: no %s column; expected a header such as %s,%s", IDColumn, IDColumn, sarathi.PrefillE2ETime)
	}
	if len(metricCol) == 0 {
		return nil, fmt.Errorf("line 1: no metric column; expected some of: %s", strings.Join(Columns, ", "))
	}
	res := &perreq.Result{Source: source.CSV, Metrics: map[string][]sarathi.Row{}}
	for _, m := range Columns {
		if !seen[m] {
			res.Unavailable = append(res.Unavailable, m)
		}
	}
	ids := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		id := strings.TrimSpace(rec[idCol])
		switch {
		case id == "":
			return nil, fmt.Errorf("line %d: empty %s", line, IDColumn)
		case strings.ContainsAny(id, ",\"\r\n"):
			return nil, fmt.Errorf("line %d: %s %q contains a comma, quote or line break, which the metric files cannot hold", line, IDColumn, id)
		}
		if prev, dup := ids[id]; dup {
			return nil, fmt.Errorf("line %d: %s %q already on line %d", line, IDColumn, id, prev)
		}
		ids[id] = line
		res.Requests++
		if errCol >= 0 && strings.TrimSpace(rec[errCol]) != "" {
			res.Failed++
			if len(res.Errors) < 5 {
				res.Errors = append(res.Errors, fmt.Sprintf("request %s: %s", id, strings.TrimSpace(rec[errCol])))
			}
			continue
		}
		for i, m := range metricCol {
			s := strings.TrimSpace(rec[i])
			if s == "" {
				continue
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				_, col := cr.FieldPos(i)
				return nil, fmt.Errorf("line %d, column %d (%s): %q is not a finite number ≥ 0", line, col, m, s)
			}
			res.Metrics[m] = append(res.Metrics[m], sarathi.Row{RequestID: id, Value: v})
		}
	}
	if res.Requests == 0 {
		return nil, errors.New("no request rows after the header")
	}
	return res, nil
}
