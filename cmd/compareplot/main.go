// Command compareplot turns the output of the bench/compare benchmarks
// (go test -bench, as scripts/bench-compare records it) into plots and a
// table: for every size n and column count, answer bytes, verifier time and
// server time against the rows a query selects (log scales, one line per
// scheme), as SVG (or PNG), and table.md with every query, the commit costs and
// vds's CRS set-up.
//
//	go run ./cmd/compareplot -in bench/results/compare-2026-12-07.txt -out bench/results/compare
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

func main() {
	in := flag.String("in", "", "go test -bench output of ./bench/compare (default: standard input)")
	out := flag.String("out", ".", "directory for the plots and table.md")
	format := flag.String("format", "svg", "plot format: svg or png")
	flag.Parse()
	if *format != "svg" && *format != "png" {
		fmt.Fprintln(os.Stderr, "compareplot: -format must be svg or png")
		os.Exit(2)
	}
	if err := run(*in, *out, *format); err != nil {
		fmt.Fprintln(os.Stderr, "compareplot:", err)
		os.Exit(1)
	}
}

func run(in, out, format string) error {
	r := io.Reader(os.Stdin)
	if in != "" {
		f, err := os.Open(in)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	res, err := parse(r)
	if err != nil {
		return err
	}
	if len(res) == 0 {
		return errors.New("no benchmark lines of bench/compare in the input")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	files, err := plots(res, out, format)
	if err != nil {
		return err
	}
	table := filepath.Join(out, "table.md")
	if err := os.WriteFile(table, []byte(markdown(res)), 0o644); err != nil {
		return err
	}
	for _, f := range append(files, table) {
		fmt.Println(f)
	}
	return nil
}

// result is one benchmark line: its name's key=value parts and its metrics
// (unit → value, ns/op included).
type result struct {
	bench  string // Query, Commit, SetupCRS
	keys   map[string]string
	metric map[string]float64
}

func (r result) n() int    { v, _ := strconv.Atoi(r.keys["n"]); return v }
func (r result) cols() int { v, _ := strconv.Atoi(r.keys["cols"]); return v }

var lineRE = regexp.MustCompile(`^Benchmark(\w+)/(\S+?)(-\d+)?\s+(\d+)\s+(.*)$`)

// parse reads the benchmark lines; other lines are ignored.
func parse(r io.Reader) ([]result, error) {
	var out []result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := lineRE.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		res := result{bench: m[1], keys: map[string]string{}, metric: map[string]float64{}}
		for part := range strings.SplitSeq(m[2], "/") {
			k, v, ok := strings.Cut(part, "=")
			if !ok {
				return nil, fmt.Errorf("benchmark %s: %q is not key=value", m[0], part)
			}
			res.keys[k] = v
		}
		f := strings.Fields(m[5])
		if len(f)%2 != 0 {
			return nil, fmt.Errorf("benchmark %s: odd number of metric fields", m[1]+"/"+m[2])
		}
		for i := 0; i < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark %s: metric %q: %w", m[1]+"/"+m[2], f[i], err)
			}
			res.metric[f[i+1]] = v
		}
		out = append(out, res)
	}
	return out, sc.Err()
}

// schemes in table order.
var schemes = []string{"vds", "vds-precomputed", "merkle", "ed25519"}

// queries in table order; the first four are plotted against their rows.
var queries = []string{"point", "range-1pct", "range-10pct", "range-100pct", "window-10pct", "revoked"}

// sizesAndCols returns the (n, cols) pairs of the query results, sorted.
func sizesAndCols(res []result) [][2]int {
	seen := map[[2]int]bool{}
	var out [][2]int
	for _, r := range res {
		k := [2]int{r.n(), r.cols()}
		if r.bench == "Query" && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i][0] != out[j][0] {
			return out[i][0] < out[j][0]
		}
		return out[i][1] < out[j][1]
	})
	return out
}

// find returns the query result for (scheme, n, cols, query).
func find(res []result, scheme string, n, cols int, query string) (result, bool) {
	for _, r := range res {
		if r.bench == "Query" && r.keys["scheme"] == scheme && r.n() == n && r.cols() == cols && r.keys["query"] == query {
			return r, true
		}
	}
	return result{}, false
}

// bytes formats a byte count.
func bytes(v float64) string {
	switch {
	case v >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	case v >= 10*1024:
		return fmt.Sprintf("%.0f KiB", v/1024)
	case v >= 1024:
		return fmt.Sprintf("%.1f KiB", v/1024)
	}
	return fmt.Sprintf("%.0f B", v)
}

// duration formats nanoseconds.
func duration(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.2f s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

// markdown is table.md: per size and column count, every query of every
// scheme; then the commit costs and the CRS set-up.
func markdown(res []result) string {
	var b strings.Builder
	b.WriteString("<!-- generated by cmd/compareplot; do not edit -->\n")
	for _, nc := range sizesAndCols(res) {
		fmt.Fprintf(&b, "\n### n = %d, %d column(s)\n\n", nc[0], nc[1])
		b.WriteString("| query | rows | scheme | answer | server | verifier | verifier holds | omitted row caught |\n|---|---:|---|---:|---:|---:|---:|---|\n")
		for _, q := range queries {
			for _, s := range schemes {
				r, ok := find(res, s, nc[0], nc[1], q)
				if !ok {
					continue
				}
				caught := "no"
				if r.metric["omission-caught"] == 1 {
					caught = "yes"
				}
				fmt.Fprintf(&b, "| %s | %.0f | %s | %s | %s | %s | %s | %s |\n", q, r.metric["rows"], s,
					bytes(r.metric["answer-bytes"]), duration(r.metric["server-ns"]), duration(r.metric["verify-ns"]),
					bytes(r.metric["verifier-state-bytes"]), caught)
			}
		}
	}
	var commits []result
	for _, r := range res {
		if r.bench == "Commit" {
			commits = append(commits, r)
		}
	}
	if len(commits) > 0 {
		b.WriteString("\n### Taking in a batch (commit)\n\n| n | cols | scheme | time | ÷ merkle |\n|---:|---:|---|---:|---:|\n")
		for _, r := range commits {
			ratio := "—"
			for _, m := range commits {
				if m.keys["scheme"] == "merkle" && m.n() == r.n() && m.cols() == r.cols() && m.metric["ns/op"] > 0 {
					ratio = fmt.Sprintf("%.0f×", r.metric["ns/op"]/m.metric["ns/op"])
				}
			}
			fmt.Fprintf(&b, "| %d | %d | %s | %s | %s |\n", r.n(), r.cols(), r.keys["scheme"], duration(r.metric["ns/op"]), ratio)
		}
	}
	first := true
	for _, r := range res {
		if r.bench == "SetupCRS" {
			if first {
				b.WriteString("\n### vds's one-time set-up: a CRS of capacity n\n\n| n | time |\n|---:|---:|\n")
				first = false
			}
			fmt.Fprintf(&b, "| %d | %s |\n", r.n(), duration(r.metric["ns/op"]))
		}
	}
	return b.String()
}
