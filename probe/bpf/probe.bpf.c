// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
//
// syscope's capture probe: a CO-RE eBPF program attached to the raw syscall
// tracepoints and to the scheduler's exit, switch and signal tracepoints.
//
// The kernel side stays small and generic. Every syscall produces an enter and an
// exit record with the syscall number, its six arguments and the return value
// (the task's cgroups travel with clone and execve, in its task item). A
// per-syscall table, filled from Go before loading, lists the extra "items"
// the record carries: user strings and buffers, socket addresses, the socket
// or file behind an fd, the task's identity. User space turns records into
// scap events, so the event layout lives in one place (Go).

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define MAX_SYSCALLS 512
#define MAX_ITEMS 4
#define HALF (1 << 15)     /* offsets are masked to HALF-1 */
#define BUFSZ (2 * HALF)   /* scratch buffer size */
#define ITEM_MAX (HALF - 64) /* largest item */
#define STR_MAX 4096
#define MAX_IOV 16
#define MAX_CGROUPS 16

enum kind {
	KIND_ENTER = 0,
	KIND_EXIT = 1,
	KIND_PROCEXIT = 2,
	KIND_SIGNAL = 3,
	KIND_SWITCH = 4,
	KIND_SKIP = 255, /* not an event: the reader skips it */
};

/* Item kinds: what to fetch. */
enum item {
	IT_NONE = 0,
	IT_STR = 1,      /* user string at args[arg] */
	IT_BUF = 2,      /* user buffer at args[arg], length per lenkind */
	IT_IOV = 3,      /* iovec array at args[arg], count args[lenarg]: u64 total + data */
	IT_MSG = 4,      /* msghdr at args[arg]: emits the name item, then an IOV item */
	IT_SOCKADDR = 5, /* user sockaddr at args[arg], length per lenkind (max 128) */
	IT_SOCK = 6,     /* struct sockinfo of an fd */
	IT_FILE = 7,     /* struct fileinfo of an fd */
	IT_TASK = 8,     /* struct taskinfo, then the args and env items */
	IT_VM = 9,       /* struct vminfo */
	IT_MEM = 10,     /* lenarg bytes of user memory at args[arg] */
	IT_POLL = 11,    /* pollfd array at args[arg], count args[lenarg] (at most 16) */
};

/* Length / fd sources. */
enum lenkind {
	L_NONE = 0,
	L_ARG = 1,  /* args[lenarg] */
	L_RET = 2,  /* the return value, when positive */
	L_PTR = 3,  /* u32 at user pointer args[lenarg] */
	L_MEM = 4,  /* int at user pointer args[arg], index lenarg (fds of pipe/socketpair) */
	L_SNAP = 5, /* args[lenarg], but at most the snaplen (write-like) */
	L_RSNAP = 6,/* the return value, at most the snaplen (read-like) */
};

struct fetch {
	__u8 kind;
	__u8 arg;
	__u8 lenkind;
	__u8 lenarg;
};

struct sysconf {
	__u8 on;     /* bit 0: enter, bit 1: exit, bit 2: enter needs args, bit 3: exit needs args */
	__u8 nenter;
	__u8 nexit;
	__u8 pad;
	struct fetch enter[MAX_ITEMS];
	struct fetch exit[MAX_ITEMS];
};

/* A record without arguments or items stops before args (REC_SHORT_LEN bytes). */
struct rec_hdr {
	__u64 ts;
	__s64 ret;
	__u32 tid;
	__u32 pid;
	__u32 len;
	__u16 nr;
	__u16 cpu;
	__u8 kind;
	__u8 nitems;
	__u8 pad[6];
	__u64 args[6];
};

#define REC_SHORT_LEN __builtin_offsetof(struct rec_hdr, args)

struct sockinfo {
	__u64 sk;
	__u64 peer;
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 family;
	__u16 type;
	__u16 sport;
	__u16 dport;
	__u8 state;
	__u8 proto;
	__u8 lplen;
	__u8 pplen;
	__u32 ack_backlog;
	__u32 max_ack_backlog;
	__u32 pad;
	char lpath[108];
	char ppath[108];
};

struct fileinfo {
	__u64 ino;
	__u32 dev;
	__u32 flags;
	__u32 mode;
	__u32 ok;
};

struct vminfo {
	__u64 maj_flt;
	__u64 min_flt;
	__u32 vm_size;
	__u32 vm_rss;
	__u32 vm_swap;
	__u32 pad;
};

struct taskinfo {
	__s64 tid;
	__s64 pid;
	__s64 ptid;
	__s64 vtid;
	__s64 vpid;
	__s64 pgid;
	__s64 sid;
	__u64 fdlimit;
	__u64 cap_inh;
	__u64 cap_prm;
	__u64 cap_eff;
	__u64 cg2;
	__u64 cgmem;
	__u64 start_time;
	struct vminfo vm;
	__u32 uid;
	__u32 gid;
	__u32 euid;
	__u32 egid;
	__u32 loginuid;
	__u32 tty;
	__u32 pidns_level;
	__u32 flags;
	char comm[16];
};

/* Force BTF emission for bpf2go -type. */
const struct rec_hdr *unused_rec __attribute__((unused));
const struct sockinfo *unused_sock __attribute__((unused));
const struct fileinfo *unused_file __attribute__((unused));
const struct taskinfo *unused_task __attribute__((unused));
const struct sysconf *unused_conf __attribute__((unused));

/* Configuration, set from Go before loading. */
volatile const __u32 tracer_tgid = 0;
volatile const __u32 only_tgid = 0;
volatile const __u32 snaplen = 80;
volatile const __u32 emit_switch = 0;
volatile const __u32 ncgroups = 0;
volatile const __u64 ring_size = 8 << 20; /* each CPU's ring: a power of two */
volatile const char only_comm[16] = {};

/* One ring per CPU, each CPU writing only its own: with a ring shared by all
 * CPUs, the producers take turns at its lock and its producer position, and
 * write records side by side in the same cache lines. On this 2-CPU VM a
 * program's run took 140 ns with one CPU producing and 260 to 310 ns with both
 * (bpf_stats), and an HTTP server under load runs on both. User space creates
 * the rings of the online CPUs and merges them by timestamp (ring.go).
 *
 * A ring is not a BPF ring buffer but a memory-mapped array of one value, with
 * a protocol of its own: a CPU's programs never run interleaved (the kernel runs
 * a raw tracepoint's BPF programs with preemption off, those of the syscall
 * tracepoints too, which may now fault, and none of these tracepoints fires in an
 * interrupt), so one producer per ring needs no lock, no atomic operation and no
 * shared producer position. The per-CPU scratch buffer relies on the same; a
 * kernel that ran these programs preemptibly would need both guarded. With BPF ring
 * buffers (a spin lock with interrupts off and an atomic exchange per record, a
 * producer position the reader polls), a traced getppid took 326 ns; with these
 * rings, 294 ns; untraced, 108 (medians of 8 interleaved rounds).
 *
 * The value: a page whose first cache line holds the consumer position (written
 * by the reader), whose second the producer position (this CPU's only); then
 * ring_size bytes of records; then RING_SLACK bytes for a record that starts near
 * the end (records never wrap). A record at position pos, at offset pos &
 * (ring_size - 1), is an 8-byte mark and then a struct rec_hdr whose len is the
 * record's length; the next one starts 8-byte aligned after it. The mark is
 * pos + 2 while the record is written and pos + 1 once it is complete (written
 * last: x86 keeps stores in order); the reader zeroes what it has read, so any
 * other value means no record yet. */
#define RING_HDR 4096 /* ringHdr in ring.go */
#define RING_SLACK (BUFSZ + 4096) /* ringSlack in ring.go */
#define MARK_DONE 1
#define MARK_BUSY 2

struct ring_head {
	__u64 cons;
	__u64 pad[7];
	__u64 prod;
};

struct ring {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(value_size, RING_HDR + (8 << 20) + RING_SLACK); /* set from Go with ring_size */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1); /* set to the number of possible CPUs */
	__type(key, __u32);
	__array(values, struct ring);
} rings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_SYSCALLS);
	__type(key, __u32);
	__type(value, struct sysconf);
} sysconfs SEC(".maps");

/* Loop state lives in the map, not on the stack: the verifier then treats it as an
 * unknown bounded value, and checks each bpf_loop callback in one or two passes. */
struct item_ctx {
	__u64 off;
	__s64 ret;
	__u32 nr;
	__u8 kind;
	__u8 n;
};

struct iov_ctx {
	__u64 iov; /* const struct iovec __user * */
	__s64 limit;
	__u64 dst;
	__u64 total;
	__u64 copied;
};

struct scratch {
	__u8 buf[BUFSZ];
	struct item_ctx ic;
	struct iov_ctx iv;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* set to the number of possible CPUs */
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* Counters per CPU: 0 records dropped because the CPU's ring was full (or the
 * CPU has none: it came online after the capture started). */
#define CNT_DROPPED 0
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Cgroups to capture (--container): when ncgroups > 0, only tasks under one of them. */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, MAX_CGROUPS);
	__type(key, __u32);
	__type(value, __u32);
} cgroups SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);
	if (v)
		*v += 1;
}

static __always_inline bool wanted(__u32 tgid)
{
	if (tgid == tracer_tgid)
		return false;
	if (only_tgid && tgid != only_tgid)
		return false;
	if (only_comm[0]) {
		char comm[16];
		bpf_get_current_comm(comm, sizeof(comm));
		for (int i = 0; i < 16; i++) {
			if (comm[i] != only_comm[i])
				return false;
			if (!comm[i])
				break;
		}
	}
	if (ncgroups) {
		bool in = false;
		for (__u32 i = 0; i < MAX_CGROUPS; i++) {
			if (i >= ncgroups)
				break;
			if (bpf_current_task_under_cgroup(&cgroups, i) == 1) {
				in = true;
				break;
			}
		}
		if (!in)
			return false;
	}
	return true;
}

/* Room for a record of len bytes in this CPU's ring, or NULL (counted as a
 * drop) when the ring is full or the CPU has none. The record is marked busy;
 * commit completes it. Between the two, no other program runs on this CPU. */
static __always_inline void *reserve(__u64 len, struct ring_head **rhp, __u64 *posp)
{
	__u32 cpu = bpf_get_smp_processor_id(), zero = 0;
	struct ring_head *rh;
	void *inner;
	__u64 pos;
	__u8 *at;

	inner = bpf_map_lookup_elem(&rings, &cpu);
	if (!inner)
		goto drop;
	rh = bpf_map_lookup_elem(inner, &zero);
	if (!rh)
		goto drop;
	pos = rh->prod;
	if (pos + 8 + len - *(volatile __u64 *)&rh->cons > ring_size)
		goto drop;
	at = (__u8 *)rh + RING_HDR + (pos & (ring_size - 1));
	*(volatile __u64 *)at = pos + MARK_BUSY;
	*rhp = rh;
	*posp = pos;
	return at + 8;
drop:
	count(CNT_DROPPED);
	return NULL;
}

/* Complete the record at pos, of len bytes (its rec_hdr.len). */
static __always_inline void commit(struct ring_head *rh, void *rec, __u64 pos, __u64 len)
{
	asm volatile("" ::: "memory"); /* the record's stores before the mark's */
	*(volatile __u64 *)((__u8 *)rec - 8) = pos + MARK_DONE;
	rh->prod = pos + 8 + ((len + 7) & ~7ULL);
}

/* Copy a record of len bytes (at most BUFSZ - 1) into the ring. */
static __always_inline void output(void *data, __u64 len)
{
	struct ring_head *rh;
	__u64 pos;
	void *rec;

	if (len > BUFSZ - 1)
		len = BUFSZ - 1;
	rec = reserve(len, &rh, &pos);
	if (!rec)
		return;
	if (len < REC_SHORT_LEN || bpf_probe_read_kernel(rec, len, data)) {
		/* Cannot happen (data is the program's own record): the reader
		 * skips a record of kind KIND_SKIP. */
		__builtin_memset(rec, 0, REC_SHORT_LEN);
		((struct rec_hdr *)rec)->len = REC_SHORT_LEN;
		((struct rec_hdr *)rec)->kind = KIND_SKIP;
		len = REC_SHORT_LEN;
	}
	commit(rh, rec, pos, len);
}

/* Output a scratch buffer of len bytes. */
static __always_inline void output_scratch(__u8 *buf, __u64 len)
{
	if (len > BUFSZ - 1)
		len = BUFSZ - 1;
	barrier_var(len);
	len &= BUFSZ - 1;
	output(buf, len);
}

static __always_inline struct file *fd_file(__s64 fd)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds;
	struct file *f = NULL;

	if (fd < 0 || !fdt)
		return NULL;
	if ((__u64)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10

static __always_inline void unix_path(struct sock *sk, char *dst, __u8 *plen)
{
	struct unix_sock *us = (struct unix_sock *)sk;
	struct unix_address *addr = BPF_CORE_READ(us, addr);
	int len;

	*plen = 0;
	if (!addr)
		return;
	len = BPF_CORE_READ(addr, len) - 2; /* minus sun_family */
	if (len <= 0)
		return;
	if (len > 108)
		len = 108;
	bpf_probe_read_kernel(dst, 108, &addr->name[0].sun_path);
	*plen = len;
}

static __always_inline void sock_info(struct file *f, struct sockinfo *si)
{
	struct socket *sock;
	struct sock *sk;
	__u16 mode;

	if (!f)
		return;
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return;
	sock = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return;
	si->sk = (__u64)sk;
	si->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	si->type = BPF_CORE_READ(sk, sk_type);
	si->proto = BPF_CORE_READ(sk, sk_protocol);
	si->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	si->ack_backlog = BPF_CORE_READ(sk, sk_ack_backlog);
	si->max_ack_backlog = BPF_CORE_READ(sk, sk_max_ack_backlog);
	if (si->family == AF_INET) {
		struct inet_sock *inet = (struct inet_sock *)sk;
		__u32 a = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		if (!a)
			a = BPF_CORE_READ(inet, inet_saddr);
		__builtin_memcpy(si->saddr, &a, 4);
		a = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(si->daddr, &a, 4);
		si->sport = bpf_ntohs(BPF_CORE_READ(inet, inet_sport));
		si->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	} else if (si->family == AF_INET6) {
		struct inet_sock *inet = (struct inet_sock *)sk;
		BPF_CORE_READ_INTO(&si->saddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&si->daddr, sk, __sk_common.skc_v6_daddr);
		si->sport = bpf_ntohs(BPF_CORE_READ(inet, inet_sport));
		si->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	} else if (si->family == AF_UNIX) {
		struct sock *peer = BPF_CORE_READ((struct unix_sock *)sk, peer);
		si->peer = (__u64)peer;
		unix_path(sk, si->lpath, &si->lplen);
		if (peer)
			unix_path(peer, si->ppath, &si->pplen);
	}
}

static __always_inline void file_info(struct file *f, struct fileinfo *fi)
{
	if (!f)
		return;
	fi->ok = 1;
	fi->ino = BPF_CORE_READ(f, f_inode, i_ino);
	fi->dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	fi->mode = BPF_CORE_READ(f, f_inode, i_mode);
	fi->flags = BPF_CORE_READ(f, f_flags);
}

struct mm_rss_stat___pre62 {
	atomic_long_t count[4];
};

struct mm_struct___pre62 {
	struct {
		atomic_long_t count[4];
	} rss_stat;
} __attribute__((preserve_access_index));

static __always_inline __u64 rss_count(struct mm_struct *mm, int i)
{
	if (!bpf_core_type_exists(struct mm_rss_stat)) {
		__s64 v = BPF_CORE_READ(mm, rss_stat[i].count);
		return v < 0 ? 0 : v;
	}
	struct mm_struct___pre62 *old = (void *)mm;
	long v = BPF_CORE_READ(old, rss_stat.count[i].counter);
	return v < 0 ? 0 : v;
}

static __always_inline void vm_info(struct task_struct *t, struct vminfo *vm)
{
	struct mm_struct *mm = BPF_CORE_READ(t, mm);

	vm->maj_flt = BPF_CORE_READ(t, maj_flt);
	vm->min_flt = BPF_CORE_READ(t, min_flt);
	if (!mm)
		return;
	vm->vm_size = BPF_CORE_READ(mm, total_vm) << 2;
	/* MM_FILEPAGES 0, MM_ANONPAGES 1, MM_SWAPENTS 2, MM_SHMEMPAGES 3 */
	vm->vm_rss = (rss_count(mm, 0) + rss_count(mm, 1) + rss_count(mm, 3)) << 2;
	vm->vm_swap = rss_count(mm, 2) << 2;
}

static __always_inline __s64 pid_nr_level(struct pid *p, __u32 level)
{
	struct upid up = {};

	if (!p)
		return 0;
	bpf_probe_read_kernel(&up, sizeof(up), &p->numbers[level & 31]);
	return up.nr;
}

static __always_inline void task_info(struct task_struct *t, struct taskinfo *ti)
{
	struct pid *tp = BPF_CORE_READ(t, thread_pid);
	__u32 level = BPF_CORE_READ(tp, level);
	struct signal_struct *sig = BPF_CORE_READ(t, signal);
	const struct cred *cred = BPF_CORE_READ(t, cred);
	struct tty_struct *tty;

	ti->tid = BPF_CORE_READ(t, pid);
	ti->pid = BPF_CORE_READ(t, tgid);
	ti->ptid = BPF_CORE_READ(t, real_parent, pid);
	ti->vtid = pid_nr_level(tp, level);
	ti->vpid = pid_nr_level(BPF_CORE_READ(t, group_leader, thread_pid), level);
	ti->pgid = pid_nr_level(BPF_CORE_READ(sig, pids[PIDTYPE_PGID]), level);
	ti->sid = pid_nr_level(BPF_CORE_READ(sig, pids[PIDTYPE_SID]), level);
	ti->pidns_level = level;
	ti->fdlimit = BPF_CORE_READ(sig, rlim[7].rlim_cur); /* RLIMIT_NOFILE */
	ti->uid = BPF_CORE_READ(cred, uid.val);
	ti->gid = BPF_CORE_READ(cred, gid.val);
	ti->euid = BPF_CORE_READ(cred, euid.val);
	ti->egid = BPF_CORE_READ(cred, egid.val);
	BPF_CORE_READ_INTO(&ti->cap_inh, cred, cap_inheritable);
	BPF_CORE_READ_INTO(&ti->cap_prm, cred, cap_permitted);
	BPF_CORE_READ_INTO(&ti->cap_eff, cred, cap_effective);
	if (bpf_core_field_exists(t->loginuid))
		ti->loginuid = BPF_CORE_READ(t, loginuid.val);
	else
		ti->loginuid = (__u32)-1;
	tty = BPF_CORE_READ(sig, tty);
	if (tty) {
		__u32 major = BPF_CORE_READ(tty, driver, major);
		__u32 minor = BPF_CORE_READ(tty, driver, minor_start);
		__u32 index = BPF_CORE_READ(tty, index);
		ti->tty = ((major << 20) | minor) + index;
	}
	ti->cg2 = bpf_get_current_cgroup_id();
	ti->cgmem = BPF_CORE_READ(t, cgroups, subsys[bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id)], cgroup, kn, id);
	ti->start_time = BPF_CORE_READ(t, start_time);
	/* 1 when the children of t are created in another pid namespace (unshare(CLONE_NEWPID)). */
	{
		struct upid up = {};
		struct pid_namespace *children = BPF_CORE_READ(t, nsproxy, pid_ns_for_children);

		if (tp)
			bpf_probe_read_kernel(&up, sizeof(up), &tp->numbers[level & 31]);
		ti->flags = children && up.ns && children != up.ns;
	}
	BPF_CORE_READ_INTO(&ti->comm, t, comm);
	vm_info(t, &ti->vm);
}

/* fill is the state of one record being built in the scratch buffer. */
struct fill {
	__u8 *buf;
	__u64 off;
	__u8 n;
};

/* put_item reserves an item header at f->off and returns the data offset, or -1 when full. */
static __always_inline long item_begin(struct fill *f)
{
	__u64 off = f->off;

	barrier_var(off);
	if (off >= HALF - 64)
		return -1;
	return off + 4;
}

static __always_inline void item_end(struct fill *f, __u64 size)
{
	__u64 off = f->off;

	barrier_var(off);
	off &= HALF - 1;
	*(__u32 *)&f->buf[off] = size;
	f->off = f->off + 4 + size;
	f->n++;
}

/* Copy size bytes of user memory into a new item. */
static __always_inline void item_user(struct fill *f, const void *src, __u64 size)
{
	long d = item_begin(f);
	__u64 dst;

	if (d < 0)
		return;
	dst = d;
	if (size > ITEM_MAX)
		size = ITEM_MAX;
	barrier_var(size);
	if (size > ITEM_MAX)
		size = ITEM_MAX;
	barrier_var(dst);
	dst &= HALF - 1;
	if (size && bpf_probe_read_user(&f->buf[dst], size, src))
		size = 0;
	item_end(f, size);
}

/* Copy a user string (with its NUL) into a new item. */
static __always_inline void item_str(struct fill *f, const void *src)
{
	long d = item_begin(f);
	__u64 dst;
	long n = 0;

	if (d < 0)
		return;
	dst = d;
	barrier_var(dst);
	dst &= HALF - 1;
	if (src)
		n = bpf_probe_read_user_str(&f->buf[dst], STR_MAX, src);
	if (n < 0)
		n = 0;
	item_end(f, n);
}

/* Reserve a zeroed item of size bytes (at most 512) and return a pointer to it. */
static __always_inline void *item_struct(struct fill *f, __u64 size)
{
	long d = item_begin(f);
	__u64 dst;
	__u8 *p;

	if (d < 0)
		return NULL;
	dst = d;
	barrier_var(dst);
	dst &= HALF - 1;
	p = &f->buf[dst];
	for (int i = 0; i < 512 / 8; i++) {
		if (i * 8 >= size)
			break;
		((__u64 *)p)[i] = 0;
	}
	item_end(f, size);
	return p;
}

static __always_inline struct scratch *get_scratch(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	return bpf_map_lookup_elem(&scratch, &cpu);
}

/* One iovec of item_iov; a bpf_loop callback, so the verifier checks it once. */
static long iov_cb(__u32 i, void *data)
{
	struct scratch *s = get_scratch();
	struct iov_ctx *ic;
	struct iovec v;
	__u64 n, at;

	if (!s)
		return 1;
	ic = &s->iv;
	if (bpf_probe_read_user(&v, sizeof(v), (const struct iovec *)ic->iov + i))
		return 1;
	ic->total += v.iov_len;
	n = v.iov_len;
	if (ic->limit >= 0 && ic->copied + n > (__u64)ic->limit)
		n = (__u64)ic->limit > ic->copied ? (__u64)ic->limit - ic->copied : 0;
	if (ic->copied + n > snaplen)
		n = snaplen > ic->copied ? snaplen - ic->copied : 0;
	if (ic->copied + n > ITEM_MAX - 8)
		n = ITEM_MAX - 8 > ic->copied ? ITEM_MAX - 8 - ic->copied : 0;
	barrier_var(n);
	if (n > ITEM_MAX - 8)
		n = ITEM_MAX - 8;
	at = ic->dst + 8 + ic->copied;
	barrier_var(at);
	at &= HALF - 1;
	if (n && bpf_probe_read_user(&s->buf[at], n, v.iov_base))
		return 1;
	ic->copied += n;
	return 0;
}

/* Gather an iovec array into a new item: u64 total length of the iovecs, then the
 * data, at most limit bytes (-1: no limit but the snaplen). */
static __always_inline void item_iov(struct fill *f, const struct iovec *iov, __u64 cnt, __s64 limit)
{
	long d = item_begin(f);
	struct scratch *s = get_scratch();
	__u64 dst, copied;

	if (d < 0 || !s)
		return;
	dst = d;
	s->iv.iov = (__u64)iov;
	s->iv.limit = limit;
	s->iv.dst = dst;
	s->iv.total = 0;
	s->iv.copied = 0;
	if (cnt > MAX_IOV)
		cnt = MAX_IOV;
	bpf_loop(cnt, iov_cb, NULL, 0);
	dst &= HALF - 1;
	*(__u64 *)&f->buf[dst] = s->iv.total;
	copied = s->iv.copied;
	if (copied > ITEM_MAX - 8)
		copied = ITEM_MAX - 8;
	item_end(f, 8 + copied);
}

/* args[i], with i bounded for the verifier. */
static __always_inline __u64 arg_at(__u64 *args, __u8 i)
{
	__u64 j = i;

	barrier_var(j);
	if (j > 5)
		j = 5;
	barrier_var(j);
	return args[j];
}

static __always_inline __u64 fetch_len(struct fetch *fe, __u64 *args, __s64 ret)
{
	__u32 v = 0;

	switch (fe->lenkind) {
	case L_ARG:
		return arg_at(args, fe->lenarg);
	case L_RET:
		return ret > 0 ? ret : 0;
	case L_PTR:
		bpf_probe_read_user(&v, sizeof(v), (void *)arg_at(args, fe->lenarg));
		return v;
	case L_SNAP: {
		__u64 n = arg_at(args, fe->lenarg);
		return n > snaplen ? snaplen : n;
	}
	case L_RSNAP:
		if (ret <= 0)
			return 0;
		return (__u64)ret > snaplen ? snaplen : ret;
	}
	return 0;
}

static __always_inline __s64 fetch_fd(struct fetch *fe, __u64 *args, __s64 ret)
{
	int fd = -1;

	switch (fe->lenkind) {
	case L_RET:
		return ret;
	case L_MEM:
		bpf_probe_read_user(&fd, sizeof(fd), (int *)arg_at(args, fe->arg) + (fe->lenarg & 1));
		return fd;
	}
	return (int)arg_at(args, fe->arg);
}

/* How many bytes of an iovec array to copy: L_RET the bytes transferred, L_SNAP
 * all (up to the snaplen), L_NONE none (the total size only). */
static __always_inline __s64 iov_limit(struct fetch *fe, __s64 ret)
{
	switch (fe->lenkind) {
	case L_RET:
		return ret > 0 ? ret : 0;
	case L_SNAP:
		return -1;
	}
	return 0;
}

static __always_inline void fill_item(struct fill *f, struct fetch *fe, __u64 *args, __s64 ret)
{
	void *p = (void *)arg_at(args, fe->arg);

	switch (fe->kind) {
	case IT_STR:
		item_str(f, p);
		break;
	case IT_BUF:
		item_user(f, p, fetch_len(fe, args, ret));
		break;
	case IT_IOV:
		item_iov(f, p, arg_at(args, fe->lenarg), iov_limit(fe, ret));
		break;
	case IT_POLL: {
		__u64 n = arg_at(args, fe->lenarg);
		item_user(f, p, (n > 16 ? 16 : n) * 8);
		break;
	}
	case IT_MSG: {
		struct user_msghdr m = {};
		__u64 n;

		bpf_probe_read_user(&m, sizeof(m), p);
		n = m.msg_name ? m.msg_namelen : 0;
		if (n > 128)
			n = 128;
		item_user(f, m.msg_name, n);
		item_iov(f, m.msg_iov, m.msg_iovlen, iov_limit(fe, ret));
		break;
	}
	case IT_SOCKADDR: {
		__u64 n = p ? fetch_len(fe, args, ret) : 0;
		if (n > 128)
			n = 128;
		item_user(f, p, n);
		break;
	}
	case IT_SOCK: {
		struct sockinfo *si = item_struct(f, sizeof(*si));
		if (si)
			sock_info(fd_file(fetch_fd(fe, args, ret)), si);
		break;
	}
	case IT_FILE: {
		struct fileinfo *fi = item_struct(f, sizeof(*fi));
		if (fi)
			file_info(fd_file(fetch_fd(fe, args, ret)), fi);
		break;
	}
	case IT_VM: {
		struct vminfo *vm = item_struct(f, sizeof(*vm));
		if (vm)
			vm_info((struct task_struct *)bpf_get_current_task_btf(), vm);
		break;
	}
	case IT_MEM:
		item_user(f, p, fe->lenarg);
		break;
	case IT_TASK: {
		struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
		struct mm_struct *mm = BPF_CORE_READ(t, mm);
		struct taskinfo *ti = item_struct(f, sizeof(*ti));
		__u64 a = 0, b = 0;

		if (ti)
			task_info(t, ti);
		if (mm) {
			a = BPF_CORE_READ(mm, arg_start);
			b = BPF_CORE_READ(mm, arg_end);
		}
		item_user(f, (void *)a, b > a && b - a < STR_MAX ? b - a : (b > a ? STR_MAX : 0));
		a = b = 0;
		if (mm) {
			a = BPF_CORE_READ(mm, env_start);
			b = BPF_CORE_READ(mm, env_end);
		}
		item_user(f, (void *)a, b > a && b - a < STR_MAX ? b - a : (b > a ? STR_MAX : 0));
		break;
	}
	}
}

/* Fetch item i of the current record; a bpf_loop callback, so the verifier checks
 * the item code once rather than once per item. */
static long item_cb(__u32 i, void *data)
{
	struct scratch *s = get_scratch();
	struct item_ctx *ic;
	struct sysconf *sc;
	struct fetch fe;
	__u32 key;

	if (!s)
		return 1;
	ic = &s->ic;
	key = ic->nr;
	sc = bpf_map_lookup_elem(&sysconfs, &key);
	if (!sc)
		return 1;
	fe = ic->kind == KIND_ENTER ? sc->enter[i & (MAX_ITEMS - 1)] : sc->exit[i & (MAX_ITEMS - 1)];
	struct fill f = {.buf = s->buf, .off = ic->off, .n = ic->n};
	fill_item(&f, &fe, ((struct rec_hdr *)s->buf)->args, ic->ret);
	ic->off = f.off;
	ic->n = f.n;
	return 0;
}

/* The six syscall arguments, from the registers. */
static __always_inline void get_args(__u64 *a, struct pt_regs *regs)
{
	a[0] = regs->di;
	a[1] = regs->si;
	a[2] = regs->dx;
	a[3] = regs->r10;
	a[4] = regs->r8;
	a[5] = regs->r9;
}

static __always_inline void hdr_init(struct rec_hdr *h, __u64 pid_tgid, __u8 kind, __u16 nr)
{
	h->ts = bpf_ktime_get_ns();
	h->tid = (__u32)pid_tgid;
	h->pid = pid_tgid >> 32;
	h->kind = kind;
	h->nr = nr;
	h->cpu = bpf_get_smp_processor_id();
	h->len = sizeof(*h);
}

/* Emit a record without items; with_args must be a constant (the reservation's size). */
static __always_inline void emit_header(struct pt_regs *regs, __u64 pid_tgid, __u8 kind, __u16 id, long ret,
					const bool with_args)
{
	struct ring_head *rh;
	struct rec_hdr *hr;
	__u64 pos;

	hr = reserve(with_args ? sizeof(*hr) : REC_SHORT_LEN, &rh, &pos);
	if (!hr)
		return;
	hdr_init(hr, pid_tgid, kind, id);
	hr->ret = ret;
	hr->nitems = 0;
	__builtin_memset(hr->pad, 0, sizeof(hr->pad));
	if (with_args) {
		get_args(hr->args, regs);
	} else {
		hr->len = REC_SHORT_LEN;
	}
	commit(rh, hr, pos, with_args ? sizeof(*hr) : REC_SHORT_LEN);
}

/* Emit a record whose only item is len bytes of user memory at src (len at most
 * cap, a constant: the reservation's size), built in the ring buffer itself. */
static __always_inline bool emit_buf(struct pt_regs *regs, __u64 pid_tgid, __u8 kind, __u16 id, long ret,
				     const void *src, __u64 len, const __u64 cap)
{
	struct ring_head *rh;
	struct rec_hdr *hr;
	__u8 *item;
	__u64 pos;

	hr = reserve(sizeof(*hr) + 4 + cap, &rh, &pos);
	if (!hr)
		return true;
	hdr_init(hr, pid_tgid, kind, id);
	hr->ret = ret;
	hr->nitems = 1;
	__builtin_memset(hr->pad, 0, sizeof(hr->pad));
	get_args(hr->args, regs);
	item = (__u8 *)(hr + 1);
	if (len > cap)
		len = cap;
	if (len && bpf_probe_read_user(item + 4, len, src))
		len = 0;
	*(__u32 *)item = len;
	hr->len = sizeof(*hr) + 4 + len;
	commit(rh, hr, pos, sizeof(*hr) + 4 + len);
	return true;
}

/* The common case of a read or write: one buffer item of at most 128 bytes
 * (the default snaplen is 80). Building it in the ring buffer skips the
 * scratch buffer, the item loop and the copy out of scratch. */
static __always_inline bool emit_small_buf(struct pt_regs *regs, __u64 pid_tgid, __u8 kind, __u16 id, long ret,
					   struct sysconf *sc)
{
	struct fetch fe = kind == KIND_ENTER ? sc->enter[0] : sc->exit[0];
	__u64 args[6];
	__u64 len;

	if (fe.kind != IT_BUF || (fe.lenkind != L_SNAP && fe.lenkind != L_RSNAP))
		return false;
	get_args(args, regs);
	len = fetch_len(&fe, args, ret);
	if (len <= 16)
		return emit_buf(regs, pid_tgid, kind, id, ret, (void *)arg_at(args, fe.arg), len, 16);
	if (len <= 128)
		return emit_buf(regs, pid_tgid, kind, id, ret, (void *)arg_at(args, fe.arg), len, 128);
	return false;
}

static __always_inline int on_syscall(struct pt_regs *regs, long id, long ret, __u8 kind)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct sysconf *sc;
	struct scratch *s;
	struct rec_hdr *h;
	__u32 key = id;
	__u8 n;

	if (id < 0 || id >= MAX_SYSCALLS)
		return 0;
	if (!wanted(pid_tgid >> 32))
		return 0;
	sc = bpf_map_lookup_elem(&sysconfs, &key);
	if (!sc || !(sc->on & (1 << kind)))
		return 0;
	n = kind == KIND_ENTER ? sc->nenter : sc->nexit;

	if (n == 0) {
		/* No items: build the header in the ring buffer itself, without the
		 * arguments when the event does not use them. */
		if (sc->on & (4 << kind))
			emit_header(regs, pid_tgid, kind, id, ret, true);
		else
			emit_header(regs, pid_tgid, kind, id, ret, false);
		return 0;
	}

	if (n == 1 && emit_small_buf(regs, pid_tgid, kind, id, ret, sc))
		return 0;

	s = get_scratch();
	if (!s)
		return 0;
	h = (struct rec_hdr *)s->buf;
	__builtin_memset(h, 0, sizeof(*h));
	hdr_init(h, pid_tgid, kind, id);
	h->ret = ret;
	get_args(h->args, regs);

	s->ic.off = sizeof(*h);
	s->ic.ret = ret;
	s->ic.nr = key;
	s->ic.kind = kind;
	s->ic.n = 0;
	bpf_loop(n > MAX_ITEMS ? MAX_ITEMS : n, item_cb, NULL, 0);
	h->nitems = s->ic.n;
	h->len = s->ic.off;
	output_scratch(s->buf, s->ic.off);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	return on_syscall(regs, id, 0, KIND_ENTER);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	long id = regs->orig_ax;
	return on_syscall(regs, id, ret, KIND_EXIT);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *p, bool group_dead)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct rec_hdr h = {};

	if (!wanted(pid_tgid >> 32))
		return 0;
	hdr_init(&h, pid_tgid, KIND_PROCEXIT, 0);
	h.args[0] = BPF_CORE_READ(p, exit_code);
	h.args[1] = group_dead;
	output(&h, sizeof(h));
	return 0;
}

SEC("tp_btf/signal_deliver")
int BPF_PROG(signal_deliver, int sig, struct kernel_siginfo *info, struct k_sigaction *ka)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct rec_hdr h = {};

	if (!wanted(pid_tgid >> 32))
		return 0;
	hdr_init(&h, pid_tgid, KIND_SIGNAL, 0);
	h.args[0] = sig;
	if (info)
		h.args[1] = BPF_CORE_READ(info, _sifields._kill._pid);
	output(&h, sizeof(h));
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct rec_hdr h = {};
	struct vminfo vm = {};

	if (!emit_switch || !wanted(pid_tgid >> 32))
		return 0;
	hdr_init(&h, pid_tgid, KIND_SWITCH, 0);
	h.args[0] = BPF_CORE_READ(next, pid);
	vm_info(prev, &vm);
	h.args[1] = vm.maj_flt;
	h.args[2] = vm.min_flt;
	h.args[3] = vm.vm_size;
	h.args[4] = vm.vm_rss;
	h.args[5] = vm.vm_swap;
	output(&h, sizeof(h));
	return 0;
}
