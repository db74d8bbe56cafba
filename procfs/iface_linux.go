//go:build linux && (amd64 || arm64)

package procfs

import (
	"encoding/binary"
	"syscall"

	"github.com/syscope/syscope/scap"
)

// interfaces lists the IPv4 then the IPv6 addresses of the interfaces of the
// current network namespace, as libscap lists them through glibc's
// getifaddrs: with the netmask of the prefix, and as broadcast address the
// broadcast attribute, the peer of a point-to-point link, or else (for
// loopback, say) the address itself. Link speeds are 0, as libscap writes
// them.
func interfaces() ([]scap.Interface, error) {
	names := map[uint32]string{}
	rib, err := syscall.NetlinkRIB(syscall.RTM_GETLINK, syscall.AF_UNSPEC)
	if err != nil {
		return nil, err
	}
	msgs, err := syscall.ParseNetlinkMessage(rib)
	if err != nil {
		return nil, err
	}
	for i := range msgs {
		m := &msgs[i]
		if m.Header.Type != syscall.RTM_NEWLINK || len(m.Data) < syscall.SizeofIfInfomsg {
			continue
		}
		index := binary.NativeEndian.Uint32(m.Data[4:8])
		attrs, err := syscall.ParseNetlinkRouteAttr(m)
		if err != nil {
			continue
		}
		for _, a := range attrs {
			if a.Attr.Type == syscall.IFLA_IFNAME {
				names[index] = cstring(a.Value)
			}
		}
	}

	rib, err = syscall.NetlinkRIB(syscall.RTM_GETADDR, syscall.AF_UNSPEC)
	if err != nil {
		return nil, err
	}
	msgs, err = syscall.ParseNetlinkMessage(rib)
	if err != nil {
		return nil, err
	}
	var v4, v6 []scap.Interface
	for i := range msgs {
		m := &msgs[i]
		if m.Header.Type != syscall.RTM_NEWADDR || len(m.Data) < syscall.SizeofIfAddrmsg {
			continue
		}
		family, prefix := m.Data[0], int(m.Data[1])
		index := binary.NativeEndian.Uint32(m.Data[4:8])
		size := 4
		switch family {
		case syscall.AF_INET:
		case syscall.AF_INET6:
			size = 16
		default:
			continue
		}
		attrs, err := syscall.ParseNetlinkRouteAttr(m)
		if err != nil {
			continue
		}
		var addr, brd []byte
		label := ""
		for _, a := range attrs {
			v := a.Value
			switch a.Attr.Type {
			case syscall.IFA_ADDRESS:
				// A second address is the peer of a point-to-point link.
				if addr != nil {
					brd = v
				} else {
					addr = v
				}
			case syscall.IFA_LOCAL:
				// With both, the local attribute is the address, the other the peer.
				if addr != nil {
					brd = addr
				}
				addr = v
			case syscall.IFA_BROADCAST:
				brd = v
			case syscall.IFA_LABEL:
				label = cstring(v)
			}
		}
		if len(addr) < size {
			continue
		}
		it := scap.Interface{IPv6: size == 16, Name: label, HasSpeed: true}
		if it.Name == "" {
			it.Name = names[index]
		}
		copy(it.Addr[:size], addr)
		if len(brd) >= size {
			copy(it.Bcast[:size], brd)
		}
		prefix = min(prefix, size*8)
		for b := 0; b < prefix; b++ {
			it.Netmask[b/8] |= 0x80 >> (b % 8)
		}
		if it.IPv6 {
			v6 = append(v6, it)
		} else {
			v4 = append(v4, it)
		}
	}
	return append(v4, v6...), nil
}

// cstring returns b up to its first NUL.
func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
