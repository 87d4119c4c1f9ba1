#!/usr/bin/env bash
# Live behaviour of an installed table (issue 2), in the lab of lab.sh:
#  - a denied VPN packet reaches NFLOG group 4120 at once (queue threshold 1),
#    an allowed one does not, and a scan is rate-limited in the kernel;
#  - a node's "public" list filters only the interfaces it names.
#   POLICYCTL=build/san/policyctl tests/netns/20-live.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$PDT_DIR/lab.sh"

require_tools nft nmap ip ss wg tcpdump
policyctl_find build/san/policyctl build/policyctl
T=$PDT_TMP
NFLOG_GROUP=4120

lab_keys
lab_setup
lab_policy "$T/p.json" "$LAB_ACL_ALICE_SSH" ""
ip netns exec "$LAB_SRV" "$POLICYCTL" apply "$T/p.json" --node server >"$T/apply.log" 2>&1 ||
	bail "apply the lab policy: $(cat "$T/apply.log")"
ok "lab policy applied"

# ---- NFLOG ---------------------------------------------------------------------
netns_bg "$LAB_SRV" tcpdump -i "nflog:$NFLOG_GROUP" -n -U -w "$T/nflog.pcap" >"$T/tcpdump.log" 2>&1
TCPDUMP=$PDT_LAST_PID
wait_until 10 grep -q "listening on" "$T/tcpdump.log" || bail "tcpdump on nflog:$NFLOG_GROUP"
logged() { tcpdump -r "$T/nflog.pcap" -n 2>/dev/null | grep -c "$1" || true; }

probe() { ip netns exec "$LAB_PEER" "$PDT_PY" "$PDT_DIR/echo.py" probe "$@"; }
check "alice (allowed) reaches 22 over the VPN" probe "$LAB_ALICE4" "$LAB_SRV_VPN4" 22
if probe "$LAB_BOB4" "$LAB_SRV_VPN4" 22; then not_ok "bob (denied) is refused on 22"
else ok "bob (denied) is refused on 22"; fi

# queue threshold 1: the message is there well before NFLOG's 1 s batching
# timer (the probe itself waited for its timeout, so only look, do not wait long)
seen=0
for _ in $(seq 10); do
	[ "$(logged "$LAB_BOB4\..* > $LAB_SRV_VPN4\.22:")" -gt 0 ] && { seen=1; break; }
	sleep 0.05
done
expect_eq "bob's denied SYN reached NFLOG group $NFLOG_GROUP" "$seen" 1
expect_eq "alice's allowed connection is not logged" "$(logged "$LAB_ALICE4\.")" 0

# a fast scan of 2000 ports: every SYN is dropped, but the kernel passes at
# most one source's burst (100) plus 50/s to NFLOG (the log is metered per
# source, then capped at 1000/s for all)
drops_before=$(nft_in "$LAB_SRV" list chain inet policyd vpn | sed -n 's/.*counter packets \([0-9]*\).*no acl allows it.*/\1/p')
before_scan=$(logged "$LAB_BOB4\.")
ip netns exec "$LAB_PEER" nmap -Pn -n -sS --min-rate 20000 --max-retries 0 -p 1-2000 \
	-S "$LAB_BOB4" -e "$LAB_PEER_IF" "$LAB_SRV_VPN4" >>"$PDT_TMP/nmap.log" 2>&1 || true
sleep 0.5
drops=$(( $(nft_in "$LAB_SRV" list chain inet policyd vpn | sed -n 's/.*counter packets \([0-9]*\).*no acl allows it.*/\1/p') - drops_before ))
scan_logged=$(( $(logged "$LAB_BOB4\.") - before_scan ))
diag "scan: $drops packets dropped, $scan_logged logged"
check "the scan's SYNs were dropped (at least 1900)" test "$drops" -ge 1900
check "the log is rate-limited in the kernel (logged $scan_logged < dropped $drops)" \
	test "$scan_logged" -lt "$drops"
check "the log still saw the scan (at least 100 messages)" test "$scan_logged" -ge 100
check "one source gets its own share of the log, not all of it (fewer than 200)" \
	test "$scan_logged" -lt 200
pdt_stop "$TCPDUMP"

# ---- "public": only the named interfaces are filtered --------------------------
LAN=$PDT_PREFIX-lan
netns_add "$LAN"
veth_add "$LAB_SRV" lan0 "$LAN" eth0
addr_add "$LAB_SRV" lan0 203.0.113.1/24
addr_add "$LAN" eth0 203.0.113.2/24
sed 's/"tags": \["server"\],/"tags": ["server"], "public": ["pub0"],/' "$T/p.json" >"$T/pub.json"
grep -q '"public": \["pub0"\]' "$T/pub.json" || bail "write the policy with public: [pub0]"
ip netns exec "$LAB_SRV" "$POLICYCTL" apply "$T/pub.json" --node server >"$T/apply.log" 2>&1 ||
	bail "apply public: [pub0]: $(cat "$T/apply.log")"
expect_ports "internet (pub0 is public)" "$LAB_NET" "$LAB_SRV4" "" 22=filtered 5432=filtered 80=open
expect_ports "lan (lan0 is not listed)" "$LAN" 203.0.113.1 "" 22=open 5432=open
ip netns exec "$LAB_SRV" "$POLICYCTL" apply "$T/p.json" --node server >/dev/null 2>&1 ||
	bail "re-apply the default policy"
expect_ports "lan (default: every interface is public)" "$LAN" 203.0.113.1 "" 22=filtered 5432=filtered 80=open

tap_finish
