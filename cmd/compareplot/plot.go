package main

import (
	"fmt"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// plotted are the metrics drawn against the rows a query selects.
var plotted = []struct{ metric, label, file string }{
	{"answer-bytes", "answer (bytes)", "answer-bytes"},
	{"verify-ns", "verifier time (ns)", "verify-time"},
	{"server-ns", "server time (ns)", "server-time"},
}

// plots writes, for every size and column count, one plot per plotted
// metric: a line per scheme over the point and range queries, log-log.
func plots(res []result, out, format string) ([]string, error) {
	var files []string
	for _, nc := range sizesAndCols(res) {
		for _, m := range plotted {
			p := plot.New()
			p.Title.Text = fmt.Sprintf("%s, n = %d, %d column(s)", m.label, nc[0], nc[1])
			p.X.Label.Text = "rows in the query (point, 1%, 10%, 100% range)"
			p.Y.Label.Text = m.label
			p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
			p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
			p.Legend.Top, p.Legend.Left = true, true
			var lines []any
			for _, s := range schemes {
				var xys plotter.XYs
				for _, q := range queries[:4] {
					r, ok := find(res, s, nc[0], nc[1], q)
					if ok && r.metric["rows"] > 0 && r.metric[m.metric] > 0 {
						xys = append(xys, plotter.XY{X: r.metric["rows"], Y: r.metric[m.metric]})
					}
				}
				if len(xys) > 0 {
					lines = append(lines, s, xys)
				}
			}
			if len(lines) == 0 {
				continue
			}
			if err := plotutil.AddLinePoints(p, lines...); err != nil {
				return nil, err
			}
			f := filepath.Join(out, fmt.Sprintf("%s-n%d-cols%d.%s", m.file, nc[0], nc[1], format))
			if err := p.Save(6*vg.Inch, 4*vg.Inch, f); err != nil {
				return nil, err
			}
			files = append(files, f)
		}
	}
	return files, nil
}
