package cli

// What kubectl-capture (internal/kubecapture) needs from syscope in its
// capture pod: a main process that only waits (--idle), the capture written to
// standard output (-w -) so that it streams back through the exec session,
// the driver's counters as it goes (--progress-json), the capture limited
// to a pod's cgroup (--pod-uid), which also holds the containers the pod
// restarts during the capture, and a process table limited to that pod
// (--trim-proclist): the node's other processes, their command lines and
// environments, are not the business of a file about one pod.

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/syscope/syscope/scap"
)

// idle waits for SIGTERM or SIGINT and returns 0: the main process of a
// capture pod, which exists to be exec'ed into.
func idle(stdout io.Writer) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	fmt.Fprintln(stdout, "syscope: idle until SIGTERM")
	<-sigs
	return 0
}

// prepareCapture checks the options that only make sense together and
// resolves --pod-uid into cgroup directories for a live capture.
func prepareCapture(o *Options) error {
	if o.WriteFile == "-" {
		switch {
		case o.PrintSet || o.Summary || len(o.Chisels) > 0:
			return fmt.Errorf("-w - writes the capture to standard output: it cannot be combined with -p, -S or -c")
		case o.FileSize != 0 || o.Seconds != 0 || o.Limit != 0 || o.EventLimit != 0:
			return fmt.Errorf("-w - writes one capture to standard output: it cannot be combined with -C, -G, -W or -e")
		}
	}
	if len(o.PodUIDs) == 0 || o.ReadFile != "" {
		return nil
	}
	for _, uid := range o.PodUIDs {
		dirs, err := findPodCgroups(cgroup2Root(), uid)
		if err != nil {
			return err
		}
		o.Cgroups = append(o.Cgroups, dirs...)
	}
	return nil
}

// findPodCgroups finds the cgroup v2 directories of the Kubernetes pod with
// the given UID under root: "pod<uid>" with the kubelet's cgroupfs driver,
// "kubepods-<qos>-pod<uid with _ for ->.slice" with its systemd driver.
func findPodCgroups(root, uid string) ([]string, error) {
	uid = strings.ToLower(uid)
	if len(uid) < 8 || strings.Trim(uid, "0123456789abcdef-") != "" {
		return nil, fmt.Errorf("--pod-uid %q: expected a pod UID (metadata.uid, e.g. 0f3c9a4e-5b1d-4c2e-9a7f-1e2d3c4b5a69)", uid)
	}
	plain := "pod" + uid
	slice := "-pod" + strings.ReplaceAll(uid, "-", "_") + ".slice"
	var found []string
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if n := d.Name(); n == plain || strings.HasSuffix(n, slice) {
			found = append(found, path)
			return filepath.SkipDir
		}
		return nil
	})
	if len(found) == 0 {
		return nil, fmt.Errorf("--pod-uid %s: no cgroup of that pod under %s (is the pod running on this node, and is the host's cgroup hierarchy mounted there?)", uid, root)
	}
	return found, nil
}

// progressJSON prints the driver's counters as one JSON line on stderr, after
// the "syscope-progress " prefix.
func (l *liveSource) progressJSON() {
	s, err := l.p.Stats()
	if err != nil {
		return
	}
	b, _ := json.Marshal(struct {
		Events  uint64 `json:"events"`
		Dropped uint64 `json:"drops"`
	}{s.Emitted, s.Dropped})
	fmt.Fprintf(l.stderr, "syscope-progress %s\n", b)
}

// trimProclist keeps in meta only the threads under one of the cgroup v2
// directories dirs (below root), by the v2 path of /proc/TID/cgroup. Without
// dirs it keeps everything.
func trimProclist(meta *scap.Metadata, dirs []string, root string) {
	if len(dirs) == 0 {
		return
	}
	var rels []string
	for _, d := range dirs {
		rel, err := filepath.Rel(root, d)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue
		}
		rels = append(rels, filepath.Clean("/"+rel))
	}
	kept := meta.Threads[:0]
	for _, t := range meta.Threads {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", t.Tid))
		if err != nil {
			continue // gone: its events, if any, bring what is needed
		}
		if inCgroups(cgroupV2Path(string(b)), rels) {
			kept = append(kept, t)
		}
	}
	meta.Threads = kept
}

// cgroupV2Path is the "0::PATH" line's path of a /proc/PID/cgroup file.
func cgroupV2Path(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			return p
		}
	}
	return ""
}

// inCgroups tells whether the cgroup at path is one of rels or below one.
// A path outside the reader's cgroup namespace ("/../..", in a container
// with its own) is matched by the last name of each of rels (a pod's or a
// container's directory: pod<uid>, ...-<id>.scope) among its names.
func inCgroups(path string, rels []string) bool {
	if path == "" {
		return false
	}
	outside := strings.HasPrefix(path, "/..")
	for _, r := range rels {
		if path == r || r == "/" || strings.HasPrefix(path, r+"/") {
			return true
		}
		if base := filepath.Base(r); outside && base != "/" && slices.Contains(strings.Split(path, "/"), base) {
			return true
		}
	}
	return false
}
