// Package container identifies the container a process runs in and describes
// it as sysdig 0.29.3 does.
//
// The package has three parts:
//
//   - identity: MatchCgroups and IDFromCgroupPath find a container id in a
//     thread's cgroups with sysdig's rules (the engines it checks and their
//     order, the layouts each recognizes, the 12 characters it reports), so
//     that reading a capture gives the same container.id as sysdig;
//   - description: Info is what is known of a container, and Info.JSON writes
//     it in the shape of the container events (PPME_CONTAINER_JSON_E and
//     PPME_CONTAINER_JSON_2_E) sysdig puts in captures;
//   - lookup: Source is a container runtime that can be asked about a
//     container (adapters in the subpackages docker, cri and containerd),
//     Detect finds the runtime sockets of the machine, and Resolver asks the
//     sources in the background, off the caller's event loop.
//
// This package has no dependency on gRPC: the adapters that need it live in
// their own packages.
package container

import "strconv"

// Type is a container runtime, numbered as libsinsp's sinsp_container_type.
type Type int32

// Container types.
const (
	TypeUnknown    Type = -1 // not said (e.g. by a container event without a type)
	TypeDocker     Type = 0
	TypeLXC        Type = 1
	TypeLibvirtLXC Type = 2
	TypeMesos      Type = 3
	TypeRkt        Type = 4
	TypeCustom     Type = 5
	TypeCRI        Type = 6
	TypeContainerd Type = 7
	TypeCRIO       Type = 8
	TypeBPM        Type = 9
	TypeStatic     Type = 10
	TypePodman     Type = 11
)

// Name is the container.type of t, or "" for the types sysdig has no name
// for (custom, static, podman and unknown ones).
func (t Type) Name() string {
	switch t {
	case TypeDocker:
		return "docker"
	case TypeLXC:
		return "lxc"
	case TypeLibvirtLXC:
		return "libvirt-lxc"
	case TypeMesos:
		return "mesos"
	case TypeRkt:
		return "rkt"
	case TypeCRI:
		return "cri"
	case TypeContainerd:
		return "containerd"
	case TypeCRIO:
		return "cri-o"
	case TypeBPM:
		return "bpm"
	}
	return ""
}

// String is the name of t, or its number when it has none.
func (t Type) String() string {
	switch t {
	case TypePodman:
		return "podman"
	case TypeStatic:
		return "static"
	case TypeCustom:
		return "custom"
	}
	if n := t.Name(); n != "" {
		return n
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// DockerCompatible reports whether t is one of the runtimes libsinsp treats
// alike (docker, the CRI ones and podman): those whose privileged status it
// knows.
func (t Type) DockerCompatible() bool {
	switch t {
	case TypeDocker, TypeCRI, TypeContainerd, TypeCRIO, TypePodman:
		return true
	}
	return false
}
