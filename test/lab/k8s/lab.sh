#!/bin/bash
# lab.sh: syscope's container runtime + Kubernetes lab, on this one machine (root).
#
# What runs when it is up (all on loopback or in network namespaces it creates):
#   containerd  Debian's 1.6 on /run/containerd/containerd.sock, with runc and
#               its CRI plugin; pods get a bridge (sclab0, 10.244.0.0/24)
#   dockerd     Debian's 20.10 on /run/docker.sock, on the same containerd,
#               without iptables rules or a docker0 bridge
#   etcd        Debian's 3.4 on 127.0.0.1:2379
#   Kubernetes  v1.34.4: kube-apiserver on 127.0.0.1:6443, kube-controller-manager,
#               kube-scheduler, and a kubelet (127.0.0.1:10250) on containerd's CRI:
#               one node, named after the host
#   images      no registry: registry.k8s.io/pause:3.10 (pause.c, static) and
#               docker.io/library/busybox:local (busybox-static), in containerd's
#               k8s.io and default namespaces and in docker; also the tar that
#               `make image` writes (bin/syscope-image.tar), when it exists
#
# Usage (as root):
#   lab.sh up      start whatever is not running yet; first installs missing apt
#                  packages and builds missing Kubernetes binaries (about 10 min
#                  cold on 2 cores, kept in $LAB_DIR/kbuild/bin for next time)
#   lab.sh down    delete the pods, stop everything, and remove what the lab
#                  left on the host; fails when something is still left
#   lab.sh status  what runs; exit status 0 only when the whole lab is up
#   lab.sh deps | build | images | leftovers    single steps
#
# To use the cluster:
#   export KUBECONFIG=$LAB_DIR/pki/admin.kubeconfig; $LAB_DIR/kbuild/bin/kubectl get nodes
#
# Environment:
#   LAB_DIR            state, logs, binaries, images (default /var/tmp/syscope-lab;
#                      `down` keeps it, minus the cluster's etcd data)
#   GO                 the go command for the build (default go, Go >= 1.24)
#   SYSCOPE_IMAGE_TAR  the syscope image to import (default bin/syscope-image.tar)
#
# This host's quirks, handled here: no systemd (daemons are started with
# setsid/nohup and tracked by pid files); root lacks CAP_SYS_RESOURCE (so
# containerd must not ask runc to lower oom_score_adj: restrict_oom_score_adj);
# cgroup v1 (the kubelet needs failCgroupV1: false).
set -euo pipefail

LAB_DIR=${LAB_DIR:-/var/tmp/syscope-lab}
GO=${GO:-go}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
SYSCOPE_IMAGE_TAR=${SYSCOPE_IMAGE_TAR:-$REPO/bin/syscope-image.tar}

K8S_VERSION=v1.34.4
K8S_STAGING=v0.34.4 # k8s.io/api, k8s.io/client-go... published with v1.34.4
K8S_COMMANDS="kube-apiserver kubelet kube-controller-manager kube-scheduler kubectl"
KBUILD=$LAB_DIR/kbuild
KUBECTL=$KBUILD/bin/kubectl
PKI=$LAB_DIR/pki
export KUBECONFIG=$PKI/admin.kubeconfig

APT_PACKAGES="containerd runc containernetworking-plugins etcd-server busybox-static docker.io gcc libc6-dev openssl curl iproute2"
PAUSE_IMAGE=registry.k8s.io/pause:3.10
BUSYBOX_IMAGE=docker.io/library/busybox:local
CONTAINERD_SOCK=/run/containerd/containerd.sock
CONTAINERD_STATE=/run/containerd-state
DOCKER_SOCK=/run/docker.sock
DOCKER_EXEC_ROOT=/run/docker-syscope
BRIDGE=sclab0
POD_CIDR=10.244.0.0/24
NODE=$(hostname | tr '[:upper:]' '[:lower:]') # the kubelet's default node name
# The control plane's ports (etcd client/peer, apiserver, kcm, scheduler, kubelet
# healthz and API): down checks that nothing listens on them any more.
PORTS="2379 2380 6443 10257 10259 10248 10250"
# Kernel settings that the kubelet (protectKernelDefaults: false) or the CNI
# bridge (ip_forward) change: up saves them once, down puts them back.
SYSCTLS="net.ipv4.ip_forward vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes"
# The cgroups that the runtimes create: kubelet pods, docker containers, and
# containerd namespaces used without the kubelet (ctr run, CRI clients).
CGROUPS="kubepods docker default k8s.io moby"

log() { echo "[lab $(date +%T)] $*"; }
die() { echo "lab: $*" >&2; exit 1; }
need_root() { [ "$(id -u)" = 0 ] || die "run as root (it starts container runtimes and a kubelet)"; }

# ---------------------------------------------------------------- processes

# exe_of PID: the base name of the process's executable ("" when it is gone).
# (A binary replaced while it runs reads "NAME (deleted)": still NAME.)
exe_of() { basename "$(readlink "/proc/$1/exe" 2>/dev/null)" 2>/dev/null | sed 's/ (deleted)$//' || true; }

# alive NAME: whether $LAB_DIR/NAME.pid names a live process running the lab's
# binary for NAME (so a stale pid file, reused after a reboot, does not count).
alive() {
	local pid
	pid=$(cat "$LAB_DIR/$1.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && [ "$(exe_of "$pid")" = "$(binary_of "$1")" ]
}
binary_of() {
	case $1 in
	apiserver) echo kube-apiserver ;;
	kcm) echo kube-controller-manager ;;
	scheduler) echo kube-scheduler ;;
	*) echo "$1" ;;
	esac
}

# start NAME CMD...: run CMD as a daemon in its own session (so that neither a
# Ctrl-C nor the end of the calling job's process group stops it), output in
# logs/NAME.log (the previous run's in NAME.log.1), pid in NAME.pid. setsid
# execs CMD in place here: a background child of a non-interactive shell is
# not a process group leader, so $! is the daemon's pid.
start() {
	local name=$1
	shift
	[ ! -f "$LAB_DIR/logs/$name.log" ] || mv "$LAB_DIR/logs/$name.log" "$LAB_DIR/logs/$name.log.1"
	setsid "$@" >"$LAB_DIR/logs/$name.log" 2>&1 </dev/null &
	echo $! >"$LAB_DIR/$name.pid"
}

# stop [-t SECONDS] NAME...: SIGTERM each one's process, wait up to SECONDS
# (default 20) for all of them to exit, then SIGKILL what is left. Callers stop
# things in dependency order (kube-apiserver hangs in its shutdown for over a
# minute when etcd goes first).
stop() {
	local name pid pids="" left i wait=20
	if [ "$1" = -t ]; then
		wait=$2
		shift 2
	fi
	for name in "$@"; do
		if alive "$name"; then
			pid=$(cat "$LAB_DIR/$name.pid")
			kill "$pid" 2>/dev/null && pids="$pids $pid"
		fi
		rm -f "$LAB_DIR/$name.pid"
	done
	for i in $(seq $((wait * 5))); do
		left=""
		for pid in $pids; do kill -0 "$pid" 2>/dev/null && left="$left $pid"; done
		pids=$left
		[ -z "$pids" ] && return 0
		sleep 0.2
	done
	for pid in $pids; do
		log "pid $pid ($(exe_of "$pid")) still runs $wait s after SIGTERM: SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	done
	sleep 0.5
}

# wait_for WHAT TRIES DELAY CMD...: run CMD until it succeeds, at most TRIES times.
wait_for() {
	local what=$1 tries=$2 delay=$3 i
	shift 3
	for i in $(seq "$tries"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep "$delay"
	done
	"$@" >/dev/null 2>&1 || die "$what (see $LAB_DIR/logs/)"
}

# adopt NAME MARK: a daemon answers on its socket but no pid file names it (it
# was started by hand, or the pid file is lost): take it over (write its pid
# file) when its command line carries MARK, the lab's own setting; false when
# it is somebody else's.
adopt() {
	local name=$1 mark=$2 pid
	for pid in $(pgrep -x "$name" || true); do
		if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$mark"; then
			echo "$pid" >"$LAB_DIR/$name.pid"
			log "$name: adopted the running pid $pid"
			return 0
		fi
	done
	return 1
}

# ---------------------------------------------------------------- clients

kubectl() { "$KUBECTL" "$@"; }
# ctr with a short dial timeout; does nothing when containerd is not there.
ctr_() { [ -S "$CONTAINERD_SOCK" ] || return 0; command ctr --connect-timeout 2s "$@"; }
containerd_ok() { [ -S "$CONTAINERD_SOCK" ] && command ctr --connect-timeout 2s version >/dev/null 2>&1; }
docker_ok() { [ -S "$DOCKER_SOCK" ] && timeout 5 docker -H "unix://$DOCKER_SOCK" info >/dev/null 2>&1; }
docker_() { docker -H "unix://$DOCKER_SOCK" "$@"; }
etcd_ok() { curl -sf --max-time 2 http://127.0.0.1:2379/health | grep -q '"health":"true"'; }
apiserver_ok() {
	curl -sf --max-time 2 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
		https://127.0.0.1:6443/readyz >/dev/null
}
node_ready() {
	[ "$(kubectl get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

# ---------------------------------------------------------------- deps

deps() {
	local p missing=""
	for p in $APT_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
	need_root
	log "installing:$missing"
	# The packages' init scripts must not start their daemons (docker.io and
	# etcd-server would try to): the lab starts its own, with its own settings.
	local policy=/usr/sbin/policy-rc.d added=""
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added=1
	fi
	local ok=1
	# shellcheck disable=SC2086 # one word per package
	if DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing; then
		ok=0
	fi
	[ -z "$added" ] || rm -f "$policy"
	[ "$ok" = 0 ] || die "apt-get install failed"
}

# ---------------------------------------------------------------- build

# build: the five Kubernetes commands, from the Go module proxy, into
# $LAB_DIR/kbuild/bin; only the missing ones (a cold build of all five takes
# about 10 min and 2 GB of memory on 2 cores; kube-apiserver alone is 4-7 min).
build() {
	local c missing=""
	for c in $K8S_COMMANDS; do [ -x "$KBUILD/bin/$c" ] || missing="$missing $c"; done
	[ -n "$missing" ] || return 0
	command -v "$GO" >/dev/null || die "no Go ($GO) to build$missing; set GO= or PATH"
	mkdir -p "$KBUILD/bin"
	# One build at a time, even from two lab.sh runs.
	exec 9>"$KBUILD/.lock"
	flock 9
	missing=""
	for c in $K8S_COMMANDS; do [ -x "$KBUILD/bin/$c" ] || missing="$missing $c"; done
	[ -n "$missing" ] || return 0
	cd "$KBUILD"
	if [ ! -f go.sum ] || [ ! -f tools.go ]; then
		log "build: module for k8s.io/kubernetes $K8S_VERSION"
		# k8s.io/kubernetes cannot be required as it is published: its go.mod
		# replaces each k8s.io staging module with ./staging/src/k8s.io/X, a
		# directory its module zip does not have. So the build module requires
		# it and replaces each of those with the staging module's published
		# version instead.
		local upstream
		upstream=$(cd / && GOFLAGS=-mod=mod "$GO" mod download -json "k8s.io/kubernetes@$K8S_VERSION" |
			sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
		[ -f "$upstream" ] || die "cannot download k8s.io/kubernetes@$K8S_VERSION"
		{
			printf 'module example.com/kbuild\n\ngo 1.24.0\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$K8S_VERSION"
			sed -n "s#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/k8s.io/[a-z0-9-]*\$#\t\1 => \1 $K8S_STAGING#p" "$upstream"
			printf ')\n'
		} >go.mod
		grep -q '=> k8s.io/api ' go.mod || die "no staging replacements found in $upstream"
		# A file that imports the commands, so that `go mod tidy` keeps their dependencies.
		{
			printf '//go:build tools\n\npackage tools\n\nimport (\n'
			for c in $K8S_COMMANDS; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$c"; done
			printf ')\n'
		} >tools.go
		GOFLAGS=-mod=mod "$GO" mod tidy
	fi
	# The version the binaries report (without these: v0.0.0-master, which
	# kubectl and the kubelet's version skew checks dislike).
	local p ldflags="-s -w" minor=${K8S_VERSION#v1.}
	minor=${minor%%.*}
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ldflags="$ldflags -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
		ldflags="$ldflags -X $p.gitTreeState=clean -X $p.buildDate=2025-01-01T00:00:00Z"
	done
	for c in $missing; do
		local t0=$SECONDS
		log "build: $c (nice, this takes minutes)"
		# Into a temporary name, so that an interrupted build leaves no binary
		# that a later run would take for a finished one.
		nice -n 10 "$GO" build -mod=mod -ldflags "$ldflags" -o "bin/.$c.tmp" "k8s.io/kubernetes/cmd/$c"
		mv "bin/.$c.tmp" "bin/$c"
		log "build: $c took $((SECONDS - t0)) s"
	done
	cd - >/dev/null
}

# ---------------------------------------------------------------- images

# images: build the registry-free image archives (when missing or older than
# their sources) in $LAB_DIR/img.
images() {
	local img=$LAB_DIR/img
	mkdir -p "$img"
	if [ ! -s "$img/pause.tar" ] || [ "$HERE/pause.c" -nt "$img/pause.tar" ] || [ "$HERE/mkimage.sh" -nt "$img/pause.tar" ]; then
		rm -rf "$img/rootfs-pause" && mkdir -p "$img/rootfs-pause"
		gcc -static -O2 -o "$img/rootfs-pause/pause" "$HERE/pause.c"
		bash "$HERE/mkimage.sh" "$PAUSE_IMAGE" "$img/rootfs-pause" "$img/pause.tar" '["/pause"]'
	fi
	if [ ! -s "$img/busybox.tar" ] || [ /bin/busybox -nt "$img/busybox.tar" ] || [ "$HERE/mkimage.sh" -nt "$img/busybox.tar" ]; then
		# busybox-static's /bin/busybox (Debian's plain busybox is dynamic) and a
		# link per applet: enough for sh, sleep, and the tar that `kubectl cp` runs.
		local bb=$img/rootfs-busybox a
		rm -rf "$bb" && mkdir -p "$bb"/{bin,etc,tmp,proc,sys,dev,root}
		cp /bin/busybox "$bb/bin/busybox"
		for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$bb/bin/$a"; done
		echo 'root:x:0:0:root:/root:/bin/sh' >"$bb/etc/passwd"
		echo 'root:x:0:' >"$bb/etc/group"
		chmod 1777 "$bb/tmp"
		bash "$HERE/mkimage.sh" "$BUSYBOX_IMAGE" "$bb" "$img/busybox.tar" '["/bin/sh"]'
	fi
}

# tar_ref TAR: the first image name in a docker-archive's manifest.json, made
# fully qualified the way containerd and the kubelet spell it.
tar_ref() {
	local ref
	ref=$(tar -xOf "$1" manifest.json 2>/dev/null | tr -d '[:space:]' | grep -o '"RepoTags":\["[^"]*"' | head -1 | sed 's/.*\["//; s/"$//') || true
	[ -n "$ref" ] || return 0
	case $ref in
	*/*/*) ;;
	*.*/* | localhost*/*) ;;
	*/*) ref=docker.io/$ref ;;
	*) ref=docker.io/library/$ref ;;
	esac
	echo "$ref"
}

# import_image TAR WHERE...: load an image archive into each WHERE (a containerd
# namespace, or docker) that does not have it yet. A stamp per place holds the
# archive's checksum at its last import, so a rebuilt archive is imported again
# and an unchanged one costs a checksum.
import_image() {
	local tar=$1 ref sum where stamp
	shift
	ref=$(tar_ref "$tar")
	sum=$(sha256sum "$tar" | cut -d' ' -f1)
	mkdir -p "$LAB_DIR/img/stamps"
	for where in "$@"; do
		stamp=$LAB_DIR/img/stamps/$where-$(basename "$tar")
		if [ -n "$ref" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]; then
			case $where in
			docker) docker_ image inspect "$ref" >/dev/null 2>&1 && continue ;;
			*) [ -n "$(ctr_ -n "$where" images ls -q "name==$ref" 2>/dev/null)" ] && continue ;;
			esac
		fi
		case $where in
		docker) docker_ load -q -i "$tar" >/dev/null || { log "image: docker cannot load $tar"; return 1; } ;;
		*) ctr_ -n "$where" images import "$tar" >/dev/null || { log "image: containerd cannot import $tar"; return 1; } ;;
		esac
		echo "$sum" >"$stamp"
		log "image: $(basename "$tar") ${ref:+($ref) }imported into $where"
	done
}

# ---------------------------------------------------------------- config files

containerd_config() {
	# Debian's defaults with: state under the lab's names; the CNI plugins of
	# containernetworking-plugins and the lab's network config; the lab's pause
	# image as the sandbox image (never pulled); and restrict_oom_score_adj,
	# because root here cannot lower oom_score_adj (no CAP_SYS_RESOURCE) and
	# every CRI sandbox then fails in runc ("can't get final child's PID from
	# pipe: EOF") when containerd asks for -998.
	containerd config default | sed \
		-e "s#^root = .*#root = \"$LAB_DIR/containerd-root\"#" \
		-e "s#^state = .*#state = \"$CONTAINERD_STATE\"#" \
		-e "s#path = \"/opt/containerd\"#path = \"$LAB_DIR/containerd-opt\"#" \
		-e "s#sandbox_image = \".*\"#sandbox_image = \"$PAUSE_IMAGE\"#" \
		-e 's#bin_dir = "/opt/cni/bin"#bin_dir = "/usr/lib/cni"#' \
		-e "s#conf_dir = \"/etc/cni/net.d\"#conf_dir = \"$LAB_DIR/cni-conf\"#" \
		-e 's#restrict_oom_score_adj = false#restrict_oom_score_adj = true#'
}

cni_config() {
	# One bridge for all pods, addresses from host-local IPAM kept in the lab
	# dir. No ipMasq and no portmap: the lab adds no iptables rules.
	cat <<JSON
{
  "cniVersion": "0.4.0",
  "name": "syscope-lab",
  "plugins": [
    {
      "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR"}]], "dataDir": "$LAB_DIR/cni-ipam"}
    },
    {"type": "loopback"}
  ]
}
JSON
}

kubelet_config() {
	cat <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# Serve on loopback only; the apiserver reaches it as "$NODE" (/etc/hosts:
# 127.0.0.1) with --kubelet-preferred-address-types=Hostname,InternalIP.
address: 127.0.0.1
healthzBindAddress: 127.0.0.1
readOnlyPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$PKI/ca.crt"}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
# This host: cgroup v1 with cgroupfs, swap allowed, no CAP_SYS_RESOURCE.
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
oomScoreAdj: 0
# No iptables chains of the kubelet's own on the host.
makeIPTablesUtilChains: false
staticPodPath: "$LAB_DIR/kubelet/manifests"
podLogsDir: "$LAB_DIR/kubelet/pod-logs"
resolvConf: /etc/resolv.conf
clusterDNS: []
clusterDomain: cluster.local
# The images cannot be pulled again: never garbage-collect them. Evict only
# when the machine is really short of memory or disk.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
evictionPressureTransitionPeriod: 0s
enforceNodeAllocatable: []
cgroupsPerQOS: true
localStorageCapacityIsolation: false
protectKernelDefaults: false
YAML
}

# ---------------------------------------------------------------- up

save_sysctls() {
	[ -f "$LAB_DIR/sysctl.saved" ] && return 0
	local k
	for k in $SYSCTLS; do echo "$k=$(sysctl -n "$k")"; done >"$LAB_DIR/sysctl.saved.tmp"
	mv "$LAB_DIR/sysctl.saved.tmp" "$LAB_DIR/sysctl.saved"
}

up_containerd() {
	local conf=$LAB_DIR/containerd.toml
	if alive containerd && containerd_ok; then
		containerd_config | cmp -s - "$conf" ||
			log "containerd: runs with an older $conf; lab.sh down && lab.sh up to apply the new one"
		return 0
	fi
	if containerd_ok; then
		adopt containerd "$conf" || die "a containerd that the lab did not start answers on $CONTAINERD_SOCK; stop it first"
		return 0
	fi
	containerd_config >"$conf"
	start containerd containerd --config "$conf"
	wait_for "containerd does not answer" 50 0.2 containerd_ok
	log "containerd: started"
}

up_dockerd() {
	if alive dockerd && docker_ok; then return 0; fi
	if docker_ok; then
		adopt dockerd "--exec-root $DOCKER_EXEC_ROOT" || die "a dockerd that the lab did not start answers on $DOCKER_SOCK; stop it first"
		return 0
	fi
	# Its own data and exec roots, the lab's containerd, and no changes to the
	# host's network: no iptables rules, no docker0 bridge, ip_forward untouched.
	start dockerd dockerd --data-root "$LAB_DIR/docker-root" --exec-root "$DOCKER_EXEC_ROOT" \
		--pidfile "$DOCKER_EXEC_ROOT.pid" --host "unix://$DOCKER_SOCK" --containerd "$CONTAINERD_SOCK" \
		--iptables=false --ip-forward=false --bridge=none
	wait_for "dockerd does not answer" 100 0.2 docker_ok
	log "dockerd: started"
}

up_images() {
	import_image "$LAB_DIR/img/pause.tar" k8s.io default docker
	import_image "$LAB_DIR/img/busybox.tar" k8s.io default docker
	if [ -f "$SYSCOPE_IMAGE_TAR" ]; then
		# Optional: a broken archive must not keep the lab down.
		import_image "$SYSCOPE_IMAGE_TAR" k8s.io docker || log "image: $SYSCOPE_IMAGE_TAR not imported"
	fi
}

up_pki() {
	if [ -f "$PKI/admin.kubeconfig" ] && [ "$(cat "$PKI/node-name" 2>/dev/null)" = "$NODE" ]; then return 0; fi
	# The kubelet's certificate names the node: a new host name needs new ones.
	rm -rf "$PKI"
	bash "$HERE/gen-pki.sh" "$PKI" "$NODE"
	log "pki: made in $PKI"
}

up_etcd() {
	if alive etcd && etcd_ok; then return 0; fi
	etcd_ok && die "an etcd that the lab did not start answers on 127.0.0.1:2379"
	mkdir -p "$LAB_DIR/etcd-data"
	start etcd etcd --name syscope-lab --data-dir "$LAB_DIR/etcd-data" \
		--listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
		--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster syscope-lab=http://127.0.0.1:2380
	wait_for "etcd is not healthy" 100 0.2 etcd_ok
	log "etcd: started"
}

up_apiserver() {
	if alive apiserver && apiserver_ok; then return 0; fi
	# Loopback only. It logs "unable to sync kubernetes service ... may not be in
	# the loopback range" every few seconds because of --advertise-address
	# 127.0.0.1: harmless here (there is no kube-proxy either).
	start apiserver "$KBUILD/bin/kube-apiserver" \
		--etcd-servers=http://127.0.0.1:2379 \
		--bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port=6443 \
		--tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
		--client-ca-file="$PKI/ca.crt" \
		--service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
		--service-account-issuer=https://kubernetes.default.svc.cluster.local \
		--service-cluster-ip-range=10.96.0.0/16 \
		--authorization-mode=Node,RBAC --allow-privileged=true \
		--enable-admission-plugins=NodeRestriction \
		--kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
		--kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
		--kubelet-preferred-address-types=Hostname,InternalIP \
		--profiling=false --v=1
	wait_for "kube-apiserver is not ready" 300 0.2 apiserver_ok
	log "kube-apiserver: started"
}

up_controllers() {
	# No leader election (one of each); the controller manager signs with the
	# cluster CA and creates each namespace's "default" service account. Neither
	# looks up the apiserver's front-proxy CA (there is none: without
	# --authentication-skip-lookup they log an error about it every few seconds).
	if ! alive kcm; then
		start kcm "$KBUILD/bin/kube-controller-manager" \
			--kubeconfig="$PKI/controller-manager.kubeconfig" \
			--authentication-kubeconfig="$PKI/controller-manager.kubeconfig" \
			--authorization-kubeconfig="$PKI/controller-manager.kubeconfig" \
			--service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
			--cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
			--use-service-account-credentials=true --authentication-skip-lookup=true \
			--bind-address=127.0.0.1 --leader-elect=false --v=1
		log "kube-controller-manager: started"
	fi
	if ! alive scheduler; then
		start scheduler "$KBUILD/bin/kube-scheduler" \
			--kubeconfig="$PKI/scheduler.kubeconfig" \
			--authentication-kubeconfig="$PKI/scheduler.kubeconfig" \
			--authorization-kubeconfig="$PKI/scheduler.kubeconfig" --authentication-skip-lookup=true \
			--bind-address=127.0.0.1 --leader-elect=false --v=1
		log "kube-scheduler: started"
	fi
}

up_kubelet() {
	if ! alive kubelet; then
		mkdir -p "$LAB_DIR/kubelet/root" "$LAB_DIR/kubelet/manifests" "$LAB_DIR/kubelet/pod-logs"
		kubelet_config >"$LAB_DIR/kubelet/config.yaml"
		# A node object from a kubelet that is gone may still read Ready.
		kubectl delete node "$NODE" --ignore-not-found >/dev/null
		start kubelet "$KBUILD/bin/kubelet" --config="$LAB_DIR/kubelet/config.yaml" \
			--kubeconfig="$PKI/kubelet.kubeconfig" \
			--root-dir="$LAB_DIR/kubelet/root" --cert-dir="$LAB_DIR/kubelet/pki" --v=1
		log "kubelet: started"
	fi
	wait_for "node $NODE is not Ready" 120 0.5 node_ready
	# Pods need their namespace's service account, which the controller
	# manager creates a moment after it starts.
	wait_for "no service account default/default" 60 0.5 kubectl -n default get serviceaccount default
}

up() {
	need_root
	local t0=$SECONDS
	mkdir -p "$LAB_DIR/logs" "$LAB_DIR/cni-conf"
	deps
	build
	images
	save_sysctls
	cni_config >"$LAB_DIR/cni-conf/10-syscope-lab.conflist" # containerd reads it when it changes
	up_containerd
	up_dockerd
	up_images
	up_pki
	up_etcd
	up_apiserver
	up_controllers
	up_kubelet
	log "up in $((SECONDS - t0)) s: KUBECONFIG=$KUBECONFIG $KUBECTL get nodes"
}

# ---------------------------------------------------------------- down

# pods_gone: no pod object left, and the kubelet has torn down their sandboxes
# (no task in containerd's k8s.io namespace, no CNI network namespace).
pods_gone() {
	[ -z "$(kubectl get pods -A -o name 2>/dev/null)" ] &&
		[ -z "$(ctr_ -n k8s.io tasks ls -q 2>/dev/null)" ] &&
		! ip netns list 2>/dev/null | grep -q '^cni-'
}

# remove_containers NS: kill and delete every task and container of one
# containerd namespace (shims and containers outlive containerd otherwise).
remove_containers() {
	local ns=$1 t c i
	for t in $(ctr_ -n "$ns" tasks ls -q 2>/dev/null); do ctr_ -n "$ns" tasks kill -s KILL "$t" >/dev/null 2>&1 || true; done
	for i in $(seq 25); do
		ctr_ -n "$ns" tasks ls 2>/dev/null | grep -q RUNNING || break
		sleep 0.2
	done
	for t in $(ctr_ -n "$ns" tasks ls -q 2>/dev/null); do ctr_ -n "$ns" tasks rm -f "$t" >/dev/null 2>&1 || true; done
	for c in $(ctr_ -n "$ns" containers ls -q 2>/dev/null); do
		ctr_ -n "$ns" containers rm "$c" >/dev/null 2>&1 || true
		rm -f /var/lib/cni/results/*-"$c"-*
	done
}

# lab_cgroup_pids: the processes in the runtimes' cgroups (any hierarchy).
lab_cgroup_pids() {
	local ns
	for ns in $CGROUPS; do
		find /sys/fs/cgroup/*/"$ns" -name cgroup.procs -exec cat {} + 2>/dev/null || true
	done | sort -un | tr '\n' ' '
}

# under_lab_mounts: mount points that belong to the lab, deepest first.
under_lab_mounts() {
	awk '{print $5}' /proc/self/mountinfo | grep -E "^($LAB_DIR/|$CONTAINERD_STATE(/|\$)|/run/containerd(/|\$)|$DOCKER_EXEC_ROOT(/|\$)|/run/docker(/|\$)|/run/netns/cni-)" | sort -r || true
}

down() {
	need_root
	local t0=$SECONDS i d ns
	# 1. No new pods: the controllers and the scheduler go first.
	stop kcm scheduler
	# 2. Delete the pods while the kubelet still runs, so that it tears them
	#    down properly (CNI DEL, volume unmounts). A 1 s grace period: test
	#    pods' PID 1 (sleep) often ignores SIGTERM.
	if alive apiserver && alive kubelet && apiserver_ok; then
		kubectl delete pods --all -A --grace-period=1 --wait=false >/dev/null 2>&1 || true
		for i in $(seq 60); do pods_gone && break; sleep 0.5; done
		pods_gone || log "pods still there after 30 s; removing them by force"
	fi
	stop kubelet
	# The cluster's state is thrown away below: no need to wait long for the
	# apiserver's graceful shutdown (on a loaded machine it takes 10 s or more).
	stop -t 5 apiserver
	stop etcd
	log "kubernetes stopped"
	# 3. Docker's containers, then dockerd.
	if docker_ok; then
		docker_ ps -aq | xargs -r docker -H "unix://$DOCKER_SOCK" rm -f >/dev/null 2>&1 || true
	fi
	alive dockerd || adopt dockerd "--exec-root $DOCKER_EXEC_ROOT" || true
	stop dockerd
	log "dockerd stopped"
	# 4. Whatever still runs under containerd, in every namespace (pods left by
	#    a dead kubelet, `ctr run` containers), then containerd.
	if containerd_ok; then
		for ns in $(ctr_ namespaces ls -q 2>/dev/null); do remove_containers "$ns"; done
	fi
	alive containerd || adopt containerd "$LAB_DIR/containerd.toml" || true
	stop containerd
	log "containerd stopped"
	# Shims whose containerd is gone (by pid: only those of the lab's socket),
	# and container processes that outlived their shim (containerd or dockerd
	# killed hard): those are in the runtimes' cgroups.
	for i in $(pgrep -f "containerd-shim.* -address $CONTAINERD_SOCK" || true); do kill -KILL "$i" 2>/dev/null || true; done
	i=$(lab_cgroup_pids)
	if [ -n "$i" ]; then
		log "killing container processes left in the lab's cgroups: $i"
		# shellcheck disable=SC2086 # one word per pid
		kill -KILL $i 2>/dev/null || true
		sleep 0.5
	fi
	# 5. What the lab left on the host: network, mounts, cgroups, files.
	for d in $(ip -o link show master "$BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do ip link del "$d" 2>/dev/null || true; done
	ip link del "$BRIDGE" 2>/dev/null || true
	for ns in $(ip netns list 2>/dev/null | awk '/^cni-/ {print $1}'); do ip netns del "$ns" 2>/dev/null || true; done
	for i in 1 2 3; do
		d=$(under_lab_mounts)
		[ -z "$d" ] && break
		echo "$d" | xargs -r -n1 umount -l 2>/dev/null || true
	done
	for ns in $CGROUPS; do
		for d in /sys/fs/cgroup/*/"$ns"; do
			[ ! -d "$d" ] || find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
		done
	done
	rm -rf "$CONTAINERD_STATE" /run/containerd "$DOCKER_EXEC_ROOT" "$DOCKER_EXEC_ROOT.pid" "$DOCKER_SOCK" /run/docker
	rm -f /etc/docker/key.json # dockerd's identity, made at its first start
	# The kubelet writes some things outside --root-dir, and containerd keeps
	# the CNI plugins' results (NETWORK-CONTAINER-IFNAME) under /var/lib/cni.
	# Remove them, and those directories once empty.
	find /var/log/containers -maxdepth 1 -lname "$LAB_DIR/*" -delete 2>/dev/null || true
	rm -f /var/lib/kubelet/device-plugins/kubelet.sock /var/lib/kubelet/pod-resources/kubelet.sock
	rm -f /var/lib/cni/results/syscope-lab-*
	for d in /var/lib/kubelet /var/lib/cni /var/log/containers /var/log/pods /opt/containerd; do
		[ ! -d "$d" ] || find "$d" -depth -type d -empty -delete 2>/dev/null || true
	done
	rm -rf --one-file-system "$LAB_DIR/cni-ipam" "$LAB_DIR/kubelet/root" "$LAB_DIR/kubelet/pod-logs"
	# The cluster's state: the next up starts from an empty etcd.
	rm -rf "$LAB_DIR/etcd-data"
	if [ -f "$LAB_DIR/sysctl.saved" ]; then
		sysctl -q -p "$LAB_DIR/sysctl.saved" >/dev/null && rm -f "$LAB_DIR/sysctl.saved"
	fi
	if leftovers; then
		log "down in $((SECONDS - t0)) s, nothing left behind"
	else
		log "down in $((SECONDS - t0)) s, but the lines above were left behind"
		return 1
	fi
}

# leftovers: print what of the lab is still on the host; true when nothing is.
leftovers() {
	local out="" p d
	for p in containerd dockerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet; do
		for d in $(pgrep -x "${p:0:15}" || true); do out+="process $d $p"$'\n'; done
	done
	for d in $(pgrep -f "containerd-shim.* -address $CONTAINERD_SOCK" || true); do out+="process $d containerd-shim"$'\n'; done
	for p in $PORTS; do
		ss -Htln "sport = :$p" | grep -q . && out+="listener on port $p"$'\n'
	done
	for d in $(under_lab_mounts); do out+="mount $d"$'\n'; done
	for d in $(ip netns list 2>/dev/null | awk '/^cni-/ {print $1}'); do out+="netns $d"$'\n'; done
	ip link show "$BRIDGE" >/dev/null 2>&1 && out+="link $BRIDGE"$'\n'
	# (the CNI bridge plugin names the host end of a pod's veth pair vethXXXXXXXX)
	for d in $(ip -o link show type veth 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E '^veth[0-9a-f]{8}$' || true); do out+="link $d"$'\n'; done
	for p in $CGROUPS; do
		for d in /sys/fs/cgroup/*/"$p"; do [ -d "$d" ] && out+="cgroup $d"$'\n'; done
	done
	for d in "$CONTAINERD_STATE" /run/containerd "$DOCKER_EXEC_ROOT" "$DOCKER_SOCK" /run/docker /var/lib/kubelet /var/lib/cni /opt/containerd /etc/docker/key.json; do
		[ -e "$d" ] && out+="file $d"$'\n'
	done
	[ -z "$out" ] && return 0
	printf '%s' "$out" | sed 's/^/left behind: /'
	return 1
}

# ---------------------------------------------------------------- status

status() {
	local n ok=0 pid
	for n in containerd dockerd etcd apiserver kcm scheduler kubelet; do
		if alive "$n"; then
			pid=$(cat "$LAB_DIR/$n.pid")
			printf '%-11s running (pid %s)\n' "$n" "$pid"
		else
			printf '%-11s not running\n' "$n"
			ok=1
		fi
	done
	if [ -x "$KUBECTL" ] && alive apiserver && apiserver_ok; then
		kubectl get nodes -o wide 2>&1 | sed 's/^/  /'
		node_ready || ok=1
		kubectl get pods -A 2>&1 | sed 's/^/  /'
	fi
	if containerd_ok; then
		echo "images in containerd (k8s.io):"
		ctr_ -n k8s.io images ls -q | grep -v '^sha256:' | sed 's/^/  /'
	fi
	for n in $K8S_COMMANDS; do [ -x "$KBUILD/bin/$n" ] || { echo "not built: $KBUILD/bin/$n"; ok=1; }; done
	[ "$ok" = 0 ] && echo "lab: up ($LAB_DIR)" || echo "lab: not (fully) up ($LAB_DIR)"
	return "$ok"
}

case ${1:-} in
up | down | status | deps | build | images | leftovers) "$1" ;;
*)
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit 2
	;;
esac
