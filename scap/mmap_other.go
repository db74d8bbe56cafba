//go:build !linux

package scap

import "os"

// mmapSource is Linux only; elsewhere files are read.
type mmapSource struct{ bufferSource }

func openMmap(*os.File) *mmapSource { return nil }

func (m *mmapSource) magic() []byte { return nil }

func (m *mmapSource) Close() error { return nil }
