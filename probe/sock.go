package probe

import (
	"encoding/binary"
	"unsafe"
)

// Offsets in struct sockinfo, from the generated Go type.
const (
	sockinfoLen       = int(unsafe.Sizeof(probeSockinfo{}))
	sockSaddr         = int(unsafe.Offsetof(probeSockinfo{}.Saddr))
	sockDaddr         = int(unsafe.Offsetof(probeSockinfo{}.Daddr))
	sockFamily        = int(unsafe.Offsetof(probeSockinfo{}.Family))
	sockSport         = int(unsafe.Offsetof(probeSockinfo{}.Sport))
	sockDport         = int(unsafe.Offsetof(probeSockinfo{}.Dport))
	sockState         = int(unsafe.Offsetof(probeSockinfo{}.State))
	sockLplen         = int(unsafe.Offsetof(probeSockinfo{}.Lplen))
	sockAckBacklog    = int(unsafe.Offsetof(probeSockinfo{}.AckBacklog))
	sockMaxAckBacklog = int(unsafe.Offsetof(probeSockinfo{}.MaxAckBacklog))
	sockLpath         = int(unsafe.Offsetof(probeSockinfo{}.Lpath))
	vminfoLen         = int(unsafe.Sizeof(probeVminfo{}))
)

const (
	afUnix  = 1
	afInet  = 2
	afInet6 = 10

	tcpSynSent = 2
	tcpClose   = 7
)

var be = binary.BigEndian

// appendUnixPath appends a socket path as the driver stores it: up to the first NUL,
// an abstract name (leading NUL) as "@name", then a NUL.
func appendUnixPath(b, path []byte, named bool) []byte {
	if len(path) > 107 {
		path = path[:107]
	}
	if len(path) > 0 && path[0] == 0 && named {
		b = append(b, '@')
		path = path[1:]
	}
	if i := indexNul(path); i >= 0 {
		path = path[:i]
	}
	b = append(b, path...)
	return append(b, 0)
}

// appendSockaddr encodes a user sockaddr as PT_SOCKADDR: the family, then the IPv4 or
// IPv6 address and port, or the unix path. Other families and empty addresses are empty.
func appendSockaddr(b, sa []byte) []byte {
	if len(sa) < 2 {
		return b
	}
	fam := le.Uint16(sa)
	switch fam {
	case afInet:
		if len(sa) < 8 {
			return b
		}
		b = append(b, SocketFamily(fam))
		b = append(b, sa[4:8]...)
		return le.AppendUint16(b, be.Uint16(sa[2:]))
	case afInet6:
		if len(sa) < 24 {
			return b
		}
		b = append(b, SocketFamily(fam))
		b = append(b, sa[8:24]...)
		return le.AppendUint16(b, be.Uint16(sa[2:]))
	case afUnix:
		b = append(b, SocketFamily(fam))
		return appendUnixPath(b, sa[2:], len(sa) > 2)
	}
	return b
}

// appendTuple encodes the PT_SOCKTUPLE of a tuple op, following the driver: the socket's
// own address, and the peer's either from the socket (accept) or from the address the
// caller passed (connect, sendto, recvfrom, sendmsg, recvmsg). Empty when there is none.
func (c *converter) appendTuple(b []byte, o *op) []byte {
	r := &c.rec
	si := r.item(o.item)
	if len(si) < sockinfoLen || le.Uint64(si) == 0 {
		return b
	}
	inbound := o.arg == tupAccept || o.arg == tupRecvfrom || o.arg == tupRecvmsg
	var user []byte
	if o.arg != tupAccept {
		if (o.arg == tupRecvfrom || o.arg == tupRecvmsg) && r.ret < 0 {
			return b
		}
		user = r.item(o.item2)
		if len(user) == 0 {
			return b
		}
	} else if r.ret < 0 {
		return b
	}
	fam := le.Uint16(si[sockFamily:])
	switch fam {
	case afInet, afInet6:
		n := 4
		if fam == afInet6 {
			n = 16
		}
		local := si[sockSaddr : sockSaddr+n]
		lport := le.Uint16(si[sockSport:])
		var peer []byte
		var pport uint16
		if user == nil {
			state := si[sockState]
			if le.Uint16(si[sockDport:]) == 0 || state == tcpClose || state == tcpSynSent {
				peer = make0(n)
				local = peer
				lport = 0
			} else {
				peer = si[sockDaddr : sockDaddr+n]
				pport = le.Uint16(si[sockDport:])
			}
		} else {
			off := 4
			if fam == afInet6 {
				off = 8
			}
			if len(user) < off+n {
				user = append(user[:len(user):len(user)], make0(off+n-len(user))...)
			}
			peer = user[off : off+n]
			pport = be.Uint16(user[2:])
		}
		b = append(b, SocketFamily(fam))
		if inbound {
			b = append(b, peer...)
			b = le.AppendUint16(b, pport)
			b = append(b, local...)
			b = le.AppendUint16(b, lport)
		} else {
			b = append(b, local...)
			b = le.AppendUint16(b, lport)
			b = append(b, peer...)
			b = le.AppendUint16(b, pport)
		}
	case afUnix:
		sk, peer := le.Uint64(si), le.Uint64(si[8:])
		b = append(b, SocketFamily(fam))
		if inbound {
			b = le.AppendUint64(b, sk)
			b = le.AppendUint64(b, peer)
		} else {
			b = le.AppendUint64(b, peer)
			b = le.AppendUint64(b, sk)
		}
		switch {
		case inbound:
			lplen := int(si[sockLplen])
			b = appendUnixPath(b, si[sockLpath:sockLpath+108], lplen > 0)
		case user != nil:
			var p []byte
			if len(user) > 2 {
				p = user[2:]
			}
			b = appendUnixPath(b, p, len(p) > 0)
		default:
			b = append(b, 0)
		}
	}
	return b
}

var zeros [16]byte

func make0(n int) []byte { return zeros[:n] }
