package probe

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/syscope/syscope/scap"
)

// Options configure a capture. The zero value captures everything with a snaplen of 80.
type Options struct {
	Snaplen int      // bytes of I/O buffers to copy (sysdig's -s); 0 means 80
	Pid     int      // only this process (thread group), if not 0
	Comm    string   // only threads with this command name, if not empty
	Cgroups []string // only tasks under these cgroup v2 directories, if any
	Switch  bool     // also capture context switches
	// RingSize is the size of each CPU's ring buffer in bytes (a power of
	// two, a multiple of the page size); 0 means 8 MiB, sysdig's default.
	RingSize int
}

// Stats counts records seen by the kernel side.
type Stats struct {
	Emitted uint64 // records received from the ring buffer
	Dropped uint64 // records lost because the ring buffer was full
}

// Probe is a loaded and attached capture probe.
type Probe struct {
	objs  probeObjects
	links []link.Link
	rd    *rings
	conv  *converter
	cgfds []*os.File
	stop  atomic.Bool
	recvd atomic.Uint64
}

// pollInterval is how often Next, waiting for records, looks whether the
// capture is stopping. The reader looks for records every 1 to 5 ms (ring.go).
const pollInterval = 10 * time.Millisecond

// ErrNotSupported wraps every reason the probe cannot run on this machine.
var ErrNotSupported = errors.New("live capture is not available")

// Check reports why live capture cannot work here, naming what is missing, or nil.
func Check() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: run as root (eBPF needs CAP_BPF and CAP_PERFMON; current uid is %d)", ErrNotSupported, os.Geteuid())
	}
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		return fmt.Errorf("%w: the kernel has no BTF (/sys/kernel/btf/vmlinux is missing; it needs CONFIG_DEBUG_INFO_BTF=y)", ErrNotSupported)
	}
	return nil
}

// Open loads the probe, configures it and attaches it. Close it when done.
func Open(o Options) (*Probe, error) {
	if err := Check(); err != nil {
		return nil, err
	}
	if o.Snaplen <= 0 {
		o.Snaplen = 80
	}
	if o.Snaplen > maxSnaplen {
		return nil, fmt.Errorf("snaplen %d is too large: at most %d bytes", o.Snaplen, maxSnaplen)
	}
	if o.RingSize == 0 {
		o.RingSize = 8 << 20
	}
	if o.RingSize < os.Getpagesize() || o.RingSize&(o.RingSize-1) != 0 {
		return nil, fmt.Errorf("ring buffer size %d is not a power of two of at least a page", o.RingSize)
	}
	// Harmless where memlock is not limited; needed on kernels before 5.11.
	_ = rlimit.RemoveMemlock()

	spec, err := loadProbe()
	if err != nil {
		return nil, err
	}
	p := &Probe{}
	vars := map[string]any{
		"tracer_tgid": uint32(os.Getpid()),
		"only_tgid":   uint32(o.Pid),
		"snaplen":     uint32(o.Snaplen),
		"emit_switch": boolU32(o.Switch),
		"ncgroups":    uint32(len(o.Cgroups)),
		"ring_size":   uint64(o.RingSize),
	}
	if o.Comm != "" {
		var comm [16]byte
		copy(comm[:15], o.Comm)
		vars["only_comm"] = comm
	}
	for name, v := range vars {
		if err := spec.Variables[name].Set(v); err != nil {
			return nil, fmt.Errorf("configuring the probe (%s): %w", name, err)
		}
	}
	if len(o.Cgroups) > 16 {
		return nil, fmt.Errorf("at most 16 cgroups can be captured at once, got %d", len(o.Cgroups))
	}
	ncpu, online, err := captureCPUs()
	if err != nil {
		return nil, err
	}
	spec.Maps["scratch"].MaxEntries = uint32(ncpu)
	spec.Maps["rings"].MaxEntries = uint32(ncpu)
	spec.Maps["rings"].InnerMap.ValueSize = uint32(ringValueSize(o.RingSize))
	if err := spec.LoadAndAssign(&p.objs, nil); err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("%w: the kernel's verifier rejected the probe: %v", ErrNotSupported, lastLines(fmt.Sprintf("%+v", ve), 20))
		}
		if errors.Is(err, unix.EPERM) {
			return nil, fmt.Errorf("%w: loading eBPF programs is not permitted (%v); run as root, and check kernel.unprivileged_bpf_disabled and lockdown", ErrNotSupported, err)
		}
		return nil, fmt.Errorf("%w: loading the probe: %v", ErrNotSupported, err)
	}
	if err := p.configure(o); err != nil {
		p.Close()
		return nil, err
	}
	if p.rd, err = p.makeRings(spec.Maps["rings"].InnerMap, o.RingSize, online); err != nil {
		p.Close()
		return nil, err
	}
	progs := []*ebpf.Program{p.objs.SysEnter, p.objs.SysExit, p.objs.SchedProcessExit, p.objs.SignalDeliver}
	if o.Switch {
		progs = append(progs, p.objs.SchedSwitch)
	}
	p.conv.bootOff = bootOffset()
	for _, prog := range progs {
		l, err := link.AttachTracing(link.TracingOptions{Program: prog})
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("%w: attaching %s: %v", ErrNotSupported, prog, err)
		}
		p.links = append(p.links, l)
	}
	return p, nil
}

// makeRings creates the ring of each online CPU (size bytes of records),
// puts it in the probe's array of rings and maps it.
func (p *Probe) makeRings(spec *ebpf.MapSpec, size int, cpus []int) (*rings, error) {
	rs := newRings()
	for _, cpu := range cpus {
		m, err := ebpf.NewMap(spec)
		if err != nil {
			rs.close()
			return nil, fmt.Errorf("creating the ring buffer of CPU %d (%d bytes): %w", cpu, spec.ValueSize, err)
		}
		if err := p.objs.Rings.Put(uint32(cpu), m); err != nil {
			m.Close()
			rs.close()
			return nil, fmt.Errorf("installing the ring buffer of CPU %d: %w", cpu, err)
		}
		if err := rs.add(m, size); err != nil {
			rs.close()
			return nil, fmt.Errorf("opening the ring buffer of CPU %d: %w", cpu, err)
		}
	}
	return rs, nil
}

// configure fills the per-syscall table and the cgroup filter.
func (p *Probe) configure(o Options) error {
	p.conv = newConverter(o.Snaplen)
	for nr := range maxSyscalls {
		sc := p.conv.sysconf(nr)
		if err := p.objs.Sysconfs.Put(uint32(nr), sc); err != nil {
			return fmt.Errorf("configuring syscall %d: %w", nr, err)
		}
	}
	for i, dir := range o.Cgroups {
		f, err := os.Open(dir)
		if err != nil {
			return fmt.Errorf("cgroup filter: %w", err)
		}
		p.cgfds = append(p.cgfds, f)
		if err := p.objs.Cgroups.Put(uint32(i), uint32(f.Fd())); err != nil {
			return fmt.Errorf("cgroup filter %s: %w", dir, err)
		}
	}
	return nil
}

// Stats returns the kernel-side counters, summed over CPUs.
func (p *Probe) Stats() (Stats, error) {
	s := Stats{Emitted: p.recvd.Load()}
	var per []uint64
	if err := p.objs.Counters.Lookup(uint32(0), &per); err != nil {
		return s, err
	}
	for _, v := range per {
		s.Dropped += v
	}
	return s, nil
}

// Close detaches the probe and frees its resources.
func (p *Probe) Close() error {
	if !p.stop.Swap(true) {
		for _, l := range p.links {
			l.Close()
		}
	}
	if p.rd != nil {
		p.rd.close()
		p.rd = nil
	}
	for _, f := range p.cgfds {
		f.Close()
	}
	return p.objs.Close()
}

// Next reads the next event into ev, waiting for one. Its slices are valid until the
// next call. After Stop, it returns the events still queued, then io.EOF. Next
// and Close must not run at the same time.
func (p *Probe) Next(ev *scap.Event) error {
	if p.rd == nil {
		return io.EOF
	}
	for {
		stopping := p.stop.Load()
		b, err := p.rd.next(pollInterval)
		if err == errRingTimeout {
			if stopping {
				return io.EOF
			}
			continue
		}
		if err != nil {
			return err
		}
		p.recvd.Add(1)
		return p.conv.convert(b, ev)
	}
}

// Stop detaches the probe so that no new events are produced; Next then returns what
// is still queued, and io.EOF. It is safe to call from another goroutine.
func (p *Probe) Stop() {
	if p.stop.Swap(true) {
		return
	}
	for _, l := range p.links {
		l.Close()
	}
}

func boolU32(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// bootOffset is the epoch time of the monotonic clock's zero, so that
// monotonic + bootOffset is an epoch timestamp.
func bootOffset() uint64 {
	var off int64
	best := int64(-1)
	// Take the tightest of a few samples of realtime between two monotonic reads.
	for range 5 {
		var m1, rt, m2 unix.Timespec
		unix.ClockGettime(unix.CLOCK_MONOTONIC, &m1)
		unix.ClockGettime(unix.CLOCK_REALTIME, &rt)
		unix.ClockGettime(unix.CLOCK_MONOTONIC, &m2)
		if span := m2.Nano() - m1.Nano(); best < 0 || span < best {
			best = span
			off = rt.Nano() - (m1.Nano() + span/2)
		}
	}
	return uint64(off)
}

// cpuList reads a CPU list file of sysfs (/sys/devices/system/cpu/possible,
// online), e.g. "0-3,8,10-11", and returns the CPUs it names.
func cpuList(path string) ([]int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cpus, err := parseCPUList(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cpus, nil
}

func parseCPUList(s string) ([]int, error) {
	var cpus []int
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("bad CPU list %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a || b-a > 1<<16 {
				return nil, fmt.Errorf("bad CPU list %q", s)
			}
		}
		for c := a; c <= b; c++ {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

// captureCPUs returns the number of possible CPUs (the size of the per-CPU
// maps) and the CPUs online now (those that get a ring buffer).
func captureCPUs() (possible int, online []int, err error) {
	all, err := cpuList("/sys/devices/system/cpu/possible")
	if err != nil {
		n := runtime.NumCPU()
		online = make([]int, n)
		for i := range online {
			online[i] = i
		}
		return n, online, nil
	}
	possible = all[len(all)-1] + 1
	if online, err = cpuList("/sys/devices/system/cpu/online"); err != nil {
		online = all
	}
	for _, c := range online {
		if c >= possible {
			return 0, nil, fmt.Errorf("online CPU %d is not among the %d possible ones", c, possible)
		}
	}
	return possible, online, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
