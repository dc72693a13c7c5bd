package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `goos: linux
BenchmarkSetupCRS/scheme=vds/n=16-2 	1	 5000000 ns/op
BenchmarkCommit/scheme=vds/n=16/cols=1-2 	3	 100000 ns/op	16.00 rows
BenchmarkCommit/scheme=merkle/n=16/cols=1-2 	300	 1000 ns/op	16.00 rows
BenchmarkQuery/scheme=vds/n=16/cols=1/query=point-2 	20	 18616457 ns/op	659.0 answer-bytes	1.000 omission-caught	1.000 rows	17130932 server-ns	148129 verifier-state-bytes	1485094 verify-ns
BenchmarkQuery/scheme=ed25519/n=16/cols=1/query=point-2 	20	 10000 ns/op	92.00 answer-bytes	0 omission-caught	1.000 rows	100 server-ns	36.00 verifier-state-bytes	9900 verify-ns
BenchmarkQuery/scheme=ed25519/n=16/cols=1/query=range-100pct-2 	20	 10000 ns/op	900.00 answer-bytes	0 omission-caught	16.00 rows	100 server-ns	36.00 verifier-state-bytes	99000 verify-ns
PASS
`

// TestRun draws the sample: a plot per metric and a table with the
// figures and the omission column.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(in, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(in, dir, "svg"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"answer-bytes-n16-cols1.svg", "verify-time-n16-cols1.svg", "server-time-n16-cols1.svg"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || !strings.Contains(string(b), "<svg") {
			t.Errorf("%s: %v, not an SVG", f, err)
		}
	}
	table, err := os.ReadFile(filepath.Join(dir, "table.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| point | 1 | vds | 659 B | 17.13 ms | 1.49 ms | 145 KiB | yes |", "| point | 1 | ed25519 | 92 B |", "| no |", "| 16 | 1 | vds | 100.0 µs | 100× |", "| 16 | 5.00 ms |"} {
		if !strings.Contains(string(table), want) {
			t.Errorf("table.md lacks %q:\n%s", want, table)
		}
	}
}

// TestParseRejects: a malformed benchmark line and an input without any
// are errors.
func TestParseRejects(t *testing.T) {
	if _, err := parse(strings.NewReader("BenchmarkQuery/scheme=vds/n=16-2 	1	 5 ns/op	7\n")); err == nil {
		t.Error("odd metric fields accepted")
	}
	if _, err := parse(strings.NewReader("BenchmarkQuery/vds-2 	1	 5 ns/op\n")); err == nil {
		t.Error("a name part without = accepted")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(in, []byte("PASS\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(in, dir, "svg"); err == nil {
		t.Error("an input without benchmark lines accepted")
	}
}
