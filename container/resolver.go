package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Resolver looks containers up in the background. The caller's event loop
// asks with Request, which never blocks, and drains Updates; lookups run
// on a small pool of workers, each bounded by a timeout, and their answers
// are cached (failures for a while too, so that a container that vanished
// is not asked about on every event).
//
// Sources are asked in the order given; the first that knows a container
// describes it. A source that cannot be reached is reported once (through
// the warn function) and left alone for a while, until it answers again.
type Resolver struct {
	sources []*sourceState
	cfg     resolverConfig

	ctx     context.Context
	cancel  context.CancelFunc
	jobs    chan job
	updates chan *Info
	wg      sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	cache    map[string]*Info     // by id: the last answer, successful or not
	byCgroup CgroupIndex          // cgroup path -> id
	negative map[string]time.Time // job key -> when to ask again
	pending  map[string]bool      // job keys queued or being looked up
	stats    Stats
}

// Stats counts what a Resolver did.
type Stats struct {
	Requests  uint64        // calls to Request that queued a lookup
	Dropped   uint64        // lookups not queued because the queue was full
	Lookups   uint64        // lookups done
	Found     uint64        // lookups that found the container
	NotFound  uint64        // lookups that found it nowhere
	LookupDur time.Duration // time spent in lookups, in all
}

type sourceState struct {
	src       Source
	mu        sync.Mutex
	down      bool      // the last call failed
	downUntil time.Time // not asked before this
}

type job struct {
	id     string // container id, or "" to find it by cgroup
	cgroup string
	hint   Type // the type the cgroup says, TypeUnknown if none
}

func (j job) key() string {
	if j.id != "" {
		return j.id
	}
	return "cgroup:" + j.cgroup
}

type resolverConfig struct {
	workers     int
	timeout     time.Duration
	negativeTTL time.Duration
	retryAfter  time.Duration
	queue       int
	warn        func(source string, err error)
	now         func() time.Time
}

// ResolverOption configures a Resolver.
type ResolverOption func(*resolverConfig)

// WithWorkers sets how many lookups run at once (default 2).
func WithWorkers(n int) ResolverOption {
	return func(c *resolverConfig) {
		if n > 0 {
			c.workers = n
		}
	}
}

// WithLookupTimeout bounds each question to a source (default 2s).
func WithLookupTimeout(d time.Duration) ResolverOption {
	return func(c *resolverConfig) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithNegativeTTL sets how long a container found nowhere is not asked
// about again (default 30s).
func WithNegativeTTL(d time.Duration) ResolverOption {
	return func(c *resolverConfig) { c.negativeTTL = d }
}

// WithRetryAfter sets how long an unreachable source is left alone
// (default 5s).
func WithRetryAfter(d time.Duration) ResolverOption {
	return func(c *resolverConfig) { c.retryAfter = d }
}

// WithQueueSize sets how many lookups may wait, and how many answers may
// wait in Updates (default 1024 each).
func WithQueueSize(n int) ResolverOption {
	return func(c *resolverConfig) {
		if n > 0 {
			c.queue = n
		}
	}
}

// WithWarn sets the function told, once per outage, that a source cannot be
// reached (default: a line on standard error). It is called from the
// workers.
func WithWarn(f func(source string, err error)) ResolverOption {
	return func(c *resolverConfig) { c.warn = f }
}

// NewResolver starts a resolver asking sources, in this order. It owns
// them: Close closes those that are io.Closers.
func NewResolver(sources []Source, opts ...ResolverOption) *Resolver {
	cfg := resolverConfig{
		workers: 2, timeout: 2 * time.Second, negativeTTL: 30 * time.Second, retryAfter: 5 * time.Second,
		queue: 1024, now: time.Now,
		warn: func(source string, err error) {
			fmt.Fprintf(os.Stderr, "container runtime %s unavailable: %v\n", source, err)
		},
	}
	for _, o := range opts {
		o(&cfg)
	}
	r := &Resolver{
		cfg:      cfg,
		jobs:     make(chan job, cfg.queue),
		updates:  make(chan *Info, cfg.queue),
		cache:    make(map[string]*Info),
		byCgroup: make(CgroupIndex),
		negative: make(map[string]time.Time),
		pending:  make(map[string]bool),
	}
	for _, s := range sources {
		r.sources = append(r.sources, &sourceState{src: s})
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.wg.Add(cfg.workers)
	for i := 0; i < cfg.workers; i++ {
		go r.worker()
	}
	return r
}

// Updates delivers the answers of lookups: a successful one, or, for a
// container found nowhere, a partial one (LookupFailed, with what the
// cgroup said: id and type). It is closed by Close. The Infos are shared
// with the cache: read them, do not modify them.
func (r *Resolver) Updates() <-chan *Info { return r.updates }

// Request asks for the container id, or when id is "" for the container
// whose cgroup is cgroupPath (or an ancestor of it). It never blocks: it
// does nothing when the container is known (see Get), being looked up, or
// was recently found nowhere, and drops the request when the queue is full.
func (r *Resolver) Request(id, cgroupPath string) {
	j := job{id: id, cgroup: cgroupPath, hint: TypeUnknown}
	if id == "" && cgroupPath != "" {
		if m, ok := match([]cgroup{{path: cgroupPath}}, nil); ok {
			j.id, j.hint = m.ID, m.Type
		}
	}
	if j.id == "" && j.cgroup == "" {
		return
	}
	k := j.key()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.pending[k] {
		return
	}
	if j.id != "" {
		if x := r.cache[j.id]; x != nil && x.LookupState == LookupSuccessful {
			return
		}
	} else if _, ok := r.idForCgroupLocked(j.cgroup); ok {
		return
	}
	if t, ok := r.negative[k]; ok {
		if r.cfg.now().Before(t) {
			return
		}
		delete(r.negative, k)
	}
	select {
	case r.jobs <- j:
		r.pending[k] = true
		r.stats.Requests++
	default:
		r.stats.Dropped++
	}
}

// Get returns what is known of container id (not to be modified), or nil.
func (r *Resolver) Get(id string) *Info {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cache[id]
}

// IDForCgroup returns the id of the container known to have cgroup path,
// or an ancestor of it, as learned from lookups (see CgroupSource).
func (r *Resolver) IDForCgroup(path string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.idForCgroupLocked(path)
}

func (r *Resolver) idForCgroupLocked(path string) (string, bool) {
	return r.byCgroup.Lookup(path)
}

// Stats returns the counts so far.
func (r *Resolver) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Preload lists the containers of every source in the background, and
// delivers them through Updates as lookups would.
func (r *Resolver) Preload() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for _, s := range r.sources {
			if !s.usable(r.cfg.now()) {
				continue
			}
			ctx, cancel := context.WithTimeout(r.ctx, r.cfg.timeout)
			list, err := s.src.List(ctx)
			cancel()
			if err != nil {
				r.failed(s, err)
				continue
			}
			s.ok()
			for _, x := range list {
				if !r.learn(x, job{id: x.ID}) {
					return
				}
			}
		}
	}()
}

// Close stops the workers (lookups under way are canceled), closes Updates
// and the sources. Request does nothing afterwards.
func (r *Resolver) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	close(r.updates)
	for _, s := range r.sources {
		if c, ok := s.src.(io.Closer); ok {
			_ = c.Close()
		}
	}
}

func (r *Resolver) worker() {
	defer r.wg.Done()
	for {
		select {
		case <-r.ctx.Done():
			return
		case j := <-r.jobs:
			if !r.lookup(j) {
				return
			}
		}
	}
}

// lookup asks the sources about j, and reports false when the resolver is
// closing.
func (r *Resolver) lookup(j job) bool {
	start := r.cfg.now()
	var found *Info
	unreachable := false
	for _, s := range r.sources {
		if r.ctx.Err() != nil {
			return false
		}
		if !s.usable(r.cfg.now()) {
			unreachable = true
			continue
		}
		ctx, cancel := context.WithTimeout(r.ctx, r.cfg.timeout)
		var x *Info
		var err error
		if j.id != "" {
			x, err = s.src.Lookup(ctx, j.id)
		} else if cs, ok := s.src.(CgroupSource); ok {
			x, err = cs.LookupCgroup(ctx, j.cgroup)
		} else {
			cancel()
			continue
		}
		cancel()
		if r.ctx.Err() != nil {
			return false
		}
		switch {
		case err == nil && x != nil:
			s.ok()
			found = x
		case err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrFailed):
			s.ok() // it answered
		default:
			unreachable = true
			r.failed(s, err)
		}
		if found != nil {
			break
		}
	}
	d := r.cfg.now().Sub(start)
	r.mu.Lock()
	r.stats.Lookups++
	r.stats.LookupDur += d
	if found != nil {
		r.stats.Found++
	} else {
		r.stats.NotFound++
		ttl := r.cfg.negativeTTL
		if unreachable && r.cfg.retryAfter < ttl {
			ttl = r.cfg.retryAfter
		}
		now := r.cfg.now()
		if len(r.negative) >= 4*r.cfg.queue {
			for k, t := range r.negative {
				if !now.Before(t) {
					delete(r.negative, k)
				}
			}
		}
		r.negative[j.key()] = now.Add(ttl)
	}
	delete(r.pending, j.key())
	r.mu.Unlock()
	if found != nil {
		return r.learn(found, j)
	}
	if j.id == "" {
		return true // nothing to say of a cgroup that is no known container's
	}
	// The container vanished (or its runtime is out of reach): say what
	// the cgroup said, so that its threads still name it.
	x := NewInfo(j.id, j.hint)
	x.LookupState = LookupFailed
	if j.cgroup != "" {
		x.Ext.Cgroups = []string{j.cgroup}
	}
	r.mu.Lock()
	if old := r.cache[j.id]; old == nil || old.LookupState != LookupSuccessful {
		r.cache[j.id] = x
	}
	r.mu.Unlock()
	return r.send(x)
}

// learn caches x, found for j, and delivers it.
func (r *Resolver) learn(x *Info, j job) bool {
	if j.id != "" && x.ID != j.id {
		// Keep the id the threads have (it may be a prefix of x's).
		x.ID = j.id
	}
	r.mu.Lock()
	r.cache[x.ID] = x
	for _, p := range x.Ext.Cgroups {
		r.byCgroup.Add(p, x.ID)
	}
	r.byCgroup.Add(j.cgroup, x.ID)
	r.mu.Unlock()
	return r.send(x)
}

func (r *Resolver) send(x *Info) bool {
	select {
	case r.updates <- x:
		return true
	case <-r.ctx.Done():
		return false
	}
}

func (s *sourceState) usable(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.down || !now.Before(s.downUntil)
}

func (s *sourceState) ok() {
	s.mu.Lock()
	s.down = false
	s.mu.Unlock()
}

// failed marks s down, and warns when it was up.
func (r *Resolver) failed(s *sourceState, err error) {
	if r.ctx.Err() != nil {
		return // closing: not the source's fault
	}
	s.mu.Lock()
	was := s.down
	s.down = true
	s.downUntil = r.cfg.now().Add(r.cfg.retryAfter)
	s.mu.Unlock()
	if !was && r.cfg.warn != nil {
		r.cfg.warn(s.src.Name(), err)
	}
}
