//go:build !unix

package suite

import (
	"errors"
	"os/exec"
	"time"
)

// ownGroup lets cmd stop within a grace period once cancelled; without
// process groups, what it started may outlive it.
func ownGroup(cmd *exec.Cmd) { cmd.WaitDelay = 30 * time.Second }

// killGroup does nothing without process groups.
func killGroup(*exec.Cmd) {}

// noFile is unknown without RLIMIT_NOFILE.
func noFile() (uint64, error) { return 0, errors.ErrUnsupported }
