package main

import (
	"os"
	"os/exec"
	"syscall"
)

// configureChild puts a sweep's run in its own process group (a Ctrl-C at the
// terminal reaches the sweep alone, which passes one SIGINT on: a second would make
// the run quit without its checkpoint) and has the kernel kill it when the sweep dies
// (kill -9 of the sweep leaves no run behind to race with the next invocation).
func configureChild(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// interruptChild asks a run to stop as Ctrl-C does: finish its step, save, exit 130.
func interruptChild(c *exec.Cmd) error { return c.Process.Signal(os.Interrupt) }
