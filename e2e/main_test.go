package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// vdsBin is the vds command built once by TestMain for every test; buildErr
// says why it could not be built (tests that need it fail with it).
var (
	vdsBin    string
	buildErr  error
	buildTime time.Duration
)

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "vds-e2e-bin-")
	if err != nil {
		buildErr = err
	} else {
		start := time.Now()
		vdsBin, buildErr = buildVDS(tmp)
		buildTime = time.Since(start)
	}
	code := m.Run()
	if tmp != "" {
		os.RemoveAll(tmp)
	}
	os.Exit(code)
}

// goTool finds the go command: on PATH, else in the GOROOT this test was
// built with.
func goTool() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	return "", errors.New("the go tool is neither on PATH nor in GOROOT/bin: cannot build cmd/vds")
}

// buildVDS builds cmd/vds into dir, from the module root, with the race
// detector if this test binary has it.
func buildVDS(dir string) (string, error) {
	goCmd, err := goTool()
	if err != nil {
		return "", err
	}
	out, err := exec.Command(goCmd, "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("go env GOMOD: not inside the vds module")
	}
	root := filepath.Dir(gomod)
	bin := filepath.Join(dir, "vds")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "./cmd/vds")
	cmd := exec.Command(goCmd, args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go %s (in %s): %w\n%s", strings.Join(args, " "), root, err, stderr.String())
	}
	return bin, nil
}

// needVDS returns the built command or fails the test.
func needVDS(t testing.TB) string {
	t.Helper()
	if buildErr != nil {
		t.Fatalf("cmd/vds was not built: %v", buildErr)
	}
	return vdsBin
}
