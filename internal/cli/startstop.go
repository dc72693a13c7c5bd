package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vdsproject/vds/transport"
)

func (c *common) roleAddr(role string) string {
	switch role {
	case "owner":
		return c.owner
	case "storage":
		return c.firstStorage()
	}
	return c.verifier
}

// spawn starts `vds <role> serve` logging to logFile: detached (its own
// session, outliving this process) for start, or tied to this process (it
// gets SIGTERM if this process dies) for the demo.
func spawn(c *common, role, logFile string, detach bool) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{role, "serve", "-dir", c.dir, "-owner", c.owner, "-storage", c.storage, "-verifier", c.verifier, "-listen", c.roleAddr(role)}
	if c.tlsDir != "" {
		args = append(args, "-tls-dir", c.tlsDir)
	}
	if c.logJSON {
		args = append(args, "-log-json")
	}
	if a := c.metricsAddr[role]; a != "" {
		args = append(args, "-metrics", a)
	}
	if m := c.metricsTLS[role]; m != "" {
		args = append(args, "-metrics-tls", m)
	}
	if role == "owner" && c.signer != "" {
		args = append(args, "-signer", c.signer)
	}
	lf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	if detach {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return cmd, nil
}

// waitHealthy polls a server's health method until it answers.
func waitHealthy(ctx context.Context, c *common, role, service string, timeout time.Duration) error {
	t, err := c.dial(c.roleAddr(role))
	if err != nil {
		return err
	}
	defer t.Close()
	deadline := time.Now().Add(timeout)
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		var h transport.Health
		err = t.Call(cctx, service, "health", &transport.Empty{}, &h)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s did not become healthy: %w", role, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// RunStart is `vds start`: the three servers, in the background.
func RunStart(ctx context.Context, args []string) error {
	c := newCommon("start")
	c.metricsAddr, c.metricsTLS = map[string]string{}, map[string]string{}
	c.fs.StringVar(&c.signer, "signer", env("VDS_SIGNER", ""), "the owner signs with the signer process on unix:PATH (vds signer serve; env VDS_SIGNER)")
	for _, r := range serverRoles {
		c.fs.Func(r.name+"-metrics-tls", "the "+r.name+"'s metrics listener's TLS: none, tls or mtls (see vds "+r.name+" serve -h; env "+r.env+"_METRICS_TLS)", func(v string) error {
			c.metricsTLS[r.name] = v
			return nil
		})
		c.fs.Func(r.name+"-metrics", "serve the "+r.name+"'s Prometheus metrics, /healthz and /readyz on this address, host:port (env "+r.env+"_METRICS; default off)", func(v string) error {
			c.metricsAddr[r.name] = v
			return nil
		})
		if v := os.Getenv(r.env + "_METRICS"); v != "" {
			c.metricsAddr[r.name] = v
		}
	}
	if err := c.parse(args); err != nil {
		return err
	}
	if _, err := os.Stat(c.path(crsFile)); err != nil {
		return fmt.Errorf("no set-up in %s: run vds setup -dir %s first", c.dir, c.dir)
	}
	for _, d := range []string{"logs", "run"} {
		if err := os.MkdirAll(c.path(d), 0o700); err != nil {
			return err
		}
	}
	for _, s := range serverRoles {
		pidFile := c.path(filepath.Join("run", s.name+".pid"))
		if pid, err := readPid(pidFile); err == nil && alive(pid) {
			fmt.Printf("%-8s already running (pid %d)\n", s.name, pid)
			continue
		}
		logFile := c.path(filepath.Join("logs", s.name+".log"))
		cmd, err := spawn(c, s.name, logFile, true)
		if err != nil {
			return err
		}
		pid := cmd.Process.Pid
		if err := os.WriteFile(pidFile, []byte(strconv.Itoa(pid)+"\n"), 0o600); err != nil {
			return err
		}
		_ = cmd.Process.Release()
		if err := waitHealthy(ctx, c, s.name, s.service, 30*time.Second); err != nil {
			return fmt.Errorf("%w (see %s)", err, logFile)
		}
		fmt.Printf("%-8s started (pid %d) on %s, log %s\n", s.name, pid, c.url(c.roleAddr(s.name)), logFile)
		if a := c.metricsAddr[s.name]; a != "" {
			fmt.Printf("%-8s metrics on http://%s/metrics\n", "", a)
		}
	}
	return nil
}

// RunStop is `vds stop`: it stops the servers RunStart started.
func RunStop(ctx context.Context, args []string) error {
	c := newCommon("stop")
	if err := c.parse(args); err != nil {
		return err
	}
	var errs []error
	for i := len(serverRoles) - 1; i >= 0; i-- {
		role := serverRoles[i].name
		pidFile := c.path(filepath.Join("run", role+".pid"))
		pid, err := readPid(pidFile)
		if err != nil {
			continue
		}
		if alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGTERM)
			deadline := time.Now().Add(15 * time.Second)
			for alive(pid) && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if alive(pid) {
				errs = append(errs, fmt.Errorf("%s (pid %d) did not stop", role, pid))
				continue
			}
			fmt.Printf("%-8s stopped (pid %d)\n", role, pid)
		}
		_ = os.Remove(pidFile)
	}
	return errors.Join(errs...)
}

func readPid(file string) (int, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// alive reports whether a process exists (and is not a zombie we reaped).
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err == nil {
		f := strings.Fields(string(b))
		if len(f) > 2 && f[2] == "Z" {
			return false
		}
	}
	return true
}
