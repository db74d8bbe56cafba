package state

import (
	"strconv"
)

// IsPrint reports whether c is a character sysdig keeps in names (printable ASCII).
func IsPrint(c byte) bool { return c >= 0x20 && c < 0x7f }

// Sanitize removes the characters sysdig drops from names: everything but printable ASCII.
func Sanitize(s string) string {
	for i := 0; i < len(s); i++ {
		if !IsPrint(s[i]) {
			b := make([]byte, 0, len(s))
			for j := 0; j < len(s); j++ {
				if IsPrint(s[j]) {
					b = append(b, s[j])
				}
			}
			return string(b)
		}
	}
	return s
}

// maxPath is SCAP_MAX_PATH_SIZE.
const maxPath = 1024

// ConcatPaths joins dir and path the way libsinsp does: an absolute path replaces
// dir; "." and ".." components are resolved; repeated slashes are collapsed;
// unprintable characters become '.'; a trailing slash is dropped. path may end with NUL.
func ConcatPaths(dir string, path []byte) string {
	return string(AppendConcatPaths(make([]byte, 0, len(dir)+len(path)), dir, 0, path))
}

// AppendConcatPaths appends to dst what ConcatPaths returns for the
// directory dir followed by sep (0: nothing) and path, without allocating.
func AppendConcatPaths(dst []byte, dir string, sep byte, path []byte) []byte {
	n := len(dir)
	if sep != 0 {
		n++
	}
	if n+len(path)+1 > maxPath {
		return append(dst, "/PATH_TOO_LONG"...)
	}
	relative := len(path) != 0 && path[0] != '/'
	path = trimNul(path)
	t := dst[len(dst):]
	if relative {
		t = append(t, dir...)
		if sep != 0 {
			t = append(t, sep)
		}
	}
	return append(dst, sanitizePath(t, path)...)
}

// sanitizePath appends path to t (whose first byte is the root of the result) resolving . and ..
func sanitizePath(t []byte, p []byte) []byte {
	at := func(i int) byte {
		if i < len(p) {
			return p[i]
		}
		return 0
	}
	i := 0
	for {
		c := at(i)
		if c == 0 {
			if len(t) > 1 && t[len(t)-1] == '/' {
				t = t[:len(t)-1]
			}
			return t
		}
		switch {
		case !IsPrint(c):
			t = append(t, '.')
			i++
		case c == '.' && at(i+1) == '.' && at(i+2) == '/':
			t = rewindParent(t)
			i += 3
		case c == '.' && at(i+1) == '.':
			if at(i+2) == 0 {
				t = rewindParent(t)
				i += 2
			} else {
				t = append(t, '.', '.')
				i += 2
			}
		case c == '.' && at(i+1) == '/':
			i += 2
		case c == '.':
			if at(i+1) == 0 {
				i++
			} else {
				t = append(t, c)
				i++
			}
		case c == '/':
			if len(t) > 0 && t[len(t)-1] == '/' {
				i++
			} else {
				t = append(t, c)
				i++
			}
		default:
			t = append(t, c)
			i++
		}
	}
}

// rewindParent drops the last path component of t (which ends with '/').
func rewindParent(t []byte) []byte {
	if len(t) <= 1 {
		return t
	}
	n := len(t) - 1
	for n >= 1 && t[n-1] != '/' {
		n--
	}
	return t[:n]
}

func isV4Mapped(ip []byte) bool {
	if len(ip) < 16 {
		return false
	}
	for i := 0; i < 10; i++ {
		if ip[i] != 0 {
			return false
		}
	}
	// libsinsp takes the all-zero address for IPv4 too (sinsp_utils::is_ipv4_mapped_ipv6).
	return ip[10] == 0xff && ip[11] == 0xff || string(ip[10:16]) == "\x00\x00\x00\x00\x00\x00"
}

// IsV4Mapped reports whether a 16-byte address is an IPv4-mapped IPv6 address.
func IsV4Mapped(ip []byte) bool { return isV4Mapped(ip) }

// AppendIPv4 appends the dotted form of a 4-byte address.
func AppendIPv4(b []byte, ip []byte) []byte {
	for i := 0; i < 4; i++ {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendUint(b, uint64(ip[i]), 10)
	}
	return b
}

// AppendIPv6 appends a 16-byte address as glibc's inet_ntop writes it.
func AppendIPv6(b []byte, ip []byte) []byte {
	var w [8]uint16
	for i := 0; i < 8; i++ {
		w[i] = uint16(ip[2*i])<<8 | uint16(ip[2*i+1])
	}
	bestBase, bestLen := -1, 0
	curBase, curLen := -1, 0
	for i := 0; i < 8; i++ {
		if w[i] == 0 {
			if curBase == -1 {
				curBase, curLen = i, 1
			} else {
				curLen++
			}
		} else if curBase != -1 {
			if bestBase == -1 || curLen > bestLen {
				bestBase, bestLen = curBase, curLen
			}
			curBase = -1
		}
	}
	if curBase != -1 && (bestBase == -1 || curLen > bestLen) {
		bestBase, bestLen = curBase, curLen
	}
	if bestBase != -1 && bestLen < 2 {
		bestBase = -1
	}
	for i := 0; i < 8; i++ {
		if bestBase != -1 && i >= bestBase && i < bestBase+bestLen {
			if i == bestBase {
				b = append(b, ':')
			}
			continue
		}
		if i != 0 {
			b = append(b, ':')
		}
		if i == 6 && bestBase == 0 && (bestLen == 6 || (bestLen == 5 && w[5] == 0xffff)) {
			return AppendIPv4(b, ip[12:16])
		}
		b = strconv.AppendUint(b, uint64(w[i]), 16)
	}
	if bestBase != -1 && bestBase+bestLen == 8 {
		b = append(b, ':')
	}
	return b
}

func ipv4Addr(ip [16]byte, port uint16) string {
	b := AppendIPv4(make([]byte, 0, 24), ip[:4])
	b = append(b, ':')
	return string(strconv.AppendUint(b, uint64(port), 10))
}

func ipv4Tuple(sip [16]byte, sport uint16, dip [16]byte, dport uint16) string {
	b := make([]byte, 0, 48)
	b = AppendIPv4(b, sip[:4])
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(sport), 10)
	b = append(b, "->"...)
	b = AppendIPv4(b, dip[:4])
	b = append(b, ':')
	return string(strconv.AppendUint(b, uint64(dport), 10))
}

func ipv6Addr(ip [16]byte, port uint16) string {
	b := AppendIPv6(make([]byte, 0, 48), ip[:])
	b = append(b, ':')
	return string(strconv.AppendUint(b, uint64(port), 10))
}

func ipv6Tuple(sip [16]byte, sport uint16, dip [16]byte, dport uint16) string {
	b := make([]byte, 0, 96)
	b = AppendIPv6(b, sip[:])
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(sport), 10)
	b = append(b, "->"...)
	b = AppendIPv6(b, dip[:])
	b = append(b, ':')
	return string(strconv.AppendUint(b, uint64(dport), 10))
}

// AppendSockAddr appends a PT_SOCKADDR value as sysdig prints it.
func AppendSockAddr(b []byte, p []byte) []byte {
	if len(p) == 0 {
		return append(b, "NULL"...)
	}
	switch p[0] {
	case afUnix:
		return appendSanitized(b, trimNul(p[1:]))
	case afInet:
		if len(p) != 7 {
			return append(b, "INVALID IPv4"...)
		}
		b = AppendIPv4(b, p[1:5])
		b = append(b, ':')
		return strconv.AppendUint(b, uint64(le.Uint16(p[5:])), 10)
	case afInet6:
		if len(p) != 19 {
			return append(b, "INVALID IPv6"...)
		}
		b = AppendIPv6(b, p[1:17])
		b = append(b, ':')
		return strconv.AppendUint(b, uint64(le.Uint16(p[17:])), 10)
	}
	b = append(b, "family "...)
	return strconv.AppendInt(b, int64(int8(p[0])), 10)
}

// AppendSockTuple appends a PT_SOCKTUPLE value as sysdig prints it.
func AppendSockTuple(b []byte, p []byte) []byte {
	if len(p) == 0 {
		return append(b, "NULL"...)
	}
	switch p[0] {
	case afInet:
		if len(p) != 13 {
			return append(b, "INVALID IPv4"...)
		}
		b = AppendIPv4(b, p[1:5])
		b = append(b, ':')
		b = strconv.AppendUint(b, uint64(le.Uint16(p[5:])), 10)
		b = append(b, "->"...)
		b = AppendIPv4(b, p[7:11])
		b = append(b, ':')
		return strconv.AppendUint(b, uint64(le.Uint16(p[11:])), 10)
	case afInet6:
		if len(p) != 37 {
			return append(b, "INVALID IPv6"...)
		}
		sip, dip := p[1:17], p[19:35]
		sport, dport := le.Uint16(p[17:]), le.Uint16(p[35:])
		if isV4Mapped(sip) && isV4Mapped(dip) {
			b = AppendIPv4(b, sip[12:])
			b = append(b, ':')
			b = strconv.AppendUint(b, uint64(sport), 10)
			b = append(b, "->"...)
			b = AppendIPv4(b, dip[12:])
			b = append(b, ':')
			return strconv.AppendUint(b, uint64(dport), 10)
		}
		b = AppendIPv6(b, sip)
		b = append(b, ':')
		b = strconv.AppendUint(b, uint64(sport), 10)
		b = append(b, "->"...)
		b = AppendIPv6(b, dip)
		b = append(b, ':')
		return strconv.AppendUint(b, uint64(dport), 10)
	case afUnix:
		if len(p) < 17 {
			return append(b, "INVALID UNIX"...)
		}
		b = strconv.AppendUint(b, le.Uint64(p[1:]), 16)
		b = append(b, "->"...)
		b = strconv.AppendUint(b, le.Uint64(p[9:]), 16)
		b = append(b, ' ')
		return appendSanitized(b, trimNul(p[17:]))
	}
	b = append(b, "family "...)
	return strconv.AppendInt(b, int64(int8(p[0])), 10)
}

func appendSanitized(b []byte, s []byte) []byte {
	for _, c := range s {
		if IsPrint(c) {
			b = append(b, c)
		}
	}
	return b
}

// SockAddrString renders a PT_SOCKADDR value.
func SockAddrString(p []byte) string { return string(AppendSockAddr(nil, p)) }

// SockTupleString renders a PT_SOCKTUPLE value.
func SockTupleString(p []byte) string { return string(AppendSockTuple(nil, p)) }
