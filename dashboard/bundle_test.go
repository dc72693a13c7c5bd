package dashboard

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestBundleIsReproducible rebuilds assets/app.js from web/src and
// interop/js/src with the esbuild of web/package-lock.json and fails if
// the embedded bundle differs (run `npm ci && npm run build` in
// dashboard/web after changing either).
func TestBundleIsReproducible(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node: the bundle is not rebuilt (scripts/test runs npm ci in dashboard/web)")
	}
	if _, err := os.Stat(filepath.Join("web", "node_modules", "esbuild")); err != nil {
		t.Skip("no dashboard/web/node_modules: run npm ci there (scripts/test does)")
	}
	cmd := exec.Command(node, "build.mjs", "--stdout")
	cmd.Dir = "web"
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	fresh, err := cmd.Output()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, stderr.Bytes())
	}
	embedded, err := Bundle()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, embedded) {
		t.Fatalf("the embedded assets/app.js (%d bytes) is not what web/build.mjs builds (%d bytes): run `npm run build` in dashboard/web", len(embedded), len(fresh))
	}
}
