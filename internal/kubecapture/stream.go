package kubecapture

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
)

// ExecFunc runs cmd in a container and streams its standard output and
// error until it exits; a non-zero exit status is an error that implements
// k8s.io/client-go/util/exec.ExitError.
type ExecFunc func(ctx context.Context, ns, pod, container string, cmd []string, stdout, stderr io.Writer) error

// apiExec is the ExecFunc that goes through the API server (the exec
// subresource): WebSocket, or SPDY where the server does not upgrade to it,
// as kubectl exec does.
func apiExec(cfg *rest.Config, c kubernetes.Interface) ExecFunc {
	return func(ctx context.Context, ns, pod, container string, cmd []string, stdout, stderr io.Writer) error {
		req := c.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("exec").
			VersionedParams(&corev1.PodExecOptions{Container: container, Command: cmd, Stdout: true, Stderr: true}, scheme.ParameterCodec)
		spdy, err := remotecommand.NewSPDYExecutor(cfg, "POST", req.URL())
		if err != nil {
			return err
		}
		ws, err := remotecommand.NewWebSocketExecutor(cfg, "GET", req.URL().String())
		if err != nil {
			return err
		}
		exec, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
			return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
		})
		if err != nil {
			return err
		}
		return exec.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: stdout, Stderr: stderr})
	}
}

// phase is where one node's capture is.
type phase int

const (
	phaseCreating phase = iota
	phaseStarting
	phaseCapturing
	phaseVerifying
	phaseDone
)

func (p phase) String() string {
	return [...]string{"creating the capture pod", "starting", "capturing", "verifying", "done"}[p]
}

// statusData is what one node's capture reports as it goes.
type statusData struct {
	node     string
	pod      string
	phase    phase
	started  time.Time // when syscope said it captures
	firstB   time.Time // first byte of the file received
	events   uint64    // the driver's counter
	drops    uint64
	received int64    // bytes of the file received
	final    bool     // events and drops are syscope's final counters
	messages []string // syscope's other lines on stderr
}

// status is statusData shared between the capture and the progress printer.
type status struct {
	mu sync.Mutex
	d  statusData
}

func (s *status) set(f func(*statusData)) {
	s.mu.Lock()
	f(&s.d)
	s.mu.Unlock()
}

// snapshot returns a copy of the data.
func (s *status) snapshot() statusData {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.d
	d.messages = append([]string(nil), s.d.messages...)
	return d
}

// stderrParser reads syscope's standard error in the capture pod, line by
// line: "capturing to -" (the capture started), the --progress-json lines,
// the final "Driver Events:"/"Driver Drops:" counters, and anything else
// (warnings and errors), kept as messages.
type stderrParser struct {
	st  *status
	buf []byte
}

func (p *stderrParser) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		p.line(string(p.buf[:i]))
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}

// flush handles a last line without a newline.
func (p *stderrParser) flush() {
	if len(p.buf) > 0 {
		p.line(string(p.buf))
		p.buf = nil
	}
}

func (p *stderrParser) line(l string) {
	l = strings.TrimRight(l, "\r")
	switch {
	case strings.HasPrefix(l, "syscope: capturing to "):
		p.st.set(func(s *statusData) {
			s.started = time.Now()
			s.phase = phaseCapturing
		})
	case strings.HasPrefix(l, "syscope-progress "):
		var v struct {
			Events uint64 `json:"events"`
			Drops  uint64 `json:"drops"`
		}
		if json.Unmarshal([]byte(l[len("syscope-progress "):]), &v) == nil {
			p.st.set(func(s *statusData) {
				if !s.final {
					s.events, s.drops = v.Events, v.Drops
				}
			})
		}
	case strings.HasPrefix(l, "Driver Events:"):
		if n, err := strconv.ParseUint(strings.TrimSpace(l[len("Driver Events:"):]), 10, 64); err == nil {
			p.st.set(func(s *statusData) { s.events, s.final = n, true })
		}
	case strings.HasPrefix(l, "Driver Drops:"):
		if n, err := strconv.ParseUint(strings.TrimSpace(l[len("Driver Drops:"):]), 10, 64); err == nil {
			p.st.set(func(s *statusData) { s.drops, s.final = n, true })
		}
	case strings.HasPrefix(l, "syscope: warning: ") && strings.Contains(l, "events dropped"):
		// Counted by the progress lines.
	case strings.TrimSpace(l) != "":
		p.st.set(func(s *statusData) { s.messages = append(s.messages, l) })
	}
}

// countWriter counts the bytes of the file as they arrive.
type countWriter struct {
	w  io.Writer
	st *status
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.st.set(func(s *statusData) {
		if s.firstB.IsZero() && n > 0 {
			s.firstB = time.Now()
		}
		s.received += int64(n)
	})
	return n, err
}
