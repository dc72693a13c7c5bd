//go:build linux

// Package testproc runs the vds command as child processes for tests: it
// builds cmd/vds once per test binary, starts servers with their output
// collected, stops them with SIGTERM (SIGKILL after a grace period), and
// reads a process's peak resident set size.
package testproc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

// Build builds cmd/vds (without the race detector: its memory figures are
// those of the real command) into a temporary directory, once per test
// binary, and returns its path. The directory is left to the OS's
// temporary-file clean-up.
func Build(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() { buildBin, buildErr = build() })
	if buildErr != nil {
		tb.Fatalf("build cmd/vds: %v", buildErr)
	}
	return buildBin
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

func build() (string, error) {
	out, err := exec.Command(goTool(), "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the vds module")
	}
	dir, err := os.MkdirTemp("", "vds-testproc-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "vds")
	cmd := exec.Command(goTool(), "build", "-o", bin, "./cmd/vds")
	cmd.Dir = filepath.Dir(gomod)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%w\n%s", err, stderr.String())
	}
	return bin, nil
}

// Env is the environment of children: this process's without the
// variables that configure vds behind the flags' back.
func Env() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "VDS_"), strings.HasPrefix(name, "DO_"), strings.HasPrefix(name, "SS_"),
			strings.HasPrefix(name, "VERIFIER_"), name == "VECTOR_DIM":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// Run runs a short vds command and returns its combined output and error.
func Run(bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = Env()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Buffer collects a child's output (bounded: it keeps the first MiB).
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := 1<<20 - b.b.Len(); room > 0 {
		b.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// String returns what was collected.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Proc is a child process.
type Proc struct {
	Cmd  *exec.Cmd
	Log  *Buffer
	done chan struct{}
	err  error
}

// Start starts `bin args…`; the process is stopped when the test ends and
// gets SIGTERM if the test process dies.
func Start(tb testing.TB, bin string, args ...string) *Proc {
	tb.Helper()
	return StartEnv(tb, nil, bin, args...)
}

// StartEnv is Start with env (NAME=value) added to the environment of Env.
func StartEnv(tb testing.TB, env []string, bin string, args ...string) *Proc {
	tb.Helper()
	p := &Proc{Log: &Buffer{}, done: make(chan struct{})}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(Env(), env...)
	cmd.Stdout, cmd.Stderr = p.Log, p.Log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", strings.Join(args, " "), err)
	}
	p.Cmd = cmd
	go func() { p.err = cmd.Wait(); close(p.done) }()
	tb.Cleanup(func() {
		p.Stop()
		if tb.Failed() {
			tb.Logf("---- vds %s ----\n%s", strings.Join(args, " "), p.Log.String())
		}
	})
	return p
}

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits up to d for the process to exit and returns its error
// (ErrRunning if it is still running).
func (p *Proc) Wait(d time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		return ErrRunning
	}
}

// ErrRunning is Wait's error for a process that did not exit in time.
var ErrRunning = errors.New("testproc: still running")

// Stop sends SIGTERM, and SIGKILL after 10 s; it returns the exit error.
func (p *Proc) Stop() error {
	if p.Exited() {
		return p.err
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	if err := p.Wait(10 * time.Second); !errors.Is(err, ErrRunning) {
		return err
	}
	_ = p.Cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("testproc: killed after 10 s")
}

// Kill kills the process with SIGKILL (no clean-up of its own: a crash)
// and waits for it to exit.
func (p *Proc) Kill() {
	if p.Exited() {
		return
	}
	_ = p.Cmd.Process.Kill()
	<-p.done
}

// PeakRSS returns the peak resident set size of the process in bytes
// (VmHWM of /proc/PID/status; Linux only).
func (p *Proc) PeakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) != 2 || f[1] != "kB" {
				break
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("testproc: no VmHWM in /proc status")
}
