#!/usr/bin/env bash
# End-to-end test of `policyctl audit` (issue 6) with real kernel nftables,
# real nmap, a real WireGuard responder (wireguard-go) and a real mesh
# (policyd on a server and two peers) in namespaces. Most of it runs in
# lab.sh's lab: server, internet, and a peer namespace holding alice's and
# bob's VPN addresses on a veth named like the policy's VPN interface.
#
# The server runs the node's table (`policyctl apply` inside its namespace).
# Audits from the internet and from the VPN must match (exit 0); then drift
# is injected one case at a time (policyd's table deleted, a foreign table
# dropping an exposed port, one rejecting a dropped port with a reset, one
# dropping an ACL-allowed VPN port) and each audit must exit 1 naming the
# port and its likely cause. --local must flag services that only policyd's
# drop keeps from the internet, and pass a host bound as the policy means.
# Over the real mesh, a peer given a port must match, a peer given nothing
# must match only when a handshake proves the node got the probes, and exit
# 2 when the tunnel is cut. Errors — an unreachable or routed-but-silent
# target, a missing nmap, a report about another host, nothing to compare,
# a zone that does not fit — must exit 2.
#
#   B=build/san POLICYCTL=$PWD/build/san/policyctl tests/netns/70-audit.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$PDT_DIR/lab.sh"

require_tools nft nmap ip wg wireguard-go
policyctl_find build/san/policyctl build/policyctl
PD=${POLICYD:-$PDT_ROOT/${B:-build}/policyd}
[ -x "$PD" ] || bail "policyd missing: $PD (make)"
diag "policyctl: $POLICYCTL"
T=$PDT_TMP
umask 077

# audit NS ARGS...: run policyctl audit (inside NS); exit status in AUDIT_RC,
# stdout in $T/audit.out (shown as diagnostics), stderr in $T/audit.err.
audit() {
	local ns=$1
	shift
	AUDIT_RC=0
	ip netns exec "$ns" "$POLICYCTL" audit "$POLICY" "$@" >"$T/audit.out" 2>"$T/audit.err" ||
		AUDIT_RC=$?
	diag "policyctl audit $* -> exit $AUDIT_RC"
	sed 's/^/#   /' "$T/audit.out" "$T/audit.err"
}

# row PORT/PROTO: the audit's table row for that port (single-port rows).
row() { awk -v p="$1" '$1 == p' "$T/audit.out"; }

# has_row NAME PORT/PROTO REGEX: the row for the port matches REGEX.
has_row() {
	if row "$2" | grep -qE "$3"; then ok "$1"; else not_ok "$1 (row: '$(row "$2")')"; fi
}

# json_get EXPR: evaluate a Python expression over the JSON output as `j`.
json_get() { "$PDT_PY" -c "import json,sys; j=json.load(open(sys.argv[1])); print($1)" "$T/audit.out"; }

# ---- keys and the policy ----------------------------------------------------------

wg genkey >"$T/server.key"
wg genkey >"$T/alice.key"
wg genkey >"$T/bob.key"
LAB_KEY_SERVER=$(wg pubkey <"$T/server.key")
LAB_KEY_ALICE=$(wg pubkey <"$T/alice.key")
LAB_KEY_BOB=$(wg pubkey <"$T/bob.key")
POLICY=$T/policy.json
lab_policy "$POLICY" "$LAB_ACL_ALICE_SSH
$LAB_ACL_ALICE_DB" "$LAB_TEST_INTERNET
$LAB_TEST_ALICE_SSH
$LAB_TEST_BOB_DENIED"

# ---- the lab --------------------------------------------------------------------------

lab_setup
"$POLICYCTL" check "$POLICY" >/dev/null || bail "the lab policy passes policyctl check"
ip netns exec "$LAB_SRV" "$POLICYCTL" apply "$POLICY" --node server >/dev/null ||
	bail "policyctl apply on the server"
check "table inet policyd applied on the server" has_table "$LAB_SRV" inet policyd
DECLARED=(--ports declared)

# ---- everything matches -----------------------------------------------------------------

audit "$LAB_NET" --node server --target "$LAB_SRV4" --ports all
expect_eq "internet, all 65535 tcp ports: audit matches (exit 0)" "$AUDIT_RC" 0
has_row "internet: 1-24/tcp (22 among them) expected and observed filtered" 1-24/tcp \
	'filtered +filtered +no-response +no expose rule allows it +ok'
has_row "internet: 444-65535/tcp expected and observed filtered" 444-65535/tcp \
	'filtered +filtered +no-response +no expose rule allows it +ok'
has_row "internet: 443/tcp open via expose \"web\"" 443/tcp 'open +open +syn-ack +expose "web" +ok'
has_row "internet: the WireGuard port is a notice without a key" 51820/udp \
	'not verifiable without a peer key'

audit "$LAB_PEER" --node server --target "$LAB_SRV_VPN4" --as alice "${DECLARED[@]}"
expect_eq "vpn as alice (v4): audit matches (exit 0)" "$AUDIT_RC" 0
has_row "vpn as alice: 22/tcp open via acl alice-ssh" 22/tcp 'open +open +syn-ack +acl "alice-ssh" +ok'
has_row "vpn as alice: 443/tcp filtered (no acl)" 443/tcp 'filtered +filtered +.*no acl allows it +ok'

audit "$LAB_PEER" --node server --target "$LAB_SRV_VPN6" --as alice "${DECLARED[@]}"
expect_eq "vpn as alice (v6): audit matches (exit 0)" "$AUDIT_RC" 0

audit "$LAB_PEER" --node server --target "$LAB_SRV_VPN4" --as bob "${DECLARED[@]}" --json
expect_eq "vpn as bob (everything filtered): audit matches (exit 0)" "$AUDIT_RC" 0
expect_eq "vpn as bob --json: result match, no drift" \
	"$(json_get 'j["result"], j["summary"]["drift"], j["as"]')" "match 0 bob"

audit "$LAB_NET" --node server --target "$LAB_SRV4" --ports udp:53
expect_eq "internet, udp:53 (dropped by policy, silence): matches (exit 0)" "$AUDIT_RC" 0
has_row "internet: 53/udp expected filtered, observed open|filtered" 53/udp \
	'filtered +open\|filtered +no-response +no expose rule allows it +ok'

# ---- the WireGuard port: a real handshake -------------------------------------------------

audit "$LAB_NET" --node server --target "$LAB_SRV4" --ports udp:51820 --key "$T/alice.key"
expect_eq "WireGuard port alone, nothing listening: no handshake, nothing compared: exit 2" \
	"$AUDIT_RC" 2
has_row "WireGuard port, nothing listening: refused (ICMP port unreachable)" 51820/udp \
	'refused .*nothing listens'
check "...and the error says nothing was verified" \
	grep -q 'nothing verified: no port was compared, and the WireGuard port gave no handshake' \
	"$T/audit.err"
WG_IF=wga$$
netns_bg "$LAB_SRV" env WG_PROCESS_FOREGROUND=1 wireguard-go "$WG_IF" >"$T/wg.log" 2>&1
cleanup_file "/var/run/wireguard/$WG_IF.sock"
wait_until 5 test -S "/var/run/wireguard/$WG_IF.sock" || bail "wireguard-go started in the server"
ip netns exec "$LAB_SRV" wg set "$WG_IF" listen-port 51820 private-key "$T/server.key" \
	peer "$LAB_KEY_ALICE" allowed-ips 100.64.1.2/32
ip -n "$LAB_SRV" link set "$WG_IF" up
audit "$LAB_NET" --node server --target "$LAB_SRV4" --ports udp:51820 --as alice --key "$T/alice.key"
expect_eq "WireGuard port with alice's key: handshake proves it (exit 0)" "$AUDIT_RC" 0
has_row "WireGuard port: handshake completed as alice" 51820/udp 'handshake .*completed as alice'
audit "$LAB_NET" --node server --target "$LAB_SRV4" --ports udp:51820 --key "$T/bob.key" --json
expect_eq "WireGuard port with bob's key (a peer the server does not know): drift (exit 1)" \
	"$AUDIT_RC" 1
expect_eq "WireGuard port with bob's key: silence, named in the JSON" \
	"$(json_get 'j["wireguard"]["observed"], j["wireguard"]["status"]')" "silence drift"
chmod 0644 "$T/alice.key"
audit "$LAB_NET" --node server --target "$LAB_SRV4" --ports udp:51820 --key "$T/alice.key"
expect_eq "a key file readable by others is refused (exit 2)" "$AUDIT_RC" 2
chmod 0600 "$T/alice.key"

# ---- the local inventory ----------------------------------------------------------------------
# The lab's listeners are on every address: 22 and 5432, given to VPN peers
# only, are kept from the internet by nothing but policyd's drop. A
# demanding admin wants to hear that (exit 1), with the listeners named.

audit "$LAB_SRV" --node server --local
expect_eq "--local on the server: services the policy gives to VPN peers listen on every address: exit 1" \
	"$AUDIT_RC" 1
check "--local: 22/tcp on every address is VPN-only, kept from the internet only by policyd's drop" \
	grep -qE '^tcp +\[::\] +22 .*vpn only +acl "alice-ssh" +FIREWALL-ONLY: listens on every address.*only policyd.s drop keeps the internet out' "$T/audit.out"
check "--local: 443/tcp is public via expose \"web\"" \
	grep -qE '^tcp +\[::\] +443 .*public +expose "web" *$' "$T/audit.out"
audit "$LAB_SRV" --node server --local --json
expect_eq "--local --json: internet_firewall_only names 22 and 5432, and counts them" \
	"$(json_get '[l["port"] for l in j["listeners"] if l["internet_firewall_only"]], j["internet_firewall_only"], j["exit"]')" \
	"[22, 5432] 2 1"

# A host whose services are bound as the policy means: the VPN-only one on
# the VPN addresses, a LAN one on a non-public interface (the node's
# `public` list is a pattern, "lpub*"), one bound to that interface, one on
# loopback. Nothing faces the internet beyond what the policy exposes: exit 0.
LOC=$PDT_PREFIX-local
LOC_VPN_IF=plv$$
netns_add "$LOC"
ip -n "$LOC" link add lpub0 type veth peer name lpub1 # (no dummy module here)
ip -n "$LOC" link add llan0 type veth peer name llan1
ip -n "$LOC" link add "$LOC_VPN_IF" type veth peer name "plw$$"
for i in lpub0 lpub1 llan0 llan1 "$LOC_VPN_IF" "plw$$"; do ip -n "$LOC" link set "$i" up; done
addr_add "$LOC" lpub0 198.51.100.10/24
addr_add "$LOC" llan0 203.0.113.10/24
addr_add "$LOC" "$LOC_VPN_IF" "$LAB_SRV_VPN4/24"
addr_add "$LOC" "$LOC_VPN_IF" "$LAB_SRV_VPN6/64"
cat >"$T/local.json" <<EOF
{
	"version": 1,
	"network": { "interface": "$LOC_VPN_IF", "ipv4": "100.64.0.0/24", "ipv6": "fd7a:115c:a1e0::/64" },
	"nodes": {
		"server": { "key": "$LAB_KEY_SERVER", "ips": ["$LAB_SRV_VPN4", "$LAB_SRV_VPN6"],
			    "public": ["lpub*"] },
		"alice": { "key": "$LAB_KEY_ALICE", "ips": ["$LAB_ALICE4", "$LAB_ALICE6"] },
	},
	"expose": [ { "id": "web", "on": ["server"], "ports": ["tcp:443"] } ],
	"acls": [ { "id": "alice-ssh", "src": ["alice"], "dst": ["server"], "ports": ["tcp:22"] } ],
}
EOF
ip netns exec "$LOC" "$POLICYCTL" apply "$T/local.json" --node server >/dev/null ||
	bail "policyctl apply in the local-inventory namespace"
cat >"$T/listen.py" <<'EOF'
# listen.py ADDR,PORT[,DEVICE]...: TCP listeners bound as told; runs until killed
import socket, sys, time
socks = []
for spec in sys.argv[1:]:
    f = spec.split(",")
    v6 = ":" in f[0]
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    if len(f) > 2:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, f[2].encode())
    s.bind((f[0], int(f[1])))
    s.listen(16)
    socks.append(s)
while True:
    time.sleep(3600)
EOF
# listen NS ADDR,PORT[,DEVICE]...: start them; returns when all listen
listen() {
	local ns=$1 ports
	shift
	netns_bg "$ns" "$PDT_PY" "$T/listen.py" "$@" >>"$T/listen.log" 2>&1
	ports=$(printf '%s\n' "$@" | cut -d, -f2)
	# shellcheck disable=SC2086
	wait_until 10 netns_listening "$ns" $ports || bail "listeners $* up in $ns"
}
listen "$LOC" "$LAB_SRV_VPN4,22" "$LAB_SRV_VPN6,22" "::,443" "203.0.113.10,8080" "::,8081,llan0" \
	"127.0.0.1,5432"
POLICY=$T/local.json audit "$LOC" --node server --local --json
expect_eq "--local, services bound as the policy means (public: [\"lpub*\"]): exit 0" "$AUDIT_RC" 0
expect_eq "--local: none is kept from the internet only by policyd's drop" \
	"$(json_get '[l["port"] for l in j["listeners"] if l["internet_firewall_only"] or l["firewall_only"]], j["internet_firewall_only"]')" \
	"[] 0"
expect_eq "--local: the LAN address and the LAN-bound socket face a non-public interface" \
	"$(json_get 'sorted(set(l["reachable_by"] for l in j["listeners"] if l["port"] in (8080, 8081)))')" \
	"['non-public interface']"
listen "$LOC" "::,9999" "198.51.100.10,9998"
POLICY=$T/local.json audit "$LOC" --node server --local --json
expect_eq "--local: a service on every address and one on the public address, given to nobody: exit 1" \
	"$AUDIT_RC" 1
expect_eq "...both named, and no other" \
	"$(json_get '[(l["port"], l["reachable_by"], l["note"][:14]) for l in j["listeners"] if l["internet_firewall_only"]]')" \
	"[(9998, 'nobody', 'FIREWALL-ONLY:'), (9999, 'nobody', 'FIREWALL-ONLY:')]"

# ---- drift 1: policyd's table deleted -------------------------------------------------------

nft_in "$LAB_SRV" delete table inet policyd
audit "$LAB_NET" --node server --target "$LAB_SRV4" "${DECLARED[@]}"
expect_eq "table deleted: internet audit reports drift (exit 1)" "$AUDIT_RC" 1
for p in 22 5432; do
	has_row "table deleted: $p/tcp expected filtered, open, cause named" $p/tcp \
		"filtered +open +syn-ack .*DRIFT +policyd's table missing or changed on the target"
done
has_row "table deleted: 443/tcp still matches" 443/tcp 'open +open .* ok'
audit "$LAB_NET" --node server --target "$LAB_SRV4" --ports udp:53
expect_eq "table deleted: udp:53 answers (ICMP port unreachable): drift (exit 1)" "$AUDIT_RC" 1
has_row "table deleted: 53/udp expected filtered, closed by port-unreach, cause named" 53/udp \
	"filtered +closed +port-unreach .*DRIFT +policyd's table missing"
audit "$LAB_SRV" --node server --local
expect_eq "table deleted: --local reports the exposed listeners (exit 1)" "$AUDIT_RC" 1
check "table deleted: --local says table inet policyd is MISSING" \
	grep -q 'table inet policyd MISSING' "$T/audit.out"
check "table deleted: --local marks 5432/tcp EXPOSED" \
	grep -qE '^tcp +\[::\] +5432 .*EXPOSED' "$T/audit.out"
ip netns exec "$LAB_SRV" "$POLICYCTL" apply "$POLICY" --node server >/dev/null

# ---- drift 2: a foreign table drops an exposed port ------------------------------------------

nft_in "$LAB_SRV" -f - <<'EOF'
table inet intruder {
	chain input {
		type filter hook input priority -50; policy accept;
		tcp dport 443 drop
	}
}
EOF
audit "$LAB_NET" --node server --target "$LAB_SRV4" "${DECLARED[@]}"
expect_eq "foreign drop of 443: internet audit reports drift (exit 1)" "$AUDIT_RC" 1
has_row "foreign drop of 443: 443/tcp expected open, filtered, cause named" 443/tcp \
	'open +filtered +no-response +expose "web" +DRIFT +a drop outside policyd'
has_row "foreign drop of 443: 80/tcp still matches" 80/tcp 'open +open .* ok'
audit "$LAB_NET" --node server --target "$LAB_SRV4" "${DECLARED[@]}" --json
expect_eq "foreign drop of 443: 443/tcp is the only drift (JSON), the WireGuard port no drift either" \
	"$(json_get '[(p["first"], p["last"]) for p in j["ports"] if p["status"] == "drift"], j["summary"]["drift"], j["wireguard"]["status"]')" \
	"[(443, 443)] 1 not verifiable"
audit "$LAB_SRV" --node server --local
check "--local names the foreign table" grep -q 'other tables: table inet intruder' "$T/audit.out"
nft_in "$LAB_SRV" delete table inet intruder

# ---- drift 2b: a foreign table rejects a dropped port with a TCP reset ------------------------
# before policyd's drop: from outside this is exactly what a missing table
# looks like (closed, reset), so the cause must name both

nft_in "$LAB_SRV" -f - <<'EOF'
table inet intruder {
	chain input {
		type filter hook input priority -50; policy accept;
		tcp dport 22 reject with tcp reset
	}
}
EOF
audit "$LAB_NET" --node server --target "$LAB_SRV4" "${DECLARED[@]}" --json
expect_eq "foreign reset of 22: internet audit reports drift (exit 1)" "$AUDIT_RC" 1
expect_eq "foreign reset of 22: the only drift, closed by a reset, both causes named" \
	"$(json_get '[(p["first"], p["expected"], p["observed"], p["reason"], "missing or changed" in p["note"], "another table rejects it (reset) before policyd" in p["note"]) for p in j["ports"] if p["status"] == "drift"]')" \
	"[(22, 'filtered', 'closed', 'reset', True, True)]"
nft_in "$LAB_SRV" delete table inet intruder

# ---- drift 3: a foreign table drops an ACL-allowed VPN port --------------------------------------

nft_in "$LAB_SRV" -f - <<EOF
table inet intruder {
	chain input {
		type filter hook input priority 10; policy accept;
		iifname "$LAB_VPN_IF" tcp dport 5432 drop
	}
}
EOF
audit "$LAB_PEER" --node server --target "$LAB_SRV_VPN4" --as alice "${DECLARED[@]}" --json
expect_eq "foreign drop of VPN 5432: vpn audit as alice reports drift (exit 1)" "$AUDIT_RC" 1
expect_eq "foreign drop of VPN 5432: JSON names 5432/tcp as the only drift, with its cause" \
	"$(json_get '[(p["first"], p["expected"], p["observed"], p["note"][:25]) for p in j["ports"] if p["status"] == "drift"]')" \
	"[(5432, 'open', 'filtered', 'a drop outside policyd (a')]"
nft_in "$LAB_SRV" delete table inet intruder
audit "$LAB_PEER" --node server --target "$LAB_SRV_VPN4" --as alice "${DECLARED[@]}"
expect_eq "foreign table gone: vpn audit matches again (exit 0)" "$AUDIT_RC" 0

# ---- over a real tunnel: policyd on the server and on two peers -------------------------------
# The lab's VPN is a veth, so nmap's ARP reply through it makes the target
# look up whatever it drops. Here the mesh is real: policyd (its datapath
# and its table) on a server and on alice and bob, on a bridge; the audits
# run on the peers, through their own tunnels. alice is given ssh, bob
# nothing at all (every port and ping dropped): his audit must still pass
# when the tunnel is provably up (the server's datapath speaks to his
# during the audit), and fail (exit 2) when it is not.
#
#   alice 203.0.113.2 ─┐                       VPN: server 100.64.0.1
#                       ├─ 203.0.113.1 server        alice  100.64.0.2
#   bob   203.0.113.3 ─┘  (a bridge)                 bob    100.64.0.3
declare -A MNS=([server]=$PDT_PREFIX-msrv [alice]=$PDT_PREFIX-malice [bob]=$PDT_PREFIX-mbob)
declare -A MIF=([server]=pas$$ [alice]=paa$$ [bob]=pab$$)
declare -A MPUB=([server]=203.0.113.1 [alice]=203.0.113.2 [bob]=203.0.113.3)
MBR=$PDT_PREFIX-mbr
MESH=$T/mesh.json
netns_add "$MBR"
ip -n "$MBR" link add br0 type bridge
ip -n "$MBR" link set br0 up
for n in server alice bob; do
	netns_add "${MNS[$n]}"
	veth_add "${MNS[$n]}" m$$${n:0:1} "$MBR" mb$$${n:0:1}
	ip -n "$MBR" link set "mb$$${n:0:1}" master br0
	addr_add "${MNS[$n]}" "m$$${n:0:1}" "${MPUB[$n]}/24"
	cleanup_file "/var/run/wireguard/${MIF[$n]}.sock"
done
cat >"$MESH" <<EOM
{
	"version": 1,
	"network": { "interface": "${MIF[server]}", "ipv4": "100.64.0.0/24", "ipv6": "fd7a:115c:a1e0::/64" },
	"nodes": {
		"server": { "key": "$LAB_KEY_SERVER", "ips": ["$LAB_SRV_VPN4", "$LAB_SRV_VPN6"],
			    "endpoint": "${MPUB[server]}:51820" },
		"alice": { "key": "$LAB_KEY_ALICE", "ips": ["$LAB_ALICE4", "$LAB_ALICE6"] },
		"bob": { "key": "$LAB_KEY_BOB", "ips": ["$LAB_BOB4", "$LAB_BOB6"] },
	},
	"expose": [ { "id": "web", "on": ["server"], "ports": ["tcp:443"] } ],
	"acls": [ { "id": "alice-ssh", "src": ["alice"], "dst": ["server"], "ports": ["tcp:22"] } ],
	// audits look like scans to the suspicion engine: the auditors are exempt
	"suspicion": { "exempt": ["alice", "bob"] },
}
EOM
"$POLICYCTL" check "$MESH" >/dev/null || bail "the mesh policy passes policyctl check"
for n in server alice bob; do
	netns_bg "${MNS[$n]}" "$PD" --policy "$MESH" --key "$T/$n.key" --interface "${MIF[$n]}" \
		--control "$T/m-$n.ctl" --state "$T/m-$n.bans" 2>>"$T/m-$n.log"
done
mready() { "$POLICYCTL" status --control "$T/m-$1.ctl" >/dev/null 2>&1; }
for n in server alice bob; do
	wait_until 15 mready "$n" || { diag "$(cat "$T/m-$n.log")"; bail "policyd of $n ready"; }
done
listen "${MNS[server]}" "$LAB_SRV_VPN4,22" "$LAB_SRV_VPN6,22" "::,443"

POLICY=$MESH audit "${MNS[alice]}" --node server --target "$LAB_SRV_VPN4" --as alice "${DECLARED[@]}"
expect_eq "real tunnel, as alice (v4): audit matches (exit 0)" "$AUDIT_RC" 0
has_row "real tunnel, as alice: 22/tcp open via acl alice-ssh" 22/tcp \
	'open +open +syn-ack +acl "alice-ssh" +ok'
has_row "real tunnel, as alice: 443/tcp filtered (no acl)" 443/tcp \
	'filtered +filtered +no-response +no acl allows it +ok'
check "real tunnel: the scan left from alice's VPN address" \
	grep -q "from $LAB_ALICE4 as alice" "$T/audit.out"
POLICY=$MESH audit "${MNS[alice]}" --node server --target "$LAB_SRV_VPN6" --as alice "${DECLARED[@]}"
expect_eq "real tunnel, as alice (v6): audit matches (exit 0)" "$AUDIT_RC" 0

# bob's first audit starts his datapath's session: the server's handshake
# answer during the audit proves that it received his probes
POLICY=$MESH audit "${MNS[bob]}" --node server --target "$LAB_SRV_VPN4" --as bob "${DECLARED[@]}" --json
expect_eq "real tunnel, as bob (given nothing, no ping): matches, not a false 'host down' (exit 0)" \
	"$AUDIT_RC" 0
expect_eq "...every port filtered as the policy says, proven by the datapath's handshake" \
	"$(json_get 'j["summary"]["match"], j["summary"]["drift"], any("completed a handshake with server during the audit" in n for n in j["notices"])')" \
	"2 0 True"
# now his session is up: no new handshake, so nothing proves the silence
# without his key; with it, the auditor's own handshake does
POLICY=$MESH audit "${MNS[bob]}" --node server --target "$LAB_SRV_VPN4" --as bob "${DECLARED[@]}"
expect_eq "real tunnel, as bob, session already up, no --key: nothing proves the silence (exit 2)" \
	"$AUDIT_RC" 2
check "...and the error says how to prove it" grep -q "add --key with bob's private key" "$T/audit.err"
POLICY=$MESH audit "${MNS[bob]}" --node server --target "$LAB_SRV_VPN4" --as bob --key "$T/bob.key" \
	"${DECLARED[@]}"
expect_eq "real tunnel, as bob with --key: the auditor's handshake proves the node is there (exit 0)" \
	"$AUDIT_RC" 0
check "...and the notice names it" \
	grep -q "the tunnel is up: server answered bob's WireGuard handshake at ${MPUB[server]}:51820" \
	"$T/audit.out"
# the auditor's handshake is left unconfirmed: the node keeps the session it
# has with the peer's datapath, so the peer's own traffic goes on at once
POLICY=$MESH audit "${MNS[alice]}" --node server --target "$LAB_SRV_VPN4" --as alice --key "$T/alice.key" \
	--ports 443
expect_eq "real tunnel, as alice, only a port she is not given: proven by her handshake (exit 0)" \
	"$AUDIT_RC" 0
check "...and right after it alice's own connection to 22 goes through her datapath's session" \
	timeout 3 ip netns exec "${MNS[alice]}" bash -c "exec 3<>/dev/tcp/$LAB_SRV_VPN4/22"

# the tunnel broken: the server's WireGuard port dropped before policyd
nft_in "${MNS[server]}" -f - <<'EOM'
table inet cutwg {
	chain input {
		type filter hook input priority -100; policy accept;
		udp dport 51820 drop
	}
}
EOM
POLICY=$MESH audit "${MNS[bob]}" --node server --target "$LAB_SRV_VPN4" --as bob --key "$T/bob.key" \
	"${DECLARED[@]}"
expect_eq "real tunnel broken, as bob with --key: everything silent is no pass (exit 2)" "$AUDIT_RC" 2
check "...and the error says no handshake answered" \
	grep -q "unreachable over the VPN: no port answered, nor ping, nor a WireGuard handshake at ${MPUB[server]}:51820 (silence)" \
	"$T/audit.err"
nft_in "${MNS[server]}" delete table inet cutwg

# ---- a routed target that drops everything ------------------------------------------------------
# no ARP reaches it (a router in between), its table drops all input: a
# policy that wants every scanned port filtered must not pass on silence
RSA=$PDT_PREFIX-rsa RSR=$PDT_PREFIX-rsr RST=$PDT_PREFIX-rst
for n in "$RSA" "$RSR" "$RST"; do netns_add "$n"; done
veth_add "$RSA" ra0 "$RSR" rr0
veth_add "$RSR" rr1 "$RST" rt0
addr_add "$RSA" ra0 198.51.100.129/30
addr_add "$RSR" rr0 198.51.100.130/30
addr_add "$RSR" rr1 203.0.113.129/30
addr_add "$RST" rt0 203.0.113.130/30
ip -n "$RSA" route add default via 198.51.100.130
ip -n "$RST" route add default via 203.0.113.129
ip netns exec "$RSR" sysctl -qw net.ipv4.ip_forward=1
nft_in "$RST" add table inet silent
nft_in "$RST" add chain inet silent input '{ type filter hook input priority 0; policy drop; }'
audit "$RSA" --node server --target 203.0.113.130 --ports 22,5432
expect_eq "a routed target that drops everything, ports the policy drops: exit 2, not a match" \
	"$AUDIT_RC" 2
check "...and the error says unreachable" grep -q 'unreachable: no port answered, nor ping' "$T/audit.err"

# ---- errors are never a pass -----------------------------------------------------------------------

audit "$LAB_NET" --node server --target 198.51.100.99 "${DECLARED[@]}"
expect_eq "unreachable target on the link: exit 2" "$AUDIT_RC" 2
check "unreachable target: the error says unreachable" grep -q 'unreachable' "$T/audit.err"
audit "$LAB_NET" --node server --target 203.0.113.9 "${DECLARED[@]}"
expect_eq "target without a route: exit 2" "$AUDIT_RC" 2
audit "$LAB_NET" --node server --target "$LAB_SRV4" "${DECLARED[@]}" --nmap /nonexistent/nmap
expect_eq "nmap missing: exit 2" "$AUDIT_RC" 2
check "nmap missing: the error says so" grep -q 'not found: install nmap' "$T/audit.err"
audit "$LAB_NET" --node server --target "$LAB_SRV4" --ports 22,nope
expect_eq "a bad --ports list: exit 2" "$AUDIT_RC" 2
check "a bad --ports list: the error quotes the bad item" grep -q '"nope"' "$T/audit.err"
audit "$LAB_NET" --node server --target 198.51.100.99 --ports udp:51820
expect_eq "only the WireGuard port, no key, nothing there: exit 2 (nothing verified)" "$AUDIT_RC" 2
audit "$LAB_NET" --node alice --target "$LAB_SRV4" --ports declared
expect_eq "--ports declared on a node that declares nothing and has no endpoint: exit 2" \
	"$AUDIT_RC" 2
check "...and the error says why" grep -q 'nothing to audit: alice declares no port' "$T/audit.err"

# ---- the zone must fit the target and the vantage point ------------------------------------
audit "$LAB_PEER" --node server --target "$LAB_SRV_VPN4" "${DECLARED[@]}"
expect_eq "vpn zone without --as: exit 2, never a scan judged as nobody's" "$AUDIT_RC" 2
check "...and the error names the peer whose address this host holds" \
	grep -q "the vpn zone needs --as PEER.*this host holds alice's address $LAB_ALICE4: add --as alice" \
	"$T/audit.err"
audit "$LAB_NET" --node server --target "$LAB_SRV_VPN4" --zone vpn "${DECLARED[@]}"
expect_eq "vpn zone from a host without a mesh address: exit 2" "$AUDIT_RC" 2
check "...and the error says to run it on a peer" grep -q 'run the audit on a peer' "$T/audit.err"
audit "$LAB_PEER" --node server --target "$LAB_SRV_VPN4" --zone public "${DECLARED[@]}"
expect_eq "public zone with a target inside the mesh: exit 2" "$AUDIT_RC" 2
audit "$LAB_SRV" --node server --target "$LAB_ALICE4" --as bob "${DECLARED[@]}"
expect_eq "vpn zone with another node's VPN address as target: exit 2" "$AUDIT_RC" 2
check "...and the error names its owner" \
	grep -q "$LAB_ALICE4 is not one of server's VPN addresses (it is alice's)" "$T/audit.err"
# a stand-in nmap that prints the start of a report and exits 0
printf '#!/bin/sh\necho "<?xml version=\\"1.0\\"?><nmaprun scanner=\\"nmap\\" version=\\"7.93\\">"\n' \
	>"$T/fake-nmap"
chmod 755 "$T/fake-nmap"
audit "$LAB_NET" --node server --target "$LAB_SRV4" "${DECLARED[@]}" --nmap "$T/fake-nmap"
expect_eq "nmap exits 0 without finishing its report: exit 2" "$AUDIT_RC" 2
# a stand-in nmap whose complete report is about another host, where port 22
# looks just as the policy wants it
cat >"$T/other-nmap" <<'EOF'
#!/bin/sh
cat <<'XML'
<?xml version="1.0"?>
<nmaprun scanner="nmap" version="7.93"><scaninfo type="syn" protocol="tcp"/>
<host><status state="up" reason="arp-response"/><address addr="198.51.100.77" addrtype="ipv4"/>
<ports><port protocol="tcp" portid="22"><state state="filtered" reason="no-response"/></port></ports>
</host><runstats><finished elapsed="0.1" exit="success"/><hosts up="1" down="0" total="1"/></runstats>
</nmaprun>
XML
EOF
chmod 755 "$T/other-nmap"
audit "$LAB_NET" --node server --target "$LAB_SRV4" --ports 22 --nmap "$T/other-nmap"
expect_eq "nmap's report is about another host: exit 2, never a match" "$AUDIT_RC" 2
check "...and the error names both addresses" \
	grep -q "report is about 198.51.100.77, not the target $LAB_SRV4" "$T/audit.err"

# ---- without root ------------------------------------------------------------------------------
chmod 755 "$T"
chmod 644 "$POLICY"
asuser() { # NS ARGS...: policyctl audit as nobody
	AUDIT_RC=0
	ip netns exec "$1" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$POLICYCTL" audit "$POLICY" "${@:2}" >"$T/audit.out" 2>"$T/audit.err" || AUDIT_RC=$?
	diag "as nobody: policyctl audit ${*:2} -> exit $AUDIT_RC"
	sed 's/^/#   /' "$T/audit.out" "$T/audit.err"
}
asuser "$LAB_NET" --node server --target "$LAB_SRV4" --ports 22,443,udp:53
expect_eq "as nobody, a port list with UDP in it: a connect scan of TCP, exit 0" "$AUDIT_RC" 0
check "as nobody: UDP is left out with a notice, not an unknown state" \
	grep -q "UDP ports not scanned" "$T/audit.out"
asuser "$LAB_NET" --node server --target "$LAB_SRV4" --ports udp:53
expect_eq "as nobody, only UDP ports: nothing scanned, exit 2 (was a match)" "$AUDIT_RC" 2
check "...and the error says UDP needs root" grep -q "nmap's UDP scan needs root" "$T/audit.err"
asuser "$LAB_SRV" --node server --local
expect_eq "as nobody, --local cannot read nftables: exit 2, never a match" "$AUDIT_RC" 2
asuser "$LAB_SRV" --node server --local --json
expect_eq "as nobody, --local --json: exit 2 too" "$AUDIT_RC" 2
check "...and the JSON says error" grep -Eq '"result":[[:space:]]*"error"' "$T/audit.out"

tap_finish
