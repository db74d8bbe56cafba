package cli

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/syscope/syscope/k8s"
	"github.com/syscope/syscope/probe"
	"github.com/syscope/syscope/procfs"
	"github.com/syscope/syscope/scap"
)

// eventSource is where events come from: a capture file or the live probe.
type eventSource interface {
	Next(*scap.Event) error
	Close() error
}

// openSource opens the capture file of -r, or starts a live capture, and returns
// the source with the metadata the state starts from.
func openSource(o *Options, stderr io.Writer) (eventSource, *scap.Metadata, error) {
	if o.ReadFile != "" {
		r, err := scap.Open(o.ReadFile)
		if err != nil {
			return nil, nil, err
		}
		if os.Getenv("GOGC") == "" {
			// Reading a file, the live heap stays small (a few MB) while
			// each section's tables leave garbage: a GC target of 200 %
			// costs about 3 MB and saves a few collections (-7 % of the time
			// of a filter over a 2 M event capture). $GOGC overrides it.
			debug.SetGCPercent(200)
		}
		return r, r.Metadata(), nil
	}
	l, err := startLive(o, stderr)
	if err != nil {
		return nil, nil, err
	}
	return l, l.meta, nil
}

// liveSource is a live capture: the probe, the /proc snapshot taken when it
// started, and what stops it (a signal, -M, or the end of the main loop).
type liveSource struct {
	p       *probe.Probe
	meta    *scap.Metadata
	stderr  io.Writer
	sigs    chan os.Signal
	done    chan struct{}
	wg      sync.WaitGroup
	dropped uint64
	closed  bool
	// containers gives the events their container metadata (nil when no
	// container runtime answers).
	containers *liveMeta
	// kube delivers Kubernetes metadata events (nil without an API server).
	kube *k8s.Watcher
	// lastTs is the time of the probe's last event: metadata events get it.
	lastTs uint64
}

func startLive(o *Options, stderr io.Writer) (*liveSource, error) {
	cgroups, err := resolveCgroups(o.Containers, o.Cgroups)
	if err != nil {
		return nil, err
	}
	p, err := probe.Open(probe.Options{
		Snaplen: o.Snaplen,
		Pid:     o.Pid,
		Comm:    o.Comm,
		Cgroups: cgroups,
		Switch:  true,
	})
	if err != nil {
		return nil, fmt.Errorf("%w\n(to read a capture file instead, use -r FILE)", err)
	}
	// The probe is attached before the scan, so nothing happens unseen between them.
	meta, err := procfs.Scan()
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("reading the system state from /proc: %w", err)
	}
	if o.TrimProclist {
		trimProclist(meta, cgroups, cgroup2Root())
	}
	l := &liveSource{p: p, meta: meta, stderr: stderr, sigs: make(chan os.Signal, 1), done: make(chan struct{})}
	l.containers = newLiveMeta(o, meta.Threads, stderr)
	l.kube = startK8s(o, stderr)
	signal.Notify(l.sigs, os.Interrupt, syscall.SIGTERM)
	if o.WriteFile != "" && !o.Quiet {
		// Also tells scripts that the capture is running.
		fmt.Fprintf(stderr, "syscope: capturing to %s; stop with Ctrl-C\n", o.WriteFile)
	}
	var deadline <-chan time.Time
	if o.Duration > 0 {
		deadline = time.After(time.Duration(o.Duration) * time.Second)
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-l.sigs:
				p.Stop()
				return
			case <-deadline:
				p.Stop()
				return
			case <-tick.C:
				l.warnDrops()
				if o.ProgressJSON {
					l.progressJSON()
				}
			case <-l.done:
				return
			}
		}
	}()
	return l, nil
}

// warnDrops prints a warning when the kernel side dropped events since the last check.
func (l *liveSource) warnDrops() {
	s, err := l.p.Stats()
	if err != nil || s.Dropped == l.dropped {
		return
	}
	fmt.Fprintf(l.stderr, "syscope: warning: %d events dropped (the ring buffer was full; %d so far): write to a file with -w, filter, or lower the snaplen\n",
		s.Dropped-l.dropped, s.Dropped)
	l.dropped = s.Dropped
}

// Next returns the next event: a pending container event, or the probe's next.
func (l *liveSource) Next(ev *scap.Event) error {
	// Only this goroutine receives: a queued payload is there to take.
	if l.kube != nil && len(l.kube.Events()) > 0 {
		k8sEvent(ev, <-l.kube.Events(), l.lastTs)
		return nil
	}
	if l.containers != nil && l.containers.next(ev, l.lastTs) {
		return nil
	}
	err := l.p.Next(ev)
	if err == nil {
		l.lastTs = ev.Ts
		if l.containers != nil {
			l.containers.observe(ev)
		}
	}
	return err
}

// Stats returns the probe's counters.
func (l *liveSource) Stats() (probe.Stats, error) { return l.p.Stats() }

// Close stops the capture and releases the probe.
func (l *liveSource) Close() error {
	if l.closed {
		return nil
	}
	l.closed = true
	signal.Stop(l.sigs)
	close(l.done)
	l.wg.Wait()
	l.containers.close()
	if l.kube != nil {
		stopK8s(l.kube, l.stderr)
	}
	return l.p.Close()
}

// checkLive loads and attaches the probe once, and says whether live capture works.
func checkLive(stdout, stderr io.Writer) int {
	p, err := probe.Open(probe.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	p.Close()
	fmt.Fprintln(stdout, "live capture works here (eBPF probe loaded and attached)")
	return 0
}

// resolveCgroups turns --container IDs (full or prefix) and --cgroup paths into
// cgroup v2 directories for the probe's in-kernel filter.
func resolveCgroups(containers, paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			p = filepath.Join(cgroup2Root(), p)
		}
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("--cgroup %s: %w", p, err)
		}
		out = append(out, p)
	}
	for _, id := range containers {
		dirs, err := findContainerCgroups(id)
		if err != nil {
			return nil, err
		}
		out = append(out, dirs...)
	}
	return out, nil
}

// cgroup2Root is where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup on v2 hosts,
// /sys/fs/cgroup/unified on hybrid ones.
func cgroup2Root() string {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return "/sys/fs/cgroup"
	}
	return "/sys/fs/cgroup/unified"
}

// findContainerCgroups finds the cgroup v2 directories of a container id (at least 12
// hex characters, or the full id), whatever the runtime and cgroup driver name them:
// .../<id>, .../docker-<id>.scope, .../cri-containerd-<id>.scope, .../crio-<id>.scope.
func findContainerCgroups(id string) ([]string, error) {
	if len(id) < 12 || strings.Trim(id, "0123456789abcdef") != "" {
		return nil, fmt.Errorf("--container %q: expected a container id (at least 12 hex characters)", id)
	}
	root := cgroup2Root()
	var found []string
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		name := strings.TrimSuffix(d.Name(), ".scope")
		if i := strings.LastIndexAny(name, "-:"); i >= 0 {
			name = name[i+1:]
		}
		if len(name) >= len(id) && strings.HasPrefix(name, id) && strings.Trim(name, "0123456789abcdef") == "" {
			found = append(found, path)
			return filepath.SkipDir
		}
		return nil
	})
	if len(found) == 0 {
		return nil, fmt.Errorf("--container %s: no cgroup found under %s (is the container running?)", id, root)
	}
	return found, nil
}
