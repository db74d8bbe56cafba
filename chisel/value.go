package chisel

import (
	"math"
	"strconv"
	"unsafe"

	"github.com/yuin/gopher-lua/pm"

	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/field"
	"github.com/syscope/syscope/state"
)

// ValueKind is how the values of a field reach a chisel: as libsinsp hands
// them to Lua, by the field's type.
type ValueKind uint8

// The kinds of field values.
const (
	// ValueNone: the field never has a value for chisels (socket addresses).
	ValueNone ValueKind = iota
	// ValueString: the value as -p renders it.
	ValueString
	// ValueNumber: an integer type; the decimal rendering read as a number.
	ValueNumber
	// ValueFloat: a floating point type.
	ValueFloat
	// ValueBool: a boolean.
	ValueBool
)

// Value is one value of a field as a chisel sees it.
type Value struct {
	// Kind is ValueNone when the field has no value for the event. A
	// number or boolean field whose text does not read as one is a string.
	Kind ValueKind
	Num  float64 // ValueNumber, ValueFloat
	Bool bool    // ValueBool
	// Str is the text of a ValueString, valid until the reader reads again.
	Str []byte
}

// FieldReader reads a field's values as chisels get them (evt.field in Lua):
// the same extractors as -p and filters, with the value converted by type.
type FieldReader struct {
	Field *field.Field
	kind  ValueKind
	ex    field.Extractor
	buf   []byte
}

// NewFieldReader resolves a field name as a chisel writes it ("fd.name",
// "evt.arg.fd", "proc.aname[2]") and returns its reader.
func NewFieldReader(name string) (*FieldReader, error) {
	f, err := RequestField(name)
	if err != nil {
		return nil, err
	}
	kind, ex := fieldValueKind(f)
	return &FieldReader{Field: f, kind: kind, ex: ex}, nil
}

// Kind is the kind of the field's values (a number or boolean may still
// come as a string when its text does not read as one).
func (r *FieldReader) Kind() ValueKind { return r.kind }

// Read extracts the field from e. It does not allocate once its buffer has
// grown to the field's largest value.
func (r *FieldReader) Read(c *field.Ctx, e *state.Event) Value {
	if r.kind == ValueNone {
		return Value{}
	}
	b, ok := r.ex(c, e, r.buf[:0])
	r.buf = b
	if !ok {
		return Value{}
	}
	switch r.kind {
	case ValueNumber:
		if v, ok := parseDecimal(b); ok {
			return Value{Kind: ValueNumber, Num: v}
		}
	case ValueFloat:
		if len(b) > 0 {
			// ParseFloat does not keep its argument when it succeeds.
			if v, err := strconv.ParseFloat(unsafe.String(&b[0], len(b)), 64); err == nil {
				return Value{Kind: ValueFloat, Num: v}
			}
		}
	case ValueBool:
		switch string(b) {
		case "true", "1":
			return Value{Kind: ValueBool, Bool: true}
		case "false", "0":
			return Value{Kind: ValueBool}
		}
	}
	return Value{Kind: ValueString, Str: b}
}

// IsNumber reports whether v is a number (integer or floating point).
func (v Value) IsNumber() bool { return v.Kind == ValueNumber || v.Kind == ValueFloat }

// Append appends v as Lua's tostring writes it (numbers as "%.14g",
// booleans as true and false); nothing for ValueNone.
func (v Value) Append(dst []byte) []byte {
	switch v.Kind {
	case ValueNumber, ValueFloat:
		return AppendNumber(dst, v.Num)
	case ValueBool:
		if v.Bool {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	}
	return append(dst, v.Str...)
}

// AppendNumber appends f as Lua's tostring writes a number ("%.14g"), without
// allocating for integers.
func AppendNumber(dst []byte, f float64) []byte {
	if f == math.Trunc(f) && math.Abs(f) < 1e14 && !(f == 0 && math.Signbit(f)) {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	return append(dst, fmtNumber(f)...)
}

// fieldValueKind chooses how a field's values reach chisels, as libsinsp
// does by the field's type, and the extractor that reads them.
func fieldValueKind(f *field.Field) (ValueKind, field.Extractor) {
	switch f.Type {
	case event.PTBool:
		return ValueBool, f.Raw
	case event.PTInt8, event.PTInt16, event.PTInt32, event.PTInt64,
		event.PTUint8, event.PTUint16, event.PTUint32, event.PTUint64,
		event.PTErrno, event.PTFD, event.PTPID, event.PTFD32, event.PTPID32,
		event.PTPort, event.PTL4Proto, event.PTRelTime, event.PTAbsTime,
		event.PTFlags8, event.PTFlags16, event.PTFlags32, event.PTMode,
		event.PTUID, event.PTGID, event.PTSigType, event.PTSyscallID,
		event.PTEnumFlags8, event.PTEnumFlags16, event.PTEnumFlags32:
		return ValueNumber, f.Raw
	case event.PTDouble:
		if f.Def.Name == "proc.fdusage" {
			return ValueFloat, fdUsage // -p prints it with one decimal; chisels get the double
		}
		return ValueFloat, f.Ex
	case event.PTSockAddr, event.PTSockFamily:
		return ValueNone, nil
	case event.PTCharBuf, event.PTFSPath, event.PTFSRelPath, event.PTByteBuf:
		if f.Def.Name == "evt.rawarg" {
			// libsinsp gives the parameter's bytes as they are: strings
			// with their NUL, buffers whole (up to its 65000-byte scratch).
			name := f.Arg
			return ValueString, func(c *field.Ctx, e *state.Event, d []byte) ([]byte, bool) {
				i := e.ParamIndex(name)
				if i < 0 || i >= e.NParams {
					return d, false
				}
				p := e.Param(i)
				if len(p) >= rawScratch {
					p = p[:rawScratch-1]
				}
				return append(d, p...), true
			}
		}
	}
	return ValueString, f.Ex
}

// LuaFind is string.find(s, pattern) ~= nil: whether the Lua pattern matches
// somewhere in s (LuaJIT's %g class included).
func LuaFind(s, pattern string) (bool, error) {
	p, _ := rewritePattern(pattern)
	ms, err := pm.Find(p, []byte(s), 0, 1)
	if err != nil {
		return false, err
	}
	return len(ms) > 0, nil
}
