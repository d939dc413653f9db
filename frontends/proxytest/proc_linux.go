package proxytest

import (
	"os/exec"
	"syscall"
)

// ownGroup starts the server in a process group of its own (so that
// stopping it reaches the worker processes it forks) and has the kernel kill
// it if the test binary dies without stopping it.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// signalGroup asks the server and its workers to stop (SIGTERM), or kills
// them.
func signalGroup(cmd *exec.Cmd, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	syscall.Kill(-cmd.Process.Pid, sig)
}
