package vds_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSpecDomainTags checks that every domain tag the code uses ("vds/v1/…"
// in a non-test Go file) is in the table of SPEC §2.5, and that the table
// names no tag the code does not use.
func TestSpecDomainTags(t *testing.T) {
	spec, err := os.ReadFile("docs/SPEC.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(spec)
	start := strings.Index(text, "### 2.5 ")
	end := strings.Index(text, "\n## 3.")
	if start < 0 || end < start {
		t.Fatal("SPEC.md has no §2.5 before §3")
	}
	row := regexp.MustCompile("(?m)^\\| `(vds/v1/[a-z0-9-]+)` \\|")
	inSpec := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(text[start:end], -1) {
		inSpec[m[1]] = true
	}
	lit := regexp.MustCompile(`"(vds/v1/[a-z0-9-]+)"`)
	inCode := map[string]string{}
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata") && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			inCode[m[1]] = path
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(inCode) < 10 {
		t.Fatalf("found only %d domain tags in the code: the scan is broken", len(inCode))
	}
	for tag, path := range inCode {
		if !inSpec[tag] {
			t.Errorf("%s uses the domain tag %q, which SPEC §2.5 does not list", path, tag)
		}
	}
	for tag := range inSpec {
		if _, ok := inCode[tag]; !ok {
			t.Errorf("SPEC §2.5 lists %q, which no code uses", tag)
		}
	}
}
