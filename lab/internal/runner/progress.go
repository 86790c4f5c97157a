package runner

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress reports finished cells: a bar (done/total, failed, ETA) on a
// terminal, otherwise one plain line per cell, which is what a log file or
// CI wants:
//
//	[12/33] ok   min_chunk_threshold=6 repeat=2 3.1s a1b2c3d4
type progress struct {
	w      io.Writer
	names  []string
	total  int
	n      int
	failed int
	bar    *progressbar.ProgressBar
}

func newProgress(o *Options, total, cached, todo int) *progress {
	p := &progress{w: o.Progress, names: o.Spec.ParamNames(), total: todo}
	if p.w == nil {
		return p
	}
	where := fmt.Sprintf("-j %d", o.localJobs())
	if d, ok := o.Executor.(interface{ Describe() string }); ok {
		where = d.Describe() // e.g. a Slurm array's throttle, not -j
	}
	fmt.Fprintf(p.w, "%s: %d cells, %d cached, %d to run (%s)\n", o.Spec.Name, total, cached, todo, where)
	if o.IsTTY && todo > 0 {
		p.bar = progressbar.NewOptions(todo,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription("running"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionFullWidth(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

// finished is called (serialized by the caller) for every cell an executor
// finished.
func (p *progress) finished(o Outcome) {
	if p.w == nil {
		return
	}
	p.n++
	if o.State == StateFailed {
		p.failed++
	}
	if p.bar != nil {
		if o.State == StateFailed {
			// A failure stays on screen above the bar.
			_ = p.bar.Clear()
			fmt.Fprintln(p.w, p.line(o))
		}
		p.bar.Describe(fmt.Sprintf("running (%d failed)", p.failed))
		_ = p.bar.Add(1)
		return
	}
	fmt.Fprintln(p.w, p.line(o))
}

func (p *progress) line(o Outcome) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%d/%d] %-4s %s repeat=%d", p.n, p.total, stateWord(o.State), o.Cell.Point.Key(p.names), o.Cell.Repeat)
	if o.Record != nil {
		fmt.Fprintf(&b, " %s", formatSeconds(o.Record.DurationSeconds))
	}
	if len(o.Hash) >= 8 {
		fmt.Fprintf(&b, " %s", o.Hash[:8])
	}
	if o.Elsewhere {
		b.WriteString(" (run by another process)")
	}
	if o.State == StateFailed && o.Record != nil {
		fmt.Fprintf(&b, ": exit %d: %s", o.Record.ExitCode, o.Record.Reason)
	}
	return b.String()
}

func stateWord(s string) string {
	if s == StateFailed {
		return "FAIL"
	}
	return s
}

func formatSeconds(s float64) string {
	if s < 60 {
		return fmt.Sprintf("%.1fs", s)
	}
	return (time.Duration(s*float64(time.Second)) / time.Second * time.Second).String()
}

func (p *progress) close() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
