//go:build !linux

package cli

import "os"

func isTerminal(f *os.File) bool { return false }

func terminalSize(f *os.File) (width, height int) { return -1, -1 }
