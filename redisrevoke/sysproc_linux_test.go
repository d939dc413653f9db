package redisrevoke_test

import (
	"os/exec"
	"syscall"
)

// killWithParent has the kernel kill redis-server if the test binary dies
// without stopping it (a panic, a -timeout), so no server outlives a run.
func killWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
