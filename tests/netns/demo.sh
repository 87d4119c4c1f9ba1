#!/usr/bin/env bash
# A narrated walk through the lab of lab.sh, for a human: one policy file,
# checked, compiled, applied to the server, then observed with nmap from the
# internet and from two VPN peers; finally a live policy change lets bob in.
#
#   make demo                          (uses build/policyctl)
#   POLICYCTL=build/san/policyctl tests/netns/demo.sh
#   DEMO_PAUSE=1 tests/netns/demo.sh   (wait for Enter between steps)
#
# Every step checks that it shows what it claims; the script exits non-zero
# if one does not.  Everything it creates is removed on exit.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$PDT_DIR/lab.sh"

require_tools nft nmap ip ss wg
policyctl_find build/policyctl build/san/policyctl
T=$PDT_TMP
STEP=0
CLAIMS=0
BROKEN=0

if [ -t 1 ]; then B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'; else B='' G='' R='' N=''; fi

step() {
	STEP=$((STEP + 1))
	if [ -n "${DEMO_PAUSE:-}" ] && [ -t 0 ]; then read -r -p "[Enter] " _; fi
	printf '\n%s== %d. %s%s\n' "$B" "$STEP" "$*" "$N"
}
say() { printf '   %s\n' "$@"; }
shown() { printf '%s$ %s%s\n' "$B" "$*" "$N"; }
claim() { # CLAIM CMD...: CMD must succeed for the step to show what it says
	local what=$1
	shift
	CLAIMS=$((CLAIMS + 1))
	if "$@"; then
		printf '   %s=> yes: %s%s\n' "$G" "$what" "$N"
	else
		BROKEN=$((BROKEN + 1))
		printf '   %s=> NO: %s%s\n' "$R" "$what" "$N"
	fi
}

# pctl [NS] ARGS...: run policyctl visibly (inside NS if the first argument is
# one of ours); exit status in RC, output echoed.
pctl() {
	local ns=
	case $1 in "$PDT_PREFIX"-*) ns=$1; shift ;; esac
	RC=0
	if [ -n "$ns" ]; then
		shown "ip netns exec ${ns#"$PDT_PREFIX"-} policyctl $*"
		ip netns exec "$ns" "$POLICYCTL" "$@" >"$T/out" 2>&1 || RC=$?
	else
		shown "policyctl $*"
		"$POLICYCTL" "$@" >"$T/out" 2>&1 || RC=$?
	fi
	local lines
	lines=$(wc -l <"$T/out")
	head -n "${PCTL_HEAD:-1000}" "$T/out" | sed 's/^/   /'
	if [ "$lines" -gt "${PCTL_HEAD:-1000}" ]; then say "... ($lines lines, first $PCTL_HEAD shown)"; fi
	say "(exit $RC)"
}

# scan LABEL NS TARGET SRC PORT=STATE...: nmap as a user would run it (normal
# output shown), the greppable copy checked against the expectations.
scan() {
	local label=$1 ns=$2 target=$3 src=$4 spec got ports ifc
	shift 4
	ports=$(printf '%s\n' "${@%%=*}" | paste -sd,)
	local args=(-Pn -n -sS -T4 --max-retries 1 -p "$ports")
	case $target in *:*) args+=(-6) ;; esac
	if [ -n "$src" ]; then
		ifc=$(netns_addr_dev "$ns" "$src")
		args+=(-S "$src" -e "$ifc")
	fi
	shown "ip netns exec ${ns#"$PDT_PREFIX"-} nmap ${args[*]} $target"
	ip netns exec "$ns" nmap "${args[@]}" -oG "$T/scan.gnmap" "$target" | grep -E '^(PORT|[0-9]+/tcp)' | sed 's/^/   /' || true
	for spec in "$@"; do
		got=$(sed -n 's/.*Ports: //p' "$T/scan.gnmap" | tr ',' '\n' |
			awk -F/ -v p="${spec%%=*}" '{ gsub(/[ \t]/, "", $1) } $1 == p { print $2 }')
		claim "$label sees ${spec%%=*}/tcp ${spec#*=}" [ "$got" = "${spec#*=}" ]
	done
}

# ---- the lab ----------------------------------------------------------------------

step "The lab: three network namespaces"
lab_setup
say "server    public $LAB_SRV4 (interface $LAB_PUB_IF), VPN $LAB_SRV_VPN4 / $LAB_SRV_VPN6 (interface $LAB_VPN_IF)" \
	"internet  $LAB_NET4" \
	"peer      alice = $LAB_ALICE4 / $LAB_ALICE6, bob = $LAB_BOB4 / $LAB_BOB6 (the VPN side)" \
	"The server runs TCP services on ${LAB_PORTS[*]} (nothing protects them yet)."
claim "server listens on ${LAB_PORTS[*]}" netns_listening "$LAB_SRV" "${LAB_PORTS[@]}"
scan internet "$LAB_NET" "$LAB_SRV4" "" 22=open 5432=open

step "The policy: one file for the whole mesh"
lab_keys
POLICY=$T/policy.json
lab_policy "$POLICY" '		{ "id": "admins-ssh", "src": ["group:admins"], "dst": ["tag:server"], "ports": ["ssh"] },' \
	"$LAB_TEST_INTERNET
		{ \"src\": \"alice\", \"accept\": [\"server:22\"], \"deny\": [\"server:5432\"] },
		{ \"src\": \"bob\", \"deny\": [\"server:22\"] }," \
	'		"admins": ["alice"],'
say "Excerpt of $POLICY:"
sed -n '/"groups"/,$p' "$POLICY" | sed 's/^/   | /'

step "policyctl check: parse, validate, run the policy's own tests"
pctl check "$POLICY"
claim "check accepts the policy (exit 0)" [ "$RC" -eq 0 ]

step "policyctl show: the nftables ruleset the server will get"
PCTL_HEAD=24 pctl show "$POLICY" --node server
cp "$T/out" "$T/show.nft"
claim "show prints table inet policyd" grep -q '^table inet policyd' "$T/show.nft"

step "policyctl apply on the server (one atomic netlink batch)"
pctl "$LAB_SRV" apply "$POLICY" --node server
claim "apply exits 0" [ "$RC" -eq 0 ]
claim "the kernel now has table inet policyd" has_table "$LAB_SRV" inet policyd

step "The internet's view: only what 'expose' offers"
scan internet "$LAB_NET" "$LAB_SRV4" "" 22=filtered 25=open 80=open 443=open 5432=filtered
say "filtered = silently dropped: a scanner cannot even tell ssh runs there."

step "The VPN's view: alice is an admin, bob is not"
scan "alice (VPN)" "$LAB_PEER" "$LAB_SRV_VPN4" "$LAB_ALICE4" 22=open 5432=filtered
scan "bob (VPN)" "$LAB_PEER" "$LAB_SRV_VPN4" "$LAB_BOB4" 22=filtered
scan "bob (VPN, IPv6)" "$LAB_PEER" "$LAB_SRV_VPN6" "$LAB_BOB6" 22=filtered

step "A live change: bob joins the admins"
cp "$POLICY" "$T/policy.old"
sed -i -e 's/"admins": \["alice"\]/"admins": ["alice", "bob"]/' \
	-e 's/{ "src": "bob", "deny": \["server:22"\] }/{ "src": "bob", "accept": ["server:22"] }/' "$POLICY"
shown "diff -u policy.old policy.json"
diff -u "$T/policy.old" "$POLICY" | tail -n +3 | sed 's/^/   /' || true
differs() { ! cmp -s "$1" "$2"; }
claim "the policy file changed" differs "$T/policy.old" "$POLICY"
pctl check "$POLICY"
claim "check accepts the new policy" [ "$RC" -eq 0 ]
pctl "$LAB_SRV" apply "$POLICY" --node server
claim "re-apply exits 0" [ "$RC" -eq 0 ]

step "bob now reaches ssh, the internet still does not"
scan "bob (VPN)" "$LAB_PEER" "$LAB_SRV_VPN4" "$LAB_BOB4" 22=open 5432=filtered
shown "echo.py probe $LAB_BOB4 $LAB_SRV_VPN4 22      # a real TCP round trip"
claim "bob's TCP connection to 22 is echoed" \
	ip netns exec "$LAB_PEER" "$PDT_PY" "$PDT_DIR/echo.py" probe "$LAB_BOB4" "$LAB_SRV_VPN4" 22
scan internet "$LAB_NET" "$LAB_SRV4" "" 22=filtered

printf '\n%s%d of %d claims held.%s Cleaning up the namespaces.\n' "$B" $((CLAIMS - BROKEN)) "$CLAIMS" "$N"
[ "$BROKEN" -eq 0 ]
