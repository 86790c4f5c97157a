package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"sync"
)

// page is everything the HTML template shows. It is built from the analysis
// results by build (report.go) and holds no logic of its own.
type page struct {
	Title    string
	Subtitle string
	Meta     []metaRow
	SpecYAML string
	SpecPath string
	// EngineConfig is the engine's resolved configuration (JSON).
	EngineConfig string
	Sections     []*section
	Generated    string

	EChartsVersion string
	Notice         string
	EChartsJS      template.JS
	// ChartsJSON is the array of {id, option} objects the init script walks.
	ChartsJSON template.JS
}

type metaRow struct {
	Key, Value string
}

// section is one numbered step of the story (header, raw metrics, …).
type section struct {
	ID     string
	Title  string
	Blocks []block
}

// block is one element of a section: exactly one field is set.
type block struct {
	Text     string   // a paragraph
	Strong   string   // an emphasized paragraph (the headline, a disagreement)
	Items    []string // a bullet list
	Heading  string   // a sub-heading (h3)
	Chart    *Chart
	Pair     []*Chart // charts drawn side by side (a comparison's A and B)
	Table    *table
	Pre      string // preformatted text
	Collapse string // the summary line of a <details> around Pre
}

// table is a plain HTML table; Mark[i] highlights row i (e.g. the choice).
type table struct {
	Caption string
	Header  []string
	Rows    [][]string
	Mark    []bool
	// Num[j] right-aligns column j (numbers).
	Num []bool
}

// Chart is one chart ready to draw: its ECharts option (built by
// go-echarts, as plain maps), its title and the height its container
// needs. The report's sections and the Go notebooks (lab.ChartHTML) draw
// the same Charts from the same builders (figures.go).
type Chart struct {
	ID     string
	Title  string // repeated as the container's aria-label
	Height int    // CSS pixels
	Option map[string]any
}

// Validate and JSON give a Chart the methods of a go-echarts chart, so
// that whatever draws one (lab.ChartHTML) draws the other; the option is
// complete already, Validate has nothing to do.
func (c *Chart) Validate() {}

// JSON returns the chart's ECharts option.
func (c *Chart) JSON() map[string]any { return c.Option }

func (s *section) text(format string, a ...any) {
	s.Blocks = append(s.Blocks, block{Text: fmt.Sprintf(format, a...)})
}

func (s *section) strong(format string, a ...any) {
	s.Blocks = append(s.Blocks, block{Strong: fmt.Sprintf(format, a...)})
}

func (s *section) add(b block) { s.Blocks = append(s.Blocks, b) }

// charts returns the page's charts in page order.
func (p *page) charts() []*Chart {
	var out []*Chart
	for _, s := range p.Sections {
		for _, b := range s.Blocks {
			if b.Chart != nil {
				out = append(out, b.Chart)
			}
			out = append(out, b.Pair...)
		}
	}
	return out
}

// render writes the page. The option JSON is encoded with encoding/json's
// HTML escaping (<, >, & as \u003c…), so no label taken from a spec can end
// the <script> element early.
func (p *page) render(w io.Writer) error {
	type entry struct {
		ID     string         `json:"id"`
		Option map[string]any `json:"option"`
	}
	for _, s := range p.Sections {
		for _, b := range s.Blocks {
			if t := b.Table; t != nil {
				t.Mark = padBools(t.Mark, len(t.Rows))
				t.Num = padBools(t.Num, len(t.Header))
			}
		}
	}
	var entries []entry
	for _, c := range p.charts() {
		entries = append(entries, entry{c.ID, c.Option})
	}
	js, err := json.Marshal(entries)
	if err != nil {
		return fmt.Errorf("report: encoding chart options: %w", err)
	}
	p.ChartsJSON = template.JS(js)
	p.EChartsJS = template.JS(echartsJS)
	p.EChartsVersion = EChartsVersion
	p.Notice = echartsNotice
	var buf bytes.Buffer
	if err := pageTemplate().Execute(&buf, p); err != nil {
		return fmt.Errorf("report: rendering the page: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// pageTemplate is parsed on first use, not when the package loads: every
// lab command links the report, and most never render a page.
var pageTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Parse(pageHTML))
})

// pageHTML is the whole page. It references no URL: styles are inline, the
// library is inlined, there are no images, fonts or links to other hosts.
const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="schedlab">
<title>{{.Title}}</title>
<style>
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: #1f2328; margin: 0; background: #f6f8fa; }
main { max-width: 1180px; margin: 0 auto; padding: 16px 24px 48px; background: #fff; }
h1 { font-size: 26px; margin: 8px 0 2px; }
h2 { font-size: 20px; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 16px; margin: 20px 0 6px; }
.sub { color: #59636e; margin: 0 0 12px; }
ul.toc { margin: 4px 0 0; padding-left: 0; list-style: none; columns: 2; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.mark td { background: #fff8c5; font-weight: 600; }
table.meta th { width: 200px; }
.strong { font-weight: 600; background: #ddf4ff; border-left: 4px solid #0969da; padding: 6px 10px; }
.chart { width: 100%; margin: 8px 0 20px; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.pair .chart { min-width: 0; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; padding: 10px; overflow-x: auto; font-size: 12px; }
details summary { cursor: pointer; font-weight: 600; }
ul.warn li { color: #9a6700; }
footer { margin-top: 40px; color: #59636e; font-size: 12px; }
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
<p class="sub">{{.Subtitle}}</p>
<table class="meta">
{{- range .Meta}}
<tr><th>{{.Key}}</th><td>{{.Value}}</td></tr>
{{- end}}
</table>
{{- if .SpecYAML}}
<details id="spec"><summary>Spec{{if .SpecPath}} ({{.SpecPath}}){{end}}</summary>
<pre>{{.SpecYAML}}</pre>
</details>
{{- end}}
{{- if .EngineConfig}}
<details id="engine"><summary>Engine configuration (resolved)</summary>
<pre>{{.EngineConfig}}</pre>
</details>
{{- end}}
<nav><strong>Contents</strong><ul class="toc">
{{- range .Sections}}
<li><a href="#{{.ID}}">{{.Title}}</a></li>
{{- end}}
</ul></nav>
{{- range .Sections}}
<section id="{{.ID}}">
<h2>{{.Title}}</h2>
{{- range .Blocks}}
{{- if .Text}}
<p>{{.Text}}</p>
{{- else if .Strong}}
<p class="strong">{{.Strong}}</p>
{{- else if .Heading}}
<h3>{{.Heading}}</h3>
{{- else if .Items}}
<ul class="warn">
{{- range .Items}}
<li>{{.}}</li>
{{- end}}
</ul>
{{- else if .Chart}}
<div class="chart" id="{{.Chart.ID}}" role="img" aria-label="{{.Chart.Title}}" style="height:{{.Chart.Height}}px"></div>
{{- else if .Pair}}
<div class="pair">{{range .Pair}}<div class="chart" id="{{.ID}}" role="img" aria-label="{{.Title}}" style="height:{{.Height}}px"></div>{{end}}</div>
{{- else if .Table}}
{{- if .Collapse}}<details><summary>{{.Collapse}}</summary>{{end}}
<table>
{{- if .Table.Caption}}<caption>{{.Table.Caption}}</caption>{{end}}
<tr>{{range .Table.Header}}<th>{{.}}</th>{{end}}</tr>
{{- $t := .Table}}
{{- range $i, $r := .Table.Rows}}
<tr{{if index $t.Mark $i}} class="mark"{{end}}>{{range $j, $c := $r}}<td{{if index $t.Num $j}} class="num"{{end}}>{{$c}}</td>{{end}}</tr>
{{- end}}
</table>
{{- if .Collapse}}</details>{{end}}
{{- else if .Collapse}}
<details><summary>{{.Collapse}}</summary>
<pre>{{.Pre}}</pre>
</details>
{{- else if .Pre}}
<pre>{{.Pre}}</pre>
{{- end}}
{{- end}}
</section>
{{- end}}
<footer>Generated {{.Generated}} by schedlab. Charts drawn with Apache ECharts {{.EChartsVersion}}, inlined below under the Apache License 2.0. {{.Notice}}</footer>
</main>
<script>
{{.EChartsJS}}
</script>
<script>
"use strict";
(function () {
  var charts = {{.ChartsJSON}};
  var instances = [];
  charts.forEach(function (c) {
    var el = document.getElementById(c.id);
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(c.option);
    instances.push(chart);
  });
  window.addEventListener("resize", function () {
    instances.forEach(function (chart) { chart.resize(); });
  });
})();
</script>
</body>
</html>
`

// padBools extends bs with false up to n entries, so the template can
// index it for every row or column.
func padBools(bs []bool, n int) []bool {
	for len(bs) < n {
		bs = append(bs, false)
	}
	return bs
}
