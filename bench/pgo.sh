#!/usr/bin/env bash
# Record the CPU profile the Go compiler optimises syscope with (profile-
# guided optimisation: `go build` uses cmd/syscope/default.pgo by itself).
# Not a test; not run in CI. Run it again when the hot paths change.
#
#   bench/pgo.sh [CAPTURE]
#
# CAPTURE defaults to the 502 sample of the shared captures (see
# compare.sh). The profile covers what users run most on files: printing
# every event (-A), filter-only reads with the seeds' filters, and two
# chisels, each on COPIES (default 100) concatenated copies of the capture.
# As root with wrk installed (and LIVE unset or 1), it adds a live capture
# to a file of an HTTP server on loopback under wrk for 5 s, as bench/live.sh
# measures it (LIVE=0 leaves it out). The merged profile holds function
# names and sample counts only, nothing of the captures.
set -euo pipefail
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
CAPTURE=$(capture_path pgo.sh "${1:-}") || exit 1
COPIES="${COPIES:-100}"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
for ((i = 0; i < COPIES; i++)); do cat "$CAPTURE"; done >"$TMP/big.scap"

# Profile a build without the current profile, so that it does not
# reinforce itself.
(cd "$ROOT" && "$GO" build -pgo=off -o "$TMP/syscope" ./cmd/syscope)

n=0
profile() {
	n=$((n + 1))
	SYSCOPE_CPUPROFILE="$TMP/p$n.prof" TZ=UTC "$TMP/syscope" -r "$TMP/big.scap" "$@" >/dev/null
}
profile -A
profile
profile "fd.name=/etc/resolv.conf"
profile "evt.buffer contains localdomain"
profile "proc.name=haproxy and evt.type=connect and fd.sport=80"
profile "fd.type in (ipv4, ipv6) and (k8s.ns.name=critical-app or proc.name=skydns)"
profile -c topprocs_cpu
profile -c echo_fds

if [ "${LIVE:-1}" = 1 ] && [ "$(id -u)" = 0 ] && command -v wrk >/dev/null; then
	(cd "$ROOT" && "$GO" build -o "$TMP/httpd" ./bench/httpd)
	"$TMP/httpd" -addr 127.0.0.1:18081 &
	HTTPD=$!
	n=$((n + 1))
	SYSCOPE="$TMP/syscope" CAPTURE_ERR="$TMP/live.err"
	SYSCOPE_CPUPROFILE="$TMP/p$n.prof" start_capture "$TMP/live.scap"
	wrk -t2 -c20 -d5s http://127.0.0.1:18081/ >/dev/null
	stop_capture
	kill "$HTTPD"
	wait "$HTTPD" 2>/dev/null || true
fi

"$GO" tool pprof -proto "$TMP"/p*.prof >"$ROOT/cmd/syscope/default.pgo"
echo "pgo.sh: wrote cmd/syscope/default.pgo ($n profiles)"
