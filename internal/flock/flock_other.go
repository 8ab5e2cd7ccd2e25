//go:build !unix

package flock

import "os"

// Works is false: without flock every lock is granted, and callers say what
// that costs them where they use it.
const Works = false

func TryShared(*os.File) (bool, error)    { return true, nil }
func TryExclusive(*os.File) (bool, error) { return true, nil }
func Exclusive(*os.File) error            { return nil }
func Shared(*os.File) error               { return nil }
