package container

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeSource knows some containers, may fail, and may hang.
type fakeSource struct {
	name    string
	known   map[string]*Info // by id
	cgroups map[string]string
	err     error         // returned by every call when set
	delay   time.Duration // before answering
	calls   atomic.Int32
	closed  atomic.Bool
	mu      sync.Mutex
}

func (f *fakeSource) Name() string { return f.name }

func (f *fakeSource) wait(ctx context.Context) error {
	f.calls.Add(1)
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *fakeSource) Lookup(ctx context.Context, id string) (*Info, error) {
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	if x, ok := f.known[id]; ok {
		return x.Clone(), nil
	}
	return nil, fmt.Errorf("%s: %s: %w", f.name, id, ErrNotFound)
}

func (f *fakeSource) List(ctx context.Context) ([]*Info, error) {
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	var out []*Info
	for _, x := range f.known {
		out = append(out, x.Clone())
	}
	return out, nil
}

func (f *fakeSource) LookupCgroup(ctx context.Context, path string) (*Info, error) {
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	for p := path; p != ""; p = p[:max(0, lastSlash(p))] {
		if id, ok := f.cgroups[p]; ok {
			return f.known[id].Clone(), nil
		}
	}
	return nil, ErrNotFound
}

func lastSlash(p string) int {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return i
		}
	}
	return -1
}

func (f *fakeSource) Close() error { f.closed.Store(true); return nil }

func info(id, name string) *Info {
	x := NewInfo(id, TypeDocker)
	x.Name = name
	return x
}

// next reads one update, or fails after a while.
func next(t *testing.T, r *Resolver) *Info {
	t.Helper()
	select {
	case x, ok := <-r.Updates():
		if !ok {
			t.Fatal("Updates closed")
		}
		return x
	case <-time.After(5 * time.Second):
		t.Fatal("no update")
	}
	return nil
}

// quiet fails if an update arrives within d.
func quiet(t *testing.T, r *Resolver, d time.Duration) {
	t.Helper()
	select {
	case x := <-r.Updates():
		t.Fatalf("unexpected update %v", x)
	case <-time.After(d):
	}
}

func TestResolverLookups(t *testing.T) {
	id1, id2 := hexID[:12], "0123456789ab"
	other := "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
	down := &fakeSource{name: "down", err: errors.New("connection refused")}
	a := &fakeSource{name: "a", known: map[string]*Info{id1: info(id1, "one"), other[:12]: info(other[:12], "three")}}
	b := &fakeSource{name: "b", known: map[string]*Info{id2: info(id2, "two")}}
	var warnings []string
	var wmu sync.Mutex
	r := NewResolver([]Source{down, a, b}, WithWorkers(3), WithRetryAfter(time.Hour),
		WithWarn(func(src string, err error) {
			wmu.Lock()
			warnings = append(warnings, src+": "+err.Error())
			wmu.Unlock()
		}))
	defer r.Close()

	tests := []struct {
		name     string
		id, cg   string
		wantName string
		state    LookupState
		typ      Type
	}{
		{"first source", id1, "", "one", LookupSuccessful, TypeDocker},
		{"second source", id2, "", "two", LookupSuccessful, TypeDocker},
		{"by cgroup path", "", "/system.slice/docker-" + other + ".scope", "three", LookupSuccessful, TypeDocker},
		{"vanished: partial answer with the cgroup's type", "", "/kubepods.slice/crio-" + upperID + ".scope", "", LookupFailed, TypeCRI},
		{"vanished, no cgroup", "feedfeedfeed", "", "", LookupFailed, TypeUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := tt.id
			if id == "" {
				id = IDFromCgroupPath(tt.cg)
			}
			r.Request(tt.id, tt.cg)
			x := next(t, r)
			if x.ID != id || x.Name != tt.wantName || x.LookupState != tt.state || x.Type != tt.typ {
				t.Errorf("update %+v, want id %s name %q state %d type %v", x, id, tt.wantName, tt.state, tt.typ)
			}
			if g := r.Get(id); g == nil || g.LookupState != tt.state {
				t.Errorf("Get(%s) = %v", id, g)
			}
		})
	}

	// Known, failed recently, or already asked: no new lookup.
	calls := a.calls.Load()
	r.Request(id1, "")
	r.Request("feedfeedfeed", "")
	quiet(t, r, 50*time.Millisecond)
	if a.calls.Load() != calls {
		t.Errorf("source asked again: %d calls, were %d", a.calls.Load(), calls)
	}
	wmu.Lock()
	if len(warnings) != 1 {
		t.Errorf("warnings %q, want one for the unreachable source", warnings)
	}
	wmu.Unlock()
	if down.calls.Load() != 1 {
		t.Errorf("unreachable source asked %d times within its retry delay, want 1", down.calls.Load())
	}
	st := r.Stats()
	if st.Lookups != 5 || st.Found != 3 || st.NotFound != 2 || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestResolverNegativeTTL(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	src := &fakeSource{name: "a", known: map[string]*Info{}}
	r := NewResolver([]Source{src}, WithNegativeTTL(time.Minute))
	r.cfg.now = func() time.Time { return time.Unix(0, now.Load()) }
	defer r.Close()
	r.Request("abc", "")
	if x := next(t, r); x.LookupState != LookupFailed {
		t.Fatalf("update %v", x)
	}
	r.Request("abc", "")
	quiet(t, r, 50*time.Millisecond)
	now.Add(int64(2 * time.Minute))
	src.mu.Lock()
	src.known["abc"] = info("abc", "late")
	src.mu.Unlock()
	r.Request("abc", "")
	if x := next(t, r); x.Name != "late" || x.LookupState != LookupSuccessful {
		t.Fatalf("after the TTL: %v", x)
	}
}

func TestResolverWarnsOncePerOutage(t *testing.T) {
	src := &fakeSource{name: "flaky", err: errors.New("refused"), known: map[string]*Info{"a": info("a", "a")}}
	var warns atomic.Int32
	r := NewResolver([]Source{src}, WithRetryAfter(0), WithNegativeTTL(0),
		WithWarn(func(string, error) { warns.Add(1) }))
	defer r.Close()
	for i := 0; i < 5; i++ {
		r.Request(fmt.Sprint("x", i), "")
		next(t, r)
	}
	if warns.Load() != 1 {
		t.Errorf("%d warnings for one outage, want 1", warns.Load())
	}
	src.mu.Lock()
	src.err = nil
	src.mu.Unlock()
	r.Request("a", "")
	if x := next(t, r); x.Name != "a" {
		t.Errorf("after recovery: %v", x)
	}
	src.mu.Lock()
	src.err = errors.New("refused again")
	src.mu.Unlock()
	r.Request("y", "")
	next(t, r)
	if warns.Load() != 2 {
		t.Errorf("%d warnings for two outages, want 2", warns.Load())
	}
}

func TestResolverTimeout(t *testing.T) {
	slow := &fakeSource{name: "slow", delay: time.Hour}
	fast := &fakeSource{name: "fast", known: map[string]*Info{"a": info("a", "a")}}
	r := NewResolver([]Source{slow, fast}, WithLookupTimeout(50*time.Millisecond), WithWarn(func(string, error) {}))
	defer r.Close()
	start := time.Now()
	r.Request("a", "")
	x := next(t, r)
	if x.Name != "a" {
		t.Errorf("update %v", x)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("lookup took %v with a 50ms timeout", d)
	}
}

func TestResolverCgroupSource(t *testing.T) {
	x := NewInfo("mybox", TypeContainerd)
	x.Ext.Cgroups = []string{"/default/mybox"}
	src := &fakeSource{name: "containerd", known: map[string]*Info{"mybox": x}, cgroups: map[string]string{"/default/mybox": "mybox"}}
	r := NewResolver([]Source{src})
	defer r.Close()
	r.Request("", "/default/mybox/sub")
	if got := next(t, r); got.ID != "mybox" {
		t.Fatalf("update %v", got)
	}
	for _, p := range []string{"/default/mybox", "/default/mybox/sub", "/default/mybox/other"} {
		if id, ok := r.IDForCgroup(p); !ok || id != "mybox" {
			t.Errorf("IDForCgroup(%s) = %q, %v", p, id, ok)
		}
	}
	if _, ok := r.IDForCgroup("/default/other"); ok {
		t.Error("IDForCgroup(/default/other) found a container")
	}
	calls := src.calls.Load()
	r.Request("", "/default/mybox/other")
	r.Request("", "/default/nothing") // not found: no update
	quiet(t, r, 100*time.Millisecond)
	if src.calls.Load() != calls+1 {
		t.Errorf("%d calls, want %d", src.calls.Load(), calls+1)
	}
}

func TestResolverPreload(t *testing.T) {
	src := &fakeSource{name: "a", known: map[string]*Info{"a": info("a", "a"), "b": info("b", "b")}}
	r := NewResolver([]Source{src})
	defer r.Close()
	r.Preload()
	got := map[string]bool{next(t, r).ID: true, next(t, r).ID: true}
	if !got["a"] || !got["b"] || r.Get("b") == nil {
		t.Errorf("preloaded %v", got)
	}
}

func TestResolverNeverBlocks(t *testing.T) {
	slow := &fakeSource{name: "slow", delay: time.Hour}
	r := NewResolver([]Source{slow}, WithWorkers(1), WithQueueSize(4))
	start := time.Now()
	for i := 0; i < 1000; i++ {
		r.Request(fmt.Sprint(i), "")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("1000 requests took %v", d)
	}
	if st := r.Stats(); st.Dropped == 0 || st.Requests > 5 {
		t.Errorf("stats %+v: want drops beyond the queue", st)
	}
	r.Close()
}

// TestResolverClose checks that Close stops every goroutine, even with
// lookups under way and updates nobody reads.
func TestResolverClose(t *testing.T) {
	base := runtime.NumGoroutine()
	slow := &fakeSource{name: "slow", delay: time.Hour}
	fast := &fakeSource{name: "fast", known: map[string]*Info{}}
	for i := 0; i < 10; i++ {
		fast.known[fmt.Sprint(i)] = info(fmt.Sprint(i), "")
	}
	r1 := NewResolver([]Source{fast}, WithWorkers(4), WithQueueSize(2)) // updates fill up, unread
	r2 := NewResolver([]Source{slow}, WithWorkers(4))                   // lookups hang
	for i := 0; i < 10; i++ {
		r1.Request(fmt.Sprint(i), "")
		r2.Request(fmt.Sprint(i), "")
	}
	r1.Preload()
	time.Sleep(50 * time.Millisecond)
	if runtime.NumGoroutine() <= base {
		t.Fatal("no goroutines started")
	}
	done := make(chan struct{})
	go func() { r1.Close(); r2.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs")
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Close, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
	if !fast.closed.Load() || !slow.closed.Load() {
		t.Error("sources not closed")
	}
	for range r1.Updates() { // closed: the loop ends
	}
	r1.Request("x", "") // no panic, no effect
	r1.Close()          // idempotent
}

// TestResolverFailedIsNotDown checks that a source that answers with an
// error about one container is not taken for unreachable.
func TestResolverFailedIsNotDown(t *testing.T) {
	src := &fakeSource{name: "a", err: fmt.Errorf("HTTP 500: %w", ErrFailed)}
	var warns atomic.Int32
	r := NewResolver([]Source{src}, WithRetryAfter(time.Hour), WithWarn(func(string, error) { warns.Add(1) }))
	defer r.Close()
	for _, id := range []string{"a", "b"} {
		r.Request(id, "")
		if x := next(t, r); x.LookupState != LookupFailed {
			t.Errorf("update %v", x)
		}
	}
	if warns.Load() != 0 || src.calls.Load() != 2 {
		t.Errorf("%d warnings, %d calls; want 0 and 2", warns.Load(), src.calls.Load())
	}
}
