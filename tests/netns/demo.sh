#!/usr/bin/env bash
# The story of policyd, told with the real components for a human: a server
# whose SSH must be reachable only over the mesh, two laptops, one policy file.
#
#                          internet 198.51.100.2 / 203.0.113.1 / 203.0.113.17  (a router, and nmap)
#                         /            |              \
#   web1 198.51.100.1 ───┘   alice 203.0.113.10   bob 203.0.113.20
#   VPN  100.64.0.1          VPN   100.64.0.2     VPN 100.64.0.3
#
# web1 runs a real sshd on 22 and TCP services on 25, 80 and 443.  web1, alice
# and bob each run policyd with their own key and their own copy of one
# policy; web1 has the only endpoint, the laptops dial out across the internet
# namespace.  Only the admins group (alice) may SSH to web1, and only over the
# mesh; 25, 80 and 443 are public.  Then bob joins the group with a live reload.
#
#   make demo                          (builds, then runs build/policyd, build/policyctl)
#   POLICYD=build/san/policyd POLICYCTL=build/san/policyctl tests/netns/demo.sh
#   DEMO_PAUSE=1 tests/netns/demo.sh   (wait for Enter between steps)
#
# Every step checks that it shows what it claims; the script exits 0 only if
# every claim held.  It touches nothing outside the namespaces it creates
# (sshd gets a private /run in its own mount namespace); all of them, the
# processes and the files are removed on exit, failure included.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

require_tools nft nmap ip ss wg ping ssh ssh-keygen unshare mount /usr/sbin/sshd
policyctl_find build/policyctl build/san/policyctl
PD=${POLICYD:-build/policyd}
case $PD in /*) ;; *) if [ -e "$PWD/$PD" ]; then PD=$PWD/$PD; else PD=$PDT_ROOT/$PD; fi ;; esac
[ -x "$PD" ] || bail "policyd missing: $PD (make)"
T=$PDT_TMP
umask 077
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
indent() { sed 's/^/   /'; }
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
differs() { ! cmp -s "$1" "$2"; }

declare -A NS=([web1]=$PDT_PREFIX-web1 [alice]=$PDT_PREFIX-alice [bob]=$PDT_PREFIX-bob
	[internet]=$PDT_PREFIX-internet)
declare -A IF=([web1]=pdw$$ [alice]=pda$$ [bob]=pdb$$)
declare -A VPN=([web1]=100.64.0.1 [alice]=100.64.0.2 [bob]=100.64.0.3)
declare -A PUB4=([web1]=198.51.100.1 [alice]=203.0.113.10 [bob]=203.0.113.20 [internet]=198.51.100.2)
declare -A PUB=()

# run NODE|- CMD...: show CMD as typed in NODE's namespace (run in $T, where
# the shown relative paths are), output indented; exit status in RC, output
# also in $T/out.  RUN_HEAD=N shows only the first N lines.
run() {
	local n=$1 line a
	shift
	line=
	for a in "$@"; do # quoted where a shell needs it, so that it can be pasted
		case $a in
		*\'*) a=$(printf %q "$a") ;;
		*[!A-Za-z0-9_./:=@,+%-]* | '') a="'$a'" ;;
		esac
		line+="${line:+ }$a"
	done
	line=${line//"$POLICYCTL"/policyctl}
	line=${line//"$PD"/policyd}
	if [ "$n" = - ]; then shown "$line"; else shown "ip netns exec $n $line"; fi
	RC=0
	if [ "$n" = - ]; then
		"$@" >"$T/out" 2>&1 || RC=$?
	else
		ip netns exec "${NS[$n]}" "$@" >"$T/out" 2>&1 || RC=$?
	fi
	local lines
	lines=$(wc -l <"$T/out")
	head -n "${RUN_HEAD:-1000}" "$T/out" | indent
	if [ "$lines" -gt "${RUN_HEAD:-1000}" ]; then say "... ($lines lines, first $RUN_HEAD shown)"; fi
	say "(exit $RC)"
}

# scan NODE TARGET PORT=STATE...: nmap as a user would run it (normal output
# shown), the greppable copy checked against the expectations.
scan() {
	local n=$1 target=$2 spec got ports
	shift 2
	ports=$(printf '%s\n' "${@%%=*}" | paste -sd,)
	local args=(-Pn -n -sS -T4 --max-retries 1 -p "$ports")
	shown "ip netns exec $n nmap ${args[*]} $target"
	rm -f "$T/scan.gnmap" # a failed nmap must not leave the last scan's answers
	ip netns exec "${NS[$n]}" nmap "${args[@]}" -oG "$T/scan.gnmap" "$target" |
		grep -E '^(PORT|[0-9]+/tcp)' | indent || true
	for spec in "$@"; do
		got=$(sed -n 's/.*Ports: //p' "$T/scan.gnmap" | tr ',' '\n' |
			awk -F/ -v p="${spec%%=*}" '{ gsub(/[ \t]/, "", $1) } $1 == p { print $2 }')
		claim "$n sees web1 ${spec%%=*}/tcp ${spec#*=}" [ "$got" = "${spec#*=}" ]
	done
}

# ssh_cmd NODE TIMEOUT: the ssh client a user of NODE would type, with the
# demo's client key; no config files or known_hosts of this machine are read
# or written.
# shellcheck disable=SC2016 # expanded by the remote shell
SSH_REMOTE='echo "logged in as $(id -un), connection: $SSH_CONNECTION"'
ssh_cmd() {
	SSH=(ssh -F /dev/null -i "id_$1" -o IdentitiesOnly=yes -o BatchMode=yes
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
		-o ConnectTimeout="$2" "root@${VPN[web1]}" "$SSH_REMOTE")
}
ctl() { ip netns exec "${NS[$1]}" "$POLICYCTL" "${@:2}" --control "$1.ctl"; }
ready() { ctl "$1" status >/dev/null 2>&1; }
# handshake NODE: seconds since web1's latest handshake with NODE (0 = none)
handshake() {
	ip netns exec "${NS[web1]}" wg show "${IF[web1]}" latest-handshakes |
		awk -v k="${PUB[$1]}" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }'
}
tunnel_up() { [ "$(handshake "$1")" -gt 0 ]; }
# acl_lines: show the set elements web1's kernel holds for the acl
acl_lines() {
	shown "ip netns exec web1 nft list table inet policyd | grep admins-ssh"
	ip netns exec "${NS[web1]}" nft list table inet policyd | grep admins-ssh | sed 's/^[[:space:]]*/   /' || true
}
# acl_has ADDR: web1's kernel holds an acl element for ADDR . tcp . 22
# (exact addresses in acl4, prefixes and ranges in acl4r)
acl_has() {
	local s
	for s in acl4 acl4r; do
		ip netns exec "${NS[web1]}" nft get element inet policyd "$s" "{ $1 . tcp . 22 }" \
			>/dev/null 2>&1 && return 0
	done
	return 1
}
acl_alice_only() { acl_has "${VPN[alice]}" && ! acl_has "${VPN[bob]}"; }
acl_both() { acl_has "${VPN[alice]}" && acl_has "${VPN[bob]}"; }
pings() { ip netns exec "${NS[$1]}" ping -c 1 -W 1 "${VPN[web1]}" >/dev/null 2>&1; }

# ---- 1. the machines ---------------------------------------------------------------

step "The machines: four network namespaces, nothing protected yet"
for n in web1 alice bob internet; do netns_add "${NS[$n]}"; done
veth_add "${NS[web1]}" wi$$ "${NS[internet]}" iw$$
veth_add "${NS[alice]}" ai$$ "${NS[internet]}" ia$$
veth_add "${NS[bob]}" bi$$ "${NS[internet]}" ib$$
addr_add "${NS[web1]}" wi$$ "${PUB4[web1]}/24"
addr_add "${NS[internet]}" iw$$ "${PUB4[internet]}/24"
addr_add "${NS[alice]}" ai$$ "${PUB4[alice]}/28"
addr_add "${NS[internet]}" ia$$ 203.0.113.1/28
addr_add "${NS[bob]}" bi$$ "${PUB4[bob]}/28"
addr_add "${NS[internet]}" ib$$ 203.0.113.17/28
ip -n "${NS[web1]}" route add default via "${PUB4[internet]}"
ip -n "${NS[alice]}" route add default via 203.0.113.1
ip -n "${NS[bob]}" route add default via 203.0.113.17
# the internet namespace routes between the three (its own sysctl, not the machine's)
ip netns exec "${NS[internet]}" sysctl -qw net.ipv4.ip_forward=1

# web1's sshd: its own config, host key and authorized_keys in $T.  sshd
# insists on /run/sshd; it gets a private tmpfs /run in a mount namespace of
# its own rather than a directory on this machine.
mkdir -m 0700 "$T/sshd"
ssh-keygen -q -t ed25519 -N '' -C web1-host -f "$T/sshd/host_ed25519"
cat >"$T/sshd/sshd_config" <<EOF
Port 22
AddressFamily inet
ListenAddress 0.0.0.0
HostKey $T/sshd/host_ed25519
PidFile none
AuthorizedKeysFile $T/sshd/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# the temporary directory lives under /tmp, which StrictModes rejects
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
LogLevel VERBOSE
EOF
: >"$T/sshd/authorized_keys"
# shellcheck disable=SC2016 # $1 and $2 belong to sh -c
netns_bg "${NS[web1]}" unshare --mount --propagation private sh -c \
	'mount -t tmpfs -o mode=0755 demo-run /run && mkdir -m 0755 /run/sshd &&
	 exec /usr/sbin/sshd -D -f "$1" -E "$2"' sh "$T/sshd/sshd_config" "$T/sshd/sshd.log" \
	>"$T/sshd/sshd.out" 2>&1
SSHD_PID=$PDT_LAST_PID
wait_until 10 netns_listening "${NS[web1]}" 22 || diag "sshd: $(tail -n 5 "$T/sshd/sshd.out" "$T/sshd/sshd.log")"
listeners_start "${NS[web1]}" 25 80 443
cd "$T"
say "web1      public ${PUB4[web1]}: sshd on 22 (pid $SSHD_PID), TCP services on 25, 80, 443" \
	"alice     a laptop at ${PUB4[alice]}" \
	"bob       a laptop at ${PUB4[bob]}" \
	"internet  ${PUB4[internet]}: the router between them, and a scanner" \
	"(namespaces are shown without their $PDT_PREFIX- prefix; commands run in $T)"
claim "web1 listens on 22, 25, 80 and 443" netns_listening "${NS[web1]}" 22 25 80 443
claim "sshd runs in web1's namespace, not in this machine's" \
	[ "$(ip netns identify "$SSHD_PID")" = "${NS[web1]}" ]
scan internet "${PUB4[web1]}" 22=open 25=open
say "Without policyd, the whole internet can knock on web1's ssh."

# ---- 2. keys and the policy ----------------------------------------------------------

step "Keys: every host makes its own; only public keys go into the policy"
for n in web1 alice bob; do
	mkdir "$n"
	"$POLICYCTL" keygen >"$n.key"
	PUB[$n]=$("$POLICYCTL" pubkey <"$n.key")
	cleanup_file "/var/run/wireguard/${IF[$n]}.sock"
done
shown "policyctl keygen > web1.key; policyctl pubkey < web1.key"
say "${PUB[web1]}"
ssh-keygen -q -t ed25519 -N '' -C alice@laptop -f id_alice
ssh-keygen -q -t ed25519 -N '' -C bob@laptop -f id_bob
cat id_alice.pub id_bob.pub >>"$T/sshd/authorized_keys"
say "alice and bob also have SSH keys, and web1's root accepts both:" \
	"SSH itself would let bob in; whether his packets reach sshd is the policy's call."
claim "key files are mode 0600 (policyd refuses others)" \
	[ "$(stat -c %a web1.key alice.key bob.key | sort -u)" = 600 ]

# policy FILE ADMINS: the demo's policy; ADMINS are the admins group's members
policy() {
	local bobtest='"deny": ["web1:22"]'
	case $2 in *bob*) bobtest='"accept": ["web1:22"]' ;; esac
	cat >"$1.tmp" <<EOF
// policy.json: the same file on every host of the mesh (HuJSON: comments, trailing commas)
{
  "version": 1,
  "network": { "interface": "pd0", "port": 51820, "ipv4": "100.64.0.0/24" },

  // every member of the mesh: its public key, its VPN address, where to reach it
  "nodes": {
    "web1":  { "key": "${PUB[web1]}", "ips": ["${VPN[web1]}"],
               "endpoint": "${PUB4[web1]}:51820", "tags": ["server"] },
    "alice": { "key": "${PUB[alice]}", "ips": ["${VPN[alice]}"] },
    "bob":   { "key": "${PUB[bob]}", "ips": ["${VPN[bob]}"] },
  },

  "groups":   { "admins": [$2] },
  "services": { "ssh": ["tcp:22"], "web": ["tcp:80,443"], "smtp": ["tcp:25"] },

  // the public side: only this; everything else is dropped silently
  "expose": [
    { "id": "web", "on": ["tag:server"], "ports": ["web", "smtp"], "from": ["*"] },
  ],

  // the VPN side: allow-only; WireGuard proves who sent a packet
  "acls": [
    { "id": "admins-ssh", "src": ["group:admins"], "dst": ["tag:server"], "ports": ["ssh", "icmp"] },
  ],

  // checked before anything is applied: a failing test refuses the policy
  "tests": [
    { "src": "internet", "accept": ["web1:25", "web1:80", "web1:443"], "deny": ["web1:22"] },
    { "src": "alice", "accept": ["web1:22"] },
    { "src": "bob", $bobtest },
  ],
}
EOF
	mv "$1.tmp" "$1" # one rename: a daemon never reads half a file
}

step "The policy: one file for the whole mesh"
policy policy.json '"alice"'
shown "cat policy.json"
indent <policy.json
run - "$POLICYCTL" check policy.json
claim "policyctl check accepts it and its tests pass (exit 0)" [ "$RC" -eq 0 ]

# ---- 3. the daemons ---------------------------------------------------------------------

step "policyd on web1, alice and bob, each with its own key and copy of the policy"
for n in web1 alice bob; do
	cp policy.json "$n/policy.json"
	shown "ip netns exec $n policyd --policy $n/policy.json --key $n.key --interface ${IF[$n]} --control $n.ctl --state $n.bans &"
	netns_bg "${NS[$n]}" "$PD" --policy "$n/policy.json" --key "$n.key" \
		--interface "${IF[$n]}" --control "$n.ctl" --state "$n.bans" 2>>"$n.log"
done
say "(--interface: a name unique on this machine, as all three share it; a real host uses the policy's pd0)"
for n in web1 alice bob; do
	wait_until 10 ready "$n" || tail -n 5 "$n.log" | indent
	claim "$n: policyd is up and answers on its control socket" ready "$n"
done
run web1 "$POLICYCTL" status --control web1.ctl
claim "status names node web1 and lists peers alice and bob" \
	bash -c "grep -qx 'node: web1' out && grep -q '^  alice ' out && grep -q '^  bob ' out"
HASH0=$(sed -n 's/.* hash \([0-9a-f]*\) .*/\1/p' out)
run web1 nft list chain inet policyd input
claim "web1's kernel has policyd's table: the VPN interface goes to chain vpn, the rest to public" \
	grep -q "iifname \"${IF[web1]}\" jump vpn" out
acl_lines
claim "the acl is set elements (source . protocol . port), not rules: alice's 22 is in, bob's is not" \
	acl_alice_only
say "(the whole ruleset: policyctl show policy.json --node web1)"

# ---- 4. the internet's view --------------------------------------------------------------

step "The internet's view of web1: only what 'expose' offers"
scan internet "${PUB4[web1]}" 22=filtered 25=open 80=open 443=open
say "filtered = silently dropped: a scanner cannot even tell that sshd runs there."

# ---- 5. alice, over the mesh -------------------------------------------------------------

step "alice is an admin: she reaches web1 over the mesh"
claim "alice's tunnel comes up (ping over the mesh: the acl admits icmp)" wait_until 10 pings alice
run alice ping -c 2 -i 0.2 -W 2 "${VPN[web1]}"
claim "web1 answers alice's pings" [ "$RC" -eq 0 ]
ssh_cmd alice 5
run alice "${SSH[@]}"
claim "alice logs in to web1 over SSH, from her VPN address ${VPN[alice]}" \
	grep -q "logged in as root, connection: ${VPN[alice]} [0-9]* ${VPN[web1]} 22" out

# ---- 6. bob -------------------------------------------------------------------------------

step "bob is not an admin: his tunnel works, his SSH does not"
ssh_cmd bob 3
run bob "${SSH[@]}"
claim "bob's ssh fails: connect times out (the SYN is dropped, not refused)" \
	bash -c "[ $RC -ne 0 ] && grep -q 'timed out' out"
claim "yet bob's tunnel to web1 is up (latest handshake recorded): the firewall refused him, not the mesh" \
	tunnel_up bob
shown "ip netns exec web1 nft list chain inet policyd vpn | grep 'no acl'"
ip netns exec "${NS[web1]}" nft list chain inet policyd vpn | grep 'no acl' | indent || true
claim "web1's kernel counted the dropped packets" \
	bash -c "ip netns exec '${NS[web1]}' nft list chain inet policyd vpn |
		grep 'no acl' | grep -Eq 'counter packets [1-9]'"
run web1 wg show "${IF[web1]}"
claim "wg show (the stock tool) reads policyd's device: peers alice and bob" \
	bash -c "grep -qF -- 'peer: ${PUB[alice]}' out && grep -qF -- 'peer: ${PUB[bob]}' out"

# ---- 7. a live change -----------------------------------------------------------------------

step "A live change: bob joins the admins"
cp web1/policy.json policy.old
policy web1/policy.json '"alice", "bob"'
shown "diff -u policy.old web1/policy.json"
diff -u policy.old web1/policy.json | tail -n +3 | indent || true
claim "web1's policy file changed" differs policy.old web1/policy.json
run - "$POLICYCTL" check web1/policy.json
claim "check accepts the new policy" [ "$RC" -eq 0 ]
run web1 "$POLICYCTL" reload --control web1.ctl
claim "policyctl reload applies it live (exit 0)" [ "$RC" -eq 0 ]
say "(policyd also watches its policy file and reloads on a change by itself;" \
	" policyctl reload asks for it and reports the outcome: a policy that fails to" \
	" parse, validate or pass its tests is refused and the running one stays.)"
RUN_HEAD=4 run web1 "$POLICYCTL" status --control web1.ctl
claim "status reports the new policy (hash $HASH0 before) and the reload ok" \
	bash -c "grep -q '^last reload: ok' out && grep -q ' hash [0-9a-f]' out && ! grep -q ' hash $HASH0 ' out"
acl_lines
claim "web1's kernel set now admits bob . tcp . 22 too (alice and bob are adjacent: one /31)" \
	acl_both
say "(alice's and bob's copies would get the same file; for this rule only web1's matters.)"

step "bob logs in; the internet still sees nothing"
ssh_cmd bob 5
run bob "${SSH[@]}"
claim "bob logs in to web1 over SSH, from his VPN address ${VPN[bob]}" \
	grep -q "logged in as root, connection: ${VPN[bob]} [0-9]* ${VPN[web1]} 22" out
ssh_cmd alice 5
run alice "${SSH[@]}"
claim "alice still logs in" \
	grep -q "logged in as root, connection: ${VPN[alice]} " out
scan internet "${PUB4[web1]}" 22=filtered 443=open

printf '\n%s%d of %d claims held.%s Cleaning up the namespaces.\n' "$B" $((CLAIMS - BROKEN)) "$CLAIMS" "$N"
# shellcheck disable=SC2034 # read by pdt_cleanup in lib.sh: the failures are reported above
TAP_FAILED=$BROKEN
[ "$BROKEN" -eq 0 ]
