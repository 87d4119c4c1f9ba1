#!/usr/bin/env bash
# policyd end to end: three hosts, each running policyd with its own copy of
# one policy and its own private key, and nothing else configured by hand.
#
#   alice 198.51.100.2 ──── 198.51.100.1 web1 203.0.113.1 ──── 203.0.113.2 bob
#   VPN   100.64.0.2                     100.64.0.1                   100.64.0.3
#
# web1 has listeners on 22 and 5432 and the only endpoint; alice and bob dial
# out. Only the admins group (alice) may reach web1:22 over the mesh.
# Checks: the mesh comes up from the policy alone, the ACL holds (bob's
# tunnel is up, his SSH is dropped), `wg show` and `policyctl status` read
# the daemon, a broken policy is refused and the old one stays, a policy that
# grants bob is applied live, kill -9 leaves the table (fail closed) and a
# restart brings the mesh back, and a key file readable by others is refused.
# web1 trusts one admin key (--trust): a policy signed with another key, or
# not signed, is refused like a broken one.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

require_tools ip wg nft
PD=${POLICYD:-$PDT_ROOT/${B:-build}/policyd}
policyctl_find "${B:-build}/policyctl" build/policyctl
[ -x "$PD" ] || bail "policyd missing: $PD (make)"
T=$PDT_TMP
umask 077
declare -A NS=([web1]=$PDT_PREFIX-web1 [alice]=$PDT_PREFIX-alice [bob]=$PDT_PREFIX-bob)
declare -A IF=([web1]=pdw$$ [alice]=pda$$ [bob]=pdb$$)
declare -A VPN=([web1]=100.64.0.1 [alice]=100.64.0.2 [bob]=100.64.0.3)
declare -A PID=() PUB=()

ADMIN=$T/admin.key ROGUE=$T/rogue.key
"$POLICYCTL" sign-keygen >"$ADMIN"
"$POLICYCTL" sign-keygen >"$ROGUE"
"$POLICYCTL" sign-pubkey --key "$ADMIN" >"$T/trusted"
for n in web1 alice bob; do
	netns_add "${NS[$n]}"
	wg genkey >"$T/$n.key"
	PUB[$n]=$(wg pubkey <"$T/$n.key")
	mkdir -p "$T/$n"
	cleanup_file "/var/run/wireguard/${IF[$n]}.sock"
done
veth_add "${NS[web1]}" wa$$ "${NS[alice]}" aw$$
veth_add "${NS[web1]}" wb$$ "${NS[bob]}" bw$$
addr_add "${NS[web1]}" wa$$ 198.51.100.1/24
addr_add "${NS[alice]}" aw$$ 198.51.100.2/24
addr_add "${NS[web1]}" wb$$ 203.0.113.1/24
addr_add "${NS[bob]}" bw$$ 203.0.113.2/24
ip -n "${NS[bob]}" route add default via 203.0.113.1
listeners_start "${NS[web1]}" 22 5432

# policy FILE ADMINS: the lab policy; ADMINS is the admins group's members
policy() {
	local bobtest='"deny": ["web1:22"]'
	case $2 in *bob*) bobtest='"accept": ["web1:22"]' ;; esac
	cat >"$1.tmp" <<EOF
{
  "version": 1,
  "network": { "interface": "pd0", "port": 51820, "ipv4": "100.64.0.0/24" },
  "nodes": {
    "web1":  { "key": "${PUB[web1]}", "ips": ["${VPN[web1]}"], "endpoint": "198.51.100.1:51820",
               "tags": ["server"] },
    "alice": { "key": "${PUB[alice]}", "ips": ["${VPN[alice]}"] },
    "bob":   { "key": "${PUB[bob]}", "ips": ["${VPN[bob]}"] },
  },
  "groups": { "admins": [$2] },
  "services": { "ssh": ["tcp:22"] },
  "breakglass": { "holders": ["alice"], "ports": ["ssh"], "ttl": "10m", "minHolders": 1 },
  "acls": [
    { "id": "admins-ssh", "src": ["group:admins"], "dst": ["tag:server"], "ports": ["ssh", "icmp"] },
  ],
  "tests": [
    { "src": "alice", "accept": ["web1:22"], "deny": ["web1:5432"] },
    { "src": "bob", $bobtest },
  ],
}
EOF
	mv "$1.tmp" "$1" # one rename: the daemon never reads half a file
}

start() { # NODE
	local n=$1 trust=()
	[ "$n" != web1 ] || trust=(--trust "$T/trusted")
	netns_bg "${NS[$n]}" "$PD" --policy "$T/$n/policy.json" --key "$T/$n.key" \
		--interface "${IF[$n]}" --control "$T/$n.ctl" --state "$T/$n.bans" "${trust[@]}" 2>>"$T/$n.log"
	PID[$n]=$PDT_LAST_PID
}
ctl() { ip netns exec "${NS[$1]}" "$POLICYCTL" "${@:2}" --control "$T/$1.ctl"; }
ready() { ctl "$1" status >/dev/null 2>&1; }
tcp_ok() { # NS ADDR PORT: a TCP connection opens within 3 s
	timeout 3 ip netns exec "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null
}

for n in web1 alice bob; do
	policy "$T/$n/policy.json" '"alice"'
done
"$POLICYCTL" sign --key "$ADMIN" "$T/web1/policy.json" >/dev/null
t_v0=$(date +%s)
cp "$T/web1/policy.json" "$T/v0.json" # kept to be played back later
cp "$T/web1/policy.json.sig" "$T/v0.json.sig"
for n in web1 alice bob; do
	start "$n"
done
for n in web1 alice bob; do
	if wait_until 10 ready "$n"; then ok "$n: policyd ready"; else
		not_ok "$n: policyd ready: $(tail -n 3 "$T/$n.log")"; fi
done

# ---- the ACL over the mesh ------------------------------------------------------
check "alice reaches web1:22 over the mesh" wait_until 10 tcp_ok "${NS[alice]}" "${VPN[web1]}" 22
if tcp_ok "${NS[alice]}" "${VPN[web1]}" 5432; then not_ok "alice is refused web1:5432"
else ok "alice is refused web1:5432"; fi
if tcp_ok "${NS[bob]}" "${VPN[web1]}" 22; then not_ok "bob is refused web1:22"
else ok "bob is refused web1:22"; fi
hs=$(ip netns exec "${NS[web1]}" wg show "${IF[web1]}" latest-handshakes | awk -v k="${PUB[bob]}" '$1 == k { print $2 }')
if [ "${hs:-0}" -gt 0 ]; then ok "bob's tunnel is up (so the firewall, not the mesh, refused him)"
else not_ok "bob's tunnel is up (wg show: latest handshake '${hs:-}')"; fi
if tcp_ok "${NS[bob]}" 198.51.100.1 22; then not_ok "web1:22 is closed on the public side"
else ok "web1:22 is closed on the public side"; fi

capeff=$(cat /proc/"${PID[web1]}"/task/*/status 2>/dev/null | awk '/^Cap(Eff|Prm)/ { print $2 }' | sort -u | paste -sd, -)
expect_eq "every policyd thread keeps only CAP_NET_ADMIN (port 51820: no CAP_NET_BIND_SERVICE)" "$capeff" 0000000000001000
capbnd=$(cat /proc/"${PID[web1]}"/task/*/status 2>/dev/null | awk '/^CapBnd/ { print $2 }' | sort -u | paste -sd, -)
expect_eq "...and its bounding set holds nothing more than CAP_NET_ADMIN and CAP_NET_BIND_SERVICE" "$capbnd" 0000000000001400

# ---- what the daemon reports ----------------------------------------------------
st=$(ctl web1 status)
diag "$(head -n 4 <<<"$st")"
check "status names the node" grep -q '^node: web1$' <<<"$st"
check "status shows alice with a handshake" grep -Eq '^  alice .*handshake [0-9]+s ago' <<<"$st"
check "wg show reads the daemon's device" \
	bash -c "ip netns exec '${NS[web1]}' wg show '${IF[web1]}' peers | grep -qF -- '${PUB[alice]}'"

# ---- the control socket never waits for a client ------------------------------------
# two clients that connect and stall: one sends half a request, one nothing
netns_bg "${NS[web1]}" "$PDT_PY" -c '
import socket, sys, time
a = socket.socket(socket.AF_UNIX); a.connect(sys.argv[1]); a.send(b"sta")
b = socket.socket(socket.AF_UNIX); b.connect(sys.argv[1])
open(sys.argv[2], "w").close()
time.sleep(8)' "$T/web1.ctl" "$T/stalled"
STALL=$PDT_LAST_PID
wait_until 5 test -e "$T/stalled" || true
t0=$(date +%s%N)
if ctl web1 status >/dev/null; then
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ "$ms" -lt 1000 ]; then ok "status answers in $ms ms while two clients stall"
	else not_ok "status answers within 1 s while two clients stall (took $ms ms)"; fi
else
	not_ok "status answers while two clients stall"
fi
pdt_stop "$STALL"

# ---- a broken policy is refused, the old one stays ------------------------------
cp "$T/web1/policy.json" "$T/good.json"
printf '{ "version": 1, "nodes": { "web1": { "key": 12 } } }\n' >"$T/web1/policy.json.tmp"
mv "$T/web1/policy.json.tmp" "$T/web1/policy.json"
sleep 0.5
if ctl web1 reload >/dev/null 2>&1; then not_ok "policyctl reload refuses a broken policy"
else ok "policyctl reload refuses a broken policy"; fi
check "status reports the failed reload" bash -c "'$POLICYCTL' status --control '$T/web1.ctl' | grep -q 'last reload: FAILED'"
check "after the broken policy alice still reaches web1:22" tcp_ok "${NS[alice]}" "${VPN[web1]}" 22

# ---- an SSH-like session open across the reloads below ---------------------------
mkdir -p "$T/sess"
netns_bg "${NS[alice]}" "$PDT_PY" "$PDT_DIR/echo.py" session "${VPN[alice]}" "${VPN[web1]}" 22 \
	"$T/sess" >"$T/sess.log" 2>&1
SESS=$PDT_LAST_PID
check "alice opens a session to web1:22" wait_until 10 test -e "$T/sess/phase1"

# ---- a policy that lets bob in: signed by a stranger, then by the admin ---------
policy "$T/web1/policy.json" '"alice", "bob"'
"$POLICYCTL" sign --key "$ROGUE" "$T/web1/policy.json" >/dev/null
sleep 0.5
if out=$(ctl web1 reload 2>&1); then not_ok "a policy signed with another key is refused"
else check "a policy signed with another key is refused" grep -q "signature refused" <<<"$out"; fi
if tcp_ok "${NS[bob]}" "${VPN[web1]}" 22; then not_ok "bob still refused under the rogue policy"
else ok "bob still refused under the rogue policy"; fi
rm -f "$T/web1/policy.json.sig"
if out=$(ctl web1 reload 2>&1); then not_ok "an unsigned policy is refused"
else check "an unsigned policy is refused" grep -q "unsigned policy refused" <<<"$out"; fi
while [ "$(date +%s)" -le "$t_v0" ]; do sleep 0.1; done # signed a second later at least
"$POLICYCTL" sign --key "$ADMIN" "$T/web1/policy.json" >/dev/null
# no `policyctl reload` here: the daemon watches the file and its signature
check "the file watch alone applies the admin-signed policy: bob now reaches web1:22" \
	wait_until 5 tcp_ok "${NS[bob]}" "${VPN[web1]}" 22
check "alice still reaches web1:22" tcp_ok "${NS[alice]}" "${VPN[web1]}" 22
check "the grant went in as set elements, not a new table" \
	grep -q "table inet policyd: diff (" "$T/web1.log"

# ---- someone else changes policyd's table: it is put back ----------------------------
ip netns exec "${NS[web1]}" nft add rule inet policyd public tcp dport 5432 accept
restored() { ! ip netns exec "${NS[web1]}" nft list chain inet policyd public | grep -q 'tcp dport 5432 accept'; }
check "a rule added by nft to table inet policyd is gone within 2 s" wait_until 2 restored
check "...the daemon names who changed it" grep -Eq "table inet policyd changed by nft \(pid [0-9]+" "$T/web1.log"
check "...status reports the restore" bash -c "'$POLICYCTL' status --control '$T/web1.ctl' | grep -q '^table: changed outside policyd 1 time(s), restored each time; last: table inet policyd changed by nft'"
if tcp_ok "${NS[bob]}" 203.0.113.1 5432; then not_ok "...web1:5432 stays closed publicly"
else ok "...web1:5432 stays closed publicly"; fi
# a restore is the policy's table as of now: a ban lifted since an earlier
# restore (which carried it) does not come back with the next one
qset() { ip netns exec "${NS[web1]}" nft list set inet policyd quarantine4 | grep -c '100\.64\.0\.3' || true; }
ctl web1 flag bob --reason "restore test" >/dev/null
ip netns exec "${NS[web1]}" nft add rule inet policyd public tcp dport 5433 accept
check "a second foreign rule is undone too" wait_until 3 bash -c "! ip netns exec '${NS[web1]}' nft list chain inet policyd public | grep -q 'dport 5433'"
expect_eq "...and bob's ban was carried through that restore" "$(qset)" 1
ctl web1 reauth bob >/dev/null
ip netns exec "${NS[web1]}" nft add rule inet policyd public tcp dport 5434 accept
check "a third foreign rule is undone" wait_until 3 bash -c "! ip netns exec '${NS[web1]}' nft list chain inet policyd public | grep -q 'dport 5434'"
expect_eq "...and the ban lifted by reauth did not come back with it" "$(qset)" 0
check "...bob reaches web1:22 over the mesh again" wait_until 10 tcp_ok "${NS[bob]}" "${VPN[web1]}" 22
replayed() { # the first policy, validly signed but older than the one in force
	local out
	if out=$(ctl web1 apply "$T/v0.json" --confirm 30s 2>&1); then return 1; fi
	grep -q "before the policy this host already accepted" <<<"$out"
}
check "an older signed policy played back is refused" replayed
touch "$T/sess/go"
if wait "$SESS" && [ -e "$T/sess/phase2" ]; then
	ok "alice's session opened before the reloads carries on after them"
else
	not_ok "alice's session opened before the reloads carries on after them: $(cat "$T/sess.log")"
fi

# ---- commit-confirmed: rolled back unless confirmed -------------------------------
policy "$T/cc.json" '"alice"' # bob out again
"$POLICYCTL" sign --key "$ADMIN" "$T/cc.json" >/dev/null
if ctl web1 apply "$T/cc.json" --confirm 6s >/dev/null; then
	ok "apply --confirm 6s: applied"
else
	not_ok "apply --confirm 6s: applied"
fi
check "status shows the pending apply" bash -c "'$POLICYCTL' status --control '$T/web1.ctl' | grep -q '^pending: '"
reloads() { ctl web1 status | sed -n 's/^last reload: ok (\([0-9]*\) reloads.*/\1/p'; }
n0=$(reloads)
kill -HUP "${PID[web1]}"
check "SIGHUP while an apply awaits confirm: deferred, not applied" \
	wait_until 3 grep -q "SIGHUP: reload deferred until the apply" "$T/web1.log"
expect_eq "...the pending apply is untouched" "$(reloads)" "$n0"
if tcp_ok "${NS[bob]}" "${VPN[web1]}" 22; then not_ok "while unconfirmed the new policy holds: bob refused"
else ok "while unconfirmed the new policy holds: bob refused"; fi
check "unconfirmed, it is rolled back by itself: bob reaches web1:22 again" \
	wait_until 12 tcp_ok "${NS[bob]}" "${VPN[web1]}" 22
check "status reports the rollback" bash -c "'$POLICYCTL' status --control '$T/web1.ctl' | grep -q 'rolled back'"
check "the deferred reload runs once the apply is rolled back" wait_until 3 \
	grep -q "reload (deferred while an apply awaited confirm): policy applied" "$T/web1.log"
n0=$(reloads)
kill -HUP "${PID[web1]}"
check "SIGHUP reloads the policy" wait_until 3 bash -c "[ \"\$('$POLICYCTL' status --control '$T/web1.ctl' | sed -n 's/^last reload: ok (\([0-9]*\) reloads.*/\1/p')\" = $((n0 + 1)) ]"
ctl web1 apply "$T/cc.json" --confirm 60s >/dev/null || true
if ctl web1 confirm >/dev/null; then ok "policyctl confirm"; else not_ok "policyctl confirm"; fi
check "confirmed: the daemon's policy file is the applied one" cmp -s "$T/cc.json" "$T/web1/policy.json"
check "confirmed: its signature came along" cmp -s "$T/cc.json.sig" "$T/web1/policy.json.sig"
sleep 1
if tcp_ok "${NS[bob]}" "${VPN[web1]}" 22; then not_ok "confirmed: bob stays refused"
else ok "confirmed: bob stays refused"; fi

# ---- breakglass: web1:22 opened publicly for one source range, for a while -------
refused() { # WHAT PATTERN ARGS...: the daemon refuses, saying PATTERN
	local out
	if out=$(ctl web1 breakglass "${@:3}" 2>&1); then not_ok "breakglass refuses $1"
	else check "breakglass refuses $1" grep -q "$2" <<<"$out"; fi
}
if tcp_ok "${NS[bob]}" 203.0.113.1 22; then not_ok "before breakglass web1:22 is closed to bob's network"
else ok "before breakglass web1:22 is closed to bob's network"; fi
refused "the whole internet" "broader than" open --from 0.0.0.0/0
refused "a ttl over the policy's" "longer than the policy" open --from 203.0.113.0/24 --ttl 1h
refused "a range overlapping the mesh" "overlaps the mesh" open --from 100.64.0.0/24
refused "a range holding the mesh" "broader than" open --from 100.0.0.0/8
refused "host bits" "bits set after" open --from 203.0.113.9/24
check "breakglass open --from 203.0.113.0/24 --ttl 20s" ctl web1 breakglass open --from 203.0.113.0/24 --ttl 20s
check "bob's network reaches web1:22 publicly" tcp_ok "${NS[bob]}" 203.0.113.1 22
if tcp_ok "${NS[bob]}" 203.0.113.1 5432; then not_ok "breakglass opens only the breakglass ports (5432 stays closed)"
else ok "breakglass opens only the breakglass ports (5432 stays closed)"; fi
if tcp_ok "${NS[alice]}" 198.51.100.1 22; then not_ok "breakglass opens only for that source (alice's network stays closed)"
else ok "breakglass opens only for that source (alice's network stays closed)"; fi
refused "an overlap with an opening in force" "overlaps" open --from 203.0.113.2/32
st=$(ctl web1 status)
check "status lists the opening and when it closes" grep -Eq '^  203\.0\.113\.0/24 +tcp:22  closes in 0m1[0-9]s' <<<"$st"
ctl web1 reload >/dev/null
check "the opening survives a reload" tcp_ok "${NS[bob]}" 203.0.113.1 22
check "breakglass close" ctl web1 breakglass close --from 203.0.113.0/24
if tcp_ok "${NS[bob]}" 203.0.113.1 22; then not_ok "closed: web1:22 is closed to bob's network again"
else ok "closed: web1:22 is closed to bob's network again"; fi
check "breakglass open --from 203.0.113.0/24 --ttl 5s" ctl web1 breakglass open --from 203.0.113.0/24 --ttl 5s
t_open=$SECONDS

# ---- kill -9: the table stays, a restart brings the mesh back -------------------
rm -rf "$T/sess"; mkdir -p "$T/sess"
netns_bg "${NS[alice]}" "$PDT_PY" "$PDT_DIR/echo.py" session "${VPN[alice]}" "${VPN[web1]}" 22 \
	"$T/sess" 45 >"$T/sess.log" 2>&1
SESS=$PDT_LAST_PID
check "alice opens a session to web1:22 before the kill" wait_until 10 test -e "$T/sess/phase1"
kill -KILL "${PID[web1]}"
pdt_reap "${PID[web1]}"
check "after kill -9 table inet policyd is still in web1's kernel" \
	ip netns exec "${NS[web1]}" nft list table inet policyd
if tcp_ok "${NS[bob]}" 198.51.100.1 5432; then not_ok "after kill -9 web1:5432 stays closed publicly"
else ok "after kill -9 web1:5432 stays closed publicly"; fi
closed_to_bob() { ! tcp_ok "${NS[bob]}" 203.0.113.1 22; }
check "with the daemon dead, the breakglass opening closes by itself" wait_until 12 closed_to_bob
if [ $((SECONDS - t_open)) -ge 4 ]; then ok "...not before its ttl ($((SECONDS - t_open)) s)"
else not_ok "...not before its ttl (closed after $((SECONDS - t_open)) s)"; fi
if tcp_ok "${NS[bob]}" 198.51.100.1 22; then not_ok "after kill -9 web1:22 stays closed publicly"
else ok "after kill -9 web1:22 stays closed publicly"; fi
touch "$T/sess/go" # alice sends while web1's daemon is gone
# the restart takes the table over in one transaction: nft monitor must
# never see a generation in which table inet policyd is gone
netns_bg "${NS[web1]}" nft monitor tables >"$T/monitor" 2>&1
MON=$PDT_LAST_PID
sleep 0.3
start web1
check "restarted policyd ready" wait_until 10 ready web1
sleep 0.3
pdt_stop "$MON"
gap=$(awk '/^delete table inet policyd/ { gone = 1 } /^add table inet policyd/ { gone = 0 }
	/^# new generation/ && gone { print "gap"; exit }' "$T/monitor")
if grep -q '^delete table inet policyd' "$T/monitor" && [ -z "$gap" ]; then
	ok "the restart replaced the table in one transaction, no generation without it"
else
	not_ok "the restart replaced the table in one transaction ($(tr '\n' '|' <"$T/monitor"))"
fi
check "after the restart an older signed policy played back is still refused" replayed
check "after the restart alice reaches web1:22 again" \
	wait_until 20 tcp_ok "${NS[alice]}" "${VPN[web1]}" 22
if wait "$SESS" && [ -e "$T/sess/phase2" ]; then
	ok "alice's session opened before the kill -9 carries on after the restart"
else
	not_ok "alice's session opened before the kill -9 carries on after the restart: $(cat "$T/sess"/phase* "$T/sess.log" 2>/dev/null)"
fi

# ---- a switch the datapath refuses puts the old table back ----------------------
# another program holds UDP 51999 in web1's namespace: a policy moving the
# mesh's port there is refused by the datapath after its table went in
cp "$T/web1/policy.json" "$T/keep.json"
netns_bg "${NS[web1]}" "$PDT_PY" -c '
import socket, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 51999))
time.sleep(120)'
HOLD=$PDT_LAST_PID
sed 's/"port": 51820/"port": 51999/' "$T/keep.json" >"$T/port.json"
"$POLICYCTL" sign --key "$ADMIN" "$T/port.json" >/dev/null
if out=$(ctl web1 apply "$T/port.json" --confirm 30s 2>&1); then
	not_ok "a policy whose port is taken is refused"
else
	check "a policy whose port is taken is refused (by the datapath)" grep -q "peers not configured" <<<"$out"
fi
check "...and the old table is back: the public side admits udp:51820 again" \
	bash -c "ip netns exec '${NS[web1]}' nft list chain inet policyd public | grep -q 'udp dport 51820 accept'"
check "...and alice still reaches web1:22 over the mesh" tcp_ok "${NS[alice]}" "${VPN[web1]}" 22
pdt_stop "$HOLD"

# ---- an address that leaves the policy leaves the interface ------------------------
sed 's/"100\.64\.0\.1"/"100.64.0.11"/' "$T/keep.json" >"$T/addr.json"
"$POLICYCTL" sign --key "$ADMIN" "$T/addr.json" >/dev/null
addrs() { ip -n "${NS[web1]}" -4 -o addr show dev "${IF[web1]}" | awk '{ print $4 }' | paste -sd, -; }
check "apply --confirm 3s of a policy that moves web1 to 100.64.0.11" ctl web1 apply "$T/addr.json" --confirm 3s
expect_eq "web1's interface holds the new address only" "$(addrs)" "100.64.0.11/24"
check "rolled back: the old address is back, alone" wait_until 8 bash -c "[ \"\$(ip -n '${NS[web1]}' -4 -o addr show dev '${IF[web1]}' | awk '{ print \$4 }' | paste -sd, -)\" = 100.64.0.1/24 ]"

# ---- a control group: its members may ask, but not make the daemon read files ------
pdt_stop "${PID[web1]}"
chmod 711 "$T"
mkdir -m 755 "$T/grp"
cp "$POLICYCTL" "$T/grp/policyctl"
chmod 755 "$T/grp/policyctl"
netns_bg "${NS[web1]}" "$PD" --policy "$T/web1/policy.json" --key "$T/web1.key" \
	--interface "${IF[web1]}" --control "$T/grp/web1.ctl" --state "$T/web1.bans" \
	--trust "$T/trusted" --control-group 65534 2>>"$T/web1.log"
PID[web1]=$PDT_LAST_PID
as() { # UID GID[,GROUPS] ARGS...: policyctl as another user
	local ids=$1 groups=(--clear-groups)
	[ "${2#*,}" = "$2" ] || groups=(--groups "${2#*,}")
	ip netns exec "${NS[web1]}" setpriv --reuid "$ids" --regid "${2%%,*}" "${groups[@]}" \
		"$T/grp/policyctl" "${@:3}" --control "$T/grp/web1.ctl"
}
check "policyd --control-group 65534 ready" wait_until 10 bash -c "ip netns exec '${NS[web1]}' '$POLICYCTL' status --control '$T/grp/web1.ctl' >/dev/null 2>&1"
expect_eq "the control socket is 0660, group 65534" "$(stat -c '%a %g' "$T/grp/web1.ctl")" "660 65534"
as_quiet() { as "$@" >/dev/null; }
check "a member of the group (primary gid) may ask status" as_quiet 65534 65534 status
check "a member of the group (supplementary) may ask status" as_quiet 65533 65533,65534 status
if as 65533 65533 status >/dev/null 2>&1; then not_ok "a user outside the group is refused"
else ok "a user outside the group is refused"; fi
if out=$(as 65534 65534 apply "$T/keep.json" --confirm 10s 2>&1); then
	not_ok "a group member may not make the daemon read a file (apply)"
else
	check "a group member may not make the daemon read a file (apply)" grep -q "apply is for root" <<<"$out"
fi
if out=$(as 65534 65534 confirm 2>&1); then
	not_ok "a group member may not confirm"
else
	check "a group member may not confirm" grep -q "confirm is for root" <<<"$out"
fi

# ---- a key file others can read is refused ----------------------------------------
chmod 644 "$T/bob.key"
if timeout 5 ip netns exec "${NS[bob]}" "$PD" --policy "$T/bob/policy.json" --key "$T/bob.key" \
	--interface pdx$$ --control "$T/x.ctl" --state "$T/x.bans" 2>"$T/x.log"; then
	not_ok "a key file of mode 0644 is refused"
else
	check "a key file of mode 0644 is refused" grep -q "mode 0600" "$T/x.log"
fi
tap_finish
