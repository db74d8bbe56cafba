package kubecapture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	utilexec "k8s.io/client-go/util/exec"
)

// ErrInterrupted is returned when the user stopped the plugin (Ctrl+C).
var ErrInterrupted = errors.New("interrupted")

// Runner runs one kubectl capture.
type Runner struct {
	Opts   *Options
	Client kubernetes.Interface
	Exec   ExecFunc
	Err    io.Writer // progress and messages
	// TTY makes the progress one line rewritten in place.
	TTY bool
	// Now is the clock (file names); time.Now when nil.
	Now func() time.Time
	// ProgressEvery is how often progress is printed without a TTY; 5 s when 0.
	ProgressEvery time.Duration
	// DeleteWait bounds the wait for a deleted capture pod to be gone; 60 s when 0.
	DeleteWait time.Duration

	mu       sync.Mutex
	statuses []*status
	start    time.Time
}

// Result is a finished capture.
type Result struct {
	Files []Output
}

// Output is one capture file brought home and verified.
type Output struct {
	Path  string
	Nodes []string
	Info  fileInfo
	Drops uint64
	// TimeToStart is from the command's start to syscope's "capturing" on
	// the node; TimeToFirstByte to the first byte of the file received.
	TimeToStart, TimeToFirstByte time.Duration
}

// nodeResult is one node's capture, in a temporary file.
type nodeResult struct {
	nc   *nodeCapture
	tmp  string
	info fileInfo
	st   statusData
}

// Run captures, brings the files home, verifies them and deletes the capture
// pods whatever happens. It returns the files only when they are on disk and
// verified.
func (r *Runner) Run(ctx context.Context) (*Result, error) {
	o := r.Opts
	r.start = time.Now()
	if r.Now == nil {
		r.Now = time.Now
	}
	ncs, notes, err := resolveTargets(ctx, r.Client, o)
	if err != nil {
		return nil, err
	}
	for _, n := range notes {
		fmt.Fprintf(r.Err, "note: %s\n", n)
	}
	ns := o.CaptureNS
	if ns == "" {
		ns = o.Namespace
	}
	if err := checkAccess(ctx, r.Client, ns); err != nil {
		return nil, err
	}
	r.removeLeftovers(ctx, ns)
	if err := os.MkdirAll(o.OutputDir, 0o700); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}

	r.printHeader(ncs, ns)
	stopProgress := r.progress(ctx)
	results := make([]*nodeResult, len(ncs))
	errs := make([]error, len(ncs))
	// One node failing ends the others' captures: the command fails anyway.
	nctx, failFast := context.WithCancel(ctx)
	defer failFast()
	var wg sync.WaitGroup
	for i, nc := range ncs {
		st := &status{d: statusData{node: nc.Node}}
		r.mu.Lock()
		r.statuses = append(r.statuses, st)
		r.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = r.captureNode(nctx, nc, ns, st)
			if errs[i] != nil {
				failFast()
			}
		}()
	}
	wg.Wait()
	stopProgress()

	cleanup := func() {
		for _, res := range results {
			if res != nil {
				os.Remove(res.tmp)
			}
		}
	}
	if ctx.Err() != nil {
		cleanup()
		return nil, ErrInterrupted
	}
	var failed []string
	for i, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) { // canceled: another node failed
			if len(ncs) > 1 {
				err = fmt.Errorf("node %s: %w", ncs[i].Node, err)
			}
			failed = append(failed, err.Error())
		}
	}
	if len(failed) > 0 {
		cleanup()
		return nil, errors.New(strings.Join(failed, "\n"))
	}
	res, err := r.finish(results)
	if err != nil {
		cleanup()
		return nil, err
	}
	return res, nil
}

// captureNode runs the capture pod of one node: create, wait, exec the
// capture into a temporary file, verify it; the pod is deleted on the way
// out, whatever happened.
func (r *Runner) captureNode(ctx context.Context, nc *nodeCapture, ns string, st *status) (*nodeResult, error) {
	o := r.Opts
	pod := capturePod(o, nc, ns)
	// The name is made here, not by the server (generateName): a pod whose
	// creation was interrupted can still be deleted by its name. The request
	// itself is not interrupted, and the pod deleted right after.
	pod.Name = pod.GenerateName + randomSuffix()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	created, err := r.Client.CoreV1().Pods(ns).Create(cctx, pod, metav1.CreateOptions{})
	cancel()
	if err != nil {
		if _, refused := err.(apierrors.APIStatus); !refused {
			r.deletePod(ns, pod.Name) // no answer: it may have been created
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, createError(err, ns, o.Image)
	}
	nc.Name, nc.Namespace = created.Name, ns
	st.set(func(s *statusData) { s.pod, s.phase = created.Name, phaseStarting })
	defer r.deletePod(ns, created.Name)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	if err := waitRunning(ctx, r.Client, ns, created.Name, o.Image, o.StartTimeout); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(o.OutputDir, ".capture-*.partial") // mode 0600
	if err != nil {
		return nil, err
	}
	res := &nodeResult{nc: nc, tmp: tmp.Name()}
	parser := &stderrParser{st: st}
	// The exec lasts the capture and the transfer of its tail; past that, the
	// node or the connection is stuck.
	ectx, cancel := context.WithTimeout(ctx, time.Duration(o.Duration)*time.Second+2*time.Minute)
	defer cancel()
	err = r.Exec(ectx, ns, created.Name, containerName, syscopeCommand(o, nc), &countWriter{w: tmp, st: st}, parser)
	parser.flush()
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		os.Remove(res.tmp)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, r.execError(ctx, ectx, ns, created.Name, nc, st, err)
	}
	st.set(func(s *statusData) { s.phase = phaseVerifying })
	info, err := verify(res.tmp)
	if err != nil {
		os.Remove(res.tmp)
		return nil, fmt.Errorf("node %s: %w", nc.Node, err)
	}
	if fi, err := os.Stat(res.tmp); err == nil {
		info.Size = fi.Size()
	}
	res.info = info
	st.set(func(s *statusData) { s.phase = phaseDone })
	res.st = st.snapshot()
	return res, nil
}

// randomSuffix is 5 characters for a pod name, as the API server makes them.
func randomSuffix() string {
	const chars = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, 5)
	for i := range b {
		b[i] = chars[rand.IntN(len(chars))]
	}
	return string(b)
}

// execError explains a capture that did not end well.
func (r *Runner) execError(ctx, ectx context.Context, ns, pod string, nc *nodeCapture, st *status, err error) error {
	snap := st.snapshot()
	said := strings.Join(snap.messages, "\n  ")
	var ee utilexec.ExitError
	if errors.As(err, &ee) && ee.Exited() {
		switch {
		case strings.Contains(said, "live capture is not available"):
			return fmt.Errorf("node %s cannot run syscope's eBPF probe:\n  %s\n"+
				"The node needs a kernel with BTF (CONFIG_DEBUG_INFO_BTF=y, /sys/kernel/btf/vmlinux) and eBPF tracing (5.8 or later); "+
				"syscope --check-live on the node says what is missing", nc.Node, said)
		case strings.Contains(said, "no cgroup of that pod"):
			return fmt.Errorf("on node %s, syscope did not find the target pod's cgroup (did the pod stop or move?):\n  %s", nc.Node, said)
		case said == "":
			said = "(it said nothing)"
		}
		return fmt.Errorf("syscope failed on node %s with exit status %d:\n  %s", nc.Node, ee.ExitStatus(), said)
	}
	if ectx.Err() != nil {
		return fmt.Errorf("the capture on node %s did not end within -M %d s plus 2 minutes: the node or the connection is stuck", nc.Node, r.Opts.Duration)
	}
	// The session broke: look at the pod for the reason.
	gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	e := explainBroken(gctx, r.Client, ns, pod, err)
	if said != "" {
		e = fmt.Errorf("%w\nsyscope said:\n  %s", e, said)
	}
	return e
}

// deletePod deletes a capture pod and waits until it is gone, whatever the
// state of the command's context.
func (r *Runner) deletePod(ns, name string) {
	wait := r.DeleteWait
	if wait == 0 {
		wait = time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	grace := int64(1)
	err := r.Client.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &grace})
	if apierrors.IsNotFound(err) {
		return
	}
	if err != nil {
		fmt.Fprintf(r.Err, "warning: could not delete the capture pod %s/%s: %v\n  delete it with: kubectl delete pod -n %s %s\n", ns, name, err, ns, name)
		return
	}
	for {
		_, err := r.Client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(r.Err, "warning: the capture pod %s/%s is still terminating after %v; check with: kubectl get pod -n %s %s\n", ns, name, wait, ns, name)
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// removeLeftovers deletes the capture pods of earlier runs that have ended
// (their plugin was killed before it could delete them); running ones may
// belong to another capture and are left alone.
func (r *Runner) removeLeftovers(ctx context.Context, ns string) {
	list, err := r.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: LabelManagedBy + "=" + ManagedBy})
	if err != nil {
		return
	}
	for _, p := range list.Items {
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			if r.Client.CoreV1().Pods(ns).Delete(ctx, p.Name, metav1.DeleteOptions{}) == nil {
				fmt.Fprintf(r.Err, "note: deleted %s/%s, the ended capture pod of an earlier run\n", ns, p.Name)
			}
		}
	}
}

// finish names the files (merged with --merge), and returns them.
func (r *Runner) finish(results []*nodeResult) (*Result, error) {
	o := r.Opts
	stamp := r.Now().UTC().Format("20060102T150405Z")
	base := "capture-" + fileWord(o.Pod)
	if o.Pod == "" {
		base = "capture-" + fileWord(o.Namespace+"-"+o.Selector)
	}
	if o.WholeNode {
		base += "-node"
	}
	out := &Result{}
	output := func(nr *nodeResult, path string) Output {
		s := nr.st
		var tts, ttfb time.Duration
		if !s.started.IsZero() {
			tts = s.started.Sub(r.start)
		}
		if !s.firstB.IsZero() {
			ttfb = s.firstB.Sub(r.start)
		}
		return Output{Path: path, Nodes: []string{nr.nc.Node}, Info: nr.info, Drops: s.drops, TimeToStart: tts, TimeToFirstByte: ttfb}
	}
	if len(results) == 1 || !o.Merge {
		for _, nr := range results {
			name := base
			if len(results) > 1 {
				name += "-" + fileWord(nr.nc.Node)
			}
			path, err := place(nr.tmp, filepath.Join(o.OutputDir, name+"-"+stamp), ".scap.gz")
			if err != nil {
				return nil, err
			}
			out.Files = append(out.Files, output(nr, path))
		}
		return out, nil
	}
	var inputs, nodes []string
	var drops uint64
	for _, nr := range results {
		inputs = append(inputs, nr.tmp)
		nodes = append(nodes, nr.nc.Node)
		drops += nr.st.drops
	}
	tmp := filepath.Join(o.OutputDir, ".capture-merge-"+stamp+".partial")
	mr, err := mergeFiles(tmp, inputs)
	if err != nil {
		return nil, fmt.Errorf("merging the nodes' captures: %w", err)
	}
	if mr.TidCollisions > 0 {
		fmt.Fprintf(r.Err, "note: %d thread ids are in the process tables of several nodes; in the merged file they have the first node's entry (the per-node captures, without --merge, are exact)\n", mr.TidCollisions)
	}
	info, err := verify(tmp)
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("the merged capture: %w", err)
	}
	if fi, err := os.Stat(tmp); err == nil {
		info.Size = fi.Size()
	}
	path, err := place(tmp, filepath.Join(o.OutputDir, base+"-merged-"+stamp), ".scap.gz")
	if err != nil {
		os.Remove(tmp)
		return nil, err
	}
	for _, in := range inputs {
		os.Remove(in)
	}
	o0 := output(results[0], path)
	o0.Nodes, o0.Info, o0.Drops = nodes, info, drops
	out.Files = append(out.Files, o0)
	return out, nil
}

// place renames tmp to base+ext, or base-2+ext and so on when taken: an
// existing capture is never overwritten.
func place(tmp, base, ext string) (string, error) {
	for i := 1; i < 100; i++ {
		name := base + ext
		if i > 1 {
			name = fmt.Sprintf("%s-%d%s", base, i, ext)
		}
		// A hard link fails when the name exists, where a rename would replace it.
		err := os.Link(tmp, name)
		if err == nil {
			os.Remove(tmp)
			return name, nil
		}
		if os.IsExist(err) {
			continue
		}
		// No hard links on this file system: check, then rename.
		if _, serr := os.Stat(name); serr == nil {
			continue
		}
		if err := os.Rename(tmp, name); err != nil {
			return "", err
		}
		return name, nil
	}
	return "", fmt.Errorf("no free name for %s%s", base, ext)
}

var fileWordBad = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// fileWord makes s usable in a file name.
func fileWord(s string) string {
	s = strings.Trim(fileWordBad.ReplaceAllString(s, "-"), "-.")
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

func (r *Runner) printHeader(ncs []*nodeCapture, ns string) {
	o := r.Opts
	what := "the pod's containers (in the kernel, by the pod's cgroup)"
	switch {
	case o.WholeNode:
		what = "the whole node"
	case o.Container != "":
		what = "container " + o.Container
	case o.Selector != "":
		what = "the selected pods' containers (in the kernel, by their cgroups)"
	}
	fmt.Fprintf(r.Err, "Capturing system calls with syscope (eBPF) for %d s: %s\n", o.Duration, what)
	for _, nc := range ncs {
		var pods []string
		for _, p := range nc.Targets {
			pods = append(pods, p.Namespace+"/"+p.Name)
		}
		fmt.Fprintf(r.Err, "  node %s: %s\n", nc.Node, strings.Join(pods, ", "))
	}
	fmt.Fprintf(r.Err, "  capture pod in namespace %s, image %s\n", ns, o.Image)
	if len(ncs) > 0 {
		fmt.Fprintf(r.Err, "  syscope command: %s\n", strings.Join(syscopeCommand(o, ncs[0]), " "))
	}
}

// progress prints, until the returned function is called, where each node's
// capture is: a line rewritten in place on a terminal, a line every few
// seconds otherwise.
func (r *Runner) progress(ctx context.Context) func() {
	every := r.ProgressEvery
	if every == 0 {
		every = 5 * time.Second
	}
	if r.TTY {
		every = 500 * time.Millisecond
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				if r.TTY {
					fmt.Fprint(r.Err, "\r\033[K")
				}
				return
			case <-ctx.Done():
				if r.TTY {
					fmt.Fprint(r.Err, "\r\033[K")
				}
				return
			case <-t.C:
				r.printProgress()
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

func (r *Runner) printProgress() {
	r.mu.Lock()
	sts := append([]*status(nil), r.statuses...)
	r.mu.Unlock()
	var parts []string
	for _, st := range sts {
		s := st.snapshot()
		p := ""
		if len(sts) > 1 {
			p = s.node + ": "
		}
		switch s.phase {
		case phaseCapturing:
			el := time.Since(s.started).Truncate(time.Second)
			if max := time.Duration(r.Opts.Duration) * time.Second; el > max {
				el = max
			}
			p += fmt.Sprintf("%v/%ds, %d events, %d drops, %s received", el, r.Opts.Duration, s.events, s.drops, humanBytes(s.received))
		case phaseStarting:
			p += fmt.Sprintf("starting %s", s.pod)
		default:
			p += s.phase.String()
		}
		parts = append(parts, p)
	}
	line := strings.Join(parts, " | ")
	if r.TTY {
		fmt.Fprintf(r.Err, "\r\033[K%s", line)
	} else {
		fmt.Fprintf(r.Err, "  %s\n", line)
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
