#!/usr/bin/env bash
# End-to-end test of `policyctl audit` (issue 6) with real kernel nftables,
# real nmap and a real WireGuard responder (wireguard-go) in namespaces; the
# lab is lab.sh's: server, internet, and a peer namespace holding alice's and
# bob's VPN addresses on a veth named like the policy's VPN interface.
#
# The server runs the node's table (`policyctl apply` inside its namespace).
# Audits from the internet and from the VPN must match (exit 0); then drift
# is injected one case at a time (policyd's table deleted, a foreign table
# dropping an exposed port, a foreign table dropping an ACL-allowed VPN port)
# and each audit must exit 1 naming the port and its likely cause. An
# unreachable target, or a missing nmap, must exit 2.
#
#   B=build/san POLICYCTL=$PWD/build/san/policyctl tests/netns/70-audit.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$PDT_DIR/lab.sh"

require_tools nft nmap ip wg wireguard-go
policyctl_find build/san/policyctl build/policyctl
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
