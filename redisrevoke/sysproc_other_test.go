//go:build !linux

package redisrevoke_test

import "os/exec"

// killWithParent has no portable equivalent outside Linux; TestMain's
// deferred stop covers the normal exit.
func killWithParent(*exec.Cmd) {}
