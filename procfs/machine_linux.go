//go:build linux && (amd64 || arm64)

package procfs

import (
	"bytes"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/syscope/syscope/scap"
)

// machineInfo fills the machine block as libscap does: online CPUs, physical
// memory and hostname; and, where libscap 0.29 leaves zeros, the highest pid
// (kernel.pid_max) and the boot time in ns since the epoch (btime, as newer
// libscap reads it).
func machineInfo(o *options) *scap.MachineInfo {
	mi := &scap.MachineInfo{NumCPUs: onlineCPUs(o.proc)}
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		page := uint64(os.Getpagesize())
		mi.MemoryBytes = uint64(si.Totalram) * uint64(si.Unit) / page * page
	}
	if o.hostSet {
		mi.Hostname = o.hostname
	} else {
		var u unix.Utsname
		if unix.Uname(&u) == nil {
			mi.Hostname = unix.ByteSliceToString(u.Nodename[:])
		}
	}
	if b, err := os.ReadFile(filepath.Join(o.proc, "sys/kernel/pid_max")); err == nil {
		mi.MaxPID, _ = parseUint(bytes.TrimSpace(b))
	}
	if b, err := os.ReadFile(filepath.Join(o.proc, "stat")); err == nil {
		for _, line := range bytes.Split(b, []byte{'\n'}) {
			if v, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
				if s, ok := parseUint(bytes.TrimSpace(v)); ok {
					mi.BootTS = s * 1e9
				}
				break
			}
		}
	}
	return mi
}

// onlineCPUs counts the online CPUs as glibc's sysconf(_SC_NPROCESSORS_ONLN)
// does: from the sysfs online list, else the cpuN lines of /proc/stat.
func onlineCPUs(proc string) uint32 {
	if b, err := os.ReadFile("/sys/devices/system/cpu/online"); err == nil {
		n := uint32(0)
		for _, r := range bytes.Split(bytes.TrimSpace(b), []byte{','}) {
			lo, hi, isRange := bytes.Cut(r, []byte{'-'})
			a, ok1 := parseUint(lo)
			z, ok2 := a, true
			if isRange {
				z, ok2 = parseUint(hi)
			}
			if ok1 && ok2 && z >= a {
				n += uint32(z - a + 1)
			}
		}
		if n > 0 {
			return n
		}
	}
	n := uint32(0)
	if b, err := os.ReadFile(filepath.Join(proc, "stat")); err == nil {
		for _, line := range bytes.Split(b, []byte{'\n'}) {
			if len(line) > 3 && string(line[:3]) == "cpu" && line[3] >= '0' && line[3] <= '9' {
				n++
			}
		}
	}
	if n == 0 {
		n = 1
	}
	return n
}
