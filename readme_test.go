package vds_test

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeSnippet keeps the README's code identical to the body of
// Example (which the example test compiles and runs).
func TestReadmeSnippet(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "```go\n")
	if !ok {
		t.Fatal("README has no go block")
	}
	block, _, _ := strings.Cut(after, "```")
	_, body, _ := strings.Cut(string(ex), "// README:begin\n")
	body, _, _ = strings.Cut(body, "\t// README:end")
	if normalize(block) != normalize(body) {
		t.Errorf("README snippet and Example differ.\nREADME:\n%s\nExample:\n%s", normalize(block), normalize(body))
	}
}

// normalize drops indentation, blank lines, the import line and must(err)
// calls (the README shows errors as err without the handling).
func normalize(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l == "must(err)" || strings.HasPrefix(l, "import ") {
			continue
		}
		out = append(out, strings.Join(strings.Fields(l), " "))
	}
	return strings.Join(out, "\n")
}
