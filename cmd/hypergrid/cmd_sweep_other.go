//go:build !linux

package main

import "os/exec"

// configureChild leaves a sweep's run in the sweep's process group: a Ctrl-C at the
// terminal reaches the runs directly (each saves its checkpoint and exits). Without
// Linux's parent-death signal, a run outlives a sweep killed with kill -9; the
// checkpoint's directory lock keeps a second invocation from corrupting it.
func configureChild(*exec.Cmd) {}

// interruptChild does nothing: the terminal's Ctrl-C reached the run already, and a
// second signal would make it quit without its checkpoint.
func interruptChild(*exec.Cmd) error { return nil }
