// Package procfs reads the state of a live Linux machine into capture
// metadata, as libscap does when a live capture starts: machine facts,
// network interfaces, users and groups, every user-space thread with its
// process details, and the file descriptors of every process, its sockets
// resolved through the socket tables of its network namespace.
//
// Written at the head of a capture (scap.Create), that metadata lets a reader
// name the processes, files, connections and users that existed before the
// first event. The fields are filled as libscap 0.29.3 fills them, so sysdig
// 0.29.3 and the state engine read them as they read sysdig's own captures.
package procfs
