# shellcheck shell=bash
# bench/common.sh: what the benchmark scripts share. Source it after `set
# -euo pipefail`; it sets ROOT (the repository) and GO.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GO="${GO:-go}"

# capture_path SCRIPT [CAPTURE]: the absolute path of CAPTURE, by default the
# 502 sample of the shared captures ($SYSCOPE_CAPTURES, or ../shared/captures
# beside the repository); fails, saying so, when the file is not there. Use as
# CAPTURE=$(capture_path NAME "${1:-}") || exit 1.
capture_path() {
	local name=$1 c=${2:-}
	[ -n "$c" ] || c="${SYSCOPE_CAPTURES:-$ROOT/../shared/captures}/sysdig_inspect_502Error.scap"
	if [ ! -f "$c" ]; then
		echo "$name: capture not found: $c" >&2
		echo "usage: $name [CAPTURE.scap]" >&2
		return 1
	fi
	echo "$(cd "$(dirname "$c")" && pwd)/$(basename "$c")"
}

# start_capture FILE ARGS...: runs $SYSCOPE -w FILE ARGS in the background,
# its stderr in $CAPTURE_ERR and its pid in CAP, and waits until it captures
# (at most 15 s). stop_capture stops it as Ctrl-C does and waits for it.
start_capture() {
	local file=$1
	shift
	"$SYSCOPE" -w "$file" "$@" 2>"$CAPTURE_ERR" &
	CAP=$!
	for _ in $(seq 300); do
		grep -q "capturing to" "$CAPTURE_ERR" 2>/dev/null && return
		sleep 0.05
	done
	echo "syscope did not start:"
	cat "$CAPTURE_ERR"
	exit 1
}
stop_capture() {
	kill -INT "$CAP"
	wait "$CAP" || true
}
