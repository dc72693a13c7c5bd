package e2e

import (
	"os/exec"
	"syscall"
)

// tieToParent makes the kernel send SIGTERM to a child server if this test
// process dies, so that no server outlives a crashed or killed test run.
func tieToParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
