#!/usr/bin/env bash
# Per-packet flatness: does a 100,000-entry ACL cost anything on the wire?
# A client namespace reaches a server namespace over a veth whose server end
# carries the policy's `network.interface` name, so its packets go through the
# server table's `vpn` chain. The same measurements run with the small table
# (only the client's ACL) and with the 100k-entry table, alternating the order
# every round, and the medians are compared:
#   - iperf3 TCP throughput, 1 and 4 streams. Only a flow's first packets
#     reach the ACL sets: `ct state established,related accept` comes first;
#   - the rate of new TCP connections (sequential connect + RST close from a
#     Python client): every SYN is a set lookup, so this is where the size of
#     the set could show.
# After each measurement the script checks that the ACL rule's counter moved,
# i.e. the client's packets were accepted by the set lookup being measured.
#
#   sudo bench/flatness.sh [-r ROUNDS] [-t SECONDS] [-n ENTRIES] [-g "GEN-POLICY OPTIONS"]
#   defaults: 3 rounds, iperf3 for 10 s (connection rate for 3 s), 100000
#   entries; -g --ranges puts every element, the client's too, in the
#   interval (pipapo) set instead of the hash set.
set -euo pipefail
cd "$(dirname "$0")/.."
P=${POLICYCTL:-build/policyctl}
rounds=3 secs=10 big=100000 gen=""
while getopts r:t:n:g: o; do
	case $o in
	r) rounds=$OPTARG ;;
	t) secs=$OPTARG ;;
	n) big=$OPTARG ;;
	g) gen=$OPTARG ;;
	*) echo "usage: $0 [-r ROUNDS] [-t SECONDS] [-n ENTRIES] [-g GEN-OPTIONS]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces)" >&2; exit 2; }
[ -x "$P" ] || { echo "$0: $P missing: run make" >&2; exit 2; }
for t in nft iperf3 python3 timeout ss; do
	command -v "$t" >/dev/null || { echo "$0: $t missing" >&2; exit 2; }
done

s=pdfs-$$ c=pdfc-$$ ifs=pdf$$ work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	ip netns del "$s" 2>/dev/null || true
	ip netns del "$c" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$s"
ip netns add "$c"
ip link add "$ifs" netns "$s" type veth peer name eth0 netns "$c"
ip -n "$s" addr add 100.64.0.1/10 dev "$ifs"
ip -n "$c" addr add 100.64.0.2/10 dev eth0
for n in "$s" "$c"; do ip -n "$n" link set lo up; done
ip -n "$s" link set "$ifs" up
ip -n "$c" link set eth0 up

# shellcheck disable=SC2086  # $gen is a list of options
bench/gen-policy.py 0 --iperf --iface "$ifs" $gen > "$work/small.json"
# shellcheck disable=SC2086
bench/gen-policy.py "$big" --iperf --iface "$ifs" $gen > "$work/big.json"
set4=acl4; case " $gen " in *" --ranges "*) set4=acl4r ;; esac

# Servers, stopped by PID on exit. `ip netns exec` execs the command, so $!
# is the server's own PID.
ip netns exec "$s" iperf3 -s -B 100.64.0.1 >/dev/null 2>&1 &
pids+=($!)
ip netns exec "$s" python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("100.64.0.1", 8000)); s.listen(4096)
while True:
    c, _ = s.accept(); c.close()' &
pids+=($!)
for _ in $(seq 50); do
	[ "$(ip netns exec "$s" ss -Hltn 'sport = :5201 or sport = :8000' | wc -l)" -ge 2 ] && break
	sleep 0.1
done

median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# Packets accepted so far by the client's ACL lookup (the rule on $set4).
accepted() {
	ip netns exec "$s" nft list chain inet policyd vpn |
		awk -v s="@$set4" '$0 ~ s " counter" { for (i = 1; i < NF; i++) if ($i == "packets") print $(i+1) }'
}

gbit() { # iperf3 Gbit/s received over $secs s with $1 streams
	ip netns exec "$c" timeout $((secs + 30)) iperf3 -c 100.64.0.1 -t "$secs" -P "$1" -J |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9)'
}

rate() { # sequential new TCP connections per second for 3 s; the RST close
	 # leaves no TIME_WAIT behind to exhaust the client's ports
	ip netns exec "$c" timeout 30 python3 -c '
import socket, struct, time
n = 0
end = time.monotonic() + 3
while time.monotonic() < end:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.connect(("100.64.0.1", 8000))
    s.close()
    n += 1
print(n / 3)'
}

probe() { # one connection within 2 s, or fail
	ip netns exec "$c" timeout 10 python3 -c '
import socket
socket.create_connection(("100.64.0.1", 8000), timeout=2).close()' 2>/dev/null
}

# measure TABLE KIND FUNCTION ARGS: append one figure to $work/TABLE.KIND
# and fail unless the client's packets went through the ACL set lookup
measure() {
	local t=$1 k=$2 before after; shift 2
	before=$(accepted)
	"$@" >> "$work/$t.$k" || { echo "$0: $t $k: measurement failed" >&2; exit 1; }
	after=$(accepted)
	[ "$after" -gt "$before" ] || { echo "$0: $t $k: no packet accepted by @$set4" >&2; exit 1; }
}

for t in small big; do : > "$work/$t.g1"; : > "$work/$t.g4"; : > "$work/$t.cr"; done
for r in $(seq "$rounds"); do
	order="small big"; [ $((r % 2)) -eq 0 ] && order="big small"
	for t in $order; do
		ip netns exec "$s" "$P" apply "$work/$t.json" --node server >/dev/null
		probe || { echo "$0: $t: the client cannot connect through the table" >&2; exit 1; }
		measure "$t" g1 gbit 1
		measure "$t" g4 gbit 4
		measure "$t" cr rate
	done
	echo "# round $r/$rounds done" >&2
done
elements=$(ip netns exec "$s" nft -j list set inet policyd "$set4" |
	python3 -c 'import json, sys; print(sum(len(x["set"].get("elem", [])) for x in json.load(sys.stdin)["nftables"] if "set" in x))')

echo "# client -> server through the vpn chain; set @$set4; medians of $rounds rounds, alternating order"
echo "# small: the client's ACL only; big: $big more ACL entries ($set4 held $elements elements at the end)"
echo "# established flows are accepted by conntrack before any set lookup: throughput"
echo "# shows per-packet cost; each new connection's SYN is looked up in @$set4"
for m in g1 g4 cr; do
	a=$(median < "$work/small.$m"); b=$(median < "$work/big.$m")
	case $m in
	g1) what="iperf3 TCP ${secs}s, 1 stream (Gbit/s)" ;;
	g4) what="iperf3 TCP ${secs}s, 4 streams (Gbit/s)" ;;
	cr) what="new TCP connections per second" ;;
	esac
	awk -v w="$what" -v a="$a" -v b="$b" \
		'BEGIN { printf "%-38s small %10.2f   big %10.2f   ratio %5.1f%%\n", w, a, b, 100 * b / a }'
	echo "#   small: $(paste -sd, "$work/small.$m"); big: $(paste -sd, "$work/big.$m")"
done
