//go:build linux && (amd64 || arm64)

package procfs

import (
	"bytes"
	"encoding/binary"
	"sync"

	"github.com/syscope/syscope/scap"
)

// netTable is the sockets of one network namespace by inode, each an fd
// template holding its type and addresses. The tables of the namespace are
// read as lookups need them, each at most once: the TCP ones cost a walk of
// the kernel's whole connection hash, a millisecond or more however few
// sockets there are, so a namespace whose sockets are all found in the
// tables read before them does not pay for them.
type netTable struct {
	mu    sync.Mutex
	next  int // netFiles read so far
	socks map[uint64]scap.FD
}

// netFiles are the socket tables under /proc/PID/net, cheapest first. An
// inode is in one table only, so the order does not change what is found.
var netFiles = []struct {
	name  []byte
	parse func([]byte, map[uint64]scap.FD)
}{
	{cname("net/unix"), parseUnix},
	{cname("net/netlink"), parseNetlink},
	{cname("net/udp"), func(b []byte, m map[uint64]scap.FD) { parseInet(b, scap.L4UDP, false, m) }},
	{cname("net/udp6"), func(b []byte, m map[uint64]scap.FD) { parseInet(b, scap.L4UDP, true, m) }},
	{cname("net/raw"), func(b []byte, m map[uint64]scap.FD) { parseInet(b, scap.L4Raw, false, m) }},
	{cname("net/raw6"), func(b []byte, m map[uint64]scap.FD) { parseInet(b, scap.L4Raw, true, m) }},
	{cname("net/tcp"), func(b []byte, m map[uint64]scap.FD) { parseInet(b, scap.L4TCP, false, m) }},
	{cname("net/tcp6"), func(b []byte, m map[uint64]scap.FD) { parseInet(b, scap.L4TCP, true, m) }},
}

// netTableOf returns the socket table of the network namespace of the
// process whose directory is open at dfd, and the namespace's inode: 0 when
// the namespace link cannot be read, and then the proc root's tables stand for
// the host's.
func (s *scanner) netTableOf(dfd int) (*netTable, uint64) {
	var ns uint64
	if l, err := readlinkat(dfd, nNsNet, s.link); err == nil {
		if v, ok := bytes.CutPrefix(l, []byte("net:[")); ok {
			ns, _ = parseUint(bytes.TrimSuffix(v, []byte("]")))
		}
	}
	sh := s.sh
	sh.mu.Lock()
	defer sh.mu.Unlock()
	t := sh.nets[ns]
	if t == nil {
		t = &netTable{socks: map[uint64]scap.FD{}}
		sh.nets[ns] = t
	}
	return t, ns
}

// socket looks up socket inode ino in table t, reading the namespace's
// tables in turn from dir (a process directory in that namespace, or the
// proc root) until one lists it.
func (s *scanner) socket(t *netTable, dir int, ino uint64) (scap.FD, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		if fd, ok := t.socks[ino]; ok {
			return fd, true
		}
		if t.next == len(netFiles) {
			return scap.FD{}, false
		}
		nf := &netFiles[t.next]
		t.next++
		// A table that cannot be read (IPv6 disabled, say) lists nothing.
		if b, err := s.readFile(dir, nf.name, 0, true); err == nil {
			nf.parse(b, t.socks)
		}
	}
}

// eachRow calls fn with the blank-separated fields of each line of a socket
// table but the header.
func eachRow(b []byte, f [][]byte, fn func(n int)) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	} else {
		return
	}
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		fn(fields(line, f))
	}
}

// parseInet reads a tcp, udp or raw table (IPv4 or IPv6). A socket with no
// remote address is a server socket, as libscap types it.
func parseInet(b []byte, l4 uint8, v6 bool, m map[uint64]scap.FD) {
	var f [10][]byte
	eachRow(b, f[:], func(n int) {
		if n < 10 {
			return
		}
		ino, ok := parseUint(f[9])
		if !ok {
			return
		}
		var fd scap.FD
		okL := parseAddr(f[1], fd.SIP[:], &fd.SPort, v6)
		okR := parseAddr(f[2], fd.DIP[:], &fd.DPort, v6)
		if !okL || !okR {
			return
		}
		fd.L4Proto = l4
		server := fd.DIP == [16]byte{}
		switch {
		case !v6 && server:
			fd.Type = scap.FDIPv4ServSock
		case !v6:
			fd.Type = scap.FDIPv4Sock
		case server:
			fd.Type = scap.FDIPv6ServSock
		default:
			fd.Type = scap.FDIPv6Sock
		}
		if server {
			fd.DPort = 0
		}
		m[ino] = fd
	})
}

// parseAddr parses "0100007F:0035": the address as the kernel prints it, 32-bit
// words of network-order bytes in hex, into network order, and the port.
func parseAddr(b []byte, ip []byte, port *uint16, v6 bool) bool {
	words := 1
	if v6 {
		words = 4
	}
	if len(b) != words*8+5 || b[words*8] != ':' {
		return false
	}
	for w := 0; w < words; w++ {
		v, ok := parseHex(b[w*8 : w*8+8])
		if !ok {
			return false
		}
		binary.LittleEndian.PutUint32(ip[w*4:], uint32(v))
	}
	p, ok := parseHex(b[words*8+1:])
	if !ok {
		return false
	}
	*port = uint16(p)
	return true
}

// parseUnix reads the unix socket table: the kernel address of the socket (as
// the kernel shows it, hashed unless allowed) and its path, if bound.
func parseUnix(b []byte, m map[uint64]scap.FD) {
	var f [8][]byte
	eachRow(b, f[:], func(n int) {
		// Num: RefCount Protocol Flags Type St Inode [Path]
		if n < 7 {
			return
		}
		ino, ok := parseUint(f[6])
		if !ok {
			return
		}
		fd := scap.FD{Type: scap.FDUnixSock}
		fd.Source, _ = parseHex(bytes.TrimSuffix(f[0], []byte(":")))
		if n > 7 {
			fd.Name = string(f[7][:min(len(f[7]), maxPath-1)])
		}
		m[ino] = fd
	})
}

// parseNetlink reads the netlink socket table. libscap 0.29.3 types these
// sockets as unix sockets with no addresses or name, and so does this.
func parseNetlink(b []byte, m map[uint64]scap.FD) {
	var f [10][]byte
	eachRow(b, f[:], func(n int) {
		// sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
		if n < 10 {
			return
		}
		if ino, ok := parseUint(f[9]); ok {
			m[ino] = scap.FD{Type: scap.FDUnixSock}
		}
	})
}

// parseHex parses up to 16 hex digits.
func parseHex(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(c)
	}
	return v, true
}
