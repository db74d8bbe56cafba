package kubecapture

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/syscope/syscope/filter"
)

// DefaultImage is the capture pod's image unless --image says otherwise:
// what `make image` builds (bin/syscope-image.tar).
const DefaultImage = "docker.io/syscope/syscope:dev"

// Options is the parsed command line.
type Options struct {
	Pod          string // target pod; empty with -l
	Namespace    string // -n, -ns, --namespace; empty: the kubeconfig's
	Container    string // -c: only this container of the pod
	Selector     string // -l: every pod it selects (in Namespace)
	WholeNode    bool   // --node: the whole node, not only the target pods
	Merge        bool   // --merge: one time-ordered file for all nodes
	Duration     int    // -M, seconds
	Snaplen      int    // -s, --snaplen; 0: syscope's default (80)
	OutputDir    string // -o
	Image        string // --image
	CaptureNS    string // --capture-namespace; empty: the target's
	StartTimeout time.Duration
	Help         bool

	// SyscopeArgs are the syscope options passed through to the capture
	// (--snaplen and the like, not the filter); Filter is the filter, its
	// words joined.
	SyscopeArgs []string
	Filter      string
	// Warnings are about options accepted and ignored.
	Warnings []string

	Kube *genericclioptions.ConfigFlags
}

// defaultDuration is the capture's length without -M.
const defaultDuration = 30

// syscopeOptions are syscope's options (internal/cli's table; a test checks
// them against it) and whether each takes an argument: 0 none, 1 required,
// 2 optional (attached only). The plugin does not import internal/cli, which
// holds the Linux-only probe: the plugin runs on macOS too.
var syscopeOptions = map[string]int{
	"-A": 0, "--print-ascii": 0, "-b": 0, "--print-base64": 0, "-x": 0, "--print-hex": 0,
	"-X": 0, "--print-hex-ascii": 0, "-C": 1, "--file-size": 1, "-d": 0, "--displayflt": 0,
	"-D": 0, "--debug": 0, "-e": 1, "--event-limit": 1, "-F": 0, "--fatfile": 0,
	"-G": 1, "--seconds": 1, "-h": 0, "--help": 0, "-j": 0, "--json": 0,
	"-l": 0, "--list": 0, "-L": 0, "--list-events": 0, "-M": 1, "-n": 1, "--numevents": 1,
	"-N": 0, "-p": 1, "--print": 1, "-P": 0, "--progress": 0, "-q": 0, "--quiet": 0,
	"-r": 1, "--readfile": 1, "-S": 0, "--summary": 0, "-s": 1, "--snaplen": 1,
	"-t": 1, "--timetype": 1, "-v": 0, "--verbose": 0, "-W": 1, "--limit": 1,
	"-w": 1, "--writefile": 1, "-z": 0, "--compress": 0, "-c": 1, "--chisel": 1,
	"-i": 1, "--chisel-info": 1, "--chisel-dir": 1, "--unbuffered": 0, "--version": 0,
	"--list-chisels": 0, "-B": 2, "--bpf": 2, "--modern-bpf": 0, "--pid": 1,
	"--check-live": 0, "--comm": 1, "--container": 1, "--cgroup": 1, "--pod-uid": 1,
	"--progress-json": 0, "--idle": 0, "--trim-proclist": 0,
}

// syscope options that make no sense through the plugin: an error.
var refused = map[string]string{
	"-r":              "the capture is written by the plugin; read it afterwards with syscope -r FILE",
	"-w":              "the file is named by the plugin; choose its directory with -o DIR",
	"-C":              "the capture is one file per node; split it afterwards if needed",
	"-G":              "the capture is one file per node",
	"-W":              "the capture is one file per node",
	"-e":              "the capture is one file per node",
	"-i":              "chisels run on the capture file: syscope -r FILE -c CHISEL",
	"-L":              "run syscope -L locally",
	"-h":              "",
	"-c":              "chisels run on the capture file: syscope -r FILE -c CHISEL",
	"-l":              "run syscope -l locally",
	"--chisel-dir":    "chisels run on the capture file: syscope -r FILE -c CHISEL",
	"--list-chisels":  "run syscope -cl locally",
	"--version":       "run syscope --version locally",
	"--check-live":    "the plugin checks the node itself",
	"--idle":          "the capture pod's main process uses it",
	"--pod-uid":       "the plugin sets it from the target pods",
	"--cgroup":        "the plugin restricts the capture to the target pods; use --node for the whole node",
	"--progress-json": "the plugin sets it",
	"--trim-proclist": "the plugin sets it (unless --node)",
}

// syscope options that only change what is printed, not what is captured:
// accepted with a warning, as sysdig users type them by habit.
var ignored = map[string]bool{
	"-p": true, "-j": true, "-A": true, "-x": true, "-X": true, "-b": true,
	"-S": true, "-q": true, "-t": true, "-d": true, "-D": true, "-P": true,
	"-v": true, "-z": true, "-N": true, "--unbuffered": true,
}

// canonical maps a syscope long option to its short form, where it has one,
// so that the tables above hold each option once.
var canonical = map[string]string{
	"--readfile": "-r", "--writefile": "-w", "--file-size": "-C", "--seconds": "-G",
	"--limit": "-W", "--event-limit": "-e", "--chisel-info": "-i", "--list-events": "-L",
	"--help": "-h", "--print": "-p", "--json": "-j", "--print-ascii": "-A",
	"--print-hex": "-x", "--print-hex-ascii": "-X", "--print-base64": "-b",
	"--summary": "-S", "--quiet": "-q", "--timetype": "-t", "--displayflt": "-d",
	"--debug": "-D", "--progress": "-P", "--verbose": "-v", "--compress": "-z",
	"--snaplen": "-s", "--numevents": "-n", "--fatfile": "-F", "--bpf": "-B",
	"--chisel": "-c", "--list": "-l",
}

// Parse parses the plugin's command line (without the program name).
//
// The plugin's own options come first in meaning: -n/-ns/--namespace, -c
// (container), -l (selector), -M, -o, --node, --merge, --image, --ebpf, the
// kubeconfig options (--kubeconfig, --context, ...; long forms only, since
// -s is syscope's snaplen). Any other option must be one of syscope's
// capture options and is passed on; the first word that is not an option is
// the pod (without -l), the other words are the filter.
func Parse(args []string) (*Options, error) {
	o := &Options{
		Duration:     defaultDuration,
		OutputDir:    ".",
		Image:        DefaultImage,
		StartTimeout: 3 * time.Minute,
		Kube:         genericclioptions.NewConfigFlags(true),
	}
	kubeFlags := pflag.NewFlagSet("kube", pflag.ContinueOnError)
	o.Kube.AddFlags(kubeFlags)
	var kubeArgs, words []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			words = append(words, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			words = append(words, a)
			continue
		}
		name, val, hasVal := a, "", false
		if strings.HasPrefix(a, "--") {
			name, val, hasVal = strings.Cut(a, "=")
		}
		// value returns the option's argument: attached with =, or the next word.
		value := func() (string, error) {
			if hasVal {
				return val, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("option %s needs a value", name)
			}
			i++
			return args[i], nil
		}
		var err error
		switch {
		case name == "-n" || name == "-ns" || name == "--namespace":
			o.Namespace, err = value()
		case strings.HasPrefix(name, "-n") && !strings.HasPrefix(name, "--"):
			o.Namespace = name[2:] // -nNS, as kubectl takes it
		case name == "-c" || name == "--container":
			o.Container, err = value()
		case name == "-l" || name == "--selector":
			o.Selector, err = value()
		case strings.HasPrefix(name, "-l") && !strings.HasPrefix(name, "--"):
			o.Selector = name[2:]
		case name == "-o" || name == "--output-dir":
			o.OutputDir, err = value()
		case name == "--image":
			o.Image, err = value()
		case name == "--capture-namespace":
			o.CaptureNS, err = value()
		case name == "--start-timeout":
			var s string
			if s, err = value(); err == nil {
				o.StartTimeout, err = time.ParseDuration(s)
				if err == nil && o.StartTimeout <= 0 {
					err = fmt.Errorf("must be positive")
				}
				if err != nil {
					err = fmt.Errorf("--start-timeout %q: expected a duration such as 90s or 5m (%v)", s, err)
				}
			}
		case name == "--node":
			o.WholeNode = true
		case name == "--merge":
			o.Merge = true
		case name == "--ebpf":
			// Accepted for the original plugin's users: syscope always captures with eBPF.
		case name == "-h" || name == "--help":
			o.Help = true
		case name == "-M" || strings.HasPrefix(name, "-M"):
			s := name[2:]
			if s == "" {
				s, err = value()
			}
			if err == nil {
				o.Duration, err = strconv.Atoi(s)
				if err != nil || o.Duration <= 0 {
					err = fmt.Errorf("-M %q: expected the capture's length in seconds (a positive number)", s)
				}
			}
		case strings.HasPrefix(name, "--") && kubeFlags.Lookup(name[2:]) != nil:
			f := kubeFlags.Lookup(name[2:])
			if hasVal || f.Value.Type() == "bool" {
				kubeArgs = append(kubeArgs, a)
			} else {
				var v string
				if v, err = value(); err == nil {
					kubeArgs = append(kubeArgs, name+"="+v)
				}
			}
		default:
			err = o.syscopeOption(args, &i)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := kubeFlags.Parse(kubeArgs); err != nil {
		return nil, err
	}
	if o.Help {
		return o, nil
	}
	if o.Selector == "" {
		if len(words) == 0 {
			return nil, errors.New("which pod? usage: kubectl capture POD [-n NAMESPACE] [-M SECONDS] [options] [filter] (or -l SELECTOR; see kubectl capture --help)")
		}
		o.Pod, words = words[0], words[1:]
		if p, ok := strings.CutPrefix(o.Pod, "pod/"); ok {
			o.Pod = p
		} else if p, ok := strings.CutPrefix(o.Pod, "pods/"); ok {
			o.Pod = p
		}
		if strings.Contains(o.Pod, "/") {
			return nil, fmt.Errorf("%q: expected a pod name (or pod/NAME)", o.Pod)
		}
	} else if o.Container != "" {
		return nil, errors.New("-c (one container of one pod) cannot be combined with -l (every pod the selector selects)")
	}
	if o.Namespace == "" {
		o.Namespace = *o.Kube.Namespace
	}
	o.Filter = strings.Join(words, " ")
	if o.Filter != "" {
		if _, err := filter.Compile(o.Filter); err != nil {
			msg := err.Error()
			var fe *filter.Error
			if errors.As(err, &fe) {
				msg += "\n" + fe.Caret()
			}
			return nil, fmt.Errorf("the filter is not valid: %s", msg)
		}
	}
	// The numbers syscope would refuse.
	for i := 0; i+1 < len(o.SyscopeArgs); i++ {
		switch a := o.SyscopeArgs[i]; a {
		case "--numevents", "--pid":
			if n, err := strconv.Atoi(o.SyscopeArgs[i+1]); err != nil || n <= 0 {
				return nil, fmt.Errorf("%s %q: expected a positive number", a, o.SyscopeArgs[i+1])
			}
		}
	}
	return o, nil
}

// syscopeOption handles args[*i], which must be a syscope capture option:
// passed on, refused, or ignored with a warning.
func (o *Options) syscopeOption(args []string, i *int) error {
	a := args[*i]
	name, attached := a, ""
	if strings.HasPrefix(a, "--") {
		var ok bool
		name, attached, ok = strings.Cut(a, "=")
		if !ok {
			attached = ""
		}
	} else if len(a) > 2 {
		name, attached = a[:2], a[2:]
	}
	hasArg, known := syscopeOptions[name]
	if !known {
		return fmt.Errorf("unknown option %s (see kubectl capture --help; syscope's capture options and a filter may follow the pod)", a)
	}
	if !strings.HasPrefix(a, "--") && len(a) > 2 && hasArg == 0 {
		// Combined short options (-qA): one at a time.
		for _, c := range a[1:] {
			sub := []string{"-" + string(c)}
			j := 0
			if err := o.syscopeOption(sub, &j); err != nil {
				return err
			}
		}
		return nil
	}
	words := []string{a}
	if hasArg == 1 && attached == "" {
		if *i+1 >= len(args) {
			return fmt.Errorf("option %s needs a value", name)
		}
		*i++
		words = append(words, args[*i])
	}
	key := name
	if c, ok := canonical[name]; ok {
		key = c
	}
	if why, ok := refused[key]; ok {
		if why == "" {
			return fmt.Errorf("option %s is not available through kubectl capture", a)
		}
		return fmt.Errorf("option %s is not available through kubectl capture: %s", a, why)
	}
	if ignored[key] {
		o.Warnings = append(o.Warnings, fmt.Sprintf("%s only changes what syscope prints; ignored for a capture (use it when reading the file: syscope -r FILE %s)", strings.Join(words, " "), strings.Join(words, " ")))
		return nil
	}
	if key == "-s" {
		v := attached
		if v == "" {
			v = words[len(words)-1]
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("--snaplen %q: expected a number of bytes", v)
		}
		o.Snaplen = n
		return nil
	}
	if key == "-B" || name == "--modern-bpf" {
		return nil // eBPF is the only driver
	}
	o.SyscopeArgs = append(o.SyscopeArgs, words...)
	return nil
}
