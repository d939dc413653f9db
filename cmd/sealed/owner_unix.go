//go:build unix

package main

import (
	"os"
	"syscall"
)

// copyOwner gives f the owner and group of the file described by fi, when
// they differ from f's, so that a key file rotated by root stays readable
// by the application that owns it.
func copyOwner(f *os.File, fi os.FileInfo) error {
	want, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	cur, err := f.Stat()
	if err != nil {
		return err
	}
	have, ok := cur.Sys().(*syscall.Stat_t)
	if !ok || (have.Uid == want.Uid && have.Gid == want.Gid) {
		return nil
	}
	return f.Chown(int(want.Uid), int(want.Gid))
}
