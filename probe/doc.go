// Package probe captures system calls live with a CO-RE eBPF program and turns
// the kernel's records into scap events: the same events, parameters and
// layout as a capture file, so one state engine and one formatter serve both.
package probe
