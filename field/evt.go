package field

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/scap"
	"github.com/syscope/syscope/state"
)

// Event fields (evt.*, syscall.type).
func init() {
	registerGenEvent()
	registerEvent()
	setTimeJSON()
	setRawExtractors()
	registry["evt.time.iso8601"].JSON = rawTS
	registry["evt.time.iso8601"].Kind = KindUint
}

// registerGenEvent registers the fields every event has (sysdig's "All event types" class).
func registerGenEvent() {
	register("evt.num", event.PTUint64, "event number", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendU(d, e.Num), true
	})
	register("evt.time", event.PTCharBuf, "time of the event, HH:MM:SS.nnnnnnnnn", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendClock(d, e.Ts, false, true), true
	})
	register("evt.time.s", event.PTCharBuf, "time of the event, HH:MM:SS", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendClock(d, e.Ts, false, false), true
	})
	register("evt.time.iso8601", event.PTCharBuf, "time of the event in ISO 8601 form, in UTC", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendISO8601(d, e.Ts), true
	})
	register("evt.datetime", event.PTCharBuf, "date and time of the event", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendClock(d, e.Ts, true, true), true
	})
	register("evt.datetime.s", event.PTCharBuf, "date and time of the event, to the second", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendClock(d, e.Ts, true, false), true
	})
	register("evt.rawtime", event.PTAbsTime, "absolute timestamp in nanoseconds", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendU(d, e.Ts), true
	})
	register("evt.rawtime.s", event.PTAbsTime, "seconds part of the timestamp", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendU(d, e.Ts/1e9), true
	})
	padded("evt.rawtime.ns", event.PTAbsTime, "nanoseconds part of the timestamp", func(c *Ctx, e *state.Event) (uint64, bool) {
		return e.Ts % 1e9, true
	})
	padded("evt.reltime", event.PTRelTime, "nanoseconds since the first event", func(c *Ctx, e *state.Event) (uint64, bool) {
		return e.Ts - c.State.FirstEventTS, true
	})
	register("evt.reltime.s", event.PTRelTime, "seconds since the first event", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendU(d, (e.Ts-c.State.FirstEventTS)/1e9), true
	})
	padded("evt.reltime.ns", event.PTRelTime, "nanoseconds part of the time since the first event", func(c *Ctx, e *state.Event) (uint64, bool) {
		return (e.Ts - c.State.FirstEventTS) % 1e9, true
	})
	// Capture files read here carry no plugin events.
	register("evt.pluginname", event.PTCharBuf, "name of the plugin that generated the event", none)
	register("evt.plugininfo", event.PTCharBuf, "summary of a plugin event, by its plugin", none)
}

// none is the extractor of fields that never have a value in a capture file.
func none(c *Ctx, e *state.Event, d []byte) ([]byte, bool) { return d, false }

// padded registers a number field that sysdig prints with at least 9 digits
// (its PF_10_PADDED_DEC format) and writes as a plain number in JSON.
func padded(name string, t event.ParamType, desc string, v func(c *Ctx, e *state.Event) (uint64, bool)) *Def {
	def := register(name, t, desc, func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		n, ok := v(c, e)
		if !ok {
			return d, false
		}
		return appendU09(d, n), true
	})
	def.JSON = func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		n, ok := v(c, e)
		if !ok {
			return d, false
		}
		return appendU(d, n), true
	}
	return def
}

// appendU09 appends v with at least 9 digits, zero-padded (printf %09).
func appendU09(d []byte, v uint64) []byte {
	for p := uint64(1e8); p > 1 && v < p; p /= 10 {
		d = append(d, '0')
	}
	return appendU(d, v)
}

// appendISO8601 appends ts as YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+0000 (always UTC).
func appendISO8601(d []byte, ts uint64) []byte {
	sec := int64(ts / 1e9)
	d = appendDate(d, sec)
	d = append(d, 'T')
	d = appendHMS(d, sec)
	d = append(d, '.')
	d = append9(d, ts%1e9)
	return append(d, "+0000"...)
}

// appendTypeName appends evt.type. Generic events with a syscall id beyond
// the syscall table have none (sysdig reads past its table there, and finds
// no name).
func appendTypeName(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
	if e.Type == event.GenericE || e.Type == event.GenericX {
		if _, ok := event.SyscallName(get16(e.Param(0))); !ok {
			return d, false
		}
	}
	return append(d, TypeName(e)...), true
}

// tinfo is the thread libsinsp's parser attached to the event (evt->m_tinfo),
// which some fields read directly: none for events that skip the parser's
// reset (except procinfo), the container's pseudo-thread for container events.
func tinfo(e *state.Event) *state.Thread {
	if e.Info.Flags&event.EFSkipParseReset != 0 && e.Type != event.ProcinfoE {
		return nil
	}
	return e.TInfo
}

// latency returns the latency of e and whether it has one: internal events
// have none, events without a thread have 0.
func latency(e *state.Event) (uint64, bool) {
	t := tinfo(e)
	if t == nil {
		return 0, true
	}
	if e.Info.Category&event.CatInternal != 0 {
		return 0, false
	}
	return t.Latency, true
}

func registerEvent() {
	register("evt.latency", event.PTRelTime, "delta between an exit event and its enter event, in ns", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		lat, ok := latency(e)
		if !ok {
			return d, false
		}
		return appendU(d, lat), true
	})
	register("evt.latency.s", event.PTRelTime, "seconds part of the event latency", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		lat, ok := latency(e)
		if !ok {
			return d, false
		}
		return appendU(d, lat/1e9), true
	})
	padded("evt.latency.ns", event.PTRelTime, "nanoseconds part of the event latency", func(c *Ctx, e *state.Event) (uint64, bool) {
		lat, ok := latency(e)
		return lat % 1e9, ok
	})
	register("evt.latency.quantized", event.PTUint64, "10-base log of the event latency", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		lat, ok := latency(e)
		if !ok || lat == 0 || tinfo(e) == nil {
			return d, false
		}
		// sysdig scales by a screen width that is unset outside its curses UI.
		l := math.Min(math.Log10(float64(lat)), 11)
		return appendU(d, uint64(int64(l*-1/11))+1), true
	}).Flags = TableOnly
	registerArg("evt.latency.human", event.PTCharBuf, 0, "event latency, as a human readable string (e.g. 10.3ms)", func(string) (Extractor, error) {
		// Without a thread, sysdig repeats the last value it produced.
		var last []byte
		return func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
			t := tinfo(e)
			if t != nil {
				if e.Info.Category&event.CatInternal != 0 {
					return d, false
				}
				last = appendNiceTime(last[:0], t.Latency)
			}
			return append(d, last...), true
		}, nil
	})
	for _, f := range []struct {
		name, desc string
		pad        bool
		part       func(delta uint64) uint64
	}{
		{"evt.deltatime", "delta between this event and the previous one, in ns", false, func(v uint64) uint64 { return v }},
		{"evt.deltatime.s", "seconds part of the delta between this event and the previous one", false, func(v uint64) uint64 { return v / 1e9 }},
		{"evt.deltatime.ns", "nanoseconds part of the delta between this event and the previous one", true, func(v uint64) uint64 { return v % 1e9 }},
	} {
		part, pad := f.part, f.pad
		def := registerArg(f.name, event.PTRelTime, 0, f.desc, func(string) (Extractor, error) {
			// Each use of the field keeps the time of the last event it saw.
			var prev uint64
			return func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
				var v uint64
				if prev != 0 {
					v = part(e.Ts - prev)
				}
				prev = e.Ts
				if pad {
					return appendU09(d, v), true
				}
				return appendU(d, v), true
			}, nil
		})
		// sysdig extracts JSON values twice per event: the second delta is always 0.
		def.JSON = func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) { return append(d, '0'), true }
	}
	registerArg("evt.outputtime", event.PTCharBuf, 0, "time of the event as chosen with -t", func(string) (Extractor, error) {
		var prev uint64
		return func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
			return c.appendOutputTimeFrom(d, e, &prev), true
		}, nil
	}).Flags = PrintOnly
	register("evt.dir", event.PTCharBuf, "event direction: > for enter, < for exit", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return append(d, e.Type.Dir()...), true
	})
	register("evt.type", event.PTCharBuf, "name of the event (e.g. open)", appendTypeName)
	// sysdig cannot print this unsigned value, which has no print format: it
	// shows <NA> (null in JSON). Filters compare the 0 or 1 (see setRawExtractors).
	registerArg("evt.type.is", event.PTUint32, 2, "1 for events of the given type (evt.type.is.open), 0 for the others", func(arg string) (Extractor, error) {
		if _, _, err := typeIsArg(arg); err != nil {
			return nil, err
		}
		return none, nil
	})
	register("syscall.type", event.PTCharBuf, "name of the system call, unset for other events", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		// sysdig tests the EC_INTERNAL category bit against the event flags,
		// where it is EF_SKIPPARSERESET.
		if e.Type == event.SchedswitchV6E || e.Info.Flags&event.EFSkipParseReset != 0 {
			return d, false
		}
		return appendTypeName(c, e, d)
	})
	register("evt.category", event.PTCharBuf, "category of the event (file, net, memory...)", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return append(d, categoryName(e)...), true
	})
	register("evt.cpu", event.PTInt16, "number of the CPU where this event happened", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendI(d, int64(int16(e.CPU))), true
	})
	register("evt.args", event.PTCharBuf, "all the event arguments, rendered", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return c.AppendArgs(d, e), true
	})
	registerArg("evt.arg", event.PTCharBuf, 2, "one argument, by name (evt.arg.fd) or index (evt.arg[0]), rendered", func(arg string) (Extractor, error) {
		idx, name, err := argSelector(arg)
		if err != nil {
			return nil, err
		}
		return func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
			i := idx
			if name != "" {
				i = paramByName(e, name)
			}
			if i < 0 || i >= e.NParams || i >= len(e.Info.Params) {
				return d, false
			}
			v, res := c.R.Param(e, i, c.R.BufFmt)
			if len(res) > 0 {
				return append(d, res...), true
			}
			return append(d, v...), true
		}, nil
	})
	def := registerArg("evt.rawarg", event.PTDyn, 2, "one argument, by name (evt.rawarg.fd), not rendered", func(arg string) (Extractor, error) {
		p, err := rawargParam(arg)
		if err != nil {
			return nil, err
		}
		name, t := p.Name, p.Type
		return func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
			i := paramByName(e, name)
			if i < 0 {
				return d, false
			}
			return appendRawargText(d, e.Param(i), t)
		}, nil
	})
	def.TypeOf = func(arg string) event.ParamType {
		if p, err := rawargParam(arg); err == nil {
			return p.Type
		}
		return event.PTDyn
	}
	register("evt.info", event.PTCharBuf, "the event arguments, or a decoded summary (writes to /dev/log)", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		if syslogEnabled.Load() {
			if m, ok := decodeSyslog(e); ok {
				d = append(d, "syslog sev="...)
				d = append(d, m.severityName()...)
				d = append(d, " msg="...)
				return append(d, m.msg...), true
			}
		}
		return c.AppendArgs(d, e), true
	})
	bufDef := register("evt.buffer", event.PTByteBuf, "the binary data buffer of I/O events", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		i := paramByName(e, "data")
		if i < 0 {
			return d, false
		}
		v, _ := c.R.Param(e, i, c.R.BufFmt)
		return append(d, cstr(v)...), true
	})
	bufDef.Raw = func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		i := paramByName(e, "data")
		if i < 0 {
			return d, false
		}
		return append(d, e.Param(i)...), true
	}
	register("evt.buflen", event.PTUint64, "length of the binary data buffer of I/O events", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		if e.FD == nil || e.Info.Category&event.CatIOBase == 0 {
			return d, false
		}
		return appendBuflen(d, e)
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
	register("evt.failed", event.PTBool, "true for events that returned an error", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		p := resParam(e)
		return appendBool(d, p != nil && int64(get64(p)) < 0), true
	})
	flagBool("evt.is_io", "true for events that read or write fds", event.EFReadsFromFD|event.EFWritesToFD)
	flagBool("evt.is_io_read", "true for events that read from fds", event.EFReadsFromFD)
	flagBool("evt.is_io_write", "true for events that write to fds", event.EFWritesToFD)
	register("evt.io_dir", event.PTCharBuf, "read or write, for I/O events", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		switch {
		case e.Info.Flags&event.EFWritesToFD != 0:
			return append(d, "write"...), true
		case e.Info.Flags&event.EFReadsFromFD != 0:
			return append(d, "read"...), true
		}
		return d, false
	})
	flagBool("evt.is_wait", "true for events that make the thread wait", event.EFWaits)
	register("evt.wait_latency", event.PTRelTime, "time spent waiting by events that make the thread wait, in ns", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		if e.Info.Flags&event.EFWaits == 0 || e.Type.IsEnter() {
			return d, false
		}
		var lat uint64
		if t := tinfo(e); t != nil {
			lat = t.Latency
		}
		return appendU(d, lat), true
	})
	register("evt.is_syslog", event.PTBool, "true for writes to /dev/log", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendBool(d, e.Info.Flags&event.EFWritesToFD != 0 && e.FD != nil && strings.Contains(e.FD.Name, "/dev/log")), true
	})
	register("evt.count", event.PTUint32, "always 1, to count events", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return append(d, '1'), true
	})
	register("evt.count.error", event.PTUint32, "1 for events that returned an error", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendErrorCount(d, e)
	})
	register("evt.count.error.file", event.PTUint32, "1 for file events that returned an error", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		if errorClass(e) != errFile {
			return d, false
		}
		return appendErrorCount(d, e)
	})
	register("evt.count.error.net", event.PTUint32, "1 for network events that returned an error", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		if errorClass(e) != errNet {
			return d, false
		}
		return appendErrorCount(d, e)
	})
	register("evt.count.error.memory", event.PTUint32, "1 for memory events that returned an error", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		if e.Info.Category != event.CatMemory {
			return d, false
		}
		return appendErrorCount(d, e)
	})
	register("evt.count.error.other", event.PTUint32, "1 for the other events that returned an error", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		if errorClass(e) != errOther {
			return d, false
		}
		return appendErrorCount(d, e)
	})
	register("evt.count.exit", event.PTUint32, "1 for exit events", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		if e.Type.IsEnter() {
			return d, false
		}
		return append(d, '1'), true
	})
	register("evt.count.procinfo", event.PTUint32, "1 for procinfo events of main threads", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		if e.Type != event.ProcinfoE || e.Thread == nil || !e.Thread.IsMain() {
			return d, false
		}
		return append(d, '1'), true
	}).Flags = TableOnly
	register("evt.count.threadinfo", event.PTUint32, "1 for procinfo events", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		if e.Type != event.ProcinfoE {
			return d, false
		}
		return append(d, '1'), true
	}).Flags = TableOnly
	registerArg("evt.around", event.PTUint64, 2, "filter only: evt.around[T]=D accepts the events within D ms of the timestamp T", func(arg string) (Extractor, error) {
		if _, err := parseU64(arg); err != nil {
			return nil, err
		}
		return func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) { return appendU(d, e.Ts), true }, nil
	}).Flags = FilterOnly
	registerArg("evt.abspath", event.PTCharBuf, 1, "absolute path of the path argument of *at syscalls (evt.abspath.src, evt.abspath.dst for two paths)", func(arg string) (Extractor, error) {
		var which int
		switch arg {
		case "":
		case "src":
			which = 1
		case "dst":
			which = 2
		default:
			return nil, fmt.Errorf("evt.abspath takes src or dst, not %q", arg)
		}
		return func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) { return appendAbsPath(d, e, which) }, nil
	})
	for _, f := range []struct {
		name, desc string
		cat        event.Category // 0: any I/O
		fd         func(*state.FD) bool
	}{
		{"evt.buflen.in", "buffer length of input I/O events", event.CatIORead, nil},
		{"evt.buflen.out", "buffer length of output I/O events", event.CatIOWrite, nil},
		{"evt.buflen.file", "buffer length of file I/O events", 0, isFileFD},
		{"evt.buflen.file.in", "buffer length of input file I/O events", event.CatIORead, isFileFD},
		{"evt.buflen.file.out", "buffer length of output file I/O events", event.CatIOWrite, isFileFD},
		{"evt.buflen.net", "buffer length of network I/O events", 0, isNetFD},
		{"evt.buflen.net.in", "buffer length of input network I/O events", event.CatIORead, isNetFD},
		{"evt.buflen.net.out", "buffer length of output network I/O events", event.CatIOWrite, isNetFD},
	} {
		cat, fdOK := f.cat, f.fd
		register(f.name, event.PTUint64, f.desc, func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
			if e.FD == nil {
				return d, false
			}
			if cat == 0 && e.Info.Category&event.CatIOBase == 0 || cat != 0 && e.Info.Category != cat {
				return d, false
			}
			if fdOK != nil && !fdOK(e.FD) {
				return d, false
			}
			return appendBuflen(d, e)
		}).Flags = TableOnly
	}
	registerOpenFlag("evt.is_open_read", "true for open events that open the file for reading", 0)
	registerOpenFlag("evt.is_open_write", "true for open events that open the file for writing", 1)
	for _, f := range []struct {
		name, desc, key string
	}{
		{"evt.infra.docker.name", "name of a docker infrastructure event", "Event"},
		{"evt.infra.docker.container.id", "id of the container of a docker infrastructure event", "ID"},
		{"evt.infra.docker.container.name", "name of the container of a docker infrastructure event", "name"},
		{"evt.infra.docker.container.image", "image of the container of a docker infrastructure event", "Image"},
	} {
		key := f.key
		register(f.name, event.PTCharBuf, f.desc, func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
			return appendInfra(d, e, key)
		}).Flags = TableOnly
	}
	registerOpenFlag("evt.is_open_exec", "true for open and creat events that create a file with execute permissions", 2)
}

// registerOpenFlag registers evt.is_open_read (what 0), evt.is_open_write
// (1) or evt.is_open_exec (2).
func registerOpenFlag(name, desc string, what int) {
	register(name, event.PTBool, desc, func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendBool(d, isOpen(e, what)), true
	})
}

// setRawExtractors gives the fields whose filter value differs from the
// printed one in a way that depends on the argument the extractor filters
// compare: evt.type.is prints <NA> but compares 1 or 0, evt.rawarg prints
// only some parameter types but compares the raw value of all.
func setRawExtractors() {
	registry["evt.type.is"].NewRaw = typeIsRaw
	registry["evt.rawarg"].NewRaw = rawargRaw
}

// typeIsArg resolves the argument of evt.type.is: a number matches that type
// id, an event name the enter and exit ids of its first version.
func typeIsArg(arg string) (lo, hi int, err error) {
	if n, ok := scanUint(arg, 32); ok {
		return int(n), -1, nil
	}
	for t := event.Type(0); t < event.MaxType; t++ {
		if t.Info().Name == arg {
			return int(t), int(t) + 1, nil
		}
	}
	return 0, 0, fmt.Errorf("evt.type.is: unknown event type %q", arg)
}

func typeIsRaw(arg string) (Extractor, error) {
	lo, hi, err := typeIsArg(arg)
	if err != nil {
		return nil, err
	}
	return func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		if int(e.Type) == lo || int(e.Type) == hi {
			return append(d, '1'), true
		}
		return append(d, '0'), true
	}, nil
}

// rawargParam is the parameter evt.rawarg.NAME and evt.arg.NAME refer to: the
// longest parameter name of the event table that starts NAME, the first one
// in table order among equals. Its type is the type of the field.
func rawargParam(arg string) (*event.Param, error) {
	var best *event.Param
	for t := event.Type(0); t < event.MaxType; t++ {
		ps := t.Info().Params
		for i := range ps {
			n := ps[i].Name
			if n != "" && strings.HasPrefix(arg, n) && (best == nil || len(n) > len(best.Name)) {
				best = &ps[i]
			}
		}
	}
	if best == nil {
		return nil, fmt.Errorf("unknown event argument %s", arg)
	}
	return best, nil
}

func rawargRaw(arg string) (Extractor, error) {
	p, err := rawargParam(arg)
	if err != nil {
		return nil, err
	}
	name, t := p.Name, p.Type
	return func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		i := paramByName(e, name)
		if i < 0 {
			return d, false
		}
		return appendRawAs(d, e.Param(i), t), true
	}, nil
}

// argSelector parses the argument of evt.arg: an index (evt.arg[1]), or a
// parameter name (evt.arg.fd). A negative index selects nothing.
func argSelector(arg string) (idx int, name string, err error) {
	if n, ok := scanInt(arg, 32); ok {
		if n < 0 {
			return -1, "", nil
		}
		return int(n), "", nil
	}
	p, err := rawargParam(arg)
	if err != nil {
		return 0, "", err
	}
	return -1, p.Name, nil
}

// scanInt parses s as sscanf("%d%c") == 1 would accept it: optional leading
// spaces and sign, then digits up to the end.
func scanInt(s string, bits int) (int64, bool) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	n, err := strconv.ParseInt(s, 10, bits)
	return n, err == nil
}

func scanUint(s string, bits int) (uint64, bool) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	n, err := strconv.ParseUint(strings.TrimPrefix(s, "+"), 10, bits)
	return n, err == nil
}

func parseU64(s string) (uint64, error) {
	n, ok := scanUint(s, 64)
	if !ok {
		return 0, fmt.Errorf("%s is not a valid number", s)
	}
	return n, nil
}

// paramByName returns the index of the event's parameter called name, or -1.
func paramByName(e *state.Event, name string) int {
	n := min(e.NParams, len(e.Info.Params))
	for i := 0; i < n; i++ {
		if e.Info.Params[i].Name == name {
			return i
		}
	}
	return -1
}

// appendRawargText renders a raw parameter of type t as sysdig prints a
// field of that type with no print format: signed 64-bit numbers, strings,
// booleans and addresses. The other numbers have no such rendering (<NA>).
// For the types sysdig cannot render at all (it stops with "wrong event
// type"), the raw value is printed.
func appendRawargText(d, p []byte, t event.ParamType) ([]byte, bool) {
	switch t {
	case event.PTInt8, event.PTInt16, event.PTInt32, event.PTUint8, event.PTUint16, event.PTUint32,
		event.PTUint64, event.PTRelTime, event.PTAbsTime, event.PTPort, event.PTL4Proto,
		event.PTSockAddr, event.PTSockFamily:
		return d, false
	case event.PTIPv4Addr:
		return state.AppendIPv4(d, p), true
	case event.PTIPv6Addr:
		return state.AppendIPv6(d, p), true
	case event.PTIPAddr:
		switch len(p) {
		case 4:
			return state.AppendIPv4(d, p), true
		case 16:
			return state.AppendIPv6(d, p), true
		}
		return d, false
	case event.PTDouble:
		return strconv.AppendFloat(d, math.Float64frombits(get64(p)), 'f', 1, 64), true
	}
	return appendRawAs(d, p, t), true
}

// appendRawAs renders the raw bytes of a parameter as a value of type t:
// numbers in decimal, strings up to their NUL.
func appendRawAs(d, p []byte, t event.ParamType) []byte {
	switch t {
	case event.PTInt8:
		return appendI(d, int64(int8(get8(p))))
	case event.PTInt16:
		return appendI(d, int64(int16(get16(p))))
	case event.PTInt32, event.PTFD32, event.PTPID32:
		return appendI(d, int64(int32(get32(p))))
	case event.PTInt64, event.PTErrno, event.PTFD, event.PTPID:
		return appendI(d, int64(get64(p)))
	case event.PTUint8, event.PTFlags8, event.PTSigType, event.PTL4Proto, event.PTSockFamily, event.PTEnumFlags8:
		return appendU(d, uint64(get8(p)))
	case event.PTUint16, event.PTFlags16, event.PTPort, event.PTSyscallID, event.PTEnumFlags16:
		return appendU(d, uint64(get16(p)))
	case event.PTUint32, event.PTFlags32, event.PTMode, event.PTUID, event.PTGID, event.PTSigSet, event.PTEnumFlags32:
		return appendU(d, uint64(get32(p)))
	case event.PTUint64, event.PTRelTime, event.PTAbsTime:
		return appendU(d, get64(p))
	case event.PTBool:
		return appendBool(d, get32(p) != 0)
	}
	return append(d, cstr(p)...)
}

func appendBool(d []byte, v bool) []byte {
	if v {
		return append(d, "true"...)
	}
	return append(d, "false"...)
}

func flagBool(name, desc string, flags event.Flags) {
	register(name, event.PTBool, desc, func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendBool(d, e.Info.Flags&flags != 0), true
	})
}

// appendNiceTime appends a duration in ns the way sysdig makes it human
// readable: 1:02:03, 2:05, 1.50s, 20ms, 1.05ms, 15us, 2.50us, 300ns.
func appendNiceTime(d []byte, v uint64) []byte {
	const s, ms, us = uint64(1e9), uint64(1e6), uint64(1e3)
	u := func(d []byte, v uint64) []byte { return appendU(d, uint64(uint32(v))) }
	switch {
	case v >= 3600*s:
		d = appendMin2(d, uint64(uint32(v/(3600*s))))
		d = append(d, ':')
		d = appendMin2(d, v/(60*s)%60)
		d = append(d, ':')
		return appendMin2(d, v/s%60)
	case v >= 60*s:
		d = u(d, v/(60*s))
		d = append(d, ':')
		return u(d, v/s%60)
	case v >= s:
		d = u(d, v/s)
		d = append(d, '.')
		d = appendMin2(d, v%s/(10*ms))
		return append(d, 's')
	case v >= s/100:
		d = u(d, v/ms)
		return append(d, "ms"...)
	case v >= ms:
		d = u(d, v/ms)
		d = append(d, '.')
		d = appendMin2(d, v%ms/(10*us))
		return append(d, "ms"...)
	case v >= s/100000:
		d = u(d, v/us)
		return append(d, "us"...)
	case v >= us:
		d = u(d, v/us)
		d = append(d, '.')
		d = appendMin2(d, v%us/10)
		return append(d, "us"...)
	}
	d = u(d, v)
	return append(d, "ns"...)
}

// appendMin2 appends v with at least two digits.
func appendMin2(d []byte, v uint64) []byte {
	if v < 10 {
		d = append(d, '0')
	}
	return appendU(d, v)
}

// syscallCategories holds the category of each syscall id (PPM_SC_*), for
// generic events: one letter per id, see syscallCategory.
const syscallCategories = "186rw222222b2222621b2Wb2o4222o4b56oW6642o666866bb2226682222266228bb81W88o88588862862W2orw6o55556666766672W6999999266262aaaaaaaa2aaaa2aaaa6556222222222222946666ooooooWWW26bbbbbbbb7924444448W88866444222222222222WW6664446W29b4bb94Wo44rw11461264333333333333333333444444444422226194322222W9998296b2W22649ooooooooooooooo811ooo222288266"

func syscallCategory(id uint16) event.Category {
	if int(id) >= len(syscallCategories) {
		return event.CatUnknown
	}
	switch c := syscallCategories[id]; c {
	case 'a':
		return event.CatUser
	case 'b':
		return event.CatTime
	case 'r':
		return event.CatIORead
	case 'w':
		return event.CatIOWrite
	case 'o':
		return event.CatIOOther
	case 'W':
		return event.CatWait
	default:
		return event.Category(c - '0')
	}
}

var categoryNames = [...]string{
	event.CatUnknown: "unknown", event.CatOther: "other", event.CatFile: "file", event.CatNet: "net",
	event.CatIPC: "IPC", event.CatMemory: "memory", event.CatProcess: "process", event.CatSleep: "sleep",
	event.CatSystem: "system", event.CatSignal: "signal", event.CatUser: "user", event.CatTime: "time",
	event.CatProcessing: "processing",
}

// categoryName is evt.category. For I/O events it is the kind of their fd.
func categoryName(e *state.Event) string {
	cat := e.Info.Category
	generic := e.Type == event.GenericE || e.Type == event.GenericX
	if generic {
		cat = syscallCategory(get16(e.Param(0)))
	}
	switch cat {
	case event.CatIORead, event.CatIOWrite, event.CatIOOther:
		if generic || e.FD == nil {
			return "unknown"
		}
		switch e.FD.Type {
		case scap.FDFile, scap.FDFileV2, scap.FDDirectory:
			return "file"
		case scap.FDIPv4Sock, scap.FDIPv6Sock, scap.FDIPv4ServSock, scap.FDIPv6ServSock:
			return "net"
		case scap.FDFifo, scap.FDUnixSock, scap.FDEvent, scap.FDSignalfd, scap.FDInotify:
			return "ipc"
		}
		return "unknown"
	case event.CatWait:
		return "wait"
	case event.CatScheduler:
		return "scheduler"
	}
	if int(cat) < len(categoryNames) {
		return categoryNames[cat]
	}
	return "unknown"
}

func isFileFD(f *state.FD) bool { return f.Type == scap.FDFile || f.Type == scap.FDFileV2 }

func isNetFD(f *state.FD) bool { return f.Type >= scap.FDIPv4Sock && f.Type <= scap.FDIPv6ServSock }

// appendBuflen appends the return value of an exit event when it is not negative.
func appendBuflen(d []byte, e *state.Event) ([]byte, bool) {
	if e.Type.IsEnter() || e.NParams == 0 {
		return d, false
	}
	v := int64(get64(e.Param(0)))
	if v < 0 {
		return d, false
	}
	return appendI(d, v), true
}

// appendErrorCount appends 1 if the event returned an error; there is no
// value otherwise.
func appendErrorCount(d []byte, e *state.Event) ([]byte, bool) {
	if i := paramByName(e, "res"); i >= 0 {
		if int64(get64(e.Param(i))) < 0 {
			return append(d, '1'), true
		}
		return d, false
	}
	if e.Info.Flags&event.EFCreatesFD != 0 && !e.Type.IsEnter() {
		if i := paramByName(e, "fd"); i >= 0 && int64(get64(e.Param(i))) < 0 {
			return append(d, '1'), true
		}
	}
	return d, false
}

// errClass is which of evt.count.error.file/net/other an event counts for.
type errClass uint8

const (
	errOther errClass = iota
	errFile
	errNet
	errMemory // memory events without an fd count for none of the three
)

func errorClass(e *state.Event) errClass {
	if f := e.FD; f != nil {
		switch f.Type {
		case scap.FDFile, scap.FDFileV2, scap.FDDirectory:
			return errFile
		case scap.FDIPv4Sock, scap.FDIPv6Sock, scap.FDIPv4ServSock, scap.FDIPv6ServSock, scap.FDUnixSock:
			return errNet
		}
		return errOther
	}
	switch e.Type {
	case event.SyscallOpenX, event.SyscallCreatX, event.SyscallOpenatX, event.SyscallOpenatV2X, event.SyscallOpenat2X:
		return errFile
	case event.SocketAcceptX, event.SocketAcceptV5X, event.SocketAccept4X, event.SocketAccept4V5X, event.SocketConnectX:
		return errNet
	}
	if e.Info.Category == event.CatMemory {
		return errMemory
	}
	return errOther
}

// isOpen answers evt.is_open_read (what 0), evt.is_open_write (1) and
// evt.is_open_exec (2) from the flags and mode of open events.
func isOpen(e *state.Event, what int) bool {
	const (
		oRdonly  = 1 << 0
		oWronly  = 1 << 1
		oCreat   = 1 << 2
		oTmpfile = 1 << 13
		anyExec  = 1<<6 | 1<<3 | 1<<0 // PPM_S_IXUSR | PPM_S_IXGRP | PPM_S_IXOTH
	)
	switch e.Type {
	case event.SyscallOpenX, event.SyscallOpenatE, event.SyscallOpenatV2X, event.SyscallOpenat2X:
		fi := 2
		if e.Type == event.SyscallOpenatV2X || e.Type == event.SyscallOpenat2X {
			fi = 3
		}
		flags := get32(e.Param(fi))
		switch what {
		case 0:
			return flags&oRdonly != 0
		case 1:
			return flags&oWronly != 0
		}
		return flags&(oTmpfile|oCreat) != 0 && get32(e.Param(fi+1))&anyExec != 0
	case event.SyscallCreatX:
		return what == 2 && get32(e.Param(2))&anyExec != 0
	}
	return false
}

// appendAbsPath appends the absolute path of the path argument of *at
// syscalls (which 0 or 1: the first or only one, 2: the second).
func appendAbsPath(d []byte, e *state.Event, which int) ([]byte, bool) {
	t := tinfo(e)
	if t == nil {
		return d, false
	}
	var dirArg, pathArg string
	switch e.Type {
	case event.SyscallRenameatX, event.SyscallRenameat2X:
		dirArg, pathArg = "olddirfd", "oldpath"
		if which == 2 {
			dirArg, pathArg = "newdirfd", "newpath"
		}
	case event.SyscallSymlinkatX:
		dirArg, pathArg = "linkdirfd", "linkpath"
	case event.SyscallOpenatE, event.SyscallOpenatV2X, event.SyscallOpenat2X, event.SyscallUnlinkatE, event.SyscallUnlinkatV2X:
		dirArg, pathArg = "dirfd", "name"
	case event.SyscallLinkatE, event.SyscallLinkatV2X:
		dirArg, pathArg = "olddir", "oldpath"
		if which == 2 {
			dirArg, pathArg = "newdir", "newpath"
		}
	case event.SyscallMkdiratX:
		dirArg, pathArg = "dirfd", "path"
	case event.SyscallFchmodatX:
		dirArg, pathArg = "dirfd", "filename"
	default:
		return d, false
	}
	di, pi := paramByName(e, dirArg), paramByName(e, pathArg)
	if di < 0 || pi < 0 {
		return d, false
	}
	dirfd := int64(get64(e.Param(di)))
	path := e.Param(pi)
	var dir string
	switch {
	case len(path) > 0 && path[0] == '/':
		dir = "."
	case dirfd == -100: // AT_FDCWD
		dir = t.Cwd()
	default:
		// sysdig leaves the directory's fd as the event's fd.
		e.FD = t.FD(dirfd)
		if e.FD == nil {
			dir = "<UNKNOWN>/"
		} else {
			return state.AppendConcatPaths(d, e.FD.Name, '/', path), true
		}
	}
	return state.AppendConcatPaths(d, dir, 0, path), true
}

// appendInfra extracts one item ("key: value") of the description of a docker
// infrastructure event.
func appendInfra(d []byte, e *state.Event, key string) ([]byte, bool) {
	if e.Type != event.InfrastructureEventE {
		return d, false
	}
	desc := cstr(e.Param(2))
	for len(desc) > 0 {
		item := desc
		if i := bytes.IndexByte(desc, ';'); i >= 0 {
			item, desc = desc[:i], desc[i+1:]
		} else {
			desc = nil
		}
		item = bytes.TrimSpace(item)
		if !bytes.HasPrefix(item, []byte(key)) {
			continue
		}
		var v []byte
		if i := bytes.IndexByte(item, ':'); i >= 0 {
			v = item[i+1:]
			if key != "Image" {
				if j := bytes.IndexByte(v, ':'); j >= 0 {
					v = v[:j]
				}
			}
		}
		switch key {
		case "ID":
			v = bytes.TrimSpace(v)
			if len(v) > 12 {
				v = v[:12]
			}
		case "Image":
			second := v
			if j := bytes.IndexByte(second, ':'); j >= 0 {
				second = second[:j]
			}
			switch {
			case bytes.IndexByte(second, '@') >= 0:
				v = second[:bytes.IndexByte(second, '@')]
			case bytes.Contains(second, []byte("sha256")):
				// the whole rest of the item
			default:
				v = second
			}
		}
		return append(d, bytes.TrimSpace(v)...), true
	}
	return d, false
}

// appendOutputTimeFrom is evt.outputtime; prev is the time of the last event
// this use of the field saw (for -tD).
func (c *Ctx) appendOutputTimeFrom(d []byte, e *state.Event, prev *uint64) []byte {
	var v uint64
	switch c.TimeMode {
	case 'a':
		// sysdig prints the nanoseconds without padding here.
		d = appendU(d, e.Ts/1e9)
		d = append(d, '.')
		return appendU(d, e.Ts%1e9)
	case 'r':
		v = e.Ts - c.State.FirstEventTS
	case 'd':
		if t := tinfo(e); t != nil {
			v = t.Latency
		}
	case 'D':
		if *prev == 0 {
			*prev = e.Ts
		}
		v = e.Ts - *prev
		*prev = e.Ts
	default:
		return appendClock(d, e.Ts, false, true)
	}
	d = appendU(d, v/1e9)
	d = append(d, '.')
	return append9(d, v%1e9)
}
