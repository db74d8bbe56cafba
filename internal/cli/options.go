// Package cli implements the syscope command line: sysdig's options, parsed
// the way sysdig's getopt_long parses them, and the main read/print/write loop.
package cli

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Options are the parsed command-line options.
type Options struct {
	ReadFile    string
	WriteFile   string
	Compress    bool
	Snaplen     int
	Print       string
	PrintSet    bool
	JSON        bool
	BufFmt      byte // 0, 'A', 'x', 'X', 'b'
	Verbose     bool
	TimeType    byte
	NumEvents   int64
	Duration    int64 // -M seconds
	Quiet       bool
	Debug       bool
	Summary     bool
	Progress    bool
	ListFields  bool
	ListEvents  bool
	Unbuffered  bool
	DisplayFlt  bool
	FatFile     bool
	Help        bool
	Version     bool
	FileSize    int64 // -C MB
	Seconds     int64 // -G
	Limit       int64 // -W
	EventLimit  int64 // -e
	Filter      string
	ListChisels bool
	// Chisels are the -c options, in order; FilterArgs the non-option
	// arguments (Filter joins them), from which a chisel may take its
	// arguments (see chisel.go).
	Chisels    []ChiselOpt
	FilterArgs []string
	ChiselInfo string   // -i
	ChiselDirs []string // --chisel-dir
	chisels    *chiselSet
	CheckLive  bool // --check-live
	// Live capture filters applied in the kernel.
	Pid        int
	Comm       string
	Containers []string
	Cgroups    []string
	// CRISockets (--cri), DockerSockets (--docker) and CRITimeoutMs
	// (--cri-timeout) say where and how long to ask container runtimes
	// for metadata in live captures; by default the usual sockets are tried.
	CRISockets    []string
	DockerSockets []string
	CRITimeoutMs  int
	// K8sAPI (-k), K8sAPICert (-K) and NodeName (--node-name): where live
	// captures get Kubernetes metadata (k8s.svc.*, k8s.rs.*...) from.
	// Without -k, $SYSDIG_K8S_API, $KUBECONFIG or an in-cluster service
	// account, there is none beyond the runtime's pod labels.
	K8sAPI     string
	K8sAPICert string
	NodeName   string
	// PodUIDs are the --pod-uid options: Kubernetes pods whose cgroups
	// (all their containers, restarts included) are captured (kube.go).
	PodUIDs []string
	// ProgressJSON (--progress-json) prints the driver's counters as a JSON
	// line on stderr every second of a live capture; Idle (--idle) waits for
	// SIGTERM or SIGINT and does nothing else. kubectl-capture uses both.
	ProgressJSON bool
	Idle         bool
	// TrimProclist (--trim-proclist): with kernel cgroup filters, the
	// process table of a live capture holds only the processes in them.
	TrimProclist bool
}

// option describes one sysdig option.
type option struct {
	short   byte
	long    string
	hasArg  int // 0 none, 1 required, 2 optional
	handler func(o *Options, arg string) error
}

var options []option

func init() {
	options = []option{
		{'A', "print-ascii", 0, func(o *Options, _ string) error { return o.setBuf('A') }},
		{'b', "print-base64", 0, func(o *Options, _ string) error { return o.setBuf('b') }},
		{'x', "print-hex", 0, func(o *Options, _ string) error { return o.setBuf('x') }},
		{'X', "print-hex-ascii", 0, func(o *Options, _ string) error { return o.setBuf('X') }},
		{'C', "file-size", 1, func(o *Options, a string) error { return setInt(&o.FileSize, a, "-C") }},
		{'d', "displayflt", 0, func(o *Options, _ string) error { o.DisplayFlt = true; return nil }},
		{'D', "debug", 0, func(o *Options, _ string) error { o.Debug = true; return nil }},
		{'e', "event-limit", 1, func(o *Options, a string) error { return setInt(&o.EventLimit, a, "-e") }},
		{'F', "fatfile", 0, func(o *Options, _ string) error { o.FatFile = true; return nil }},
		{'G', "seconds", 1, func(o *Options, a string) error { return setInt(&o.Seconds, a, "-G") }},
		{'h', "help", 0, func(o *Options, _ string) error { o.Help = true; return nil }},
		{'j', "json", 0, func(o *Options, _ string) error { o.JSON = true; return nil }},
		{'l', "list", 0, func(o *Options, _ string) error { o.ListFields = true; return nil }},
		{'L', "list-events", 0, func(o *Options, _ string) error { o.ListEvents = true; return nil }},
		{'M', "", 1, func(o *Options, a string) error { return setInt(&o.Duration, a, "-M") }},
		{'n', "numevents", 1, func(o *Options, a string) error { return setCount(&o.NumEvents, a) }},
		// -N is accepted and ignored: the seeds' command lines use it.
		{'N', "", 0, func(o *Options, _ string) error { return nil }},
		{'p', "print", 1, func(o *Options, a string) error { o.Print, o.PrintSet = a, true; return nil }},
		{'P', "progress", 0, func(o *Options, _ string) error { o.Progress = true; return nil }},
		{'q', "quiet", 0, func(o *Options, _ string) error { o.Quiet = true; return nil }},
		{'r', "readfile", 1, func(o *Options, a string) error { o.ReadFile = a; return nil }},
		{'S', "summary", 0, func(o *Options, _ string) error { o.Summary = true; return nil }},
		{'s', "snaplen", 1, func(o *Options, a string) error {
			n, err := strconv.Atoi(a)
			if err != nil || n < 0 {
				return fmt.Errorf("invalid snaplen %q: expected a number of bytes", a)
			}
			o.Snaplen = n
			return nil
		}},
		{'t', "timetype", 1, func(o *Options, a string) error {
			switch a {
			case "h", "a", "r", "d", "D":
				o.TimeType = a[0]
				return nil
			}
			return fmt.Errorf("invalid modifier for flag -t: %s (use h, a, r, d or D)", a)
		}},
		{'v', "verbose", 0, func(o *Options, _ string) error { o.Verbose = true; return nil }},
		{'W', "limit", 1, func(o *Options, a string) error { return setInt(&o.Limit, a, "-W") }},
		{'w', "writefile", 1, func(o *Options, a string) error { o.WriteFile = a; return nil }},
		{'z', "compress", 0, func(o *Options, _ string) error { o.Compress = true; return nil }},
		{'c', "chisel", 1, func(o *Options, a string) error { o.Chisels = append(o.Chisels, ChiselOpt{Name: a}); return nil }},
		{'i', "chisel-info", 1, func(o *Options, a string) error { o.ChiselInfo = a; return nil }},
		{0, "chisel-dir", 1, func(o *Options, a string) error { o.ChiselDirs = append(o.ChiselDirs, a); return nil }},
		{0, "unbuffered", 0, func(o *Options, _ string) error { o.Unbuffered = true; return nil }},
		{0, "version", 0, func(o *Options, _ string) error { o.Version = true; return nil }},
		{0, "list-chisels", 0, func(o *Options, _ string) error { o.ListChisels = true; return nil }},
		// sysdig's -B selects its eBPF probe; syscope always captures with eBPF, so it
		// (and --modern-bpf) are accepted and change nothing.
		{'B', "bpf", 2, func(o *Options, _ string) error { return nil }},
		{0, "modern-bpf", 0, func(o *Options, _ string) error { return nil }},
		{0, "pid", 1, func(o *Options, a string) error {
			n, err := strconv.Atoi(a)
			if err != nil || n <= 0 {
				return fmt.Errorf("invalid --pid %q: expected a process id", a)
			}
			o.Pid = n
			return nil
		}},
		{0, "check-live", 0, func(o *Options, _ string) error { o.CheckLive = true; return nil }},
		{0, "comm", 1, func(o *Options, a string) error { o.Comm = a; return nil }},
		{0, "container", 1, func(o *Options, a string) error { o.Containers = append(o.Containers, a); return nil }},
		{0, "cgroup", 1, func(o *Options, a string) error { o.Cgroups = append(o.Cgroups, a); return nil }},
		// Kubernetes API for live metadata (livemeta.go), as sysdig's.
		{'k', "k8s-api", 1, func(o *Options, a string) error { o.K8sAPI = a; return nil }},
		{'K', "k8s-api-cert", 1, func(o *Options, a string) error { o.K8sAPICert = a; return nil }},
		{0, "node-name", 1, func(o *Options, a string) error { o.NodeName = a; return nil }},
		// Container runtimes for live metadata (livemeta.go).
		{0, "cri", 1, func(o *Options, a string) error { o.CRISockets = append(o.CRISockets, a); return nil }},
		{0, "docker", 1, func(o *Options, a string) error { o.DockerSockets = append(o.DockerSockets, a); return nil }},
		{0, "cri-timeout", 1, func(o *Options, a string) error {
			n, err := strconv.Atoi(a)
			if err != nil || n <= 0 {
				return fmt.Errorf("--cri-timeout: %q is not a number of milliseconds", a)
			}
			o.CRITimeoutMs = n
			return nil
		}},
		{0, "pod-uid", 1, func(o *Options, a string) error { o.PodUIDs = append(o.PodUIDs, a); return nil }},
		{0, "progress-json", 0, func(o *Options, _ string) error { o.ProgressJSON = true; return nil }},
		{0, "idle", 0, func(o *Options, _ string) error { o.Idle = true; return nil }},
		{0, "trim-proclist", 0, func(o *Options, _ string) error { o.TrimProclist = true; return nil }},
	}
}

// OptionArg tells whether flag ("-s", "--snaplen") is a syscope option and
// whether it takes an argument: 0 none, 1 required, 2 optional (attached
// only). Programs that pass options through to syscope use it to split
// their command line.
func OptionArg(flag string) (known bool, hasArg int) {
	var opt *option
	switch {
	case strings.HasPrefix(flag, "--") && len(flag) > 2:
		opt = findLong(flag[2:])
	case len(flag) == 2 && flag[0] == '-':
		opt = findShort(flag[1])
	}
	if opt == nil {
		return false, 0
	}
	return true, opt.hasArg
}

func (o *Options) setBuf(c byte) error {
	if o.BufFmt != 0 && o.BufFmt != c {
		return fmt.Errorf("you cannot specify more than one output format")
	}
	o.BufFmt = c
	return nil
}

func setInt(dst *int64, a, flag string) error {
	n, err := strconv.ParseInt(a, 10, 64)
	if err != nil {
		return fmt.Errorf("invalid value %q for %s: expected a number", a, flag)
	}
	*dst = n
	return nil
}

// setCount parses -n as sysdig does (scanf's %lu): blanks, a sign and digits.
// 0 is refused; a negative count wraps to a huge one, that is no limit.
func setCount(dst *int64, a string) error {
	t := strings.TrimLeft(a, " \t\n\v\f\r")
	neg := false
	if t != "" && (t[0] == '-' || t[0] == '+') {
		neg = t[0] == '-'
		t = t[1:]
	}
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return fmt.Errorf("can't parse the -n argument, make sure it's a number")
	}
	switch {
	case err != nil, neg && n != 0:
		*dst = -1
	case n == 0:
		return fmt.Errorf("invalid event count %s", a)
	case n > math.MaxInt64:
		*dst = -1
	default:
		*dst = int64(n)
	}
	return nil
}

func findShort(c byte) *option {
	for i := range options {
		if options[i].short == c {
			return &options[i]
		}
	}
	return nil
}

func findLong(name string) *option {
	for i := range options {
		if options[i].long == name {
			return &options[i]
		}
	}
	return nil
}

// Parse parses args (without the program name) as sysdig does: short options may be
// combined (-NA) and take their argument attached or separate (-s8192, -s 8192);
// non-option arguments form the filter.
func Parse(args []string) (*Options, error) {
	o := &Options{Snaplen: 80, TimeType: 'h', NumEvents: -1}
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i+1:]...)
			break
		}
		if a == "-cl" {
			o.ListChisels = true
			continue
		}
		if a == "-lv" {
			o.ListFields, o.Verbose = true, true
			continue
		}
		if strings.HasPrefix(a, "--") {
			name, val, hasVal := strings.Cut(a[2:], "=")
			opt := findLong(name)
			if opt == nil {
				return nil, fmt.Errorf("unrecognized option '--%s' (see syscope --help)", name)
			}
			if opt.hasArg == 1 && !hasVal { // an optional argument (2) must be attached: --bpf=PATH
				if i+1 >= len(args) {
					return nil, fmt.Errorf("option '--%s' requires an argument", name)
				}
				i++
				val = args[i]
			}
			if err := opt.handler(o, val); err != nil {
				return nil, err
			}
			o.noteChisel(opt, args[i+1:], len(rest))
			continue
		}
		if len(a) < 2 || a[0] != '-' {
			rest = append(rest, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			opt := findShort(a[j])
			if opt == nil {
				return nil, fmt.Errorf("invalid option -- '%c' (see syscope --help)", a[j])
			}
			if opt.hasArg == 0 {
				if err := opt.handler(o, ""); err != nil {
					return nil, err
				}
				continue
			}
			val := a[j+1:]
			if val == "" && opt.hasArg == 1 {
				if i+1 >= len(args) {
					return nil, fmt.Errorf("option requires an argument -- '%c'", a[j])
				}
				i++
				val = args[i]
			}
			if err := opt.handler(o, val); err != nil {
				return nil, err
			}
			o.noteChisel(opt, args[i+1:], len(rest))
			break
		}
	}
	o.FilterArgs = rest
	o.Filter = strings.Join(rest, " ")
	return o, nil
}
