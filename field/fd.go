package field

import (
	"strconv"

	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/scap"
	"github.com/syscope/syscope/state"
)

// eventFD resolves what sysdig's fd fields see for e: the thread and the fd.
// ok is false for events that neither create, use nor destroy an fd, and when
// the thread is unknown; f may be nil even when ok is true. When the event
// has no fd of its own, the thread's last event fd is used.
func eventFD(e *state.Event) (t *state.Thread, f *state.FD, ok bool) {
	if e.Info.Flags&(event.EFCreatesFD|event.EFUsesFD|event.EFDestroysFD) == 0 {
		return nil, nil, false
	}
	t = e.Thread
	if t == nil {
		return nil, nil, false
	}
	f = e.FD
	if f == nil && t.LastEventFD != -1 {
		f = t.FD(t.LastEventFD)
	}
	return t, f, true
}

// fdExtractor builds an extractor for a field that needs the event's fd.
func fdExtractor(fn func(c *Ctx, e *state.Event, t *state.Thread, f *state.FD, d []byte) ([]byte, bool)) Extractor {
	return func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		t, f, ok := eventFD(e)
		if !ok || f == nil {
			return d, false
		}
		return fn(c, e, t, f, d)
	}
}

func isIPSock(f *state.FD) bool {
	return f.Type == scap.FDIPv4Sock || f.Type == scap.FDIPv6Sock
}

func isServSock(f *state.FD) bool {
	return f.Type == scap.FDIPv4ServSock || f.Type == scap.FDIPv6ServSock
}

func roleNone(f *state.FD) bool { return f.Flags&(state.FDRoleClient|state.FDRoleServer) == 0 }

func isFile(f *state.FD) bool { return f.Type == scap.FDFile || f.Type == scap.FDFileV2 }

// appendIP appends the text of a socket address: IPv4 sockets keep theirs in
// the first 4 bytes.
func appendIP(d []byte, f *state.FD, ip *[16]byte) []byte {
	if f.Type == scap.FDIPv4Sock || f.Type == scap.FDIPv4ServSock {
		return state.AppendIPv4(d, ip[:4])
	}
	return state.AppendIPv6(d, ip[:])
}

// appendName appends an fd name; sane drops the characters sysdig removes
// from printed names (filters compare the name as it is).
func appendName(d []byte, s string, sane bool) []byte {
	if !sane {
		return append(d, s...)
	}
	for i := 0; i < len(s); i++ {
		if state.IsPrint(s[i]) {
			d = append(d, s[i])
		}
	}
	return d
}

// isLocal reports whether the source address of socket f belongs to this
// machine (or to the container of t), which decides local and remote ends.
func isLocal(c *Ctx, t *state.Thread, f *state.FD, ip *[16]byte) bool {
	if f.Type == scap.FDIPv6Sock || f.Type == scap.FDIPv6ServSock {
		if t.ContainerID != "" {
			return false
		}
		for i := range c.State.Interfaces {
			it := &c.State.Interfaces[i]
			if it.IPv6 && [8]byte(it.Addr[:8]) == [8]byte(ip[:8]) {
				return true
			}
		}
		return false
	}
	addr := [4]byte(ip[:4])
	if t.ContainerID != "" && c.State.Containers != nil {
		if ct := c.State.Containers.Get(t.ContainerID); ct != nil {
			if cip, ok := parseIPv4(ct.IP); ok && cip != ([4]byte{}) {
				if cip == addr {
					return true
				}
			} else {
				found := false
				c.State.Containers.Each(func(o *state.Container) {
					if oip, _ := parseIPv4(o.IP); oip == addr {
						found = true
					}
				})
				if found {
					return true
				}
			}
		}
	}
	for i := range c.State.Interfaces {
		it := &c.State.Interfaces[i]
		if !it.IPv6 && [4]byte(it.Addr[:4]) == addr {
			return true
		}
	}
	return false
}

// parseIPv4 parses a dotted IPv4 address without allocating; ok is false
// (and the address zero) when s is not one.
func parseIPv4(s string) (ip [4]byte, ok bool) {
	n, v, digits := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || n > 3 {
				return [4]byte{}, false
			}
			ip[n] = byte(v)
			n, v, digits = n+1, 0, 0
			continue
		}
		ch := s[i]
		if ch < '0' || ch > '9' {
			return [4]byte{}, false
		}
		v = v*10 + int(ch-'0')
		digits++
		if v > 255 {
			return [4]byte{}, false
		}
	}
	if n != 4 {
		return [4]byte{}, false
	}
	return ip, true
}

// fdNameFromCreator is the name sysdig reports for an event that has no fd:
// what the failed fd-creating syscall was about. ok is false for enter events.
func fdNameFromCreator(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
	if e.Type.IsEnter() {
		return d, false
	}
	switch e.Type {
	case event.SyscallOpenX, event.SocketAcceptX, event.SocketAcceptV5X, event.SocketAccept4X,
		event.SocketAccept4V5X, event.SyscallCreatX, event.SocketConnectX:
		if e.NParams < 2 {
			return d, true
		}
		v, res := c.R.Param(e, 1, c.R.BufFmt)
		if len(res) > 0 {
			return append(d, res...), true
		}
		return append(d, v...), true
	case event.SyscallOpenatV2X, event.SyscallOpenat2X:
		if e.NParams < 3 || e.Thread == nil {
			return d, true
		}
		name := e.Param(2)
		dir := dirfdBase(e.Thread, int64(get64(e.Param(1))), name)
		return state.AppendConcatPaths(d, dir, 0, name), true
	case event.SyscallOpenatX:
		// The name is in the enter event, which only the state engine keeps.
		return d, false
	}
	return d, true
}

// dirfdBase is the directory a *at() path is relative to.
func dirfdBase(t *state.Thread, dirfd int64, name []byte) string {
	switch {
	case len(name) > 0 && name[0] == '/':
		return "."
	case dirfd == -100: // AT_FDCWD
		return t.Cwd()
	}
	f := t.FD(dirfd)
	if f == nil {
		return "<UNKNOWN>"
	}
	return f.Name + "/"
}

// appendDirectory turns the full name of a file into its directory, in place.
func appendDirectory(d []byte, start int) []byte {
	name := d[start:]
	pos := -1
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '/' {
			pos = i
			break
		}
	}
	if pos > 0 {
		if pos < len(name)-1 {
			return d[:start+pos]
		}
		return d
	}
	return append(d[:start], '/')
}

func appendContainerPrefix(d []byte, t *state.Thread) []byte {
	d = append(d, t.ContainerID...)
	return append(d, ':')
}

// fdName is fd.name and fd.containername.
func fdName(container, sane bool) Extractor {
	return func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		t, f, ok := eventFD(e)
		if !ok {
			return d, false
		}
		if f == nil || e.Type == event.SocketConnectX && e.NParams > 0 && int64(get64(e.Param(0))) < 0 {
			start := len(d)
			if container {
				d = appendContainerPrefix(d, t)
			}
			d, ok = fdNameFromCreator(c, e, d)
			if !ok {
				return d[:start], false
			}
			return d, true
		}
		if container {
			d = appendContainerPrefix(d, t)
		}
		return appendName(d, f.Name, sane), true
	}
}

// fdDirectory is fd.directory and fd.containerdirectory.
func fdDirectory(container, sane bool) Extractor {
	return func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		t, f, ok := eventFD(e)
		if !ok {
			return d, false
		}
		start := len(d)
		if container {
			d = appendContainerPrefix(d, t)
		}
		nameStart := len(d)
		if f == nil {
			d, ok = fdNameFromCreator(c, e, d)
			if !ok {
				return d[:start], false
			}
			return appendDirectory(d, nameStart), true
		}
		if !isFile(f) && f.Type != scap.FDDirectory {
			return d[:start], false
		}
		d = appendName(d, f.Name, sane)
		if isFile(f) {
			d = appendDirectory(d, nameStart)
		}
		return d, true
	}
}

func fdFilename(sane bool) Extractor {
	return fdExtractor(func(c *Ctx, e *state.Event, t *state.Thread, f *state.FD, d []byte) ([]byte, bool) {
		return appendFilename(d, f, sane)
	})
}

func appendFilename(d []byte, f *state.FD, sane bool) ([]byte, bool) {
	if !isFile(f) {
		return d, false
	}
	start := len(d)
	d = appendName(d, f.Name, sane)
	name := d[start:]
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '/' {
			if i < len(name)-1 {
				n := copy(d[start:], name[i+1:])
				d = d[:start+n]
			}
			return d, true
		}
	}
	return append(d[:start], '/'), true
}

// typeCharFromCreator is the fd kind sysdig guesses for an event without fd.
func typeCharFromCreator(t event.Type) byte {
	switch t &^ 1 {
	case event.SyscallOpenE, event.SyscallOpenatE, event.SyscallOpenatV2E, event.SyscallOpenat2E, event.SyscallCreatE:
		return 'f'
	case event.SocketSocketE, event.SocketAcceptE, event.SocketAcceptV5E, event.SocketAccept4E, event.SocketAccept4V5E:
		return '4'
	case event.SyscallPipeE:
		return 'p'
	case event.SyscallEventfdE:
		return 'e'
	case event.SyscallSignalfdE:
		return 's'
	case event.SyscallTimerfdCreateE:
		return 't'
	case event.SyscallInotifyInitE:
		return 'i'
	}
	return 'o'
}

// typeName is fd.type: the kinds sysdig 0.29.3 has no name for are <NA>.
func typeName(f *state.FD) string {
	switch f.Type {
	case scap.FDBPF, scap.FDUserfaultfd, scap.FDIOUring, scap.FDMemfd, scap.FDPidfd:
		return "<NA>"
	}
	return f.TypeName()
}

func typeChar(f *state.FD) byte {
	switch f.Type {
	case scap.FDUninitialized:
		return 'o'
	case scap.FDBPF, scap.FDUserfaultfd, scap.FDIOUring, scap.FDMemfd, scap.FDPidfd:
		return '?'
	}
	return f.TypeChar()
}

// Socket ends. Client and server fields need a role; server fields also
// apply to listening sockets.

func clientIP(c *Ctx, e *state.Event, t *state.Thread, f *state.FD, d []byte) ([]byte, bool) {
	if roleNone(f) || !isIPSock(f) {
		return d, false
	}
	return appendIP(d, f, &f.SIP), true
}

func serverIP(c *Ctx, e *state.Event, t *state.Thread, f *state.FD, d []byte) ([]byte, bool) {
	if roleNone(f) {
		return d, false
	}
	switch {
	case isIPSock(f):
		return appendIP(d, f, &f.DIP), true
	case isServSock(f):
		return appendIP(d, f, &f.SIP), true
	}
	return d, false
}

// localEnd reports, for a connected socket with a role, whether its source
// end is the local one; ok is false when the fields have no value.
func localEnd(c *Ctx, t *state.Thread, f *state.FD) (srcLocal, ok bool) {
	if !isIPSock(f) || roleNone(f) {
		return false, false
	}
	return isLocal(c, t, f, &f.SIP), true
}

func localRemoteIP(local bool) func(c *Ctx, e *state.Event, t *state.Thread, f *state.FD, d []byte) ([]byte, bool) {
	return func(c *Ctx, e *state.Event, t *state.Thread, f *state.FD, d []byte) ([]byte, bool) {
		srcLocal, ok := localEnd(c, t, f)
		if !ok {
			return d, false
		}
		if srcLocal == local {
			return appendIP(d, f, &f.SIP), true
		}
		return appendIP(d, f, &f.DIP), true
	}
}

func localRemotePort(local bool) func(c *Ctx, e *state.Event, t *state.Thread, f *state.FD, d []byte) ([]byte, bool) {
	return func(c *Ctx, e *state.Event, t *state.Thread, f *state.FD, d []byte) ([]byte, bool) {
		srcLocal, ok := localEnd(c, t, f)
		if !ok {
			return d, false
		}
		if srcLocal == local {
			return appendU(d, uint64(f.SPort)), true
		}
		return appendU(d, uint64(f.DPort)), true
	}
}

func clientPort(c *Ctx, e *state.Event, t *state.Thread, f *state.FD, d []byte) ([]byte, bool) {
	if roleNone(f) {
		return d, false
	}
	if isIPSock(f) {
		return appendU(d, uint64(f.SPort)), true
	}
	// sysdig reads a port out of an empty string here.
	return append(d, '0'), true
}

func clientProto(c *Ctx, e *state.Event, t *state.Thread, f *state.FD, d []byte) ([]byte, bool) {
	if roleNone(f) {
		return d, false
	}
	if isIPSock(f) {
		return appendU(d, uint64(f.SPort)), true
	}
	return d, true
}

func serverPort(c *Ctx, e *state.Event, t *state.Thread, f *state.FD, d []byte) ([]byte, bool) {
	switch {
	case isIPSock(f):
		if roleNone(f) {
			return d, false
		}
		return appendU(d, uint64(f.DPort)), true
	case isServSock(f):
		return appendU(d, uint64(f.SPort)), true
	}
	return d, false
}

func serverProto(c *Ctx, e *state.Event, t *state.Thread, f *state.FD, d []byte) ([]byte, bool) {
	switch {
	case isIPSock(f):
		if roleNone(f) {
			return d, false
		}
		return appendU(d, uint64(f.DPort)), true
	case isServSock(f):
		return d, true
	}
	return d, false
}

func l4Proto(c *Ctx, e *state.Event, t *state.Thread, f *state.FD, d []byte) ([]byte, bool) {
	switch f.L4() {
	case scap.L4TCP:
		return append(d, "tcp"...), true
	case scap.L4UDP:
		return append(d, "udp"...), true
	case scap.L4ICMP:
		return append(d, "icmp"...), true
	case scap.L4Raw:
		return append(d, "raw"...), true
	}
	return append(d, "<NA>"...), true
}

func sockFamily(c *Ctx, e *state.Event, t *state.Thread, f *state.FD, d []byte) ([]byte, bool) {
	switch {
	case isIPSock(f), isServSock(f):
		return append(d, "ip"...), true
	case f.Type == scap.FDUnixSock:
		return append(d, "unix"...), true
	}
	return d, false
}

func isServer(c *Ctx, e *state.Event, t *state.Thread, f *state.FD, d []byte) ([]byte, bool) {
	v := false
	switch {
	case isServSock(f):
		v = true
	case isIPSock(f):
		v = isLocal(c, t, f, &f.DIP)
	}
	return strconv.AppendBool(d, v), true
}

// fdDev is fd.dev, in upper-case hex as sysdig prints it.
func fdDev(c *Ctx, e *state.Event, t *state.Thread, f *state.FD, d []byte) ([]byte, bool) {
	const digits = "0123456789ABCDEF"
	var b [8]byte
	i := len(b)
	for v := f.Dev; ; v >>= 4 {
		i--
		b[i] = digits[v&0xf]
		if v < 0x10 {
			break
		}
	}
	return append(d, b[i:]...), true
}

// eachIP yields the addresses fd.ip and fd.net match: both ends of a socket,
// the address of a listening one.
func eachIP(c *Ctx, e *state.Event, buf []byte, fn func([]byte) bool) bool {
	_, f, ok := eventFD(e)
	if !ok || f == nil {
		return false
	}
	switch {
	case isIPSock(f):
		return fn(appendIP(buf[:0], f, &f.SIP)) || fn(appendIP(buf[:0], f, &f.DIP))
	case isServSock(f):
		return fn(appendIP(buf[:0], f, &f.SIP))
	}
	return false
}

// eachPort yields the ports fd.port and fd.proto match.
func eachPort(c *Ctx, e *state.Event, buf []byte, fn func([]byte) bool) bool {
	_, f, ok := eventFD(e)
	if !ok || f == nil {
		return false
	}
	switch {
	case isIPSock(f):
		return fn(appendU(buf[:0], uint64(f.SPort))) || fn(appendU(buf[:0], uint64(f.DPort)))
	case isServSock(f):
		return fn(appendU(buf[:0], uint64(f.SPort)))
	}
	return false
}

// firstOf makes an extractor of a multi-valued field's first value (filter-only
// fields have no printed value in sysdig; this is what other uses get).
func firstOf(each func(c *Ctx, e *state.Event, buf []byte, fn func([]byte) bool) bool) Extractor {
	return func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		start := len(d)
		found := each(c, e, d[start:], func(v []byte) bool {
			d = append(d[:start], v...)
			return true
		})
		return d, found
	}
}

// fdlist builds an fdlist.* extractor: one item per fd of a poll event,
// separated by commas; item appends nothing and returns false to skip an fd.
func fdlist(item func(d []byte, fd int64, f *state.FD) ([]byte, bool)) Extractor {
	return func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		var p []byte
		switch e.Type {
		case event.SyscallPollE, event.SyscallPpollE:
			if e.NParams < 1 {
				return d, false
			}
			p = e.Param(0)
		case event.SyscallPollX, event.SyscallPpollX:
			if e.NParams < 2 {
				return d, false
			}
			p = e.Param(1)
		default:
			return d, false
		}
		t := e.Thread
		if len(p) < 2 || t == nil {
			return d, false
		}
		start := len(d)
		n := int(le16(p))
		for pos := 2; n > 0 && pos+10 <= len(p); n, pos = n-1, pos+10 {
			fd := int64(get64(p[pos:]))
			var ok bool
			if d, ok = item(d, fd, t.FD(fd)); ok {
				d = append(d, ',')
			}
		}
		if len(d) == start {
			return d, false
		}
		if d[len(d)-1] == ',' {
			d = d[:len(d)-1]
		}
		return d, true
	}
}

func le16(p []byte) uint16 { return uint16(p[0]) | uint16(p[1])<<8 }

// File descriptor fields (fd.*, fdlist.*).
func init() {
	register("fd.num", event.PTInt64, "number of the file descriptor", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		t, _, ok := eventFD(e)
		if !ok {
			return d, false
		}
		return appendI(d, t.LastEventFD), true
	})
	register("fd.type", event.PTCharBuf, "kind of fd: file, directory, ipv4, ipv6, unix, pipe, event, signalfd, eventpoll, inotify, timerfd, netlink",
		fdExtractor(func(c *Ctx, e *state.Event, t *state.Thread, f *state.FD, d []byte) ([]byte, bool) {
			return append(d, typeName(f)...), true
		}))
	register("fd.typechar", event.PTCharBuf, "kind of fd as one letter (f file, 4 IPv4, 6 IPv6, u unix, p pipe, e eventfd, s signalfd, l eventpoll, i inotify, o unknown)",
		func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
			_, f, ok := eventFD(e)
			if !ok {
				return d, false
			}
			if f == nil {
				return append(d, typeCharFromCreator(e.Type)), true
			}
			return append(d, typeChar(f)), true
		})
	register("fd.name", event.PTCharBuf, "full name of the fd: the path of a file, the tuple of a socket", fdName(false, true)).Raw = fdName(false, false)
	register("fd.directory", event.PTCharBuf, "directory holding the file, for files", fdDirectory(false, true)).Raw = fdDirectory(false, false)
	register("fd.filename", event.PTCharBuf, "file name without its directory, for files", fdFilename(true)).Raw = fdFilename(false)

	ip := register("fd.ip", event.PTIPAddr, "matches either IP address (client or server) of the fd", firstOf(eachIP))
	ip.Flags, ip.NotEqualAll, ip.Each = FilterOnly, true, eachIP
	register("fd.cip", event.PTIPAddr, "client IP address", fdExtractor(clientIP))
	register("fd.sip", event.PTIPAddr, "server IP address", fdExtractor(serverIP))
	register("fd.lip", event.PTIPAddr, "local IP address", fdExtractor(localRemoteIP(true)))
	register("fd.rip", event.PTIPAddr, "remote IP address", fdExtractor(localRemoteIP(false)))

	port := register("fd.port", event.PTPort, "matches either port (client or server) of the fd", firstOf(eachPort))
	port.Flags, port.NotEqualAll, port.Each = FilterOnly, true, eachPort
	register("fd.cport", event.PTPort, "client port of a TCP/UDP socket", fdExtractor(clientPort))
	register("fd.sport", event.PTPort, "server port of a TCP/UDP socket", fdExtractor(serverPort))
	register("fd.lport", event.PTPort, "local port of a TCP/UDP socket", fdExtractor(localRemotePort(true)))
	register("fd.rport", event.PTPort, "remote port of a TCP/UDP socket", fdExtractor(localRemotePort(false)))

	register("fd.l4proto", event.PTCharBuf, "IP protocol of a socket: tcp, udp, icmp or raw", fdExtractor(l4Proto))
	register("fd.sockfamily", event.PTCharBuf, "socket family: ip or unix", fdExtractor(sockFamily))
	register("fd.is_server", event.PTBool, "true if the process owning the fd is the server end of the connection", fdExtractor(isServer))
	register("fd.uid", event.PTCharBuf, "unique id of the fd: the thread id followed by the fd number", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		t, _, ok := eventFD(e)
		if !ok {
			return d, false
		}
		d = appendI(d, t.Tid)
		return appendI(d, t.LastEventFD), true
	})
	register("fd.containername", event.PTCharBuf, "container id and fd name, joined by a colon", fdName(true, true)).Raw = fdName(true, false)
	register("fd.containerdirectory", event.PTCharBuf, "container id and directory name, joined by a colon", fdDirectory(true, true)).Raw = fdDirectory(true, false)

	proto := register("fd.proto", event.PTPort, "matches either protocol (client or server) of the fd", firstOf(eachPort))
	proto.Flags, proto.NotEqualAll, proto.Each = FilterOnly, true, eachPort
	register("fd.cproto", event.PTCharBuf, "client protocol of a TCP/UDP socket", fdExtractor(clientProto))
	register("fd.sproto", event.PTCharBuf, "server protocol of a TCP/UDP socket", fdExtractor(serverProto))
	register("fd.lproto", event.PTCharBuf, "local protocol of a TCP/UDP socket", fdExtractor(localRemotePort(true)))
	register("fd.rproto", event.PTCharBuf, "remote protocol of a TCP/UDP socket", fdExtractor(localRemotePort(false)))

	net := register("fd.net", event.PTIPNet, "matches either IP network (client or server) of the fd", firstOf(eachIP))
	net.Flags, net.NotEqualAll, net.Each = FilterOnly, true, eachIP
	for _, n := range []struct {
		name, desc string
		ex         Extractor
	}{
		{"fd.cnet", "matches the client IP network of the fd", fdExtractor(clientIP)},
		{"fd.snet", "matches the server IP network of the fd", fdExtractor(serverIP)},
		{"fd.lnet", "matches the local IP network of the fd", fdExtractor(localRemoteIP(true))},
		{"fd.rnet", "matches the remote IP network of the fd", fdExtractor(localRemoteIP(false))},
	} {
		register(n.name, event.PTIPNet, n.desc, n.ex).Flags = FilterOnly
	}

	register("fd.connected", event.PTBool, "true if the TCP/UDP socket is connected", fdExtractor(func(c *Ctx, e *state.Event, t *state.Thread, f *state.FD, d []byte) ([]byte, bool) {
		return strconv.AppendBool(d, f.Flags&state.FDConnected != 0), true
	}))
	register("fd.name_changed", event.PTBool, "true when the event changed the name of its fd (e.g. a UDP socket's tuple)", fdExtractor(func(c *Ctx, e *state.Event, t *state.Thread, f *state.FD, d []byte) ([]byte, bool) {
		return strconv.AppendBool(d, e.FDNameChanged), true
	}))
	noName := fdExtractor(func(c *Ctx, e *state.Event, t *state.Thread, f *state.FD, d []byte) ([]byte, bool) {
		// Names come from DNS lookups made by filters, never from the capture.
		return d, false
	})
	register("fd.cip.name", event.PTCharBuf, "domain name of the client IP address", noName)
	register("fd.sip.name", event.PTCharBuf, "domain name of the server IP address", noName)
	register("fd.lip.name", event.PTCharBuf, "domain name of the local IP address", noName)
	register("fd.rip.name", event.PTCharBuf, "domain name of the remote IP address", noName)

	dev := register("fd.dev", event.PTInt32, "device number (major/minor) of the file, in hex", fdExtractor(fdDev))
	dev.Kind = KindString
	dev.Raw = fdExtractor(func(c *Ctx, e *state.Event, t *state.Thread, f *state.FD, d []byte) ([]byte, bool) {
		return appendI(d, int64(int32(f.Dev))), true
	})
	register("fd.dev.major", event.PTInt32, "major device number of the file", fdExtractor(func(c *Ctx, e *state.Event, t *state.Thread, f *state.FD, d []byte) ([]byte, bool) {
		return appendU(d, uint64(f.Dev&0xfff00>>8)), true
	}))
	register("fd.dev.minor", event.PTInt32, "minor device number of the file", fdExtractor(func(c *Ctx, e *state.Event, t *state.Thread, f *state.FD, d []byte) ([]byte, bool) {
		return appendU(d, uint64(f.Dev&0xff|f.Dev>>12&0xfff00)), true
	}))

	register("fdlist.nums", event.PTCharBuf, "for poll events, the fd numbers of the 'fds' argument, comma-separated",
		fdlist(func(d []byte, fd int64, f *state.FD) ([]byte, bool) { return appendI(d, fd), true }))
	register("fdlist.names", event.PTCharBuf, "for poll events, the fd names of the 'fds' argument, comma-separated",
		fdlist(func(d []byte, fd int64, f *state.FD) ([]byte, bool) {
			if f == nil || f.Name == "" {
				return append(d, "<NA>"...), true
			}
			return append(d, f.Name...), true
		}))
	register("fdlist.cips", event.PTCharBuf, "for poll events, the client IP addresses of the 'fds' argument, comma-separated",
		fdlist(func(d []byte, fd int64, f *state.FD) ([]byte, bool) {
			if f == nil || !isIPSock(f) {
				return d, false
			}
			return appendIP(d, f, &f.SIP), true
		}))
	register("fdlist.sips", event.PTCharBuf, "for poll events, the server IP addresses of the 'fds' argument, comma-separated",
		fdlist(func(d []byte, fd int64, f *state.FD) ([]byte, bool) {
			switch {
			case f == nil:
				return d, false
			case isIPSock(f):
				return appendIP(d, f, &f.DIP), true
			case isServSock(f):
				// sysdig prints even an IPv6 listening address as IPv4.
				return state.AppendIPv4(d, f.SIP[:4]), true
			}
			return d, false
		}))
	register("fdlist.cports", event.PTCharBuf, "for poll events, the client TCP/UDP ports of the 'fds' argument, comma-separated",
		fdlist(func(d []byte, fd int64, f *state.FD) ([]byte, bool) {
			if f == nil || !isIPSock(f) {
				return d, false
			}
			return appendU(d, uint64(f.SPort)), true
		}))
	register("fdlist.sports", event.PTCharBuf, "for poll events, the server TCP/UDP ports of the 'fds' argument, comma-separated",
		fdlist(func(d []byte, fd int64, f *state.FD) ([]byte, bool) {
			if f == nil || !isIPSock(f) {
				return d, false
			}
			return appendU(d, uint64(f.DPort)), true
		}))
}
