#!/bin/bash
# dns-lab.sh: seed 000's DNS scenario in network namespaces, on one machine.
#
#   sc-cli  (10.77.0.2)  a client whose resolv.conf has the Kubernetes search list
#                        "ns.svc.cluster.local svc.cluster.local cluster.local
#                        localdomain" and ndots:5
#   sc-dns  (10.77.0.1)  a cluster DNS (dnsd -cluster) that forwards names outside
#                        cluster.local to an upstream (127.0.0.1:5353 in sc-dns)
#                        which never answers *.localdomain
#
# So resolving api.example.org tries the three cluster.local expansions
# (NXDOMAIN), then api.example.org.localdomain (no answer: the client waits for
# its timeout), then api.example.org (answered). All traffic stays inside the
# lab's namespaces.
#
# Usage (as root):
#   dns-lab.sh up            create the namespaces, start the DNS servers
#   dns-lab.sh resolve NAME  resolve NAME from the client, print the answer and time
#   dns-lab.sh run CMD...    run CMD in the client (netns + lab resolv.conf)
#   dns-lab.sh down          stop everything, remove the namespaces
#
# Environment: DNSD (the dnsd binary; built with `go build` if unset),
# LAB_DNS_TIMEOUT (resolver timeout in seconds, default 1; 5 and LAB_DNS_ATTEMPTS=2
# reproduce the seed's 10-second hang), LAB_DIR (state, default /run/syscope-dns-lab).
set -euo pipefail

LAB_DIR=${LAB_DIR:-/run/syscope-dns-lab}
TIMEOUT=${LAB_DNS_TIMEOUT:-1}
ATTEMPTS=${LAB_DNS_ATTEMPTS:-1}
HERE=$(cd "$(dirname "$0")" && pwd)

die() { echo "dns-lab: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (it creates network namespaces)"

up() {
	down 2>/dev/null || true
	mkdir -p "$LAB_DIR"
	if [ -z "${DNSD:-}" ]; then
		DNSD=$LAB_DIR/dnsd
		(cd "$HERE/../.." && go build -o "$DNSD" ./test/lab/dnsd) || die "cannot build dnsd"
	fi
	ip netns add sc-dns
	ip netns add sc-cli
	ip link add sc-cli0 type veth peer name sc-dns0
	ip link set sc-cli0 netns sc-cli
	ip link set sc-dns0 netns sc-dns
	ip -n sc-dns addr add 10.77.0.1/24 dev sc-dns0
	ip -n sc-cli addr add 10.77.0.2/24 dev sc-cli0
	for ns in sc-dns sc-cli; do
		ip -n $ns link set lo up
	done
	ip -n sc-dns link set sc-dns0 up
	ip -n sc-cli link set sc-cli0 up
	cat > "$LAB_DIR/resolv.conf" <<CONF
search ns.svc.cluster.local svc.cluster.local cluster.local localdomain
nameserver 10.77.0.1
options ndots:5 timeout:$TIMEOUT attempts:$ATTEMPTS single-request
CONF
	ip netns exec sc-dns "$DNSD" -listen 127.0.0.1:5353 -ignore localdomain </dev/null >/dev/null 2>"$LAB_DIR/upstream.log" &
	echo $! > "$LAB_DIR/upstream.pid"
	ip netns exec sc-dns "$DNSD" -listen 10.77.0.1:53 -cluster -upstream 127.0.0.1:5353 </dev/null >/dev/null 2>"$LAB_DIR/cluster.log" &
	echo $! > "$LAB_DIR/cluster.pid"
	for _ in $(seq 50); do
		grep -q serving "$LAB_DIR/cluster.log" 2>/dev/null && grep -q serving "$LAB_DIR/upstream.log" 2>/dev/null && break
		sleep 0.1
	done
	grep -q serving "$LAB_DIR/cluster.log" || die "the cluster DNS did not start: $(cat "$LAB_DIR/cluster.log")"
	echo "dns-lab: up (client netns sc-cli, DNS 10.77.0.1, resolver timeout ${TIMEOUT}s x $ATTEMPTS)"
}

# run CMD in the client: its network namespace, and a private mount namespace in
# which /etc/resolv.conf is the lab's.
run() {
	[ -f "$LAB_DIR/resolv.conf" ] || die "the lab is not up (dns-lab.sh up)"
	ip netns exec sc-cli unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$LAB_DIR/resolv.conf" "$@"
}

resolve() {
	local start end
	start=$(date +%s.%N)
	run getent ahostsv4 "$1" || true
	end=$(date +%s.%N)
	echo "dns-lab: resolving $1 took $(echo "$end - $start" | bc 2>/dev/null || awk "BEGIN{print $end-$start}") s"
}

down() {
	for f in cluster upstream; do
		[ -f "$LAB_DIR/$f.pid" ] && kill "$(cat "$LAB_DIR/$f.pid")" 2>/dev/null || true
		rm -f "$LAB_DIR/$f.pid"
	done
	ip netns del sc-cli 2>/dev/null || true
	ip netns del sc-dns 2>/dev/null || true
}

cmd=${1:-}
shift || true
case "$cmd" in
up) up ;;
down) down ;;
resolve) resolve "${1:?name}" ;;
run) run "$@" ;;
*) sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//; /^set -e/d'; exit 2 ;;
esac
