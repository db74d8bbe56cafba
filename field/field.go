// Package field extracts sysdig's fields (evt.*, proc.*, thread.*, fd.*, user.*,
// container.*, k8s.*) from events, renders event parameters the way sysdig
// prints them, and serves both the output formatter and the filter engine.
package field

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/internal/textdist"
	"github.com/syscope/syscope/state"
)

// Kind is the type of a field's value.
type Kind uint8

// Field value kinds: numbers are printed as JSON numbers, the rest as strings.
const (
	KindString Kind = iota
	KindInt
	KindUint
	KindBool
)

// Ctx holds what field extraction needs besides the event: the state, the
// parameter renderer and output settings. One Ctx serves one event stream.
type Ctx struct {
	State    *state.State
	R        Renderer
	TimeMode byte // -t: h (default), a, r, d, D
}

// NewCtx returns a context for st.
func NewCtx(st *state.State) *Ctx {
	c := &Ctx{State: st, TimeMode: 'h'}
	c.R.State = st
	return c
}

// Extractor appends a field's value for e to dst; ok is false when the field has no value.
type Extractor func(c *Ctx, e *state.Event, dst []byte) (out []byte, ok bool)

// Flags say where a field can be used.
type Flags uint8

// Field flags, as sysdig's field table has them.
const (
	FilterOnly Flags = 1 << iota // only in filters (fd.ip, fd.net, evt.around)
	PrintOnly                    // only in output formats (evt.outputtime)
	TableOnly                    // only in chisel and view tables
)

// Def is a field definition.
type Def struct {
	Name string
	// Type is the type of the value, as in sysdig's field table: it decides how
	// filters compare it (numbers numerically, addresses by network, ...).
	Type  event.ParamType
	Kind  Kind
	Flags Flags
	Desc  string
	// Arg says whether the field takes an argument: 0 none, 1 optional, 2 required.
	Arg int
	// New builds the extractor for the given argument.
	New func(arg string) (Extractor, error)
	// JSON, if set, extracts the value for JSON output when it differs from
	// the text (times are raw nanoseconds in JSON).
	JSON Extractor
	// Raw, if set, extracts the value filters compare when it differs from
	// the text (evt.buffer: the bytes, not their printable rendering).
	Raw Extractor
	// Each, if set, makes the field multi-valued in filters when used without
	// an argument (proc.apid, proc.aname: any ancestor). It calls fn with each
	// value until fn returns true, and reports whether one did.
	Each func(c *Ctx, e *state.Event, buf []byte, fn func([]byte) bool) bool
	// NotEqualAll makes "!=" on a multi-valued field true only when every
	// value differs (fd.ip != X: neither end is X), as sysdig does for fd.*.
	NotEqualAll bool
	// TypeOf, if set, gives the value type for an argument (evt.rawarg: the
	// type of the named parameter).
	TypeOf func(arg string) event.ParamType
	// NewRaw, if set, builds the Raw extractor for an argument (evt.type.is
	// prints <NA> but filters compare 1 or 0).
	NewRaw func(arg string) (Extractor, error)
	// Seq is the registration order, which -l follows within a class.
	Seq int
}

var registry = map[string]*Def{}

// kindOf is how a value of type t is written in JSON.
func kindOf(t event.ParamType) Kind {
	switch t {
	case event.PTInt8, event.PTInt16, event.PTInt32, event.PTInt64, event.PTFD, event.PTPID, event.PTErrno:
		return KindInt
	case event.PTUint8, event.PTUint16, event.PTUint32, event.PTUint64, event.PTPort,
		event.PTRelTime, event.PTAbsTime, event.PTUID, event.PTGID:
		return KindUint
	case event.PTBool:
		return KindBool
	}
	return KindString
}

func register(name string, t event.ParamType, desc string, ex Extractor) *Def {
	d := &Def{Name: name, Type: t, Kind: kindOf(t), Desc: desc, New: func(string) (Extractor, error) { return ex, nil }, Seq: len(registry)}
	registry[name] = d
	return d
}

func registerArg(name string, t event.ParamType, argMode int, desc string, mk func(arg string) (Extractor, error)) *Def {
	d := &Def{Name: name, Type: t, Kind: kindOf(t), Desc: desc, Arg: argMode, New: mk, Seq: len(registry)}
	registry[name] = d
	return d
}

// Field is a field bound to its argument, ready to extract.
type Field struct {
	Name string // as written, e.g. "proc.aname[2]"
	Arg  string // the argument, "" if none
	Def  *Def
	Type event.ParamType // the value type (Def.Type, or the argument's for evt.rawarg)
	Ex   Extractor
	JSON Extractor
	Raw  Extractor
}

// ErrFilterOnly is LookupDisplay's refusal of a field sysdig marks filter
// only; sysdig's message puts the field (or the format from it on) first.
var ErrFilterOnly = errors.New("is filter only and cannot be used as a display field")

// LookupDisplay is Lookup for what is shown rather than compared (output
// formats, fields a chisel requests). As in sysdig, a field marked filter
// only is refused (ErrFilterOnly), except evt.around, which sysdig accepts
// and shows without a value.
func LookupDisplay(name, arg string) (*Field, error) {
	f, err := Lookup(name, arg)
	if err != nil || f.Def.Flags&FilterOnly == 0 {
		return f, err
	}
	if f.Def.Name != "evt.around" {
		return nil, ErrFilterOnly
	}
	return &Field{Name: f.Name, Arg: f.Arg, Def: f.Def, Type: f.Type, Ex: noValue, JSON: noValue, Raw: noValue}, nil
}

func noValue(_ *Ctx, _ *state.Event, d []byte) ([]byte, bool) { return d, false }

// Lookup resolves a field name, with an optional argument ("evt.arg.fd", "evt.arg[0]", "proc.aname[2]").
func Lookup(name, arg string) (*Field, error) {
	written := name
	if arg != "" {
		written += "[" + arg + "]"
	}
	d := registry[name]
	if d == nil {
		// Dotted arguments: evt.arg.NAME, evt.rawarg.NAME, k8s.pod.label.NAME...
		for i := strings.LastIndexByte(name, '.'); i > 0 && d == nil; i = strings.LastIndexByte(name[:i], '.') {
			if pd := registry[name[:i]]; pd != nil && pd.Arg != 0 && arg == "" {
				d, arg = pd, name[i+1:]
				name = name[:i]
			}
		}
	}
	if d == nil {
		return nil, fmt.Errorf("unknown field %q%s", name, suggest(name))
	}
	if d.Arg == 2 && arg == "" {
		return nil, fmt.Errorf("field %q requires an argument", name)
	}
	if d.Arg == 0 && arg != "" {
		return nil, fmt.Errorf("field %q does not take an argument", name)
	}
	ex, err := d.New(arg)
	if err != nil {
		return nil, err
	}
	f := &Field{Name: written, Arg: arg, Def: d, Type: d.Type, Ex: ex, JSON: d.JSON, Raw: d.Raw}
	if d.TypeOf != nil {
		f.Type = d.TypeOf(arg)
	}
	if d.NewRaw != nil {
		if f.Raw, err = d.NewRaw(arg); err != nil {
			return nil, err
		}
	}
	if f.JSON == nil {
		f.JSON = ex
	}
	if f.Raw == nil {
		f.Raw = ex
	}
	return f, nil
}

// Names returns all field names, sorted.
func Names() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Get returns the definition of a field name, or nil.
func Get(name string) *Def { return registry[name] }

func suggest(name string) string {
	// The nearest name; among equals, one the typed name begins (a word cut
	// short), then the alphabetically first, so the hint does not depend on
	// map order.
	best, bestD := "", 1<<30
	for n := range registry {
		d := textdist.Levenshtein(name, n)
		better := d < bestD
		if d == bestD {
			bp, np := strings.HasPrefix(best, name), strings.HasPrefix(n, name)
			better = np && !bp || np == bp && n < best
		}
		if better {
			best, bestD = n, d
		}
	}
	if best != "" && bestD <= 3 {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

func rawTS(c *Ctx, e *state.Event, d []byte) ([]byte, bool) { return appendU(d, e.Ts), true }

// setTimeJSON makes time fields raw nanoseconds in JSON, as sysdig does.
func setTimeJSON() {
	for _, n := range []string{"evt.time", "evt.time.s", "evt.datetime", "evt.datetime.s", "evt.outputtime"} {
		registry[n].JSON = rawTS
		registry[n].Kind = KindUint
	}
}

func thread(e *state.Event) *state.Thread { return e.Thread }

func appendU(dst []byte, v uint64) []byte { return strconv.AppendUint(dst, v, 10) }
func appendI(dst []byte, v int64) []byte  { return strconv.AppendInt(dst, v, 10) }

// TypeName is evt.type: the event name, or the syscall name for generic events.
func TypeName(e *state.Event) string {
	if (e.Type == event.GenericE || e.Type == event.GenericX) && e.NParams > 0 {
		if n, ok := event.SyscallName(get16(e.Param(0))); ok {
			return n
		}
	}
	return e.Info.Name
}

func resParam(e *state.Event) []byte {
	if i := e.ParamIndex("res"); i >= 0 && i < e.NParams {
		return e.Param(i)
	}
	if e.Info.Flags&event.EFCreatesFD != 0 && !e.Type.IsEnter() {
		if i := e.ParamIndex("fd"); i >= 0 && i < e.NParams {
			return e.Param(i)
		}
	}
	return nil
}

func (c *Ctx) appendRes(d []byte, e *state.Event) ([]byte, bool) {
	p := resParam(e)
	if p == nil {
		return d, false
	}
	v := int64(get64(p))
	if v >= 0 {
		return append(d, "SUCCESS"...), true
	}
	if n := event.ErrnoName(int64(int32(v))); n != "" {
		return append(d, n...), true
	}
	return appendI(d, v), true
}

// AppendArgs appends evt.info/evt.args: "name=value " or "name=value(resolved) " for each param.
func (c *Ctx) AppendArgs(d []byte, e *state.Event) []byte {
	if e.Type == event.GenericE || e.Type == event.GenericX {
		return d
	}
	for i := 0; i < e.NParams && i < len(e.Info.Params); i++ {
		v, res := c.R.Param(e, i, c.R.BufFmt)
		d = append(d, e.Info.Params[i].Name...)
		d = append(d, '=')
		d = append(d, v...)
		if len(res) > 0 {
			d = append(d, '(')
			d = append(d, res...)
			d = append(d, ')')
		}
		d = append(d, ' ')
	}
	return d
}

// localOffset is the offset of the local time zone, as sysdig computes it once at start.
var localOffset = func() int64 {
	_, off := time.Now().Zone()
	return int64(off)
}()

func appendClock(d []byte, ts uint64, date, ns bool) []byte {
	sec := int64(ts/1e9) + localOffset
	if date {
		d = appendDate(d, sec)
		d = append(d, ' ')
	}
	d = appendHMS(d, sec)
	if ns {
		d = append(d, '.')
		d = append9(d, ts%1e9)
	}
	return d
}

// appendDate appends YYYY-MM-DD for sec seconds since the epoch, in UTC.
func appendDate(d []byte, sec int64) []byte {
	y, m, day := time.Unix(sec, 0).UTC().Date()
	d = append4(d, y)
	d = append(d, '-')
	d = append2(d, int(m))
	d = append(d, '-')
	return append2(d, day)
}

// appendHMS appends HH:MM:SS for sec seconds since the epoch, in UTC.
func appendHMS(d []byte, sec int64) []byte {
	s := sec % 86400
	d = append2(d, int(s/3600))
	d = append(d, ':')
	d = append2(d, int(s%3600/60))
	d = append(d, ':')
	return append2(d, int(s%60))
}

func append2(d []byte, v int) []byte {
	return append(d, byte('0'+v/10%10), byte('0'+v%10))
}

func append4(d []byte, v int) []byte {
	return append(d, byte('0'+v/1000%10), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

func append9(d []byte, v uint64) []byte {
	var b [9]byte
	for i := 8; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return append(d, b[:]...)
}
