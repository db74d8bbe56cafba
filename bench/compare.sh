#!/usr/bin/env bash
# Benchmark syscope against the real sysdig 0.29.3 (not a test; not run in CI).
#
#   bench/compare.sh [CAPTURE]
#
# CAPTURE defaults to ../shared/captures/sysdig_inspect_502Error.scap relative
# to the repository root (or $SYSCOPE_CAPTURES/sysdig_inspect_502Error.scap).
#
# For each variant (`-r F` and `-r F -A`) it measures both tools with stdout
# sent to /dev/null and TZ=UTC, and prints the mean wall time, the peak RSS
# (KB) and the ratio sysdig/syscope (> 1 means syscope is faster / smaller).
#
# Wall time: hyperfine when installed (apt-get install hyperfine), otherwise
# a bash loop. Peak RSS: GNU time, /usr/bin/time -f '%e %M' (apt-get install
# time). This script installs nothing.
#
# Environment: RUNS (default 10), WARMUP (default 1), GO (default go),
# GNU_TIME (default /usr/bin/time).
#
# The shared captures are small, so that the figures are not dominated by
# process start-up the script concatenates COPIES (default 20) copies of the
# capture into one file: a capture file may hold several sections, and both
# tools read them all.
#
# Variants: plain printing, -A, and filter-only reads (output discarded) with
# filters that match under 1 % of the events, as the README reports them;
# then the chisels -c topprocs_cpu and -c echo_fds (syscope's built-in Go
# chisels, sysdig's Lua ones). VARIANTS=chisels runs only the chisels.
set -euo pipefail
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
RUNS="${RUNS:-10}"
WARMUP="${WARMUP:-1}"

CAPTURE=$(capture_path compare.sh "${1:-}") || exit 1
COPIES="${COPIES:-20}"

SYSDIG="$(command -v sysdig || true)"
if [ -z "$SYSDIG" ]; then
	echo 'compare.sh: sysdig not found; install it with:' >&2
	echo '  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends sysdig' >&2
	exit 1
fi

GNU_TIME="${GNU_TIME:-/usr/bin/time}"
if [ ! -x "$GNU_TIME" ] || ! "$GNU_TIME" -f '%M' true >/dev/null 2>&1; then
	echo "compare.sh: GNU time ($GNU_TIME) not found: peak RSS will be reported as n/a." >&2
	echo '  install it with: apt-get install -y time' >&2
	GNU_TIME=""
fi

HYPERFINE="$(command -v hyperfine || true)"

echo ">> building syscope"
(cd "$ROOT" && "$GO" build -o bin/syscope ./cmd/syscope)
SYSCOPE="$ROOT/bin/syscope"

export TZ=UTC
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

if [ "$COPIES" -gt 1 ]; then
	for ((i = 0; i < COPIES; i++)); do cat "$CAPTURE"; done >"$TMP/big.scap"
	CAPTURE="$TMP/big.scap"
fi

# Both tools must read the capture successfully, or the timings mean nothing.
for tool in "$SYSDIG" "$SYSCOPE"; do
	if ! "$tool" -r "$CAPTURE" >/dev/null 2>"$TMP/stderr"; then
		echo "compare.sh: $tool -r $CAPTURE failed:" >&2
		head -c 2000 "$TMP/stderr" >&2
		exit 1
	fi
done

# mean_wall CMD...: mean wall seconds of RUNS runs of CMD (stdout discarded).
# Uses the bash loop; hyperfine is used in bench_pair instead when present.
mean_wall_loop() {
	local i start end total=0
	for ((i = 0; i < WARMUP; i++)); do "$@" >/dev/null 2>&1 || true; done
	for ((i = 0; i < RUNS; i++)); do
		start=$EPOCHREALTIME
		"$@" >/dev/null 2>"$TMP/stderr" || true
		end=$EPOCHREALTIME
		total=$(awk -v t="$total" -v s="$start" -v e="$end" 'BEGIN { printf "%.6f", t + (e - s) }')
	done
	awk -v t="$total" -v n="$RUNS" 'BEGIN { printf "%.6f", t / n }'
}

# peak_rss CMD...: the largest peak RSS (KB) over a few runs, via GNU time.
peak_rss() {
	if [ -z "$GNU_TIME" ]; then
		echo "n/a"
		return
	fi
	local i max=0 rss
	for ((i = 0; i < 3; i++)); do
		"$GNU_TIME" -f '%e %M' -o "$TMP/time" "$@" >/dev/null 2>/dev/null || true
		rss=$(awk 'END { print $2 }' "$TMP/time")
		if [ "${rss:-0}" -gt "$max" ]; then max=$rss; fi
	done
	echo "$max"
}

ratio() { # ratio A B -> A/B, or n/a
	awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'
}

# bench_pair OPTS...: benchmark `sysdig -r F OPTS` vs `syscope -r F OPTS`.
bench_pair() {
	local label="-r F${*:+ $*}"
	if [ "${#label}" -gt 40 ]; then label="${label:0:37}..."; fi
	local w_sysdig w_syscope
	if [ -n "$HYPERFINE" ]; then
		local q_opts="" o
		for o in "$@"; do q_opts+=" $(printf '%q' "$o")"; done
		"$HYPERFINE" --style none --warmup "$WARMUP" --runs "$RUNS" \
			--export-json "$TMP/hf.json" \
			"$(printf '%q' "$SYSDIG") -r $(printf '%q' "$CAPTURE")$q_opts > /dev/null" \
			"$(printf '%q' "$SYSCOPE") -r $(printf '%q' "$CAPTURE")$q_opts > /dev/null" >/dev/null
		# The first "mean" of each result, in command order.
		mapfile -t means < <(grep -o '"mean": *[0-9.eE+-]*' "$TMP/hf.json" | sed 's/.*: *//')
		w_sysdig=$(awk -v x="${means[0]}" 'BEGIN { printf "%.6f", x }')
		w_syscope=$(awk -v x="${means[1]}" 'BEGIN { printf "%.6f", x }')
	else
		w_sysdig=$(mean_wall_loop "$SYSDIG" -r "$CAPTURE" "$@")
		w_syscope=$(mean_wall_loop "$SYSCOPE" -r "$CAPTURE" "$@")
	fi
	local m_sysdig m_syscope
	m_sysdig=$(peak_rss "$SYSDIG" -r "$CAPTURE" "$@")
	m_syscope=$(peak_rss "$SYSCOPE" -r "$CAPTURE" "$@")

	printf '%-40s %-8s %12s %14s\n' "$label" sysdig "$w_sysdig" "$m_sysdig"
	printf '%-40s %-8s %12s %14s\n' "$label" syscope "$w_syscope" "$m_syscope"
	printf '%-40s %-8s %12s %14s\n' "$label" ratio "$(ratio "$w_sysdig" "$w_syscope")" "$(ratio "$m_sysdig" "$m_syscope")"
}

echo ">> capture: $CAPTURE ($(stat -c %s "$CAPTURE") bytes)"
echo ">> $("$SYSDIG" --version); syscope: $SYSCOPE"
if [ -n "$HYPERFINE" ]; then
	echo ">> wall time: $($HYPERFINE --version), $RUNS runs, $WARMUP warmup"
else
	echo ">> wall time: bash loop, $RUNS runs, $WARMUP warmup (install hyperfine for better statistics)"
fi
echo ">> ratio = sysdig / syscope (> 1: syscope is faster / uses less memory)"
echo
printf '%-40s %-8s %12s %14s\n' variant tool 'wall mean s' 'peak RSS KB'
if [ "${VARIANTS:-all}" != chisels ]; then
	bench_pair
	bench_pair -A
	bench_pair 'evt.buffer contains localdomain'
	bench_pair 'fd.name=/etc/resolv.conf'
	bench_pair 'proc.name=haproxy and evt.type=connect and fd.sport=80'
	bench_pair 'fd.type in (ipv4, ipv6) and (k8s.ns.name=critical-app or proc.name=skydns)'
fi
bench_pair -c topprocs_cpu
bench_pair -c echo_fds
