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
# The merged profile holds function names and sample counts only, nothing
# of the capture.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GO="${GO:-go}"
CAPDIR="${SYSCOPE_CAPTURES:-$ROOT/../shared/captures}"
CAPTURE="${1:-$CAPDIR/sysdig_inspect_502Error.scap}"
COPIES="${COPIES:-100}"
if [ ! -f "$CAPTURE" ]; then
	echo "pgo.sh: capture not found: $CAPTURE" >&2
	exit 1
fi

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

"$GO" tool pprof -proto "$TMP"/p*.prof >"$ROOT/cmd/syscope/default.pgo"
echo "pgo.sh: wrote cmd/syscope/default.pgo ($n profiles)"
