#!/usr/bin/env bash
# Detection-to-drop latency of quarantine: from the denied packet that
# crosses the threshold to the first packet of that peer the kernel drops.
#
#   sudo bench/quarantine.sh [-n TRIALS] [-k DENIED_PORTS]   (default 100, 5)
#
# web1 runs policyd (suspicion deniedPorts K, evict off so that the
# datapath keeps delivering and the firewall alone decides); mallory is a
# peer allowed tcp:22, where a listener answers. Each trial, mallory sends
# SYNs to K fresh denied ports with an allowed probe SYN to :22 after each,
# then probes alone every 0.5 ms for 150 ms. tcpdump on web1's VPN
# interface timestamps everything (kernel time, one clock):
#   t_cross = the SYN to the K-th denied port (the threshold-crossing packet)
#   t_drop  = the first probe after t_cross that web1 never answered
# latency = t_drop - t_cross; the probe spacing bounds its resolution.
# Between trials `policyctl reauth` lifts the ban and clears the window.
set -euo pipefail
cd "$(dirname "$0")/.."
trials=100 K=5
while getopts n:k: o; do
	case $o in
	n) trials=$OPTARG ;;
	k) K=$OPTARG ;;
	*) echo "usage: $0 [-n TRIALS] [-k DENIED_PORTS]" >&2; exit 2 ;;
	esac
done
PD=${POLICYD:-build/policyd} PCTL=${POLICYCTL:-build/policyctl}
[ -x "$PD" ] && [ -x "$PCTL" ] || { echo "build first (make)" >&2; exit 1; }
T=$(mktemp -d /tmp/pdbq.XXXXXX)
W=pdbq-w$$ M=pdbq-m$$ IFW=pbqw$$ IFM=pbqm$$
PIDS=()
cleanup() {
	set +e # every step runs, whatever the one before returned
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	ip netns del "$W" 2>/dev/null || true
	ip netns del "$M" 2>/dev/null || true
	rm -f "/var/run/wireguard/$IFW.sock" "/var/run/wireguard/$IFM.sock"
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
umask 077

ip netns add "$W"
ip netns add "$M"
ip link add qw$$ netns "$W" type veth peer name qm$$ netns "$M"
ip -n "$W" addr add 198.51.100.1/24 dev qw$$
ip -n "$M" addr add 198.51.100.3/24 dev qm$$
for n in "$W" "$M"; do ip -n "$n" link set lo up; done
ip -n "$W" link set qw$$ up
ip -n "$M" link set qm$$ up
wg genkey >"$T/w.key"
wg genkey >"$T/m.key"
cat >"$T/p.json" <<EOF
{
  "version": 1,
  "network": { "ipv4": "100.64.0.0/24" },
  "nodes": {
    "web1":    { "key": "$(wg pubkey <"$T/w.key")", "ips": ["100.64.0.1"], "endpoint": "198.51.100.1:51820" },
    "mallory": { "key": "$(wg pubkey <"$T/m.key")", "ips": ["100.64.0.3"], "keepalive": 5 }
  },
  "acls": [ { "id": "ssh", "src": ["mallory"], "dst": ["web1"], "ports": ["tcp:22", "icmp"] } ],
  "suspicion": { "deniedPorts": $K, "deniedPackets": 100000, "ban": "1h", "backoff": 1, "evict": false }
}
EOF
ip netns exec "$W" "$PD" --policy "$T/p.json" --key "$T/w.key" --interface "$IFW" \
	--control "$T/w.ctl" --state "$T/w.bans" 2>"$T/w.log" &
PIDS+=($!)
ip netns exec "$M" "$PD" --policy "$T/p.json" --key "$T/m.key" --interface "$IFM" \
	--control "$T/m.ctl" --state "$T/m.bans" 2>"$T/m.log" &
PIDS+=($!)
ctl() { ip netns exec "$W" "$PCTL" "$@" --control "$T/w.ctl"; }
up=0
for _ in $(seq 200); do
	ip netns exec "$M" ping -c1 -W1 -q 100.64.0.1 >/dev/null 2>&1 && { up=1; break; }
	sleep 0.1
done
[ $up = 1 ] || { echo "the mesh did not come up: $(tail -3 "$T/w.log")" >&2; exit 1; }
# a listener on web1:22 that accepts and closes
ip netns exec "$W" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("100.64.0.1", 22)); s.listen(4096)
while True:
    c, _ = s.accept(); c.close()' &
PIDS+=($!)
ip netns exec "$W" tcpdump -i "$IFW" -n -tt -U -w "$T/cap.pcap" tcp 2>/dev/null &
PIDS+=($!)
sleep 1

for t in $(seq 0 $((trials - 1))); do
	ip netns exec "$M" python3 - "$t" "$K" <<'EOF'
import socket, sys, time
t, k = int(sys.argv[1]), int(sys.argv[2])
base = 1000 + t * 64
socks = []
def syn(port):
    s = socket.socket(); s.setblocking(False)
    s.connect_ex(("100.64.0.1", port)); socks.append(s)
for i in range(k):
    syn(base + i); time.sleep(0.0005)
    syn(22); time.sleep(0.0005)
end = time.monotonic() + 0.15
while time.monotonic() < end:
    syn(22); time.sleep(0.0005)
time.sleep(0.05)
EOF
	ctl reauth mallory >/dev/null
	sleep 0.05
done
sleep 0.5
kill -INT "${PIDS[3]}" && wait "${PIDS[3]}" 2>/dev/null || true
bans=$(grep -c 'quarantine: mallory banned' "$T/w.log" || true)
tcpdump -n -tt -r "$T/cap.pcap" 2>/dev/null | python3 -c '
import sys, statistics
k, trials, bans = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
pk = []   # (ts, src, sport, dst, dport, flags)
for line in sys.stdin:
    f = line.split()
    try:
        ts = float(f[0]); src, dst = f[2], f[4].rstrip(":")
        flags = line.split("Flags [")[1].split("]")[0]
    except (IndexError, ValueError):
        continue
    sa, sp = src.rsplit(".", 1); da, dp = dst.rsplit(".", 1)
    pk.append((ts, sa, int(sp), da, int(dp), flags))
def first_syn(dport):
    return next((p[0] for p in pk if p[4] == dport and p[5] == "S"), None)
lat, missing = [], 0
for t in range(trials):
    base = 1000 + t * 64
    start, cross, nxt = first_syn(base), first_syn(base + k - 1), first_syn(base + 64)
    if start is None or cross is None:
        missing += 1; print("trial %d: no crossing packet seen" % t, file=sys.stderr); continue
    t0, t1 = cross, (nxt if nxt is not None else float("inf"))
    # the probes web1 answered in this trial (source ports come round again
    # in later trials: a set for the whole capture hid drops behind them)
    answered = {p[4] for p in pk if p[2] == 22 and "S." in p[5] and start <= p[0] < t1}
    drops = [p[0] for p in pk if p[4] == 22 and p[5] == "S" and t0 < p[0] < t1
             and p[2] not in answered]
    if not drops:
        missing += 1; print("trial %d: no dropped probe after the crossing" % t, file=sys.stderr); continue
    lat.append((drops[0] - t0) * 1000)
lat.sort()
if not lat:
    sys.exit("no trial measured")
p99 = lat[min(len(lat) - 1, int(round(0.99 * len(lat))) - 1)]
print("trials %d measured %d (bans logged %d), deniedPorts %d" % (trials, len(lat), bans, k))
print("detection-to-drop ms: median %.2f  p99 %.2f  min %.2f  max %.2f" %
      (statistics.median(lat), p99, lat[0], lat[-1]))
print("probe spacing ~1 ms bounds the resolution; target p99 <= 20 ms: %s" %
      ("met" if p99 <= 20 else "MISSED"))
if missing:
    print("%d trial(s) not measured" % missing)
' "$K" "$trials" "$bans"
