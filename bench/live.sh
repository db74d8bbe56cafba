#!/bin/bash
# bench/live.sh: what live capture costs, measured (a benchmark, not a test).
#
#   1. Per-syscall overhead: a loop of getppid calls and of 1-byte writes to
#      /dev/null, untraced, then while `syscope -w` captures everything.
#   2. An HTTP server on loopback driven by wrk, untraced and while captured:
#      the throughput lost.
#   3. Events per second reaching user space with no drops (the loop, captured
#      to a file), and the drops when overloaded (printing every event with a
#      large snaplen while the loop runs).
#
# Rounds are interleaved (untraced, traced, untraced...) and the medians are
# reported, because this machine is shared and noisy. Needs root and wrk
# (apt-get install wrk). All traffic is on 127.0.0.1.
#
#   ROUNDS=5 N=2000000 bash bench/live.sh
set -euo pipefail
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
ROUNDS=${ROUNDS:-5}
N=${N:-2000000}
W=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT

[ "$(id -u)" = 0 ] || { echo "bench/live.sh: run as root (live capture needs it)"; exit 1; }
"$GO" build -o "$W/syscope" ./cmd/syscope
"$GO" build -o "$W/loop" ./bench/loop
"$GO" build -o "$W/httpd" ./bench/httpd

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# The capture helpers (common.sh) run this build and keep its stderr here.
SYSCOPE="$W/syscope"
CAPTURE_ERR="$W/syscope.err"

echo "== 1. per-syscall cost, $N calls, $ROUNDS interleaved rounds"
for c in un hk tr; do : > "$W/$c.getppid"; : > "$W/$c.write"; done
record() { awk '/getppid/ {print $2 >> "'"$W"'/'"$1"'.getppid"} /write/ {print $2 >> "'"$W"'/'"$1"'.write"}' "$W/out"; }
for _ in $(seq "$ROUNDS"); do
	"$W/loop" -n "$N" > "$W/out"; record un
	# Hooks attached, but the in-kernel filter excludes the workload: the floor.
	start_capture "$W/cap.scap" --comm no-such-command
	"$W/loop" -n "$N" > "$W/out"; record hk
	stop_capture
	start_capture "$W/cap.scap"
	"$W/loop" -n "$N" > "$W/out"; record tr
	stop_capture
	rm -f "$W/cap.scap"
done
for k in getppid write; do
	u=$(median < "$W/un.$k"); h=$(median < "$W/hk.$k"); t=$(median < "$W/tr.$k")
	printf "%-8s untraced %6.1f ns | hooks only %6.1f ns (%.2fx) | full capture to -w %6.1f ns (%.2fx)\n" \
		"$k" "$u" "$h" "$(echo "$h / $u" | bc -l)" "$t" "$(echo "$t / $u" | bc -l)"
done

echo "== 2. HTTP server on loopback under wrk (2 threads, 20 connections, 5 s)"
"$W/httpd" -addr 127.0.0.1:18080 &
sleep 0.5
: > "$W/un.rps"; : > "$W/tr.rps"
rps() { wrk -t2 -c20 -d5s http://127.0.0.1:18080/ | awk '/Requests\/sec/ {print $2}'; }
for _ in $(seq "$ROUNDS"); do
	rps >> "$W/un.rps"
	start_capture "$W/cap.scap"
	rps >> "$W/tr.rps"
	stop_capture
	rm -f "$W/cap.scap"
done
u=$(median < "$W/un.rps"); t=$(median < "$W/tr.rps")
printf "requests/s untraced %.0f   captured %.0f   loss %.1f %%\n" "$u" "$t" "$(echo "(1 - $t / $u) * 100" | bc -l)"

echo "== 3. events per second into a file, and drops when overloaded"
start_capture "$W/cap.scap" -v
t0=$(date +%s.%N)
"$W/loop" -n $((N * 2)) > /dev/null
t1=$(date +%s.%N)
stop_capture
ev=$(awk -F: '/Driver Events/ {print $2}' "$W/syscope.err"); dr=$(awk -F: '/Driver Drops/ {print $2}' "$W/syscope.err")
printf "capture to file: %d events in %.2f s = %.2f M events/s, %d dropped\n" "$ev" "$(echo "$t1 - $t0" | bc -l)" "$(echo "$ev / ($t1 - $t0) / 1000000" | bc -l)" "$dr"
echo "file size: $(stat -c %s "$W/cap.scap") bytes"
rm -f "$W/cap.scap"
# Sustained: getppid paced at RATE calls/s (2 events each) for about 5 s.
RATE=${RATE:-600000}
start_capture "$W/cap.scap" -v
"$W/loop" -rate "$RATE" -n $((RATE * 5)) > "$W/paced"
stop_capture
ev=$(awk -F: '/Driver Events/ {print $2}' "$W/syscope.err"); dr=$(awk -F: '/Driver Drops/ {print $2}' "$W/syscope.err")
printf "sustained: %s; captured %d events (%.2f M events/s of the loop), %d dropped\n" \
	"$(cat "$W/paced")" "$ev" "$(echo "2 * $RATE / 1000000" | bc -l)" "$dr"
rm -f "$W/cap.scap"
"$W/syscope" -s 8192 -v -A > /dev/null 2>"$W/over.err" &
OV=$!
sleep 1
"$W/loop" -n $((N * 2)) > /dev/null
kill -INT "$OV"; wait "$OV" || true
ev=$(awk -F: '/Driver Events/ {print $2}' "$W/over.err"); dr=$(awk -F: '/Driver Drops/ {print $2}' "$W/over.err")
printf "overloaded (printing every event with -s 8192 -A): %d events, %d dropped (%.1f %%), reported on stderr: %s\n" \
	"$ev" "$dr" "$(echo "$dr * 100 / ($ev + $dr)" | bc -l)" "$(grep -c 'events dropped' "$W/over.err" || true) warnings"
