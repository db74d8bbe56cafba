package state

import "github.com/syscope/syscope/scap"

// Restart starts a new section of a capture: the tables m of a section header
// met after events (a file made by concatenating captures). It does what
// libsinsp 0.29.3 does there (sinsp::restart_capture): the thread table and
// the interfaces are dropped and loaded again from m; pending thread and fd
// removals are forgotten; the first and last event times start again, so
// relative times (-t r) count from the first event of the new section. What
// libsinsp keeps is kept: the event count (evt.num goes on), the containers,
// the users and groups (those of m are added), the machine info when m has
// none, and the ports known to be servers.
func (s *State) Restart(m *scap.Metadata) {
	s.threads = make(map[int64]*Thread, max(len(m.Threads), 64))
	s.perPid = make(map[int64]uint64, max(len(m.Threads), 64))
	s.clearThreadCache()
	s.Interfaces = nil
	s.tidToRemove = -1
	s.fdsToRemove = s.fdsToRemove[:0]
	s.FirstEventTS = 0
	s.LastEventTS = 0
	s.LoadMetadata(m)
}

// fixSocketsFromProc turns round the IPv4 sockets of the tables m that are
// the server end of their connection, as libsinsp does once the tables are
// loaded (fix_sockets_coming_from_proc): a socket whose local port is a port
// some socket of the tables listens on is a server, with its tuple turned
// round; the others are clients. Without a role, a socket would show no
// transport protocol (<4> for <4t>) until an event gives it one.
func (s *State) fixSocketsFromProc(m *scap.Metadata) {
	for i := range m.Threads {
		t := s.threads[m.Threads[i].Tid]
		if t == nil || t.fds == nil {
			continue
		}
		for _, f := range t.fds.m {
			if f.Type != scap.FDIPv4Sock || f.Flags&FDFromProc == 0 || f.Flags&(FDRoleClient|FDRoleServer) != 0 {
				continue
			}
			if _, ok := s.ServerPorts[f.SPort]; ok {
				f.SIP, f.DIP = f.DIP, f.SIP
				f.SPort, f.DPort = f.DPort, f.SPort
				f.Name = ipv4Tuple(f.SIP, f.SPort, f.DIP, f.DPort)
				f.Flags |= FDRoleServer
			} else {
				f.Flags |= FDRoleClient
			}
		}
	}
}
