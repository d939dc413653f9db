package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// resolve follows symbolic links, so that rotating a linked key file
// replaces the file and keeps the link.
func resolve(path string) (string, error) {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		if pe, ok := err.(*os.PathError); ok {
			err = pe.Err
		}
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return target, nil
}

// writeAtomic replaces the existing file at path with data: it writes a
// temporary file in the same directory (created with mode 0600, so the
// secret is never readable by others, even briefly), gives it path's
// permission bits and owner, syncs it, renames it over path and syncs the
// directory. Readers see the old file or the new one, never a mix; on any
// error path is untouched and the temporary file is removed.
func writeAtomic(path string, data []byte) (err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("cannot write next to %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(fi.Mode().Perm()); err != nil {
		return err
	}
	if err = copyOwner(f, fi); err != nil {
		return fmt.Errorf("cannot give the new %s the owner of the old one (run as that user or as root): %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	// The rename is done; syncing the directory makes it durable. A
	// failure here does not undo it, so it is not reported as one.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
