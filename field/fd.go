package field

import (
	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/state"
)

// File descriptor fields (fd.*, fdlist.*).
func init() {
	register("fd.num", event.PTInt64, "number of the file descriptor", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		if e.Thread == nil || e.FD == nil {
			return d, false
		}
		return appendI(d, e.Thread.LastEventFD), true
	})
	register("fd.name", event.PTCharBuf, "fd full name", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		if e.FD == nil {
			return d, false
		}
		return append(d, e.FD.Name...), true
	})
	register("fd.type", event.PTCharBuf, "type of fd", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		if e.FD == nil {
			return d, false
		}
		return append(d, e.FD.TypeName()...), true
	})
	register("fd.typechar", event.PTCharBuf, "type of fd as a single character", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		if e.FD == nil {
			return d, false
		}
		return append(d, e.FD.TypeChar()), true
	})

}
