#!/usr/bin/env bash
# A mixed mesh: web1 runs policyd; carol does not. She runs Debian's plain
# wireguard-go, configured only with `wg setconf` from
# `policyctl wg-config policy.json --node carol` plus her own private key.
#
#   carol 198.51.100.2 ──── 198.51.100.1 web1        VPN: web1 100.64.0.1, carol 100.64.0.2
#
# web1's table still decides what carol may reach: tcp:22 yes, tcp:5432 no.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

require_tools ip wg wireguard-go
PD=${POLICYD:-$PDT_ROOT/${B:-build}/policyd}
policyctl_find "${B:-build}/policyctl" build/policyctl
[ -x "$PD" ] || bail "policyd missing: $PD (make)"
T=$PDT_TMP
umask 077
W=$PDT_PREFIX-web1 C=$PDT_PREFIX-carol IFW=pmw$$ IFC=pmc$$
netns_add "$W"
netns_add "$C"
veth_add "$W" mw$$ "$C" mc$$
addr_add "$W" mw$$ 198.51.100.1/24
addr_add "$C" mc$$ 198.51.100.2/24
listeners_start "$W" 22 5432
cleanup_file "/var/run/wireguard/$IFW.sock"
cleanup_file "/var/run/wireguard/$IFC.sock"
wg genkey >"$T/web1.key"
wg genkey >"$T/carol.key"
cat >"$T/policy.json" <<EOF
{
  "version": 1,
  "network": { "interface": "pd0", "port": 51820, "ipv4": "100.64.0.0/24" },
  "nodes": {
    "web1":  { "key": "$(wg pubkey <"$T/web1.key")", "ips": ["100.64.0.1"],
               "endpoint": "198.51.100.1:51820" },
    "carol": { "key": "$(wg pubkey <"$T/carol.key")", "ips": ["100.64.0.2"] },
  },
  "acls": [ { "id": "carol-ssh", "src": ["carol"], "dst": ["web1"], "ports": ["tcp:22"] } ],
}
EOF

netns_bg "$W" "$PD" --policy "$T/policy.json" --key "$T/web1.key" --interface "$IFW" \
	--control "$T/web1.ctl" --state "$T/web1.bans" 2>"$T/web1.log"
check "web1: policyd ready" wait_until 10 \
	ip netns exec "$W" "$POLICYCTL" status --control "$T/web1.ctl"

check "policyctl wg-config writes carol's WireGuard config" \
	bash -c "'$POLICYCTL' wg-config '$T/policy.json' --node carol >'$T/carol.conf'"
netns_bg "$C" env WG_PROCESS_FOREGROUND=1 wireguard-go "$IFC" >"$T/carol.log" 2>&1
wait_until 5 test -S "/var/run/wireguard/$IFC.sock" || bail "wireguard-go did not start"
check "wg setconf takes it" ip netns exec "$C" wg setconf "$IFC" "$T/carol.conf"
ip netns exec "$C" wg set "$IFC" private-key "$T/carol.key"
addr_add "$C" "$IFC" 100.64.0.2/24
ip -n "$C" link set "$IFC" mtu 1420 up

tcp_ok() { timeout 3 ip netns exec "$C" bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }
check "carol (plain wireguard-go) reaches web1:22 over the mesh" wait_until 10 tcp_ok 100.64.0.1 22
if tcp_ok 100.64.0.1 5432; then not_ok "web1's policy still refuses carol tcp:5432"
else ok "web1's policy still refuses carol tcp:5432"; fi
check "web1's status shows carol with a handshake" \
	bash -c "'$POLICYCTL' status --control '$T/web1.ctl' | grep -Eq '^  carol .*handshake [0-9]+s ago'"
tap_finish
