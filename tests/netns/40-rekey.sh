#!/usr/bin/env bash
# Key rotation under load: policyd-vpn built with every protocol time divided
# by 40 (make rekey: REKEY_AFTER_TIME 3 s, REJECT_AFTER_TIME 4.5 s), a ping
# flood through the tunnel for 10 s, and the check that several new sessions
# replaced each other meanwhile with no more than a few packets lost.
#   1. ours (fast timers, initiator) <-> wireguard-go (normal timers)
#   2. ours <-> ours, both with fast timers
# The binary is $VPN_REKEY or build/rekey/policyd-vpn.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

require_tools ip wg wireguard-go ping
VPN=${VPN_REKEY:-$PDT_ROOT/build/rekey/policyd-vpn}
[ -x "$VPN" ] || bail "rekey build missing: $VPN (make rekey)"
FLOOD_COUNT=${FLOOD_COUNT:-2000}   # at 5 ms: 10 s, about three rotations
MAX_LOSS=${MAX_LOSS:-5}

# uapi IF REQUEST: send one UAPI request to IF's socket, print the reply
uapi() {
	"$PDT_PY" - "/var/run/wireguard/$1.sock" "$2" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n\n")
out = b""
while not out.endswith(b"\n\n"):
    d = s.recv(65536)
    if not d:
        break
    out += d
sys.stdout.write(out.decode())
EOF
}

sessions() { uapi "$1" "stats=1" | sed -n 's/^sessions=//p'; }

# pair N IMPL_B: namespaces a/b, ours in a, IMPL_B in b; leaves IF_A IF_B
pair() {
	local n=$1 implb=$2 nsa=$PDT_PREFIX-r${1}a nsb=$PDT_PREFIX-r${1}b
	local ka kb pa pb
	IF_A=rk$$${n}a IF_B=rk$$${n}b NS_A=$nsa NS_B=$nsb
	netns_add "$nsa"
	netns_add "$nsb"
	veth_add "$nsa" vr${n}a "$nsb" vr${n}b
	addr_add "$nsa" vr${n}a 198.51.100.1/24
	addr_add "$nsb" vr${n}b 198.51.100.2/24
	cleanup_file "/var/run/wireguard/$IF_A.sock"
	cleanup_file "/var/run/wireguard/$IF_B.sock"
	netns_bg "$nsa" "$VPN" -f "$IF_A" 2>"$PDT_TMP/$IF_A.log"
	if [ "$implb" = ours ]; then
		netns_bg "$nsb" "$VPN" -f "$IF_B" 2>"$PDT_TMP/$IF_B.log"
	else
		netns_bg "$nsb" env WG_PROCESS_FOREGROUND=1 wireguard-go "$IF_B" >"$PDT_TMP/$IF_B.log" 2>&1
	fi
	wait_until 5 test -S "/var/run/wireguard/$IF_A.sock" || bail "pair $n: $IF_A did not start"
	wait_until 5 test -S "/var/run/wireguard/$IF_B.sock" || bail "pair $n: $IF_B did not start"
	ka=$(wg genkey) kb=$(wg genkey)
	pa=$(wg pubkey <<<"$ka") pb=$(wg pubkey <<<"$kb")
	ip netns exec "$nsa" wg set "$IF_A" private-key <(echo "$ka") listen-port 51820 \
		peer "$pb" endpoint 198.51.100.2:51821 allowed-ips 100.64.0.2/32
	ip netns exec "$nsb" wg set "$IF_B" private-key <(echo "$kb") listen-port 51821 \
		peer "$pa" allowed-ips 100.64.0.1/32
	addr_add "$nsa" "$IF_A" 100.64.0.1/24
	addr_add "$nsb" "$IF_B" 100.64.0.2/24
	ip -n "$nsa" link set "$IF_A" up
	ip -n "$nsb" link set "$IF_B" up
}

flood() { # N LABEL
	local n=$1 label=$2 s0 s1 out tx rx lost
	wait_until 5 ip netns exec "$NS_A" ping -c 1 -W 1 -q 100.64.0.2 >/dev/null ||
		bail "$label: no tunnel to start with"
	s0=$(sessions "$IF_A")
	out=$(ip netns exec "$NS_A" ping -i 0.005 -c "$FLOOD_COUNT" -W 1 -q 100.64.0.2 || true)
	s1=$(sessions "$IF_A")
	tx=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' <<<"$out")
	rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$out")
	[ -n "$tx" ] && [ -n "$rx" ] || bail "$label: cannot read ping's summary: $out"
	lost=$((tx - rx))
	diag "$label: sessions $s0 -> $s1, $rx/$tx echo replies, $lost lost"
	if [ $((s1 - s0)) -ge 2 ]; then ok "$label: keys rotated $((s1 - s0)) times during the flood"
	else not_ok "$label: keys rotated $((s1 - s0)) times during the flood (want >= 2)"; fi
	if [ "$lost" -le "$MAX_LOSS" ]; then ok "$label: $lost of $tx packets lost across the rotations"
	else not_ok "$label: $lost of $tx packets lost across the rotations (want <= $MAX_LOSS)"; fi
}

pair 1 wireguard-go
flood 1 "ours <-> wireguard-go"
hs=$(ip netns exec "$NS_B" wg show "$IF_B" latest-handshakes | awk '{print $2}')
now=$(date +%s)
if [ -n "$hs" ] && [ $((now - hs)) -le 5 ]; then ok "wireguard-go saw a handshake in the last 5 s"
else not_ok "wireguard-go saw a handshake in the last 5 s (latest: ${hs:-none}, now $now)"; fi
pair 2 ours
flood 2 "ours <-> ours"
s_b=$(sessions "$IF_B")
if [ "${s_b:-0}" -ge 3 ]; then ok "the responder side rotated too ($s_b sessions)"
else not_ok "the responder side rotated too (${s_b:-0} sessions, want >= 3)"; fi
tap_finish
