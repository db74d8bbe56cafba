package field

import (
	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/state"
)

// Event fields (evt.*, syscall.type).
func init() {
	register("evt.num", event.PTUint64, "event number", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendU(d, e.Num), true
	})
	register("evt.cpu", event.PTInt64, "number of the CPU where this event happened", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendU(d, uint64(e.CPU)), true
	})
	register("evt.dir", event.PTCharBuf, "event direction: > for enter, < for exit", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return append(d, e.Type.Dir()...), true
	})
	register("evt.type", event.PTCharBuf, "name of the event (e.g. open)", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return append(d, TypeName(e)...), true
	})
	register("evt.info", event.PTCharBuf, "all the event arguments, rendered", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return c.AppendArgs(d, e), true
	})
	register("evt.args", event.PTCharBuf, "all the event arguments, rendered", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return c.AppendArgs(d, e), true
	})
	register("evt.rawtime", event.PTUint64, "absolute timestamp in nanoseconds", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendU(d, e.Ts), true
	})
	register("evt.rawtime.s", event.PTUint64, "integer part of the timestamp", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendU(d, e.Ts/1e9), true
	})
	register("evt.rawtime.ns", event.PTUint64, "fractional part of the timestamp", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendU(d, e.Ts%1e9), true
	})
	register("evt.reltime", event.PTUint64, "nanoseconds since the first event", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendU(d, e.Ts-c.State.FirstEventTS), true
	})
	register("evt.time", event.PTUint64, "time of the event, HH:MM:SS.nnnnnnnnn", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendClock(d, e.Ts, false, true), true
	})
	register("evt.time.s", event.PTUint64, "time of the event, HH:MM:SS", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendClock(d, e.Ts, false, false), true
	})
	register("evt.datetime", event.PTUint64, "date and time of the event", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendClock(d, e.Ts, true, true), true
	})
	register("evt.datetime.s", event.PTUint64, "date and time of the event, to the second", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendClock(d, e.Ts, true, false), true
	})
	register("evt.outputtime", event.PTUint64, "time of the event as chosen with -t", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return c.appendOutputTime(d, e), true
	})
	register("evt.latency", event.PTUint64, "delta between an exit event and its enter event, in ns", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		if e.Type.IsEnter() || e.Thread == nil {
			return appendU(d, 0), true
		}
		return appendU(d, e.Thread.Latency), true
	})
	register("evt.failed", event.PTBool, "true for events that returned an error", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		if e.ErrorCode != 0 {
			return append(d, "true"...), true
		}
		return append(d, "false"...), true
	})
	register("evt.res", event.PTCharBuf, "event return value: SUCCESS or the error code", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return c.appendRes(d, e)
	})
	register("evt.rawres", event.PTInt64, "event return value, as a number", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		p := resParam(e)
		if p == nil {
			return d, false
		}
		return appendI(d, int64(get64(p))), true
	})
	register("evt.buffer", event.PTCharBuf, "the binary data buffer of I/O events", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		i := e.ParamIndex("data")
		if i < 0 || i >= e.NParams {
			return d, false
		}
		v, _ := c.R.Param(e, i, c.R.BufFmt)
		return append(d, v...), true
	})
	register("evt.buflen", event.PTUint64, "length of the binary data buffer", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		if e.FD == nil || e.Info.Category&event.CatIOBase == 0 {
			return d, false
		}
		i := e.ParamIndex("res")
		if i < 0 || i >= e.NParams {
			return d, false
		}
		v := int64(get64(e.Param(i)))
		if v < 0 {
			return d, false
		}
		return appendI(d, v), true
	})
	registerArg("evt.arg", event.PTCharBuf, 2, "one argument, by name or index, rendered", func(arg string) (Extractor, error) {
		return argExtractor(arg, true)
	})
	registerArg("evt.rawarg", event.PTCharBuf, 2, "one argument, by name, raw", func(arg string) (Extractor, error) {
		return argExtractor(arg, false)
	})

	setTimeJSON()
}
