package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/syscope/syscope/container"
	"github.com/syscope/syscope/container/runtimes"
	"github.com/syscope/syscope/internal/nsenter"
	"github.com/syscope/syscope/internal/textdist"
)

const enterUsage = `Usage: syscope enter [options] TARGET [--] COMMAND [ARG...]
       syscope enter --list

Runs COMMAND, a program of this host, inside the namespaces of a container
or pod: by default its network namespace only, so host tools (dig, curl,
tcpdump, ss, syscope itself) see the container's interfaces, addresses,
routes and loopback. Works for docker, containerd (CRI or ctr), CRI-O and
podman containers.

TARGET is one of:
  ID prefix          a container id or its first characters (docker, CRI, containerd)
  NAME               a container name (docker name, CRI container name, containerd id)
  NS/POD             a Kubernetes pod (its first container; the network is the pod's)
  NS/POD/CONTAINER   a container of a Kubernetes pod

Options:
  -n, --net       join the network namespace (the default when no namespace is named)
  -m, --mount     join the mount namespace: COMMAND and its files come from the container
  -p, --pid       join the PID namespace (COMMAND sees the container's processes, with -m)
  -u, --uts       join the UTS namespace (host name)
  -i, --ipc       join the IPC namespace
  -a, --all       join all of the above
      --cri SOCK  CRI socket (default: the containerd, CRI-O, k3s and k0s sockets found)
      --docker SOCK  Docker API socket (default: /var/run/docker.sock when present)
      --list      list the containers and pods that can be entered
  -h, --help      this text

Examples:
  syscope enter critical-app/backend-5d8f -- cat /etc/resolv.conf
  syscope enter -m 3f2a9c -- cat /etc/resolv.conf
  syscope enter web -- ss -tnp
`

// enterOptions are the options of `syscope enter`.
type enterOptions struct {
	kinds  []nsenter.Kind
	list   bool
	cri    []string
	docker []string
	target string
	argv   []string
}

func parseEnter(args []string) (*enterOptions, bool, error) {
	o := &enterOptions{}
	add := func(k nsenter.Kind) {
		for _, x := range o.kinds {
			if x == k {
				return
			}
		}
		o.kinds = append(o.kinds, k)
	}
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		name, val, hasVal := strings.Cut(a, "=")
		value := func() (string, error) {
			if hasVal {
				return val, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("%s needs a value", name)
			}
			i++
			return args[i], nil
		}
		switch name {
		case "-h", "--help":
			return nil, true, nil
		case "-n", "--net":
			add(nsenter.Net)
		case "-m", "--mount":
			add(nsenter.Mount)
		case "-p", "--pid":
			add(nsenter.PID)
		case "-u", "--uts":
			add(nsenter.UTS)
		case "-i", "--ipc":
			add(nsenter.IPC)
		case "-a", "--all":
			for _, k := range []nsenter.Kind{nsenter.Net, nsenter.Mount, nsenter.PID, nsenter.UTS, nsenter.IPC} {
				add(k)
			}
		case "--list":
			o.list = true
		case "--cri":
			v, err := value()
			if err != nil {
				return nil, false, err
			}
			o.cri = append(o.cri, v)
		case "--docker":
			v, err := value()
			if err != nil {
				return nil, false, err
			}
			o.docker = append(o.docker, v)
		default:
			return nil, false, fmt.Errorf("unknown option %s (see syscope enter --help)", a)
		}
	}
	rest := args[i:]
	if o.list {
		if len(rest) > 0 {
			return nil, false, errors.New("--list takes no target or command")
		}
		return o, false, nil
	}
	if len(rest) == 0 {
		return nil, false, errors.New("no target given (see syscope enter --help, or syscope enter --list)")
	}
	o.target = rest[0]
	rest = rest[1:]
	if len(rest) > 0 && rest[0] == "--" {
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return nil, false, fmt.Errorf("no command given: syscope enter %s -- COMMAND [ARG...]", o.target)
	}
	o.argv = rest
	if len(o.kinds) == 0 {
		o.kinds = []nsenter.Kind{nsenter.Net}
	}
	return o, false, nil
}

// enterMain runs `syscope enter`.
func enterMain(args []string, stdout, stderr io.Writer) int {
	o, help, err := parseEnter(args)
	if help {
		fmt.Fprint(stdout, enterUsage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "syscope enter: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srcs, cands, warns := listEnterCandidates(ctx, o.cri, o.docker)
	defer closeSources(srcs)
	for _, w := range warns {
		fmt.Fprintf(stderr, "syscope enter: warning: %v\n", w)
	}
	if len(srcs) == 0 {
		fmt.Fprintf(stderr, "syscope enter: no container runtime answered (is docker, containerd or CRI-O running? see --cri and --docker)\n")
		return 1
	}
	if o.list {
		printCandidates(stdout, cands)
		return 0
	}
	c, err := pickCandidate(cands, o.target, o.kinds)
	if err != nil && strings.Count(o.target, "/") == 0 {
		// The lists hold running containers only: a stopped one is
		// found by asking for it.
		if x := lookupEnterCandidate(ctx, srcs, o.target); x != nil {
			c, err = x, nil
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "syscope enter: %v\n", err)
		return 1
	}
	pid := c.Pid
	if pid > 0 && !processExists(pid) {
		pid = 0 // the runtime remembers a task that has exited
	}
	if pid <= 0 {
		pid = pidInCgroup(c.ID, c.CgroupPath)
	}
	if pid <= 0 {
		fmt.Fprintf(stderr, "syscope enter: container %s (%s) is not running: no process of it on this host\n", shortID(c.ID), c.Name)
		return 1
	}
	if os.Geteuid() != 0 {
		fmt.Fprintf(stderr, "syscope enter: joining a container's namespaces needs root (CAP_SYS_ADMIN); run with sudo\n")
		return 1
	}
	code, err := nsenter.Run(nsenter.Command{
		Target: pid, Kinds: o.kinds, Argv: o.argv,
		Stdin: os.Stdin, Stdout: fileOr(stdout, os.Stdout), Stderr: fileOr(stderr, os.Stderr),
	})
	if err != nil {
		fmt.Fprintf(stderr, "syscope enter: %s in container %s (%s): %v\n", o.argv[0], shortID(c.ID), c.Name, err)
		return 1
	}
	return code
}

func processExists(pid int) bool {
	_, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid)))
	return err == nil
}

// fileOr returns w when it is an *os.File, else def: a child process needs a file.
func fileOr(w io.Writer, def *os.File) *os.File {
	if f, ok := w.(*os.File); ok {
		return f
	}
	return def
}

// enterCandidate is a container that `syscope enter` can name.
type enterCandidate struct {
	ID         string // full id
	Name       string
	Runtime    string
	Namespace  string // Kubernetes namespace, pod and container name, from the runtime's labels
	Pod        string
	Container  string
	CgroupPath string // when the runtime says it (containerd)
	Pid        int    // a host pid of the container, 0 when not known or not running
}

func shortID(id string) string {
	if len(id) > 12 && isHex(id) {
		return id[:12]
	}
	return id
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return s != ""
}

// pickCandidate finds the one container target names.
func pickCandidate(cands []enterCandidate, target string, kinds []nsenter.Kind) (*enterCandidate, error) {
	if parts := strings.Split(target, "/"); len(parts) == 2 || len(parts) == 3 {
		var in []*enterCandidate
		for i := range cands {
			c := &cands[i]
			if c.Namespace == parts[0] && c.Pod == parts[1] && (len(parts) == 2 || c.Container == parts[2]) {
				in = append(in, c)
			}
		}
		if len(in) == 0 {
			return nil, fmt.Errorf("no pod %s on this node%s", target, nearest(target, podNames(cands)))
		}
		sort.Slice(in, func(i, j int) bool { return in[i].Container < in[j].Container })
		if len(in) > 1 && len(parts) == 2 && !netOnly(kinds) {
			var names []string
			for _, c := range in {
				names = append(names, c.Container)
			}
			return nil, fmt.Errorf("pod %s has %d containers (%s): name one, as %s/%s", target, len(in), strings.Join(names, ", "), target, names[0])
		}
		// The containers of a pod share its network: any running one will do.
		for _, c := range in {
			if c.Pid > 0 && processExists(c.Pid) || pidInCgroup(c.ID, c.CgroupPath) > 0 {
				return c, nil
			}
		}
		return in[0], nil
	}
	var byName []*enterCandidate
	for i := range cands {
		if cands[i].Name == target {
			byName = append(byName, &cands[i])
		}
	}
	if len(byName) == 1 {
		return byName[0], nil
	}
	var byID []*enterCandidate
	for i := range cands {
		if strings.HasPrefix(cands[i].ID, target) {
			byID = append(byID, &cands[i])
		}
	}
	switch {
	case len(byName) > 1:
		return nil, fmt.Errorf("%d containers are named %s (%s): give an id prefix instead", len(byName), target, idList(byName))
	case len(byID) == 1:
		return byID[0], nil
	case len(byID) > 1:
		return nil, fmt.Errorf("%q is the start of %d container ids (%s): give more characters", target, len(byID), idList(byID))
	}
	var names []string
	for _, c := range cands {
		names = append(names, c.Name)
	}
	return nil, fmt.Errorf("no container with id or name %q on this host%s (syscope enter --list shows them)", target, nearest(target, names))
}

func netOnly(kinds []nsenter.Kind) bool {
	return len(kinds) == 1 && kinds[0] == nsenter.Net
}

func idList(cs []*enterCandidate) string {
	var s []string
	for _, c := range cs {
		s = append(s, shortID(c.ID)+" "+c.Name)
	}
	return strings.Join(s, ", ")
}

func podNames(cands []enterCandidate) []string {
	var s []string
	for _, c := range cands {
		if c.Pod != "" {
			s = append(s, c.Namespace+"/"+c.Pod)
		}
	}
	return s
}

// nearest returns ": did you mean X?" for the closest of names to s, or "".
func nearest(s string, names []string) string {
	best, bestD := "", len(s)/2+2
	for _, n := range names {
		if d := textdist.Levenshtein(s, n); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(": did you mean %s?", best)
}

// pidInCgroup finds the oldest host process of a container: one whose cgroup
// path ends with the container id (any runtime and cgroup driver), or is the
// runtime's cgroup path for it. It returns 0 when there is none.
func pidInCgroup(id, cgroupPath string) int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	best, bestStart := 0, uint64(0)
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cgroup"))
		if err != nil || !cgroupFileHas(string(b), id, cgroupPath) {
			continue
		}
		start := procStart(pid)
		if best == 0 || start < bestStart {
			best, bestStart = pid, start
		}
	}
	return best
}

// cgroupFileHas reports whether a /proc/PID/cgroup names the container.
func cgroupFileHas(content, id, cgroupPath string) bool {
	for _, line := range strings.Split(content, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		p := parts[2]
		if cgroupPath != "" && (p == cgroupPath || strings.HasSuffix(p, cgroupPath)) {
			return true
		}
		if len(id) >= 12 && strings.Contains(p, id) {
			return true
		}
	}
	return false
}

// procStart is a process's start time in clock ticks since boot.
func procStart(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		f := strings.Fields(s[i+1:])
		if len(f) > 19 {
			v, _ := strconv.ParseUint(f[19], 10, 64)
			return v
		}
	}
	return 0
}

func printCandidates(w io.Writer, cands []enterCandidate) {
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.Namespace+"/"+a.Pod != b.Namespace+"/"+b.Pod {
			return a.Namespace+"/"+a.Pod < b.Namespace+"/"+b.Pod
		}
		return a.Name < b.Name
	})
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "CONTAINER\tNAME\tRUNTIME\tPOD\tPID")
	for _, c := range cands {
		pod := "-"
		if c.Pod != "" {
			pod = c.Namespace + "/" + c.Pod
		}
		pid := c.Pid
		if pid > 0 && !processExists(pid) {
			pid = 0
		}
		if pid <= 0 {
			pid = pidInCgroup(c.ID, c.CgroupPath)
		}
		ps := "not running"
		if pid > 0 {
			ps = strconv.Itoa(pid)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", shortID(c.ID), c.Name, c.Runtime, pod, ps)
	}
	tw.Flush()
}

// listEnterCandidates asks every runtime found (or named by --cri/--docker)
// for its containers. Runtimes that do not answer give warnings, not errors:
// the others may know the target.
func listEnterCandidates(ctx context.Context, cri, docker []string) ([]container.Source, []enterCandidate, []error) {
	var opts []container.DetectOption
	if len(cri) > 0 {
		opts = append(opts, container.WithCRISocket(cri...))
	}
	if len(docker) > 0 {
		opts = append(opts, container.WithDockerSocket(docker...))
	}
	srcs, warns := runtimes.Open(ctx, container.Detect(opts...), 0)
	var out []enterCandidate
	seen := map[string]bool{}
	for _, s := range srcs {
		list, err := s.List(ctx)
		if err != nil {
			warns = append(warns, fmt.Errorf("%s: %w", s.Name(), err))
			continue
		}
		for _, x := range list {
			if x.IsPodSandbox {
				continue
			}
			id := x.FullID
			if id == "" {
				id = x.ID
			}
			// The same container can be seen through CRI and containerd's
			// own API: the first (CRI, with the pod) wins.
			if seen[id] {
				continue
			}
			seen[id] = true
			out = append(out, candidateOf(x))
		}
	}
	return srcs, out, warns
}

// candidateOf is what `syscope enter` needs of a container.
func candidateOf(x *container.Info) enterCandidate {
	id := x.FullID
	if id == "" {
		id = x.ID
	}
	c := enterCandidate{ID: id, Name: x.Name, Runtime: x.Ext.Source, Pid: int(x.Ext.Pid)}
	if c.Runtime == "" {
		c.Runtime = x.Type.Name()
	}
	if len(x.Ext.Cgroups) > 0 {
		c.CgroupPath = x.Ext.Cgroups[0]
	}
	c.Namespace = x.Labels["io.kubernetes.pod.namespace"]
	c.Pod = x.Labels["io.kubernetes.pod.name"]
	c.Container = x.Labels["io.kubernetes.container.name"]
	if p := x.Ext.Pod; p != nil {
		c.Namespace, c.Pod = p.Namespace, p.Name
	}
	return c
}

// lookupEnterCandidate asks each runtime for target by id or name.
func lookupEnterCandidate(ctx context.Context, srcs []container.Source, target string) *enterCandidate {
	for _, s := range srcs {
		if x, err := s.Lookup(ctx, target); err == nil && !x.IsPodSandbox {
			c := candidateOf(x)
			return &c
		}
	}
	return nil
}

func closeSources(srcs []container.Source) {
	for _, s := range srcs {
		if c, ok := s.(io.Closer); ok {
			c.Close()
		}
	}
}
