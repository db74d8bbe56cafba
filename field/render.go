package field

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/scap"
	"github.com/syscope/syscope/state"
)

var le = binary.LittleEndian

// BufFmt is how byte buffers are rendered (sysdig's -A, -x, -X, -b and their JSON forms).
type BufFmt uint32

// Buffer formats, as bits like libsinsp's param_fmt.
const (
	BufNormal        BufFmt = 0
	BufJSON          BufFmt = 1
	BufSimple        BufFmt = 2
	BufHex           BufFmt = 4
	BufHexASCII      BufFmt = 8
	BufEOLs          BufFmt = 16
	BufEOLsCompact   BufFmt = 32
	BufBase64        BufFmt = 64
	BufJSONEOLs      BufFmt = 128
	BufJSONHex       BufFmt = 256
	BufJSONHexASCII  BufFmt = 512
	BufJSONBase64    BufFmt = 1024
	jsonBufFormatAny        = BufJSON | BufJSONEOLs | BufJSONHex | BufJSONHexASCII | BufJSONBase64
)

// Renderer renders event parameters as sysdig does. It owns scratch buffers,
// so rendering allocates nothing once they have grown.
type Renderer struct {
	State  *state.State
	BufFmt BufFmt
	// MaxLen truncates rendered buffers (with "...") in the normal format; 0 means no limit.
	MaxLen int

	val, res []byte
	// RawBufLen is the length of the last rendered byte buffer (for evt.buffer).
	RawBufLen int
}

// Param renders parameter i of e: its value and its resolved form (which may be empty).
// The returned slices are valid until the next call.
func (r *Renderer) Param(e *state.Event, i int, f BufFmt) (val, resolved []byte) {
	r.val = r.val[:0]
	r.res = r.res[:0]
	p := e.Param(i)
	info := &e.Info.Params[i]
	pt := info.Type
	outerFmt := info.Fmt
	if pt == event.PTDyn && info.Dyn != nil && len(p) > 0 {
		idx := int(p[0])
		if idx < len(info.Dyn) {
			p = p[1:]
			pt = info.Dyn[idx].Type
		}
	}
	switch pt {
	case event.PTInt8:
		r.val = appendNum(r.val, int64(int8(get8(p))), uint64(uint8(get8(p))), outerFmt, 8)
	case event.PTInt16:
		r.val = appendNum(r.val, int64(int16(get16(p))), uint64(get16(p)), outerFmt, 16)
	case event.PTInt32:
		r.val = appendNum(r.val, int64(int32(get32(p))), uint64(get32(p)), outerFmt, 32)
	case event.PTInt64:
		r.val = appendNum(r.val, int64(get64(p)), get64(p), outerFmt, 64)
	case event.PTUint8:
		r.val = appendNum(r.val, int64(get8(p)), uint64(get8(p)), outerFmt, 8)
	case event.PTUint16:
		r.val = appendNum(r.val, int64(get16(p)), uint64(get16(p)), outerFmt, 16)
	case event.PTUint32:
		// sysdig prints unsigned 32-bit values with %d: large values come out negative.
		r.val = appendNum(r.val, int64(int32(get32(p))), uint64(get32(p)), outerFmt, 32)
	case event.PTUint64:
		r.val = appendNum(r.val, int64(get64(p)), get64(p), outerFmt, 64)
	case event.PTFD:
		r.renderFD(e, int64(get64(p)), f)
	case event.PTPID:
		v := int64(get64(p))
		r.val = strconv.AppendInt(r.val, v, 10)
		if t := r.State.Thread(v); t != nil {
			r.res = append(r.res, t.Comm...)
		}
	case event.PTErrno:
		v := int64(get64(p))
		r.val = strconv.AppendInt(r.val, v, 10)
		if v < 0 {
			r.res = append(r.res, event.ErrnoName(int64(int32(v)))...)
		}
	case event.PTCharBuf:
		r.val = append(r.val, cstr(p)...)
	case event.PTFSPath, event.PTFSRelPath:
		for _, c := range cstr(p) {
			if state.IsPrint(c) {
				r.val = append(r.val, c)
			}
		}
		// Relative paths are also shown resolved against the thread's cwd (or dirfd).
		if t := e.Thread; t != nil && len(p) > 0 && p[0] != '/' {
			if !(len(p) >= 4 && string(p[:4]) == "<NA>") {
				dir, sep := r.baseDir(e, i, t)
				r.res = state.AppendConcatPaths(r.res, dir, sep, p)
			}
		}
	case event.PTByteBuf:
		r.val = appendBuffer(r.val, p, f)
		n := len(r.val)
		if r.MaxLen != 0 && n > r.MaxLen && f == BufNormal {
			n = r.MaxLen
			if n > 3 {
				r.val[n-3], r.val[n-2], r.val[n-1] = '.', '.', '.'
			}
			r.val = r.val[:n]
		}
		r.RawBufLen = len(r.val)
	case event.PTSockAddr:
		r.val = state.AppendSockAddr(r.val, p)
	case event.PTSockTuple:
		r.val = state.AppendSockTuple(r.val, p)
	case event.PTFDList:
		r.renderFDList(e, p)
	case event.PTSyscallID:
		id := get16(p)
		name, ok := event.SyscallName(id)
		if !ok {
			r.val = append(r.val, "<unknown syscall>"...)
			break
		}
		r.val = strconv.AppendUint(r.val, uint64(id), 10)
		r.res = append(r.res, name...)
	case event.PTSigType:
		v := get8(p)
		r.val = strconv.AppendUint(r.val, uint64(v), 10)
		r.res = append(r.res, event.SignalName(v)...)
	case event.PTRelTime:
		v := get64(p)
		if v == math.MaxUint64 {
			r.val = append(r.val, "none"...)
			break
		}
		r.val = strconv.AppendUint(r.val, v, 10)
		r.res = appendG(r.res, float64(v)/1e9)
		r.res = append(r.res, 's')
	case event.PTFlags8, event.PTFlags16, event.PTFlags32:
		var v uint32
		switch pt {
		case event.PTFlags8:
			v = uint32(get8(p))
		case event.PTFlags16:
			v = uint32(get16(p))
		default:
			v = get32(p)
		}
		r.val = strconv.AppendUint(r.val, uint64(v), 10)
		r.res = appendFlags(r.res, v, info.Flags)
	case event.PTMode:
		v := get32(p)
		r.val = appendNum(r.val, int64(int32(v)), uint64(v), outerFmt, 32)
		r.res = appendFlags(r.res, v, info.Flags)
	case event.PTUID, event.PTGID:
		v := get32(p)
		if v == math.MaxUint32 {
			r.val = append(r.val, "-1"...)
			r.res = append(r.res, "<NONE>"...)
			break
		}
		r.val = strconv.AppendInt(r.val, int64(int32(v)), 10)
		name := ""
		found := false
		if pt == event.PTUID {
			if u := r.State.User(v); u != nil {
				name, found = u.Name, true
			}
		} else if g := r.State.Group(v); g != nil {
			name, found = g.Name, true
		}
		if found {
			for i := 0; i < len(name); i++ {
				if state.IsPrint(name[i]) {
					r.res = append(r.res, name[i])
				}
			}
		} else {
			r.res = append(r.res, "<NA>"...)
		}
	case event.PTCharBufArray, event.PTCharBufPairArray:
		// Only produced by tracer events, which hold pointers in memory: nothing to print from a file.
	case event.PTSigSet:
		v := get32(p)
		first := true
		for sig := 0; sig < 32; sig++ {
			if v&(1<<sig) != 0 {
				if name := event.SignalName(uint8(sig + 1)); name != "" {
					if !first {
						r.val = append(r.val, ' ')
					}
					r.val = append(r.val, name...)
					first = false
				}
			}
		}
	case event.PTAbsTime, event.PTDyn:
		r.val = append(r.val, "INVALID DYNAMIC PARAMETER"...)
	default:
		r.val = append(r.val, "(n.a.)"...)
	}
	return r.val, r.res
}

func get8(p []byte) uint8 {
	if len(p) < 1 {
		return 0
	}
	return p[0]
}

func get16(p []byte) uint16 {
	if len(p) < 2 {
		var b [2]byte
		copy(b[:], p)
		return le.Uint16(b[:])
	}
	return le.Uint16(p)
}

func get32(p []byte) uint32 {
	if len(p) < 4 {
		var b [4]byte
		copy(b[:], p)
		return le.Uint32(b[:])
	}
	return le.Uint32(p)
}

func get64(p []byte) uint64 {
	if len(p) < 8 {
		var b [8]byte
		copy(b[:], p)
		return le.Uint64(b[:])
	}
	return le.Uint64(p)
}

// cstr returns b up to its first NUL.
func cstr(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

// appendNum formats a number as printf would with sysdig's per-format conversion:
// PF_OCT is %#o, PF_HEX is %X, PF_10_PADDED_DEC is %09d, the rest %d.
func appendNum(b []byte, sv int64, uv uint64, f event.PrintFmt, bits int) []byte {
	switch f {
	case event.PFOct:
		u := uv
		if bits < 64 {
			u &= 1<<bits - 1
		}
		if u == 0 {
			return append(b, '0')
		}
		b = append(b, '0')
		return strconv.AppendUint(b, u, 8)
	case event.PFHex:
		u := uv
		if bits < 64 {
			u &= 1<<bits - 1
		}
		start := len(b)
		b = strconv.AppendUint(b, u, 16)
		for i := start; i < len(b); i++ {
			if b[i] >= 'a' && b[i] <= 'f' {
				b[i] -= 'a' - 'A'
			}
		}
		return b
	case event.PF10PaddedDec:
		if sv < 0 {
			b = append(b, '-')
			sv = -sv
		}
		for p := int64(100000000); p > 1 && sv < p; p /= 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, sv, 10)
	}
	return strconv.AppendInt(b, sv, 10)
}

// appendG formats like printf("%lg").
func appendG(b []byte, v float64) []byte {
	if v == 0 {
		return append(b, '0')
	}
	exp := int(math.Floor(math.Log10(math.Abs(v))))
	if exp < -4 || exp >= 6 {
		s := strconv.FormatFloat(v, 'e', 5, 64)
		// Trim trailing zeros of the mantissa, as %g does.
		mant, e := s, ""
		for i := 0; i < len(s); i++ {
			if s[i] == 'e' {
				mant, e = s[:i], s[i:]
				break
			}
		}
		mant = trimZeros(mant)
		// %g writes at least two exponent digits.
		if len(e) == 3 {
			e = e[:2] + "0" + e[2:]
		}
		return append(append(b, mant...), e...)
	}
	s := strconv.FormatFloat(v, 'f', 5-exp, 64)
	return append(b, trimZeros(s)...)
}

func trimZeros(s string) string {
	dot := false
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			dot = true
		}
	}
	if !dot {
		return s
	}
	for len(s) > 0 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}

// appendFlags appends the names of the flags set in v, as libsinsp does: the table is
// walked in order until an entry equal to v, which is then appended as well.
func appendFlags(b []byte, v uint32, table []event.NameValue) []byte {
	initial := v
	sep := false
	i := 0
	for ; i < len(table) && table[i].Value != initial; i++ {
		fv := table[i].Value
		if (fv == 0 && initial == 0) || (fv != 0 && v&fv == fv && v != 0) {
			if sep {
				b = append(b, '|')
			}
			b = append(b, table[i].Name...)
			sep = true
			v &^= fv
		}
	}
	if i < len(table) {
		if sep {
			b = append(b, '|')
		}
		b = append(b, table[i].Name...)
	}
	return b
}

func (r *Renderer) renderFD(e *state.Event, fd int64, f BufFmt) {
	r.val = strconv.AppendInt(r.val, fd, 10)
	t := e.Thread
	if t == nil {
		return
	}
	switch {
	case fd >= 0:
		fi := t.FD(fd)
		if fi == nil {
			return
		}
		r.res = append(r.res, '<')
		if f&BufSimple == 0 {
			r.res = append(r.res, fi.TypeChar())
		}
		if fi.IsSocket() {
			switch fi.L4() {
			case scap.L4TCP:
				r.res = append(r.res, 't')
			case scap.L4UDP:
				r.res = append(r.res, 'u')
			case scap.L4ICMP:
				r.res = append(r.res, 'i')
			case scap.L4Raw:
				r.res = append(r.res, 'r')
			}
		}
		r.res = append(r.res, '>')
		for i := 0; i < len(fi.Name); i++ {
			if state.IsPrint(fi.Name[i]) {
				r.res = append(r.res, fi.Name[i])
			}
		}
	case fd == -100:
		r.res = append(r.res, "AT_FDCWD"...)
	default:
		r.res = append(r.res, event.ErrnoName(int64(int32(fd)))...)
	}
}

func (r *Renderer) renderFDList(e *state.Event, p []byte) {
	t := e.Thread
	if t == nil || len(p) < 2 {
		return
	}
	n := int(le.Uint16(p))
	pos := 2
	for j := 0; j < n && pos+10 <= len(p); j++ {
		fd := int64(le.Uint64(p[pos:]))
		tch := byte('?')
		if fi := t.FD(fd); fi != nil {
			tch = fi.TypeChar()
		}
		r.val = strconv.AppendUint(r.val, uint64(fd), 10)
		r.val = append(r.val, ':', tch)
		r.val = strconv.AppendUint(r.val, uint64(uint32(int32(int16(le.Uint16(p[pos+8:]))))), 16)
		if j < n-1 {
			r.val = append(r.val, ' ')
		}
		pos += 10
	}
}

// baseDir is the directory a path parameter is relative to (libsinsp's
// get_base_dir): dir followed by sep, if sep is not 0.
func (r *Renderer) baseDir(e *state.Event, i int, t *state.Thread) (dir string, sep byte) {
	cwd := t.Cwd()
	info := &e.Info.Params[i]
	if info.Type != event.PTFSRelPath {
		return cwd, 0
	}
	d := int(info.DirFD)
	if d < 0 || d >= len(e.Info.Params) || e.Info.Params[d].Type != event.PTFD {
		return cwd, 0
	}
	dirfd := int64(get64(e.Param(d)))
	if dirfd == -100 {
		return cwd, 0
	}
	f := t.FD(dirfd)
	if f == nil || f.Name == "" {
		return "", 0
	}
	return state.Sanitize(f.Name), '/'
}

// appendBuffer renders a byte buffer in format f.
func appendBuffer(b []byte, src []byte, f BufFmt) []byte {
	if len(src) == 0 {
		return b
	}
	switch {
	case f&BufHex != 0 || f&BufHexASCII != 0:
		return appendHex(b, src, f)
	case f&BufBase64 != 0:
		return appendBase64(b, src)
	case f&jsonBufFormatAny != 0:
		switch {
		case f&(BufJSONHex|BufJSONHexASCII) != 0:
			return appendHex(b, src, f)
		case f&BufJSONEOLs != 0:
			return appendASCIIOnly(b, src, f)
		case f&BufJSONBase64 != 0:
			return appendBase64(b, src)
		}
		return appendDots(b, src)
	case f&(BufEOLs|BufEOLsCompact) != 0:
		return appendASCIIOnly(b, src, f)
	}
	return appendDots(b, src)
}

func isPrintByte(c byte) bool { return c >= 0x20 && c < 0x7f }

func appendDots(b []byte, src []byte) []byte {
	for _, c := range src {
		if isPrintByte(c) {
			b = append(b, c)
		} else {
			b = append(b, '.')
		}
	}
	return b
}

func appendASCIIOnly(b []byte, src []byte, f BufFmt) []byte {
	if f != BufEOLsCompact {
		b = append(b, '\n')
	}
	for j, c := range src {
		switch {
		case isPrintByte(c):
			b = append(b, c)
		case c == '\r':
			b = append(b, '\n')
		case c == '\n':
			if j > 0 && src[j-1] != '\r' {
				b = append(b, c)
			}
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

func appendHex(b []byte, src []byte, f BufFmt) []byte {
	ascii := f&(BufHexASCII|BufJSONHexASCII) != 0
	for j := 0; j < len(src); j += 16 {
		b = append(b, "\n\t0x"...)
		b = append(b, hexDigits[(j>>12)&15], hexDigits[(j>>8)&15], hexDigits[(j>>4)&15], hexDigits[j&15])
		b = append(b, ':')
		end := j + 16
		if end > len(src) {
			end = len(src)
		}
		chunks := 0
		for k := j; k < end; k += 2 {
			b = append(b, ' ')
			if k == len(src)-1 {
				b = append(b, hexDigits[src[k]>>4], hexDigits[src[k]&15])
			} else {
				b = append(b, hexDigits[src[k]>>4], hexDigits[src[k]&15], hexDigits[src[k+1]>>4], hexDigits[src[k+1]&15])
			}
			chunks++
		}
		if ascii {
			for ; chunks < 8; chunks++ {
				b = append(b, "     "...)
			}
			b = append(b, ' ', ' ')
			for k := j; k < end; k++ {
				if isPrintByte(src[k]) {
					b = append(b, src[k])
				} else {
					b = append(b, '.')
				}
			}
		}
	}
	return append(b, '\n')
}

const b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

func appendBase64(b []byte, src []byte) []byte {
	for j := 0; j < len(src); j += 3 {
		var a, c, d uint32
		a = uint32(src[j])
		if j+1 < len(src) {
			c = uint32(src[j+1])
		}
		if j+2 < len(src) {
			d = uint32(src[j+2])
		}
		t := a<<16 | c<<8 | d
		b = append(b, b64chars[t>>18&63], b64chars[t>>12&63], b64chars[t>>6&63], b64chars[t&63])
	}
	switch len(src) % 3 {
	case 1:
		b[len(b)-1], b[len(b)-2] = '=', '='
	case 2:
		b[len(b)-1] = '='
	}
	return b
}
