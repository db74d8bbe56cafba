// Package filter compiles sysdig filter expressions ("proc.name=nginx and
// fd.type in (ipv4, ipv6)") into a tree of closures that select events.
//
// The language is sysdig 0.29.3's, with what later libs added: the iglob,
// regex, bcontains and bstartswith operators, the tolower, toupper, b64,
// basename and len transformers, and val(field) to compare two fields.
// Values are compared by the field's type, as sysdig does: numbers
// numerically, addresses and networks as addresses, strings as bytes. A
// field that has no value for an event makes every comparison false (so
// "fd.name != x" is false for an event without an fd, and "not fd.name = x"
// is true).
//
// Compilation reports problems as *Error, with the position in the text.
// Evaluation allocates nothing. A Filter is not safe for concurrent use.
package filter

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/field"
	"github.com/syscope/syscope/internal/glob"
	"github.com/syscope/syscope/state"
)

// Filter is a compiled filter.
type Filter struct {
	text   string
	root   pred
	fields []*field.Field
}

type pred func(c *field.Ctx, e *state.Event) bool

// Compile parses and compiles a filter. Errors are *Error.
func Compile(text string) (*Filter, error) {
	n, err := Parse(text)
	if err != nil {
		return nil, err
	}
	f := &Filter{text: text}
	cp := &compiler{text: text, f: f}
	f.root, err = cp.node(n)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Match reports whether e passes the filter.
func (f *Filter) Match(c *field.Ctx, e *state.Event) bool { return f.root(c, e) }

// String returns the filter text.
func (f *Filter) String() string { return f.text }

// Fields returns the fields the filter reads.
func (f *Filter) Fields() []*field.Field { return f.fields }

type compiler struct {
	text string
	f    *Filter
}

func (cp *compiler) errf(pos int, format string, args ...any) error {
	return &Error{Filter: cp.text, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (cp *compiler) node(n Node) (pred, error) {
	switch n := n.(type) {
	case *And:
		ks, err := cp.nodes(n.Kids)
		if err != nil {
			return nil, err
		}
		if len(ks) == 2 {
			a, b := ks[0], ks[1]
			return func(c *field.Ctx, e *state.Event) bool { return a(c, e) && b(c, e) }, nil
		}
		return func(c *field.Ctx, e *state.Event) bool {
			for _, k := range ks {
				if !k(c, e) {
					return false
				}
			}
			return true
		}, nil
	case *Or:
		ks, err := cp.nodes(n.Kids)
		if err != nil {
			return nil, err
		}
		if len(ks) == 2 {
			a, b := ks[0], ks[1]
			return func(c *field.Ctx, e *state.Event) bool { return a(c, e) || b(c, e) }, nil
		}
		return func(c *field.Ctx, e *state.Event) bool {
			for _, k := range ks {
				if k(c, e) {
					return true
				}
			}
			return false
		}, nil
	case *Not:
		k, err := cp.node(n.Kid)
		if err != nil {
			return nil, err
		}
		return func(c *field.Ctx, e *state.Event) bool { return !k(c, e) }, nil
	case *Check:
		return cp.check(n)
	}
	return nil, fmt.Errorf("filter: unknown node %T", n)
}

func (cp *compiler) nodes(ns []Node) ([]pred, error) {
	out := make([]pred, len(ns))
	for i, n := range ns {
		p, err := cp.node(n)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// operand is a resolved left or right side: how to get its bytes, and their type.
type operand struct {
	fld  *field.Field
	typ  event.ParamType
	each func(c *field.Ctx, e *state.Event, buf []byte, fn func([]byte) bool) bool
	tr   []string // transformers, innermost first
}

func (cp *compiler) operand(o *Operand) (*operand, error) {
	arg := o.Arg
	if !o.HasArg {
		arg = ""
	}
	fld, err := field.Lookup(o.Field, arg)
	if err != nil {
		return nil, cp.errf(o.Pos, "%v", err)
	}
	if fld.Def.Flags&field.PrintOnly != 0 {
		return nil, cp.errf(o.Pos, "%s can only be used in output formats (-p), not in filters", o.Field)
	}
	cp.f.fields = append(cp.f.fields, fld)
	r := &operand{fld: fld, typ: fld.Type}
	if fld.Def.Each != nil && !o.HasArg && fld.Arg == "" {
		r.each = fld.Def.Each
	}
	for i := len(o.Transformers) - 1; i >= 0; i-- {
		t := o.Transformers[i]
		r.tr = append(r.tr, t)
		if t == "len" {
			r.typ = event.PTUint64
		} else {
			if !isStringType(r.typ) {
				return nil, cp.errf(o.Pos, "%s() needs a string field, and %s is %s", t, o.Field, typeWord(r.typ))
			}
			r.typ = event.PTCharBuf
		}
	}
	return r, nil
}

func isStringType(t event.ParamType) bool {
	switch t {
	case event.PTCharBuf, event.PTFSPath, event.PTFSRelPath, event.PTByteBuf, event.PTDyn:
		return true
	}
	return false
}

// kind groups value types by how they compare.
type kind uint8

const (
	kString kind = iota
	kInt
	kUint
	kBool
	kIP
	kNet
	kPort
	kDouble
)

func kindOf(t event.ParamType) kind {
	switch t {
	case event.PTInt8, event.PTInt16, event.PTInt32, event.PTInt64, event.PTFD, event.PTPID, event.PTErrno, event.PTFD32, event.PTPID32:
		return kInt
	case event.PTUint8, event.PTUint16, event.PTUint32, event.PTUint64, event.PTRelTime, event.PTAbsTime,
		event.PTUID, event.PTGID, event.PTFlags8, event.PTFlags16, event.PTFlags32, event.PTMode,
		event.PTSyscallID, event.PTSigType, event.PTEnumFlags8, event.PTEnumFlags16, event.PTEnumFlags32, event.PTL4Proto, event.PTSockFamily:
		return kUint
	case event.PTPort:
		return kPort
	case event.PTBool:
		return kBool
	case event.PTIPv4Addr, event.PTIPv6Addr, event.PTIPAddr:
		return kIP
	case event.PTIPv4Net, event.PTIPv6Net, event.PTIPNet:
		return kNet
	case event.PTDouble:
		return kDouble
	}
	return kString
}

func typeWord(t event.ParamType) string {
	switch kindOf(t) {
	case kInt, kUint, kPort, kDouble:
		return "a number"
	case kBool:
		return "a boolean (true or false)"
	case kIP:
		return "an IP address"
	case kNet:
		return "an IP network"
	}
	return "a string"
}

// opsFor lists the operators each kind accepts.
var opsFor = map[kind]string{
	kString: "= != < <= > >= contains icontains bcontains startswith bstartswith endswith glob iglob regex in intersects pmatch exists",
	kInt:    "= != < <= > >= in intersects exists",
	kUint:   "= != < <= > >= in intersects exists",
	kPort:   "= != < <= > >= in intersects exists",
	kDouble: "= != < <= > >= in intersects exists",
	kBool:   "= != in intersects exists",
	kIP:     "= != in intersects exists",
	kNet:    "= != in intersects exists",
}

func opAllowed(k kind, op string) bool {
	for _, o := range strings.Fields(opsFor[k]) {
		if o == op {
			return true
		}
	}
	return false
}

// matcher tests one extracted value.
type matcher func(b []byte) bool

func (cp *compiler) check(ck *Check) (pred, error) {
	left, err := cp.operand(&ck.Left)
	if err != nil {
		return nil, err
	}
	k := kindOf(left.typ)
	if !opAllowed(k, ck.Op) {
		return nil, cp.errf(ck.OpPos, "operator %q cannot be used with %s, which is %s (it accepts: %s)",
			ck.Op, ck.Left.Field, typeWord(left.typ), opsFor[k])
	}
	if ck.Op == "pmatch" && left.fld.Def.Type == event.PTByteBuf {
		// As sysdig: pmatch compares paths, and a byte buffer is none.
		return nil, cp.errf(ck.OpPos, "operator %q cannot be used with %s, which is a byte buffer (pmatch needs a string field)",
			ck.Op, ck.Left.Field)
	}
	name := left.fld.Def.Name
	if name == "evt.around" {
		return cp.around(ck, left)
	}
	var m matcher
	switch {
	case ck.Op == "exists":
		m = func([]byte) bool { return true }
	case len(ck.Values) == 1 && ck.Values[0].Field != nil:
		return cp.fieldCompare(ck, left, k)
	default:
		for _, v := range ck.Values {
			if v.Field != nil {
				return nil, cp.errf(v.Pos, "val() cannot be used inside a list")
			}
			if name == "evt.type" {
				if err := cp.checkEventType(v); err != nil {
					return nil, err
				}
			}
		}
		m, err = cp.matcher(ck, k, left.typ)
		if err != nil {
			return nil, err
		}
	}
	if len(left.tr) > 0 {
		m = transformed(left.tr, m)
	}
	return cp.bind(ck, left, m), nil
}

// around compiles evt.around[T]=D: events within D milliseconds of the
// timestamp T (in nanoseconds), either side.
func (cp *compiler) around(ck *Check, left *operand) (pred, error) {
	if ck.Op != "=" {
		return nil, cp.errf(ck.OpPos, "evt.around accepts only '=': evt.around[TIMESTAMP_NS]=MILLISECONDS")
	}
	t, err := strconv.ParseUint(left.fld.Arg, 10, 64)
	if err != nil {
		return nil, cp.errf(ck.Left.Pos, "evt.around needs a timestamp in nanoseconds as its argument, not %q", left.fld.Arg)
	}
	if ck.Values[0].Field != nil {
		return nil, cp.errf(ck.Values[0].Pos, "evt.around needs a number of milliseconds")
	}
	ms, err := strconv.ParseUint(ck.Values[0].Text, 10, 64)
	if err != nil {
		return nil, cp.errf(ck.Values[0].Pos, "%q is not a number of milliseconds", ck.Values[0].Text)
	}
	delta := ms * 1e6
	return func(c *field.Ctx, e *state.Event) bool {
		// The same unsigned arithmetic as sysdig, wrap-around included.
		return t >= e.Ts-delta && t <= e.Ts+delta
	}, nil
}

// bind extracts the left operand and applies m to it.
func (cp *compiler) bind(ck *Check, left *operand, m matcher) pred {
	if left.each != nil {
		each := left.each
		buf := make([]byte, 0, 256)
		if ck.Op == "!=" && left.fld.Def.NotEqualAll {
			// fd.ip != X: true when the fd has addresses and none is X.
			v := &visitor{m: m}
			visit := v.visitNE
			return func(c *field.Ctx, e *state.Event) bool {
				v.n, v.bad = 0, false
				each(c, e, buf, visit)
				return v.n > 0 && !v.bad
			}
		}
		return func(c *field.Ctx, e *state.Event) bool { return each(c, e, buf, m) }
	}
	ex := left.fld.Raw
	var buf []byte
	return func(c *field.Ctx, e *state.Event) bool {
		b, ok := ex(c, e, buf[:0])
		buf = b
		return ok && m(b)
	}
}

// visitor counts values for the all-values form of != on multi-valued fields.
type visitor struct {
	m   matcher
	n   int
	bad bool
}

func (v *visitor) visitNE(b []byte) bool {
	v.n++
	if !v.m(b) {
		v.bad = true
		return true
	}
	return false
}

func (cp *compiler) checkEventType(v Value) error {
	if len(event.Lookup(v.Text)) > 0 {
		return nil
	}
	for id := 0; id < event.NumSyscalls; id++ {
		if n, ok := event.SyscallName(uint16(id)); ok && n == v.Text {
			return nil
		}
	}
	return cp.errf(v.Pos, "unknown event type %q (syscope -L lists them)", v.Text)
}

// matcher compiles the comparison of a value of kind k with the check's literal values.
func (cp *compiler) matcher(ck *Check, k kind, t event.ParamType) (matcher, error) {
	vals := ck.Values
	if ck.Op == "in" || ck.Op == "intersects" {
		if k == kString {
			set := make(map[string]struct{}, len(vals))
			for _, v := range vals {
				set[v.Text] = struct{}{}
			}
			return func(b []byte) bool { _, ok := set[string(b)]; return ok }, nil
		}
		ms := make([]matcher, len(vals))
		for i, v := range vals {
			m, err := cp.single(k, t, "=", v)
			if err != nil {
				return nil, err
			}
			ms[i] = m
		}
		return func(b []byte) bool {
			for _, m := range ms {
				if m(b) {
					return true
				}
			}
			return false
		}, nil
	}
	if ck.Op == "pmatch" {
		var prefixes [][]string
		for _, v := range vals {
			prefixes = append(prefixes, pathComponents(v.Text))
		}
		return func(b []byte) bool {
			for _, p := range prefixes {
				if pathHasPrefix(b, p) {
					return true
				}
			}
			return false
		}, nil
	}
	return cp.single(k, t, ck.Op, vals[0])
}

// single compiles "value OP literal".
func (cp *compiler) single(k kind, t event.ParamType, op string, v Value) (matcher, error) {
	switch k {
	case kInt:
		n, err := parseIntValue(v.Text)
		if err != nil {
			return nil, cp.errf(v.Pos, "%q is not a number", v.Text)
		}
		return intMatcher(op, n), nil
	case kUint, kPort:
		var n uint64
		var err error
		if k == kPort {
			n, err = parsePort(v.Text)
		} else {
			n, err = parseUintValue(v.Text)
		}
		if err != nil {
			if k == kPort {
				return nil, cp.errf(v.Pos, "%q is not a port number or a service name", v.Text)
			}
			return nil, cp.errf(v.Pos, "%q is not a non-negative number", v.Text)
		}
		return uintMatcher(op, n), nil
	case kDouble:
		f, err := strconv.ParseFloat(v.Text, 64)
		if err != nil {
			return nil, cp.errf(v.Pos, "%q is not a number", v.Text)
		}
		return func(b []byte) bool {
			x, err := strconv.ParseFloat(unsafeString(b), 64)
			return err == nil && cmpOrdered(op, x, f)
		}, nil
	case kBool:
		if v.Text != "true" && v.Text != "false" {
			return nil, cp.errf(v.Pos, "%q is not a boolean: use true or false", v.Text)
		}
		want := v.Text
		if op == "!=" {
			return func(b []byte) bool { return string(b) != want }, nil
		}
		return func(b []byte) bool { return string(b) == want }, nil
	case kIP:
		a, err := netip.ParseAddr(v.Text)
		if err != nil {
			return nil, cp.errf(v.Pos, "%q is not an IP address", v.Text)
		}
		eq := op == "="
		return func(b []byte) bool {
			x, ok := parseAddr(b)
			return ok && (x == a) == eq
		}, nil
	case kNet:
		p, err := parsePrefix(v.Text)
		if err != nil {
			return nil, cp.errf(v.Pos, "%q is not an IP network (like 10.0.0.0/8 or fd00::/8)", v.Text)
		}
		eq := op == "="
		return func(b []byte) bool {
			x, ok := parseAddr(b)
			return ok && p.Contains(x) == eq
		}, nil
	}
	return cp.stringMatcher(op, v, t)
}

func (cp *compiler) stringMatcher(op string, v Value, t event.ParamType) (matcher, error) {
	s := v.Text
	switch op {
	case "=":
		return func(b []byte) bool { return string(b) == s }, nil
	case "!=":
		return func(b []byte) bool { return string(b) != s }, nil
	case "<", "<=", ">", ">=":
		return func(b []byte) bool { return cmpOrdered(op, string(b), s) }, nil
	case "contains":
		sb := []byte(s)
		return func(b []byte) bool { return bytes.Contains(b, sb) }, nil
	case "icontains":
		sb := bytes.ToLower([]byte(s))
		return func(b []byte) bool { return containsFold(b, sb) }, nil
	case "startswith":
		return func(b []byte) bool { return len(b) >= len(s) && string(b[:len(s)]) == s }, nil
	case "endswith":
		return func(b []byte) bool { return len(b) >= len(s) && string(b[len(b)-len(s):]) == s }, nil
	case "bcontains", "bstartswith":
		raw, err := hex.DecodeString(s)
		if err != nil {
			return nil, cp.errf(v.Pos, "%s needs hexadecimal bytes (like 48454c4c4f), not %q", op, s)
		}
		if op == "bcontains" {
			return func(b []byte) bool { return bytes.Contains(b, raw) }, nil
		}
		return func(b []byte) bool { return bytes.HasPrefix(b, raw) }, nil
	case "glob":
		return func(b []byte) bool { return glob.Match(s, b, false) }, nil
	case "iglob":
		return func(b []byte) bool { return glob.Match(s, b, true) }, nil
	case "regex":
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, cp.errf(v.Pos, "bad regular expression: %v", err)
		}
		return re.Match, nil
	}
	return nil, cp.errf(v.Pos, "operator %q is not supported here", op)
}

// fieldCompare compiles "left OP val(right)".
func (cp *compiler) fieldCompare(ck *Check, left *operand, k kind) (pred, error) {
	v := ck.Values[0]
	right, err := cp.operand(v.Field)
	if err != nil {
		return nil, err
	}
	if right.each != nil || left.each != nil {
		return nil, cp.errf(v.Pos, "val() cannot compare multi-valued fields; give the field an argument")
	}
	switch ck.Op {
	case "=", "!=", "<", "<=", ">", ">=", "contains", "icontains", "startswith", "endswith":
	default:
		return nil, cp.errf(ck.OpPos, "operator %q cannot compare two fields", ck.Op)
	}
	lex, rex := left.fld.Raw, right.fld.Raw
	ltr, rtr := left.tr, right.tr
	op := ck.Op
	var lbuf, rbuf []byte
	var lt, rt scratch
	return func(c *field.Ctx, e *state.Event) bool {
		a, ok := lex(c, e, lbuf[:0])
		lbuf = a
		if !ok {
			return false
		}
		b, ok := rex(c, e, rbuf[:0])
		rbuf = b
		if !ok {
			return false
		}
		if len(ltr) > 0 {
			if a, ok = applyTransformers(ltr, a, &lt); !ok {
				return false
			}
		}
		if len(rtr) > 0 {
			if b, ok = applyTransformers(rtr, b, &rt); !ok {
				return false
			}
		}
		return compareDynamic(k, op, a, b)
	}, nil
}

// compareDynamic compares two extracted texts of kind k.
func compareDynamic(k kind, op string, a, b []byte) bool {
	switch k {
	case kInt:
		x, ok1 := parseIntText(a)
		y, ok2 := parseIntText(b)
		return ok1 && ok2 && cmpOrdered(op, x, y)
	case kUint, kPort:
		x, ok1 := parseUintText(a)
		y, ok2 := parseUintText(b)
		return ok1 && ok2 && cmpOrdered(op, x, y)
	case kIP, kNet:
		x, ok1 := parseAddr(a)
		y, ok2 := parseAddr(b)
		if !ok1 || !ok2 {
			return false
		}
		return (x == y) == (op == "=")
	}
	switch op {
	case "contains":
		return bytes.Contains(a, b)
	case "icontains":
		return containsFold(a, bytes.ToLower(b))
	case "startswith":
		return bytes.HasPrefix(a, b)
	case "endswith":
		return bytes.HasSuffix(a, b)
	}
	return cmpOrdered(op, string(a), string(b))
}

type ordered interface {
	~int64 | ~uint64 | ~float64 | ~string
}

func cmpOrdered[T ordered](op string, a, b T) bool {
	switch op {
	case "=":
		return a == b
	case "!=":
		return a != b
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	case ">=":
		return a >= b
	}
	return false
}

func intMatcher(op string, n int64) matcher {
	switch op {
	case "=":
		return func(b []byte) bool { x, ok := parseIntText(b); return ok && x == n }
	case "!=":
		return func(b []byte) bool { x, ok := parseIntText(b); return ok && x != n }
	}
	return func(b []byte) bool { x, ok := parseIntText(b); return ok && cmpOrdered(op, x, n) }
}

func uintMatcher(op string, n uint64) matcher {
	switch op {
	case "=":
		return func(b []byte) bool { x, ok := parseUintText(b); return ok && x == n }
	case "!=":
		return func(b []byte) bool { x, ok := parseUintText(b); return ok && x != n }
	}
	return func(b []byte) bool { x, ok := parseUintText(b); return ok && cmpOrdered(op, x, n) }
}

// parseIntValue parses a filter literal as sysdig does (decimal), also accepting 0x hex.
func parseIntValue(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		u, err := strconv.ParseUint(s[2:], 16, 64)
		return int64(u), err
	}
	return strconv.ParseInt(s, 10, 64)
}

func parseUintValue(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		return strconv.ParseUint(s[2:], 16, 64)
	}
	if strings.HasPrefix(s, "-") {
		// sysdig reads "-1" into an unsigned field as its two's complement.
		n, err := strconv.ParseInt(s, 10, 64)
		return uint64(n), err
	}
	return strconv.ParseUint(s, 10, 64)
}

func parsePort(s string) (uint64, error) {
	if n, err := strconv.ParseUint(s, 10, 16); err == nil {
		return n, nil
	}
	for _, proto := range []string{"tcp", "udp"} {
		if p, err := net.LookupPort(proto, s); err == nil {
			return uint64(p), nil
		}
	}
	return 0, fmt.Errorf("unknown service %q", s)
}

// parseIntText parses an extracted number: decimal, optionally signed, or 0x hex.
func parseIntText(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	u, ok := parseUintText(b)
	if !ok {
		return 0, false
	}
	if neg {
		return -int64(u), true
	}
	return int64(u), true
}

func parseUintText(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	if len(b) > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') {
		for _, c := range b[2:] {
			if !isHex(c) {
				return 0, false
			}
			n = n<<4 | uint64(unhex(c))
		}
		return n, true
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// parseAddr parses an extracted IPv4 or IPv6 address without allocating.
func parseAddr(b []byte) (netip.Addr, bool) {
	if len(b) == 0 {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(unsafeString(b))
	return a, err == nil
}

// parsePrefix parses a network; a bare address is a network of one.
func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, err
	}
	return p.Masked(), nil
}

// unsafeString views b as a string for a parse that does not keep it.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// transformed wraps m so that it sees the transformed value.
func transformed(tr []string, m matcher) matcher {
	var sc scratch
	return func(b []byte) bool {
		v, ok := applyTransformers(tr, b, &sc)
		return ok && m(v)
	}
}

// scratch holds two buffers that transformers write into in turn, so that
// each reads the previous one's output without allocating.
type scratch struct{ b [2][]byte }

// applyTransformers applies tr (innermost first) to b.
func applyTransformers(tr []string, b []byte, sc *scratch) ([]byte, bool) {
	for i, t := range tr {
		out := sc.b[i&1][:0]
		switch t {
		case "tolower", "toupper":
			for _, c := range b {
				if t == "tolower" && c >= 'A' && c <= 'Z' {
					c += 'a' - 'A'
				} else if t == "toupper" && c >= 'a' && c <= 'z' {
					c -= 'a' - 'A'
				}
				out = append(out, c)
			}
		case "basename":
			if j := bytes.LastIndexByte(b, '/'); j >= 0 {
				b = b[j+1:]
			}
			out = append(out, b...)
		case "b64":
			n := base64.StdEncoding.DecodedLen(len(b))
			out = slices.Grow(out, n)[:n]
			k, err := base64.StdEncoding.Decode(out, b)
			if err != nil {
				return nil, false
			}
			out = out[:k]
		case "len":
			out = strconv.AppendInt(out, int64(len(b)), 10)
		}
		sc.b[i&1] = out
		b = out
	}
	return b, true
}
