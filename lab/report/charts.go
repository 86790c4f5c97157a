package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// The chart builders below take plain numbers (already computed by
// lab/analysis) and return a chart whose option JSON go-echarts built. They
// round every plotted number to plotDigits significant digits: enough to
// read any chart, and it keeps the page small. NaN means "no value here"
// (a point a repeat lacks) and becomes echarts' "-" (a gap).

const plotDigits = 6

// palette starts with echarts' default palette (also go-echarts'), listed so that
// series colours are stable and the same repeat has the same colour in
// every chart.
var palette = []string{
	"#5470c6", "#91cc75", "#fac858", "#ee6666", "#73c0de",
	"#3ba272", "#fc8452", "#9a60b4", "#ea7ccc",
	// Beyond echarts' nine, so that ten or more repeats stay distinct.
	"#8c564b", "#17becf", "#bcbd22", "#7f7f7f", "#1f3a93", "#c49c94",
}

// round rounds v to plotDigits significant digits; NaN and ±Inf become
// nil (JSON null would break echarts; callers map nil to "-").
func round(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', plotDigits, 64), 64)
	return r
}

// cell returns the value for a category-axis series: the rounded number or
// "-" for a gap.
func cell(v float64) any {
	if r := round(v); r != nil {
		return r
	}
	return "-"
}

// rectChart is what the go-echarts rectangular charts share.
type rectChart interface {
	Validate()
	JSON() map[string]any
}

// optionOf turns a go-echarts chart into a plain option map. go-echarts
// marks JavaScript functions with "__f__" strings; the report uses none, and
// this checks that none slipped in, because they would not survive
// encoding/json.
func optionOf(c rectChart) map[string]any {
	c.Validate()
	b, err := json.Marshal(c.JSON())
	if err != nil {
		panic(fmt.Sprintf("report: chart option does not encode: %v", err)) // a bug in a builder
	}
	if bytes.Contains(b, []byte("__f__")) {
		panic("report: chart option holds a JavaScript function") // a bug in a builder
	}
	// Back to plain maps, so the option can be adjusted where go-echarts
	// has no field for a setting.
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(fmt.Sprintf("report: chart option does not decode: %v", err))
	}
	if ys, ok := m["yAxis"].([]any); ok {
		for _, y := range ys {
			if y, ok := y.(map[string]any); ok && y["name"] != nil {
				y["nameTextStyle"] = map[string]any{"align": "left"}
			}
		}
	}
	if zs, ok := m["dataZoom"].([]any); ok {
		for _, z := range zs {
			if z, ok := z.(map[string]any); ok && z["type"] == "slider" {
				// A thin slider at the very bottom, below the axis name.
				z["bottom"], z["height"] = 6, 20
			}
		}
	}
	series, _ := m["series"].([]any)
	for _, s := range series {
		if ml, ok := s.(map[string]any)["markLine"].(map[string]any); ok {
			// echarts rounds a mark line's position to `precision` decimals
			// (default 2), which puts a line at 0.00047 s/token at 0.
			ml["precision"] = 12
		}
	}
	return m
}

// frame is the look every chart shares: a title with a subtitle, a legend
// under it that scrolls when it is long, axis names with units, a tooltip,
// no animation (the page shows final pictures; screenshots are stable).
type frame struct {
	Title, Subtitle string
	XName, YName    string
	// YMin, when set, fixes the y-axis minimum (e.g. 0); otherwise the axis
	// scales to the data.
	YMin any
	// Legend shows the legend (charts with one series need none).
	Legend bool
	// Zoom adds a slider under the x axis (long sweeps).
	Zoom bool
	// ValueX makes the x axis numeric instead of categories; LogX makes
	// that axis logarithmic.
	ValueX, LogX bool
}

func (f frame) globals() []charts.GlobalOpts {
	top := "62"
	if f.Subtitle == "" {
		top = "40"
	}
	g := []charts.GlobalOpts{
		charts.WithTitleOpts(opts.Title{Title: f.Title, Subtitle: f.Subtitle, Left: "center"}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(f.Legend), Type: "scroll", Top: top, Left: "center"}),
		charts.WithAnimation(false),
		charts.WithGridOpts(opts.Grid{Left: "64", Right: "40", Top: gridTop(f), Bottom: gridBottom(f), ContainLabel: opts.Bool(true)}),
	}
	x := opts.XAxis{Name: f.XName, NameLocation: "middle", NameGap: 30}
	if f.ValueX {
		x.Type = "value"
		if f.LogX {
			x.Type = "log"
		}
		x.Scale = opts.Bool(true)
	} else {
		x.Type = "category"
	}
	// The y axis's name sits above the axis, left-aligned (see optionOf):
	// beside the axis it would collide with long tick labels (0.999998).
	y := opts.YAxis{Name: f.YName, NameLocation: "end", NameGap: 14, Type: "value", Scale: opts.Bool(f.YMin == nil)}
	if f.YMin != nil {
		y.Min = f.YMin
	}
	if f.ValueX {
		// The y axis stays on the left: by default it crosses a numeric x
		// axis at x = 0, the right edge of a sweep of negative prompt_weights.
		y.AxisLine = &opts.AxisLine{OnZero: opts.Bool(false)}
	}
	g = append(g, charts.WithXAxisOpts(x), charts.WithYAxisOpts(y))
	if f.Zoom {
		g = append(g, charts.WithDataZoomOpts(
			opts.DataZoom{Type: "slider", XAxisIndex: []int{0}, Start: 0, End: 100},
			opts.DataZoom{Type: "inside", XAxisIndex: []int{0}, Start: 0, End: 100},
		))
	}
	return g
}

func gridTop(f frame) string {
	switch {
	case f.Legend && f.Subtitle != "":
		return "112"
	case f.Legend || f.Subtitle != "":
		return "90"
	}
	return "66"
}

func gridBottom(f frame) string {
	if f.Zoom {
		return "78"
	}
	return "34"
}

// heightFor is the container height of a chart with a frame f.
func heightFor(f frame) int {
	h := 396
	if f.Legend && f.Subtitle != "" {
		h += 20
	}
	if f.Zoom {
		h += 30
	}
	return h
}

// lineSeries is one line over the category axis; NaN is a gap.
type lineSeries struct {
	Name   string
	Y      []float64
	Color  string
	Dashed bool
	Width  float32
	// Marks are labelled points on the line (e.g. each score's minimum).
	Marks []mark
	// HLines are horizontal reference lines (e.g. the baseline at 1.0).
	HLines []hline
	// Symbol "none" hides the points.
	Symbol string
}

type mark struct {
	Label string
	X     any // the category (a string), or the number on a value axis
	Y     float64
}

type hline struct {
	Label string
	Y     float64
}

// lineChart draws series over the category axis labels.
func lineChart(id string, f frame, labels []string, series []lineSeries) *Chart {
	c := charts.NewLine()
	c.SetGlobalOptions(f.globals()...)
	c.SetXAxis(labels)
	for i, s := range series {
		data := make([]opts.LineData, len(s.Y))
		for j, v := range s.Y {
			data[j] = opts.LineData{Value: cell(v)}
		}
		c.AddSeries(s.Name, data, lineOpts(i, s)...)
	}
	return &Chart{ID: id, Title: f.Title, Height: heightFor(f), Option: optionOf(c)}
}

// xyLineChart draws series of (x, y) pairs on a numeric x axis.
func xyLineChart(id string, f frame, xs [][]float64, series []lineSeries) *Chart {
	f.ValueX = true
	c := charts.NewLine()
	c.SetGlobalOptions(f.globals()...)
	for i, s := range series {
		data := make([]opts.LineData, 0, len(s.Y))
		for j, v := range s.Y {
			x := round(xs[i][j])
			y := round(v)
			if x == nil || y == nil {
				continue
			}
			data = append(data, opts.LineData{Value: []any{x, y}})
		}
		c.AddSeries(s.Name, data, lineOpts(i, s)...)
	}
	return &Chart{ID: id, Title: f.Title, Height: heightFor(f), Option: optionOf(c)}
}

func lineOpts(i int, s lineSeries) []charts.SeriesOpts {
	color := s.Color
	if color == "" {
		color = palette[i%len(palette)]
	}
	width := s.Width
	if width == 0 {
		width = 2
	}
	ls := opts.LineStyle{Color: color, Width: width}
	if s.Dashed {
		ls.Type = "dashed"
	}
	o := []charts.SeriesOpts{
		charts.WithLineStyleOpts(ls),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: color}),
		charts.WithLineChartOpts(opts.LineChart{Symbol: s.Symbol, ConnectNulls: opts.Bool(false)}),
	}
	if len(s.Marks) > 0 {
		items := make([]opts.MarkPointNameCoordItem, len(s.Marks))
		for k, m := range s.Marks {
			items[k] = opts.MarkPointNameCoordItem{
				Name:       m.Label,
				Coordinate: []any{m.X, round(m.Y)},
				Value:      m.Label,
				Symbol:     "pin",
				SymbolSize: 46,
				ItemStyle:  &opts.ItemStyle{Color: color},
				Label:      &opts.Label{Show: opts.Bool(true), Formatter: "{b}", FontSize: 10},
			}
		}
		o = append(o, charts.WithMarkPointNameCoordItemOpts(items...))
	}
	if len(s.HLines) > 0 {
		var items []opts.MarkLineNameYAxisItem
		for _, h := range s.HLines {
			items = append(items, opts.MarkLineNameYAxisItem{Name: h.Label, YAxis: round(h.Y)})
		}
		o = append(o, charts.WithMarkLineNameYAxisItemOpts(items...), charts.WithMarkLineStyleOpts(opts.MarkLineStyle{
			Symbol:    []string{"none", "none"},
			Label:     &opts.Label{Show: opts.Bool(true), Formatter: "{b}", Position: "insideEndTop"},
			LineStyle: &opts.LineStyle{Color: "#59636e", Type: "dashed", Width: 1},
		}))
	}
	return o
}

// boxChart draws, per category, a box of the given five numbers (min, Q1,
// median, Q3, max) and the individual values as dots on top, so that a box
// over three repeats is not mistaken for a distribution of many.
func boxChart(id string, f frame, labels []string, boxes [][5]float64, dots [][]float64, dotNames []string) *Chart {
	b := charts.NewBoxPlot()
	b.SetGlobalOptions(f.globals()...)
	b.SetGlobalOptions(charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}))
	b.SetXAxis(labels)
	data := make([]opts.BoxPlotData, len(boxes))
	for i, bx := range boxes {
		if math.IsNaN(bx[0]) {
			data[i] = opts.BoxPlotData{Value: []any{}}
			continue
		}
		data[i] = opts.BoxPlotData{Value: []any{round(bx[0]), round(bx[1]), round(bx[2]), round(bx[3]), round(bx[4])}}
	}
	b.AddSeries("spread over repeats", data,
		charts.WithItemStyleOpts(opts.ItemStyle{Color: "#ddf4ff", BorderColor: "#0969da"}))
	for r, ys := range dots {
		pts := make([]opts.ScatterData, 0, len(ys))
		for i, v := range ys {
			if y := round(v); y != nil {
				pts = append(pts, opts.ScatterData{Value: []any{labels[i], y}, SymbolSize: 7})
			}
		}
		s := charts.NewScatter()
		s.SetXAxis(labels)
		s.AddSeries(dotNames[r], pts, charts.WithItemStyleOpts(opts.ItemStyle{Color: palette[r%len(palette)], Opacity: opts.Float(0.8)}))
		b.Overlap(s)
	}
	return &Chart{ID: id, Title: f.Title, Height: heightFor(f), Option: optionOf(b)}
}

// verdictColors colour the statistics charts by verdict.
var verdictColors = map[string]string{"better": "#1a7f37", "same": "#8c959f", "worse": "#cf222e"}

// ciChart draws, per category, a value with its interval as an error bar
// (a degenerate box: whiskers at the interval's ends) and the value as a
// dot coloured by its verdict; hlines mark references (1, 1 ± margin).
// band, when its label is not empty, shades a horizontal band (the
// practical margin around 1).
func ciChart(id string, f frame, labels []string, value []float64, ci [][2]float64, verdicts []string, hlines []hline, band [2]float64, bandLabel string) *Chart {
	b := charts.NewBoxPlot()
	b.SetGlobalOptions(f.globals()...)
	b.SetGlobalOptions(charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}))
	b.SetXAxis(labels)
	bars := make([]opts.BoxPlotData, len(labels))
	for i := range labels {
		lo, hi, v := round(ci[i][0]), round(ci[i][1]), round(value[i])
		if lo == nil || hi == nil || v == nil {
			bars[i] = opts.BoxPlotData{Value: []any{}}
			continue
		}
		bars[i] = opts.BoxPlotData{Value: []any{lo, v, v, v, hi}}
	}
	bo := []charts.SeriesOpts{charts.WithItemStyleOpts(opts.ItemStyle{Color: "#ffffff", BorderColor: "#57606a"})}
	if len(hlines) > 0 {
		var items []opts.MarkLineNameYAxisItem
		for _, h := range hlines {
			items = append(items, opts.MarkLineNameYAxisItem{Name: h.Label, YAxis: round(h.Y)})
		}
		bo = append(bo, charts.WithMarkLineNameYAxisItemOpts(items...), charts.WithMarkLineStyleOpts(opts.MarkLineStyle{
			Symbol:    []string{"none", "none"},
			Label:     &opts.Label{Show: opts.Bool(true), Formatter: "{b}", Position: "insideEndTop"},
			LineStyle: &opts.LineStyle{Color: "#59636e", Type: "dashed", Width: 1},
		}))
	}
	if bandLabel != "" {
		area := []any{[]any{
			map[string]any{"name": bandLabel, "yAxis": round(band[0])},
			map[string]any{"yAxis": round(band[1])},
		}}
		bo = append(bo, charts.WithSeriesOpts(func(s *charts.SingleSeries) {
			s.MarkAreas = &opts.MarkAreas{Data: area, MarkAreaStyle: opts.MarkAreaStyle{
				ItemStyle: &opts.ItemStyle{Color: "rgba(130, 80, 223, 0.10)"},
				Label:     &opts.Label{Show: opts.Bool(true), Position: "insideBottomLeft", Color: "#8250df"},
			}}
		}))
	}
	b.AddSeries("95% interval", bars, bo...)
	for _, verdict := range []string{"better", "same", "worse"} {
		var pts []opts.ScatterData
		for i, v := range value {
			if verdicts[i] != verdict {
				continue
			}
			if y := round(v); y != nil {
				pts = append(pts, opts.ScatterData{Value: []any{labels[i], y}, SymbolSize: 9})
			}
		}
		s := charts.NewScatter()
		s.SetXAxis(labels)
		s.AddSeries(verdict, pts, charts.WithItemStyleOpts(opts.ItemStyle{Color: verdictColors[verdict]}))
		b.Overlap(s)
	}
	return &Chart{ID: id, Title: f.Title, Height: heightFor(f), Option: optionOf(b)}
}

// barChart draws one bar per category.
func barChart(id string, f frame, labels []string, name string, ys []float64, color string) *Chart {
	c := charts.NewBar()
	c.SetGlobalOptions(f.globals()...)
	c.SetXAxis(labels)
	data := make([]opts.BarData, len(ys))
	for i, v := range ys {
		data[i] = opts.BarData{Value: cell(v)}
	}
	c.AddSeries(name, data, charts.WithItemStyleOpts(opts.ItemStyle{Color: color}))
	return &Chart{ID: id, Title: f.Title, Height: heightFor(f), Option: optionOf(c)}
}
