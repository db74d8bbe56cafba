package kubecapture

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
)

// Usage is the plugin's help.
const Usage = `kubectl capture: capture a pod's system calls on its node with syscope (eBPF),
and bring the capture file home.

Usage:
  kubectl capture POD [-n NAMESPACE] [-M SECONDS] [options] [syscope options] [filter]
  kubectl capture -l SELECTOR [-n NAMESPACE] [--merge] [options] [filter]

It starts a privileged capture pod on the node the pod runs on, captures
for -M seconds what the pod's containers do (filtered in the kernel by the
pod's cgroup, so containers the pod restarts meanwhile are in it too),
streams the file back through the API server, checks that it reads, deletes
the capture pod (also on error, Ctrl+C or timeout), and says where the file
is. Nothing needs to be installed on the node.

Examples:
  kubectl capture ticket-balancer-5967c66fb4-qnzj6 -ns ticket-generator -M 30 --snaplen 256
  kubectl capture web-0 -c nginx -M 10 'evt.type in (accept, read, write)'
  kubectl capture -l app=ticket-server -n ticket-generator -M 20 --merge
  kubectl capture web-0 --node -M 5            # everything on web-0's node
Then: syscope -r FILE -A 'fd.type=ipv4'    (sysdig -r FILE reads it too)

Options:
  -n, -ns, --namespace NS   the pod's namespace (default: the kubeconfig context's)
  -c, --container NAME      only this container of the pod (default: all of them)
  -l, --selector SELECTOR   every running pod the label selector selects, on
                            every node they run on: one capture pod per node
  --merge                   with -l over several nodes: one time-ordered file
                            instead of one file per node
  --node                    capture the whole node, not only the pod(s)
  -M SECONDS                how long to capture (default 30)
  -s, --snaplen BYTES       bytes of each I/O buffer to capture (default 80)
  -o, --output-dir DIR      where to write the file (default: the current directory)
  --image IMAGE             the capture pod's image (default ` + DefaultImage + `,
                            built by 'make image'; push it to your registry for
                            real clusters)
  --capture-namespace NS    run the capture pod in NS (default: the target's namespace)
  --start-timeout DURATION  how long the capture pod may take to start (default 3m)
  --ebpf                    accepted for the original plugin's users: always eBPF
  -h, --help                this help
  --kubeconfig, --context, --cluster, --user, --server, --token, --as, ...
                            as for kubectl (long forms only: -s is --snaplen)

syscope capture options passed on: --numevents N, -F, --pid PID, --comm NAME.
Options that only change how events are printed (-p, -A, -j, -S, -z, ...) are
ignored with a warning: give them when reading the file. The filter (sysdig's
filter language) selects the events written to the file.

Files are named capture-POD-TIME.scap.gz, mode 0600. The exit status is 0 only
when every file is on disk and reads back as a capture.
`

// Main runs the plugin with args (without the program name) and returns the
// exit status: 0 with verified files, 130 when interrupted, 1 otherwise.
func Main(args []string, stdout, stderr io.Writer) int {
	o, err := Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "kubectl capture: %v\n", err)
		return 1
	}
	if o.Help {
		fmt.Fprint(stdout, Usage)
		return 0
	}
	for _, w := range o.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if o.Namespace == "" {
		ns, _, err := o.Kube.ToRawKubeConfigLoader().Namespace()
		if err != nil {
			fmt.Fprintf(stderr, "kubectl capture: reading the kubeconfig: %v\n", err)
			return 1
		}
		o.Namespace = ns
	}
	cfg, err := o.Kube.ToRESTConfig()
	if err != nil {
		fmt.Fprintf(stderr, "kubectl capture: %v\n(check --kubeconfig, $KUBECONFIG or ~/.kube/config, and --context)\n", err)
		return 1
	}
	client, err := kubernetes.NewForConfig(rest.CopyConfig(cfg))
	if err != nil {
		fmt.Fprintf(stderr, "kubectl capture: %v\n", err)
		return 1
	}

	// client-go logs the end of an interrupted exec session through klog;
	// what matters is said by the plugin's own messages.
	kf := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(kf)
	kf.Set("logtostderr", "false")
	kf.Set("stderrthreshold", "FATAL")
	klog.SetOutput(io.Discard)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s, ok := <-sigs
		if !ok {
			return
		}
		fmt.Fprintf(stderr, "\nkubectl capture: %v: stopping, deleting the capture pod(s) (again to quit at once and leave them)\n", s)
		cancel()
		if _, ok := <-sigs; ok {
			os.Exit(130)
		}
	}()
	defer func() {
		signal.Stop(sigs)
		close(sigs)
	}()

	r := &Runner{Opts: o, Client: client, Exec: apiExec(cfg, client), Err: stderr, TTY: isTerminal(stderr)}
	start := time.Now()
	res, err := r.Run(ctx)
	if errors.Is(err, ErrInterrupted) {
		fmt.Fprintln(stderr, "kubectl capture: interrupted: the capture was abandoned and no file was written")
		return 130
	}
	if err != nil {
		fmt.Fprintf(stderr, "kubectl capture: %v\n", err)
		return 1
	}
	total := time.Since(start)
	for _, f := range res.Files {
		fi := f.Info
		span := time.Duration(fi.LastTs - fi.FirstTs)
		fmt.Fprintf(stderr, "The capture is on disk: %s\n", f.Path)
		fmt.Fprintf(stderr, "  %s, %d events over %v, %d dropped by the kernel side; node %v; capturing %.1fs after the command started, done in %.1fs\n",
			humanBytes(fi.Size), fi.Events, span.Round(time.Millisecond), f.Drops, joinNodes(f.Nodes), f.TimeToStart.Seconds(), total.Seconds())
		if fi.Events == 0 || fi.Events == uint64(fi.Containers) {
			fmt.Fprintln(stderr, "  note: it holds no system calls: nothing the capture selected ran during it")
		}
		fmt.Fprintf(stderr, "Open it with:\n  syscope -r %s\n  syscope -r %s -c echo_fds    (the data read and written, as text)\n", f.Path, f.Path)
		fmt.Fprintln(stdout, f.Path)
	}
	return 0
}

func joinNodes(n []string) string {
	if len(n) == 1 {
		return n[0]
	}
	return fmt.Sprint(n)
}

// isTerminal tells whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
