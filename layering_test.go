package vds_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const modulePath = "github.com/vdsproject/vds"

// layers is the layering of docs/ARCHITECTURE.md, lowest first: a package
// may import only packages of a lower layer, or of its own layer under the
// same top-level directory (internal/merkle → internal/hash, storage/bolt →
// storage/internal/rawenc). A directory not listed inherits the layer of
// its nearest listed parent; a package with no layer at all fails the test,
// so a new package is placed on purpose.
var layers = map[string]int{
	"internal/errs":      0,
	"internal/hash":      0,
	"internal/fixedbase": 0,
	"internal/pairing":   0,
	"internal/merkle":    0,
	"internal/devpki":    0,
	"internal/follow":    0,
	"codec":              1,
	"commitment":         2,
	"accumulator":        2,
	"roles":              3,
	"storage":            4,
	"transport":          4,
	"metrics":            5,
	".":                  5, // the vds facade
	"dashboard":          5,
	"internal/cli":       6,
	"internal/worstcase": 6, // test support: builds messages of every service
	"internal/testproc":  6,
	"internal/pgtest":    6,
	"internal/testkit":   6,
	"examples":           6,
	"cmd":                7,
	"bench":              7, // tests only
	"e2e":                7,
	"security":           7,
	"deploy":             7,
}

// layerOf returns the layer of a package directory (slash-separated,
// relative to the module root) and the listed prefix it took it from.
func layerOf(dir string) (int, string, bool) {
	for d := dir; ; d = path.Dir(d) {
		if l, ok := layers[d]; ok {
			return l, d, true
		}
		if d == "." || d == "/" {
			return 0, "", false
		}
	}
}

// topDir is the first element of a package directory.
func topDir(dir string) string {
	top, _, _ := strings.Cut(dir, "/")
	return top
}

// modulePackages returns the module's package directories (relative,
// slash-separated) with the module-internal imports of their non-test
// files.
func modulePackages(t *testing.T) map[string]map[string]bool {
	t.Helper()
	pkgs := map[string]map[string]bool{}
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if p != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(p))
		if pkgs[dir] == nil {
			pkgs[dir] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			ip, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			switch {
			case ip == modulePath:
				pkgs[dir]["."] = true
			case strings.HasPrefix(ip, modulePath+"/"):
				pkgs[dir][strings.TrimPrefix(ip, modulePath+"/")] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// TestLayering keeps the import graph of docs/ARCHITECTURE.md: no package
// imports one above it (internal → codec → commitment/accumulator → roles
// → storage/transport → metrics/facade → cmd).
func TestLayering(t *testing.T) {
	pkgs := modulePackages(t)
	var dirs []string
	for d := range pkgs {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, dir := range dirs {
		l, _, ok := layerOf(dir)
		if !ok {
			t.Errorf("package %s has no layer: add it to layers in layering_test.go and to docs/ARCHITECTURE.md", dir)
			continue
		}
		for imp := range pkgs[dir] {
			il, _, ok := layerOf(imp)
			if !ok {
				t.Errorf("%s imports %s, which has no layer", dir, imp)
				continue
			}
			sameTree := topDir(dir) == topDir(imp) && dir != "." && imp != "."
			if il > l || (il == l && !sameTree) {
				t.Errorf("%s (layer %d) imports %s (layer %d): an import must go to a lower layer (docs/ARCHITECTURE.md)", dir, l, imp, il)
			}
		}
	}
}

// TestLayeringCatchesUpwardImports checks the check: a made-up graph with
// an upward and a sideways import fails it.
func TestLayeringCatchesUpwardImports(t *testing.T) {
	for _, c := range []struct {
		from, to string
		ok       bool
	}{
		{"roles", "commitment", true},
		{"storage/bolt", "storage/internal/rawenc", true},
		{"internal/merkle", "internal/hash", true},
		{"cmd/vds", "internal/cli", true},
		{".", "storage/bolt", true},
		{"roles", "storage/memory", false},   // upward
		{"roles", "transport", false},        // upward
		{"transport", "storage/bolt", false}, // sideways across trees
		{"storage/bolt", "transport", false},
		{"codec", "commitment", false},
		{"commitment", "accumulator", false},
		{"internal/hash", "codec", false},
		{"metrics", ".", false},
	} {
		l, _, _ := layerOf(c.from)
		il, _, _ := layerOf(c.to)
		sameTree := topDir(c.from) == topDir(c.to) && c.from != "." && c.to != "."
		ok := il < l || (il == l && sameTree)
		if ok != c.ok {
			t.Errorf("%s → %s: allowed = %v, want %v", c.from, c.to, ok, c.ok)
		}
	}
}

// TestArchitectureNamesEveryPackage keeps docs/ARCHITECTURE.md's map
// complete: every package directory of the module is named in it.
func TestArchitectureNamesEveryPackage(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("docs", "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	for dir := range modulePackages(t) {
		if dir == "." {
			continue
		}
		name := dir
		if strings.HasPrefix(dir, "examples/") {
			name = "examples/"
		}
		if !strings.Contains(string(doc), "`"+name) {
			t.Errorf("docs/ARCHITECTURE.md does not name package %s (as `%s`)", dir, name)
		}
	}
}
