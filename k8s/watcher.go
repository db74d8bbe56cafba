// Package k8s follows a Kubernetes API server for live captures, as sysdig
// 0.29.3 does with -k: it watches this node's pods and the cluster's
// namespaces, services, replication controllers, replica sets and
// deployments, and turns what it learns into the payloads of K8S_E events.
//
// Those events go into the capture file, where sysdig (and syscope, see
// state/k8s.go) read them back to give the k8s.* fields; the live loop also
// feeds them to its own state. The payloads have the shape sysdig writes:
// {"type", "apiVersion", "kind", "items": [...]}, where each item is the flat
// object sysdig's handlers make of an API object (name, uid, namespace,
// labels, selector, containerStatuses...), with keys sorted. A Watcher first
// delivers a dump of the state, kind by kind (namespaces, pods, replication
// controllers, services, replica sets, deployments, as ADDED), then each
// change as it comes (ADDED, MODIFIED, DELETED).
//
// The connection comes from sysdig's -k URL and -K credentials, or from a
// kubeconfig file ($KUBECONFIG, ~/.kube/config), or from the in-cluster
// service account. It is made in the background: New returns at once, and a
// server that cannot be reached, or refuses, makes the Watcher give up with
// one warning after a bounded time (WithSyncTimeout); the capture then goes
// on with the fields the container runtime's labels give.
package k8s

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

// Defaults.
const (
	// DefaultSyncTimeout bounds the wait for the first complete state.
	DefaultSyncTimeout = 10 * time.Second
	// listTimeout bounds each list request (the watches run on).
	listTimeout = 60 * time.Second
	// nodeTimeout bounds the request that checks the node name.
	nodeTimeout = 5 * time.Second
)

// podPhases is the part of the pods' field selector sysdig uses: pods that
// are done, or whose state is unknown, are left out.
const podPhases = "status.phase!=Failed,status.phase!=Unknown,status.phase!=Succeeded"

// Option configures a Watcher.
type Option func(*options)

type options struct {
	server       string
	cert         string
	kubeconfig   string
	node         string
	nodeExplicit bool
	syncTimeout  time.Duration
	warn         func(string)
	config       *rest.Config
}

// WithAPIServer names the API server, as sysdig's -k URL (user and password
// in the URL are sent as basic authentication). Without it the kubeconfig
// file, or else the in-cluster service account, says where it is.
func WithAPIServer(url string) Option { return func(o *options) { o.server = url } }

// WithCert gives the credentials for the -k server, as sysdig's -K: a bearer
// token file, or cert_file:key_file[#password][:ca_cert_file]. The server's
// certificate is checked only against a CA given here, as sysdig does.
func WithCert(spec string) Option { return func(o *options) { o.cert = spec } }

// WithKubeconfig names the kubeconfig file to use instead of $KUBECONFIG or
// ~/.kube/config.
func WithKubeconfig(path string) Option { return func(o *options) { o.kubeconfig = path } }

// WithNode names this node: only its pods are watched, and the API server
// must know it (as sysdig's --node-name). Without it the node is $NODE_NAME,
// or the host name, and when the API server knows no such node all the
// cluster's pods are watched.
func WithNode(name string) Option {
	return func(o *options) { o.node, o.nodeExplicit = name, name != "" }
}

// WithSyncTimeout bounds the time to connect and get the whole state
// (DefaultSyncTimeout by default).
func WithSyncTimeout(d time.Duration) Option { return func(o *options) { o.syncTimeout = d } }

// WithWarn sets where warnings go (standard error by default). The Watcher
// warns once when it gives up, and once for each kind the server does not
// let it read.
func WithWarn(f func(msg string)) Option { return func(o *options) { o.warn = f } }

// WithRESTConfig uses a ready client configuration (WithAPIServer, WithCert
// and WithKubeconfig are then ignored).
func WithRESTConfig(c *rest.Config) Option { return func(o *options) { o.config = c } }

// Watcher follows an API server and produces K8S_E payloads.
type Watcher struct {
	o      options
	cfg    *rest.Config
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	events chan []byte
	synced chan struct{}

	mu      sync.Mutex
	queue   [][]byte
	wake    chan struct{}
	dumped  bool
	done    bool              // the watcher stopped: no more payloads will be queued
	err     error             // why it stopped by itself
	podLast map[string][]byte // the last item sent of each pod, by uid
	warned  map[string]bool
	node    string
}

var (
	scheme     = runtime.NewScheme()
	codecs     serializer.CodecFactory
	paramCodec runtime.ParameterCodec
	klogOnce   sync.Once
)

func init() {
	if err := corev1.AddToScheme(scheme); err != nil {
		panic(err)
	}
	if err := appsv1.AddToScheme(scheme); err != nil {
		panic(err)
	}
	codecs = serializer.NewCodecFactory(scheme)
	paramCodec = runtime.NewParameterCodec(scheme)
}

// New starts following the API server and returns at once. The connection
// is made in the background; Events delivers the payloads. Errors are only
// about the configuration (no kubeconfig, an unreadable -K file...).
// Cancelling ctx stops the Watcher as Close does.
func New(ctx context.Context, opts ...Option) (*Watcher, error) {
	o := options{syncTimeout: DefaultSyncTimeout}
	for _, f := range opts {
		f(&o)
	}
	if o.syncTimeout <= 0 {
		o.syncTimeout = DefaultSyncTimeout
	}
	if o.warn == nil {
		o.warn = func(msg string) { fmt.Fprintln(os.Stderr, msg) }
	}
	cfg := o.config
	if cfg == nil {
		var err error
		if cfg, err = restConfig(&o); err != nil {
			return nil, err
		}
	}
	if !o.nodeExplicit {
		o.node = os.Getenv("NODE_NAME")
		if o.node == "" {
			o.node, _ = os.Hostname()
		}
	}
	// client-go logs its retries through klog, on standard error.
	klogOnce.Do(func() { klog.SetLogger(logr.Discard()) })

	w := &Watcher{
		o:       o,
		cfg:     cfg,
		events:  make(chan []byte, 64),
		synced:  make(chan struct{}),
		wake:    make(chan struct{}, 1),
		podLast: make(map[string][]byte),
		warned:  make(map[string]bool),
	}
	w.ctx, w.cancel = context.WithCancel(ctx)
	w.wg.Add(2)
	go w.run()
	go w.pump()
	return w, nil
}

// Events delivers the K8S_E payloads, each the whole parameter of one event
// (JSON, newline, NUL), in the order they go into the capture. It is closed
// when the Watcher stops (Close, or giving up: see Err).
func (w *Watcher) Events() <-chan []byte { return w.events }

// Synced is closed once the initial state is queued on Events (never, when
// the Watcher gives up first: Events is closed then).
func (w *Watcher) Synced() <-chan struct{} { return w.synced }

// Node is the node whose pods are watched ("" for all), once Synced.
func (w *Watcher) Node() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.node
}

// Err returns why the Watcher gave up, or nil.
func (w *Watcher) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close stops the Watcher and waits for all its goroutines.
func (w *Watcher) Close() error {
	w.cancel()
	w.wg.Wait()
	return nil
}

// warnOnce warns with msg, the first time only for key.
func (w *Watcher) warnOnce(key, msg string) {
	w.mu.Lock()
	seen := w.warned[key]
	w.warned[key] = true
	w.mu.Unlock()
	if !seen {
		w.o.warn(msg)
	}
}

// enqueue queues payloads for the pump.
func (w *Watcher) enqueue(docs ...[]byte) {
	if len(docs) == 0 {
		return
	}
	w.mu.Lock()
	w.queue = append(w.queue, docs...)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// pump moves queued payloads to the Events channel, which it closes when the
// Watcher stops (after delivering the rest when it gave up by itself).
func (w *Watcher) pump() {
	defer w.wg.Done()
	defer close(w.events)
	for {
		w.mu.Lock()
		q, done := w.queue, w.done
		w.queue = nil
		w.mu.Unlock()
		for _, d := range q {
			select {
			case w.events <- d:
			case <-w.ctx.Done():
				return
			}
		}
		if done && len(q) == 0 {
			return
		}
		select {
		case <-w.wake:
		case <-w.ctx.Done():
			return
		}
	}
}

// fail records why the Watcher gives up and warns, unless it is closing.
func (w *Watcher) fail(err error) {
	if w.ctx.Err() != nil {
		return
	}
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
	w.warnOnce("fail", fmt.Sprintf("warning: no Kubernetes metadata from the API server (%v): k8s.* fields come from container labels only", err))
}

// informer is one kind followed.
type informer struct {
	kind   Kind
	inf    cache.SharedIndexInformer
	cancel context.CancelFunc
	mu     sync.Mutex
	err    error // the last list or watch error
	gone   bool  // the server does not let us read this kind
}

func (i *informer) setErr(err error) {
	i.mu.Lock()
	i.err = err
	i.mu.Unlock()
}

func (i *informer) lastErr() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.err
}

// run connects, waits for the state, dumps it, and then lets the informers
// report changes until the Watcher stops.
func (w *Watcher) run() {
	defer w.wg.Done()
	defer func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}()
	hc, err := rest.HTTPClientFor(w.cfg)
	if err != nil {
		w.fail(err)
		return
	}
	defer hc.CloseIdleConnections()
	core, err := w.restClient(hc, &corev1.SchemeGroupVersion, "/api")
	if err != nil {
		w.fail(err)
		return
	}
	apps, err := w.restClient(hc, &appsv1.SchemeGroupVersion, "/apis")
	if err != nil {
		w.fail(err)
		return
	}
	deadline := time.Now().Add(w.o.syncTimeout)
	node, err := w.checkNode(core, deadline)
	if err != nil {
		w.fail(err)
		return
	}
	w.mu.Lock()
	w.node = node
	w.mu.Unlock()
	podSelector := podPhases
	if node != "" {
		podSelector += ",spec.nodeName=" + node
	}

	infs := []*informer{
		w.newInformer(KindNamespace, core, "namespaces", "", &corev1.Namespace{}, func() runtime.Object { return &corev1.NamespaceList{} }),
		w.newInformer(KindPod, core, "pods", podSelector, &corev1.Pod{}, func() runtime.Object { return &corev1.PodList{} }),
		w.newInformer(KindReplicationController, core, "replicationcontrollers", "", &corev1.ReplicationController{}, func() runtime.Object { return &corev1.ReplicationControllerList{} }),
		w.newInformer(KindService, core, "services", "", &corev1.Service{}, func() runtime.Object { return &corev1.ServiceList{} }),
		w.newInformer(KindReplicaSet, apps, "replicasets", "", &appsv1.ReplicaSet{}, func() runtime.Object { return &appsv1.ReplicaSetList{} }),
		w.newInformer(KindDeployment, apps, "deployments", "", &appsv1.Deployment{}, func() runtime.Object { return &appsv1.DeploymentList{} }),
	}
	var iwg sync.WaitGroup
	defer iwg.Wait()
	for _, i := range infs {
		ctx, cancel := context.WithCancel(w.ctx)
		i.cancel = cancel
		defer cancel()
		iwg.Add(1)
		go func() {
			defer iwg.Done()
			i.inf.RunWithContext(ctx)
		}()
	}

	// Wait for every kind to be listed, or refused.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		pending := 0
		var lastErr error
		for _, i := range infs {
			if i.gone || i.inf.HasSynced() {
				continue
			}
			if err := i.lastErr(); err != nil {
				lastErr = err
				if apierrors.IsForbidden(err) || apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
					i.gone = true
					i.cancel()
					w.warnOnce("gone:"+i.kind.Name, fmt.Sprintf("warning: Kubernetes API server refuses %s (%v): their k8s.* fields will be empty", i.kind.Name, err))
					continue
				}
			}
			pending++
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			if lastErr == nil {
				lastErr = fmt.Errorf("no complete state after %v", w.o.syncTimeout)
			}
			w.fail(lastErr)
			return
		}
		select {
		case <-tick.C:
		case <-w.ctx.Done():
			return
		}
	}
	tick.Stop()

	// The dump: each kind's objects, sorted as the API lists them.
	w.mu.Lock()
	var docs [][]byte
	dropped := map[Kind]int{}
	for _, i := range infs {
		if i.gone {
			continue
		}
		objs := i.inf.GetStore().List()
		sort.Slice(objs, func(a, b int) bool { return objectKey(objs[a]) < objectKey(objs[b]) })
		var items []map[string]any
		for _, obj := range objs {
			it, err := Item(obj)
			if err != nil {
				continue
			}
			if p, ok := obj.(*corev1.Pod); ok {
				w.podLast[string(p.UID)] = encodeItem(it)
			}
			items = append(items, it)
		}
		d, drop := Documents(Added, i.kind, items)
		docs = append(docs, d...)
		dropped[i.kind] = len(drop)
	}
	w.dumped = true
	w.mu.Unlock()
	for k, n := range dropped {
		w.warnDropped(k, n)
	}
	w.enqueue(docs...)
	close(w.synced)
	<-w.ctx.Done()
}

func (w *Watcher) warnDropped(k Kind, n int) {
	if n > 0 {
		w.warnOnce("big:"+k.Name, fmt.Sprintf("warning: %d Kubernetes %s object(s) too large for a K8S_E event left out", n, k.Name))
	}
}

// restClient makes a client of one API group version.
func (w *Watcher) restClient(hc *http.Client, gv *schema.GroupVersion, path string) (*rest.RESTClient, error) {
	cfg := rest.CopyConfig(w.cfg)
	cfg.GroupVersion = gv
	cfg.APIPath = path
	cfg.NegotiatedSerializer = codecs.WithoutConversion()
	if cfg.ContentType == "" {
		cfg.ContentType = runtime.ContentTypeJSON
	}
	return rest.RESTClientForConfigAndClient(cfg, hc)
}

// checkNode returns the node whose pods to watch: the one named, which must
// exist; or $NODE_NAME or the host name when the server knows it, else none
// (all pods).
func (w *Watcher) checkNode(core *rest.RESTClient, deadline time.Time) (string, error) {
	name := w.o.node
	if name == "" {
		return "", nil
	}
	for {
		end := time.Now().Add(nodeTimeout)
		if end.After(deadline) {
			end = deadline
		}
		ctx, cancel := context.WithDeadline(w.ctx, end)
		err := core.Get().Resource("nodes").Name(name).Do(ctx).Into(&corev1.Node{})
		cancel()
		switch {
		case err == nil, apierrors.IsForbidden(err):
			return name, nil
		case apierrors.IsNotFound(err):
			if w.o.nodeExplicit {
				return "", fmt.Errorf("node name %q does not correspond to a node in the cluster", name)
			}
			return "", nil
		case w.ctx.Err() != nil:
			return "", w.ctx.Err()
		case time.Now().After(deadline):
			return "", err
		}
		select {
		case <-time.After(250 * time.Millisecond):
		case <-w.ctx.Done():
			return "", w.ctx.Err()
		}
	}
}

// newInformer makes the informer of one kind, its objects stripped to what
// the items need, its changes queued as payloads once the dump is done.
func (w *Watcher) newInformer(k Kind, c *rest.RESTClient, resource, fieldSelector string, example runtime.Object, newList func() runtime.Object) *informer {
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = fieldSelector
			l := newList()
			err := c.Get().Resource(resource).VersionedParams(&o, paramCodec).Timeout(listTimeout).Do(ctx).Into(l)
			return l, err
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = fieldSelector
			o.Watch = true
			return c.Get().Resource(resource).VersionedParams(&o, paramCodec).Watch(ctx)
		},
	}
	i := &informer{kind: k}
	i.inf = cache.NewSharedIndexInformerWithOptions(lw, example, cache.SharedIndexInformerOptions{})
	_ = i.inf.SetTransform(Slim)
	_ = i.inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) { i.setErr(err) })
	_, _ = i.inf.AddEventHandler(cache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, initial bool) {
			if !initial {
				w.change(k, Added, obj)
			}
		},
		UpdateFunc: func(_, obj any) { w.change(k, Modified, obj) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			w.change(k, Deleted, obj)
		},
	})
	return i
}

// change queues the payload of a change, once the dump is done (the dump
// has what came before).
func (w *Watcher) change(k Kind, typ string, obj any) {
	it, err := Item(obj)
	if err != nil {
		return
	}
	w.mu.Lock()
	if !w.dumped {
		w.mu.Unlock()
		return
	}
	// Pods change often in ways no field sees (conditions, probes): an
	// unchanged pod item is not sent again. (Other kinds are: a change of
	// a service or controller makes sysdig match pods against it again.)
	if p, ok := obj.(*corev1.Pod); ok {
		uid := string(p.UID)
		if typ == Deleted {
			delete(w.podLast, uid)
		} else {
			enc := encodeItem(it)
			if typ == Modified && string(w.podLast[uid]) == string(enc) {
				w.mu.Unlock()
				return
			}
			w.podLast[uid] = enc
		}
	}
	w.mu.Unlock()
	docs, dropped := Documents(typ, k, []map[string]any{it})
	w.warnDropped(k, len(dropped))
	w.enqueue(docs...)
}

// objectKey sorts objects as the API lists them: by namespace, then name.
func objectKey(obj any) string {
	if m, err := metaOf(obj); err == nil {
		return m.GetNamespace() + "/" + m.GetName()
	}
	return ""
}

var errNoMeta = errors.New("k8s: object without metadata")

func metaOf(obj any) (metav1.Object, error) {
	if m, ok := obj.(metav1.Object); ok {
		return m, nil
	}
	return nil, errNoMeta
}
