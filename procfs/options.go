package procfs

// Option changes where or how Scan reads.
type Option func(*options)

type options struct {
	proc     string // the proc file system
	etc      string // holds passwd and group
	hostname string
	hostSet  bool
}

func defaultOptions() options {
	return options{proc: "/proc", etc: "/etc"}
}

// WithProcRoot reads processes from dir instead of /proc: for instance the
// host's /proc mounted in a container that shares the host's pid namespace.
func WithProcRoot(dir string) Option {
	return func(o *options) { o.proc = dir }
}

// WithEtcRoot reads users and groups from dir/passwd and dir/group instead of
// /etc/passwd and /etc/group.
func WithEtcRoot(dir string) Option {
	return func(o *options) { o.etc = dir }
}

// WithHostname stores name as the machine's hostname instead of the kernel's.
func WithHostname(name string) Option {
	return func(o *options) { o.hostname, o.hostSet = name, true }
}
