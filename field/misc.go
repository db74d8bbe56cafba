package field

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/state"
)

// Syslog fields (syslog.*), Mesos and Marathon fields (mesos.*, marathon.*),
// and the distributed tracing fields (span.*, evtin.*).
func init() {
	registerSyslog()
	registerMesos()
	registerTracer()
	registerEvtin()
}

// syslogEnabled is set once a syslog field is used: like sysdig, syscope then
// decodes the writes to /dev/log, which also changes their evt.info.
var syslogEnabled atomic.Bool

// syslogMsg is a decoded write to /dev/log: "<PRI>message".
type syslogMsg struct {
	pri int32
	msg []byte
}

var syslogSeverities = [...]string{"emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"}

var syslogFacilities = [...]string{
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "clock", "authpriv",
	"ftp", "ntp", "logaudit", "logalert", "cron", "local0", "local1", "local2", "local3", "local4",
	"local5", "local6", "local7",
}

func (m syslogMsg) severity() uint32 { return uint32(m.pri & 7) }
func (m syslogMsg) facility() uint32 { return uint32(m.pri >> 3) }

func (m syslogMsg) severityName() string { return syslogSeverities[m.severity()] }

func (m syslogMsg) facilityName() string {
	if f := m.facility(); f < uint32(len(syslogFacilities)) {
		return syslogFacilities[f]
	}
	return "<NA>"
}

// isWriteExit reports whether e is the exit of a syscall whose writes the
// state engine follows (write, send, sendto, sendmsg, writev, pwrite, pwritev).
func isWriteExit(t event.Type) bool {
	switch t {
	case event.SyscallWriteX, event.SocketSendX, event.SocketSendtoX, event.SocketSendmsgX,
		event.SyscallWritevX, event.SyscallPwriteX, event.SyscallPwritevX:
		return true
	}
	return false
}

// decodeSyslog decodes e if it is a successful write to /dev/log.
func decodeSyslog(e *state.Event) (syslogMsg, bool) {
	if !isWriteExit(e.Type) || e.FD == nil || e.NParams < 2 || int64(get64(e.Param(0))) < 0 ||
		!strings.Contains(e.FD.Name, "/dev/log") {
		return syslogMsg{}, false
	}
	data := e.Param(1)
	// The priority is the digits after the first byte (normally '<'), up to
	// '>' or NUL, at most 15 of them.
	n := 0
	for 1+n < len(data) && data[1+n] != '>' && data[1+n] != 0 && n < 15 {
		n++
	}
	if n == 0 || len(data) < n+2 {
		return syslogMsg{}, false
	}
	var pri int32
	for _, c := range data[1 : 1+n] {
		if c < '0' || c > '9' {
			return syslogMsg{}, false
		}
		pri = pri*10 + int32(c-'0')
	}
	return syslogMsg{pri: pri, msg: cstr(data[n+2:])}, true
}

func registerSyslog() {
	syslogField := func(name string, t event.ParamType, desc string, ex func(m syslogMsg, d []byte) []byte) {
		registerArg(name, t, 0, desc, func(string) (Extractor, error) {
			syslogEnabled.Store(true)
			return func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
				m, ok := decodeSyslog(e)
				if !ok {
					return d, false
				}
				return ex(m, d), true
			}, nil
		})
	}
	syslogField("syslog.facility.str", event.PTCharBuf, "facility of a syslog message, as a string", func(m syslogMsg, d []byte) []byte {
		return append(d, m.facilityName()...)
	})
	syslogField("syslog.facility", event.PTUint32, "facility of a syslog message, as a number (0-23)", func(m syslogMsg, d []byte) []byte {
		return appendU(d, uint64(m.facility()))
	})
	syslogField("syslog.severity.str", event.PTCharBuf, "severity of a syslog message: emerg, alert, crit, err, warn, notice, info or debug", func(m syslogMsg, d []byte) []byte {
		return append(d, m.severityName()...)
	})
	syslogField("syslog.severity", event.PTUint32, "severity of a syslog message, as a number (0-7)", func(m syslogMsg, d []byte) []byte {
		return appendU(d, uint64(m.severity()))
	})
	syslogField("syslog.message", event.PTCharBuf, "text of a syslog message", func(m syslogMsg, d []byte) []byte {
		return append(d, m.msg...)
	})
}

// labelArg accepts the argument of the *.label fields (k8s.pod.label.NAME,
// mesos.task.label.NAME): letters, digits and / _ - . characters.
func labelArg(field string) func(arg string) error {
	return func(arg string) error {
		if arg == "" || strings.TrimLeft(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_-.") != "" {
			return fmt.Errorf("%s: invalid label name %q", field, arg)
		}
		return nil
	}
}

// registerNone registers a field that never has a value when reading a
// capture file (sysdig fetches it from an orchestrator's API).
func registerNone(name string, t event.ParamType, desc string, check func(arg string) error) *Def {
	if check == nil {
		return register(name, t, desc, none)
	}
	return registerArg(name, t, 2, desc, func(arg string) (Extractor, error) {
		if err := check(arg); err != nil {
			return nil, err
		}
		return none, nil
	})
}

// Mesos and Marathon metadata comes from a Mesos master, which sysdig only
// contacts when capturing live with -m.
func registerMesos() {
	registerNone("mesos.task.name", event.PTCharBuf, "Mesos task name", nil)
	registerNone("mesos.task.id", event.PTCharBuf, "Mesos task id", nil)
	registerNone("mesos.task.label", event.PTCharBuf, "Mesos task label (mesos.task.label.foo)", labelArg("mesos.task.label"))
	registerNone("mesos.task.labels", event.PTCharBuf, "Mesos task labels, as key:value pairs separated by commas", nil)
	registerNone("mesos.framework.name", event.PTCharBuf, "Mesos framework name", nil)
	registerNone("mesos.framework.id", event.PTCharBuf, "Mesos framework id", nil)
	registerNone("marathon.app.name", event.PTCharBuf, "Marathon app name", nil)
	registerNone("marathon.app.id", event.PTCharBuf, "Marathon app id", nil)
	registerNone("marathon.app.label", event.PTCharBuf, "Marathon app label (marathon.app.label.foo)", labelArg("marathon.app.label"))
	registerNone("marathon.app.labels", event.PTCharBuf, "Marathon app labels, as key:value pairs separated by commas", nil)
	registerNone("marathon.group.name", event.PTCharBuf, "Marathon group name", nil)
	registerNone("marathon.group.id", event.PTCharBuf, "Marathon group id", nil)
}

// numberArg accepts a (possibly negative) index.
func numberArg(field string) func(arg string) error {
	return func(arg string) error {
		if _, ok := scanInt(arg, 32); !ok {
			return fmt.Errorf("%s: %s is not a valid number", field, arg)
		}
		return nil
	}
}

// anyArg accepts any non-empty argument (span.arg.NAME or span.arg[N]).
func anyArg(string) error { return nil }

// evtinArg accepts an index or, like evt.arg, the name of an event parameter.
func evtinArg(field string) func(arg string) error {
	return func(arg string) error {
		if _, ok := scanInt(arg, 32); ok {
			return nil
		}
		if _, err := rawargParam(arg); err != nil {
			return fmt.Errorf("%s: %v", field, err)
		}
		return nil
	}
}

// Spans are the tracer events sysdig makes of the writes of tracer
// annotations to /dev/null; syscope does not decode those, so the span fields
// have no value (the shared captures hold no tracer writes).
func registerTracer() {
	registerNone("span.id", event.PTInt64, "id of the span", nil)
	registerNone("span.time", event.PTCharBuf, "time of the span's enter tracer", nil)
	registerNone("span.ntags", event.PTUint32, "number of tags of the span", nil)
	registerNone("span.nargs", event.PTUint32, "number of arguments of the span", nil)
	registerNone("span.tags", event.PTCharBuf, "the span's tags, separated by dots", nil)
	registerNone("span.tag", event.PTCharBuf, "one of the span's tags, by index (span.tag[1], span.tag[-1])", numberArg("span.tag"))
	registerNone("span.args", event.PTCharBuf, "the span's arguments, separated by commas", nil)
	registerNone("span.arg", event.PTCharBuf, "one of the span's arguments, by name or index (span.arg.foo, span.arg[1])", anyArg)
	registerNone("span.enterargs", event.PTCharBuf, "the arguments of the span's enter tracer", nil)
	registerNone("span.enterarg", event.PTCharBuf, "one of the arguments of the span's enter tracer", anyArg)
	registerNone("span.duration", event.PTRelTime, "time between the span's enter and exit tracers, in ns", nil)
	registerNone("span.duration.quantized", event.PTUint64, "10-base log of the span's duration", nil).Flags = TableOnly
	registerNone("span.duration.human", event.PTCharBuf, "the span's duration, as a human readable string", nil)
	registerNone("span.duration.fortag", event.PTRelTime, "the span's duration if it has the given number of tags", numberArg("span.duration.fortag")).Flags = TableOnly
	registerNone("span.count", event.PTUint64, "1 for span exit events", nil).Flags = TableOnly
	registerNone("span.count.fortag", event.PTUint64, "1 if the span has the given number of tags", numberArg("span.count.fortag")).Flags = TableOnly
	registerNone("span.childcount.fortag", event.PTUint64, "1 if the span has more than the given number of tags", numberArg("span.childcount.fortag")).Flags = TableOnly
	registerNone("span.idtag", event.PTCharBuf, "id used by the span list view", numberArg("span.idtag")).Flags = TableOnly
	registerNone("span.rawtime", event.PTCharBuf, "time used by the span list view", nil).Flags = TableOnly
	registerNone("span.rawparenttime", event.PTCharBuf, "parent time used by the span list view", nil).Flags = TableOnly
}

// The evtin fields select the events that happen inside spans.
func registerEvtin() {
	for _, scope := range []struct{ infix, desc string }{
		{"", "of the thread"},
		{".p", "of the process"},
		{".s", "of the script (processes with the same parent)"},
		{".m", "of the machine"},
	} {
		p := "evtin.span" + scope.infix
		registerNone(p+".id", event.PTInt64, "id of the spans "+scope.desc+" the event is in", nil)
		registerNone(p+".ntags", event.PTUint32, "number of tags of the spans "+scope.desc+" the event is in", nil)
		registerNone(p+".nargs", event.PTUint32, "number of arguments of the spans "+scope.desc+" the event is in", nil)
		registerNone(p+".tags", event.PTCharBuf, "tags of the spans "+scope.desc+" the event is in", nil)
		registerNone(p+".tag", event.PTCharBuf, "one tag of the spans "+scope.desc+" the event is in", evtinArg(p+".tag"))
		registerNone(p+".args", event.PTCharBuf, "arguments of the spans "+scope.desc+" the event is in", nil)
		registerNone(p+".arg", event.PTCharBuf, "one argument of the spans "+scope.desc+" the event is in", evtinArg(p+".arg"))
	}
}
