//go:build !(linux && (amd64 || arm64))

package procfs

import (
	"errors"

	"github.com/syscope/syscope/scap"
)

// Scan reads the state of the machine from root (normally "/proc") into capture metadata.
// It is only implemented for Linux on amd64 and arm64.
func Scan(opts ...Option) (*scap.Metadata, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	return nil, errors.New("procfs: live scan is supported on linux/amd64 and linux/arm64 only")
}
