// Package kubecapture is kubectl-capture, the kubectl plugin that captures a
// pod's system calls on its node and brings the capture file home.
//
// For each node that runs a target pod it creates a capture pod: pinned to
// the node (nodeName), privileged, in the host's PID namespace, with the
// node's cgroup hierarchy and /run mounted, tolerating every taint, with
// resource limits, owner labels and a deadline, running the syscope image's
// "syscope --idle". Once a watch sees it running, the plugin execs the
// capture into it through the API server ("syscope -w - -z -M N --pod-uid
// UID ..."): the capture is filtered in the kernel by the target pods'
// cgroups (--node lifts that) and its file streams back on the exec
// session's standard output while the driver's counters come on its
// standard error (progress). The file is read back to its end with the
// project's scap reader before it gets its name; the capture pods are
// deleted on success, error, timeout and interruption; the exit status is 0
// only when every file is on disk and verified. With -l over several nodes,
// --merge makes one time-ordered file of the per-node ones.
package kubecapture
