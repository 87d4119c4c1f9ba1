#!/usr/bin/env bash
# Per-packet flatness: iperf3 TCP throughput from a client through the
# server's policyd table with 1 ACL entry and with 100,000, alternating the
# two tables in the same run. Established flows are accepted by conntrack
# before any set lookup, so this also measures new-connection cost: the rate
# of short TCP connections (each SYN is looked up in the 100k-entry set).
#   sudo bench/flatness.sh [ROUNDS]     (default 3; each round: 1 then 100k)
set -euo pipefail
cd "$(dirname "$0")/.."
P=${POLICYCTL:-build/policyctl}
rounds=${1:-3}
[ -x "$P" ] || { echo "build first: make" >&2; exit 1; }
s=pdfs-$$ c=pdfc-$$ ifs=pdf$$ work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	ip netns del "$s" 2>/dev/null || true
	ip netns del "$c" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$s"; ip netns add "$c"
ip link add "$ifs" netns "$s" type veth peer name eth0 netns "$c"
ip -n "$s" addr add 100.64.0.1/10 dev "$ifs"; ip -n "$c" addr add 100.64.0.2/10 dev eth0
ip -n "$s" link set "$ifs" up; ip -n "$c" link set eth0 up
ip -n "$s" link set lo up; ip -n "$c" link set lo up
bench/gen-policy.py 0 --iface "$ifs" > "$work/p1.json"
bench/gen-policy.py 100000 --iface "$ifs" > "$work/p100k.json"
ip netns exec "$s" iperf3 -s -D -I "$work/iperf.pid" >/dev/null
pids+=("$(cat "$work/iperf.pid" 2>/dev/null || sleep 0.5; cat "$work/iperf.pid")")
ip netns exec "$s" /usr/bin/python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("100.64.0.1", 8000)); s.listen(1024)
while True:
    c, _ = s.accept(); c.close()' &
pids+=($!)
sleep 0.5

rate() { # short TCP connections per second for 3 s; RST on close, so no
	 # TIME_WAIT piles up and exhausts the client's ports
	ip netns exec "$c" /usr/bin/python3 -c '
import socket, struct, time
n = 0; end = time.monotonic() + 3
while time.monotonic() < end:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.connect(("100.64.0.1", 8000)); s.close(); n += 1
print(n / 3)'
}

gbit() { # iperf3 Gbit/s over 5 s with $1 streams
	ip netns exec "$c" iperf3 -c 100.64.0.1 -t 5 -P "$1" -J |
		/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9)'
}

median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

for t in p1 p100k; do : > "$work/$t.g1"; : > "$work/$t.g4"; : > "$work/$t.cr"; done
for r in $(seq "$rounds"); do
	order="p1 p100k"; [ $((r % 2)) -eq 0 ] && order="p100k p1"  # no order bias
	for t in $order; do
		ip netns exec "$s" "$P" apply "$work/$t.json" --node server >/dev/null
		gbit 1 >> "$work/$t.g1"; gbit 4 >> "$work/$t.g4"; rate >> "$work/$t.cr"
	done
done
for m in g1 g4 cr; do
	a=$(median < "$work/p1.$m"); b=$(median < "$work/p100k.$m")
	case $m in g1) what="iperf3 TCP, 1 stream (Gbit/s)";; g4) what="iperf3 TCP, 4 streams (Gbit/s)";;
		cr) what="new TCP connections per second";; esac
	awk -v w="$what" -v a="$a" -v b="$b" 'BEGIN { printf "%-34s 1 entry %10.2f   100k entries %10.2f   ratio %5.1f%%\n", w, a, b, 100*b/a }'
done
