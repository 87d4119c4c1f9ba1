#!/usr/bin/env bash
# End-to-end test of the policy engine (issue 2) with real kernel nftables and
# real nmap in network namespaces; see lab.sh for the topology.
#
# Asserts on behaviour: what nmap and TCP clients observe, exit codes, and the
# kernel's view of the tables (never on the text the compiler prints, except
# where two of its outputs must agree with each other).
#
#   POLICYCTL=build/san/policyctl tests/netns/10-rules.sh
# Set PDT_KEEP=1 to keep the temporary directory (policies, nmap log).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$PDT_DIR/lab.sh"

require_tools nft nmap ip ss wg paste cmp diff
policyctl_find build/san/policyctl build/policyctl
diag "policyctl: $POLICYCTL"
T=$PDT_TMP

# run_pctl NS|- ARGS...: run policyctl (inside NS, or "-" for here); exit
# status in PCTL_RC, stdout in $T/pctl.out, stderr shown as diagnostics.
run_pctl() {
	local ns=$1
	shift
	PCTL_RC=0
	if [ "$ns" = - ]; then
		"$POLICYCTL" "$@" >"$T/pctl.out" 2>"$T/pctl.err" || PCTL_RC=$?
	else
		ip netns exec "$ns" "$POLICYCTL" "$@" >"$T/pctl.out" 2>"$T/pctl.err" || PCTL_RC=$?
	fi
	diag "policyctl $* -> exit $PCTL_RC"
	if [ -s "$T/pctl.err" ]; then head -n 20 "$T/pctl.err" | sed 's/^/#   /'; fi
}

# table_json NS NAME: the kernel's JSON view of table inet NAME, without the
# elements of the NFLOG meters (logmeter4/6), which the packet path adds and
# which count down by themselves: they are not what an apply changes.
table_json() {
	nft_in "$1" -j list table inet "$2" 2>&1 | "$PDT_PY" -c '
import json, sys
t = sys.stdin.read()
try:
    j = json.loads(t)
except ValueError:
    sys.stdout.write(t)
    sys.exit(0)
for o in j.get("nftables", []):
    if o.get("set", {}).get("name", "").startswith("logmeter"):
        o["set"].pop("elem", None)
json.dump(j, sys.stdout, sort_keys=True)
' || true
}

OTHER_BEFORE=$T/other.json
other_unchanged() { # LABEL
	if table_json "$LAB_SRV" other | cmp -s - "$OTHER_BEFORE"; then
		ok "foreign table inet other is byte-identical after $1"
	else
		not_ok "foreign table inet other is byte-identical after $1"
		table_json "$LAB_SRV" other | diff "$OTHER_BEFORE" - | sed 's/^/#   /' || true
	fi
}

# refused NAME POLICY: applying POLICY on the server exits 1 and leaves
# table inet policyd exactly as it was; prints policyctl's stderr file.
refused() {
	local name=$1 policy=$2
	table_json "$LAB_SRV" policyd >"$T/policyd.before"
	run_pctl "$LAB_SRV" apply "$policy" --node server
	table_json "$LAB_SRV" policyd >"$T/policyd.after"
	expect_eq "$name: apply refused with exit 1" "$PCTL_RC" 1
	check "$name: table inet policyd byte-identical after the refused apply" \
		cmp -s "$T/policyd.before" "$T/policyd.after"
	other_unchanged "the refused apply ($name)"
}

# equivalent NAME POLICY: `show` loaded by nft -f and `apply` of the same
# policy, each in a fresh namespace, must list the same table.
equivalent() {
	local name=$1 policy=$2 a=$PDT_PREFIX-eq$1a b=$PDT_PREFIX-eq$1b
	netns_add "$a"
	netns_add "$b"
	run_pctl - show "$policy" --node server
	cp "$T/pctl.out" "$T/eq-$name.nft"
	if ! nft_in "$a" -f "$T/eq-$name.nft" 2>"$T/eq.err"; then
		sed 's/^/#   /' "$T/eq.err"
		not_ok "equivalence ($name): nft -f loads the show output"
		return
	fi
	run_pctl "$b" apply "$policy" --node server
	nft_in "$a" list table inet policyd >"$T/eq-$name.show" 2>&1 || true
	nft_in "$b" list table inet policyd >"$T/eq-$name.apply" 2>&1 || true
	if [ "$PCTL_RC" -eq 0 ] && cmp -s "$T/eq-$name.show" "$T/eq-$name.apply"; then
		ok "equivalence ($name): show | nft -f and apply give the same kernel table"
	else
		diag "diff: nft -f of show output (---) vs policyctl apply (+++):"
		diff -u "$T/eq-$name.show" "$T/eq-$name.apply" | sed 's/^/#   /' || true
		not_ok "equivalence ($name): show | nft -f and apply give the same kernel table"
	fi
}

# ---- policies -------------------------------------------------------------------

lab_keys
POLICY=$T/policy.json
lab_policy "$POLICY" "$LAB_ACL_ALICE_SSH" "$LAB_TEST_INTERNET
$LAB_TEST_ALICE_SSH
$LAB_TEST_ALICE_NO_DB
$LAB_TEST_BOB_DENIED"

# the same plus alice -> server:5432 (for the re-apply under a live session)
CHANGED=$T/changed.json
lab_policy "$CHANGED" "$LAB_ACL_ALICE_SSH
$LAB_ACL_ALICE_DB" "$LAB_TEST_INTERNET
$LAB_TEST_ALICE_SSH
		{ \"src\": \"alice\", \"accept\": [\"server:5432\"] },
$LAB_TEST_BOB_DENIED"

BAD_PORT=$T/bad-port.json
lab_policy "$BAD_PORT" "$LAB_ACL_ALICE_SSH
		{ \"id\": \"bad-port\", \"src\": [\"alice\"], \"dst\": [\"server\"], \"ports\": [\"tcp:70000\"] }," \
	"$LAB_TEST_INTERNET"

# valid rules, but a test that contradicts them (bob is not allowed ssh)
BAD_TEST=$T/bad-test.json
lab_policy "$BAD_TEST" "$LAB_ACL_ALICE_SSH" "$LAB_TEST_INTERNET
		{ \"src\": \"bob\", \"accept\": [\"server:22\"] },"

# ---- offline checks ---------------------------------------------------------------

run_pctl - check "$POLICY"
expect_eq "policyctl check accepts the lab policy" "$PCTL_RC" 0

run_pctl - show "$POLICY" --node server
expect_eq "policyctl show exits 0" "$PCTL_RC" 0
cp "$T/pctl.out" "$T/show.nft"
netns_add "$PDT_PREFIX-nftc"
if nft_in "$PDT_PREFIX-nftc" -c -f - <"$T/show.nft" 2>"$T/nftc.err"; then
	ok "policyctl show output passes nft -c -f - in a namespace"
else
	sed 's/^/#   /' "$T/nftc.err"
	not_ok "policyctl show output passes nft -c -f - in a namespace"
fi

netns_add "$PDT_PREFIX-check"
run_pctl "$PDT_PREFIX-check" apply "$POLICY" --node server --check
expect_eq "apply --check in a fresh namespace exits 0" "$PCTL_RC" 0
expect_eq "apply --check commits nothing (ruleset still empty)" \
	"$(nft_in "$PDT_PREFIX-check" list ruleset 2>&1)" ""

# ---- the lab ----------------------------------------------------------------------

lab_setup
diag "lab up: server $LAB_SRV (vpn if $LAB_VPN_IF), internet $LAB_NET, peer $LAB_PEER"

# someone else's table, which no apply may touch
nft_in "$LAB_SRV" -f - <<'EOF'
table inet other {
	set blocked {
		type ipv4_addr
		elements = { 192.0.2.1 }
	}
	chain input {
		type filter hook input priority 10; policy accept;
		ip saddr @blocked counter drop
	}
}
EOF
table_json "$LAB_SRV" other >"$OTHER_BEFORE"

run_pctl "$LAB_SRV" apply "$POLICY" --node server
expect_eq "apply on the server exits 0" "$PCTL_RC" 0
check "apply installed table inet policyd" has_table "$LAB_SRV" inet policyd
other_unchanged "the first apply"

# ---- what the world sees ----------------------------------------------------------

expect_ports "internet" "$LAB_NET" "$LAB_SRV4" "" \
	22=filtered 25=open 80=open 443=open 5432=filtered
expect_ports "vpn alice" "$LAB_PEER" "$LAB_SRV_VPN4" "$LAB_ALICE4" \
	22=open 5432=filtered 80=filtered
expect_ports "vpn bob" "$LAB_PEER" "$LAB_SRV_VPN4" "$LAB_BOB4" 22=filtered
expect_ports "vpn6 alice" "$LAB_PEER" "$LAB_SRV_VPN6" "$LAB_ALICE6" \
	22=open 5432=filtered 80=filtered
expect_ports "vpn6 bob" "$LAB_PEER" "$LAB_SRV_VPN6" "$LAB_BOB6" 22=filtered

# ---- refused policies ---------------------------------------------------------------

refused "port 70000" "$BAD_PORT"
check "port 70000: the error quotes the bad value" grep -q 70000 "$T/pctl.err"
refused "failing tests" "$BAD_TEST"
run_pctl - check "$BAD_TEST"
expect_eq "policyctl check reports the failing test with exit 1" "$PCTL_RC" 1

# ---- a live session survives a re-apply ---------------------------------------------

CTL=$T/session
mkdir -p "$CTL"
netns_bg "$LAB_PEER" "$PDT_PY" "$PDT_DIR/echo.py" session \
	"$LAB_ALICE4" "$LAB_SRV_VPN4" 22 "$CTL" >>"$T/session.log" 2>&1
SESSION=$PDT_LAST_PID
if wait_until 10 test -s "$CTL/phase1"; then phase1=$(cat "$CTL/phase1"); else phase1=timeout; fi
expect_eq "alice opens a TCP session to server:22 and gets her echo" "${phase1%% *}" ok
run_pctl "$LAB_SRV" apply "$CHANGED" --node server
expect_eq "re-apply of a changed policy exits 0" "$PCTL_RC" 0
touch "$CTL/go"
if wait_until 15 test -s "$CTL/phase2"; then phase2=$(cat "$CTL/phase2"); else phase2=timeout; fi
pdt_stop "$SESSION"
expect_eq "the same TCP session still echoes after the re-apply" "$phase2" "ok ${phase1#* }"
other_unchanged "the re-apply"
expect_ports "vpn alice after re-apply" "$LAB_PEER" "$LAB_SRV_VPN4" "$LAB_ALICE4" \
	22=open 5432=open
expect_ports "vpn bob after re-apply" "$LAB_PEER" "$LAB_SRV_VPN4" "$LAB_BOB4" \
	22=filtered 5432=filtered

# ---- the text renderer and the netlink batch agree ------------------------------------

equivalent base "$POLICY"
equivalent changed "$CHANGED"

tap_finish
