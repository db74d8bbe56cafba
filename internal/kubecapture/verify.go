package kubecapture

import (
	"errors"
	"fmt"
	"io"

	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/scap"
)

// fileInfo is what reading a capture file back found in it.
type fileInfo struct {
	Events     uint64 // events, container events included
	Containers int    // container events
	FirstTs    uint64 // first and last event time (ns since the epoch), 0 without events
	LastTs     uint64
	Size       int64
}

// verify reads the capture file at path to its end with the project's scap
// reader: a file that does not read to the end is not a capture.
func verify(path string) (fileInfo, error) {
	var fi fileInfo
	r, err := scap.Open(path)
	if err != nil {
		return fi, fmt.Errorf("the capture file does not read as a capture: %w", err)
	}
	defer r.Close()
	var ev scap.Event
	for {
		err := r.Next(&ev)
		if err == io.EOF || errors.Is(err, scap.ErrNoEvents) {
			break
		}
		if err != nil {
			return fi, fmt.Errorf("the capture file is damaged after %d events: %w", fi.Events, err)
		}
		fi.Events++
		switch ev.Type {
		case event.ContainerE, event.ContainerJsonE, event.ContainerJsonV2E:
			fi.Containers++
		default:
			if fi.FirstTs == 0 {
				fi.FirstTs = ev.Ts
			}
			fi.LastTs = ev.Ts
		}
	}
	return fi, nil
}
