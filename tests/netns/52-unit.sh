#!/usr/bin/env bash
# The shipped systemd unit, checked without a running systemd (CI has none):
#   - `systemd-analyze verify` accepts it, and its exposure score stays low;
#   - its seccomp allow-list holds every system call policyd makes. The
#     allow-list is what the unit's SystemCallFilter= lines resolve to with
#     this systemd's own groups; the calls are what strace sees policyd (all
#     threads) make while it starts, carries traffic, reloads, answers
#     status, opens and closes breakglass, bans a peer and lifts the ban, and
#     stops. A call outside the
#     list would have the daemon killed with SIGSYS under systemd.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

require_tools ip wg nft strace systemd-analyze ping
PD=${POLICYD:-$PDT_ROOT/${B:-build}/policyd}
policyctl_find "${B:-build}/policyctl" build/policyctl
[ -x "$PD" ] || bail "policyd missing: $PD (make)"
T=$PDT_TMP
UNIT=$PDT_ROOT/policyd/dist/policyd.service
umask 077

# ---- the unit file --------------------------------------------------------------
mkdir -p "$T/unit"
sed "s|/usr/local/sbin/policyd|$PD|" "$UNIT" >"$T/unit/policyd.service"
if out=$(systemd-analyze verify --man=no "$T/unit/policyd.service" 2>&1); then
	ok "systemd-analyze verify accepts policyd.service"
else
	not_ok "systemd-analyze verify accepts policyd.service: $out"
fi
score=$(systemd-analyze security --offline=yes "$T/unit/policyd.service" 2>/dev/null |
	sed -n 's/.*Overall exposure level for policyd.service: \([0-9.]*\).*/\1/p')
diag "exposure level $score (0 = locked down, 10 = exposed)"
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }'; then
	ok "exposure level $score <= 3.0"
else
	not_ok "exposure level '${score}' <= 3.0"
fi

# ---- the allow-list the unit's SystemCallFilter= lines make ---------------------
systemd-analyze syscall-filter >"$T/groups" 2>/dev/null
grep '^SystemCallFilter=' "$UNIT" | cut -d= -f2- >"$T/filters"
"$PDT_PY" - "$T/groups" "$T/filters" >"$T/allowed" <<'EOF'
import sys
groups, cur = {}, None
for line in open(sys.argv[1]):
    s = line.strip()
    if not s or s.startswith('#'):
        continue
    if not line[0].isspace():
        cur = groups.setdefault(s, [])
    elif cur is not None:
        cur.append(s)
def expand(name, seen=()):
    if not name.startswith('@'):
        return {name}
    out = set()
    for m in groups.get(name, []):
        if m not in seen:
            out |= expand(m, seen + (m,))
    return out
allowed = set()
for i, line in enumerate(open(sys.argv[2])):
    words = line.split()
    neg = words[0].startswith('~')
    if neg:
        words[0] = words[0][1:]
    names = set().union(*(expand(w) for w in words))
    if i == 0 and neg:
        sys.exit('the first SystemCallFilter= must be an allow-list')
    allowed = allowed - names if neg else allowed | names
print('\n'.join(sorted(allowed)))
EOF
n=$(wc -l <"$T/allowed")
if [ "$n" -gt 100 ] && grep -qx capset "$T/allowed" && ! grep -qx reboot "$T/allowed"; then
	ok "the unit's filter resolves to $n allowed calls (capset in, reboot out)"
else
	not_ok "the unit's filter resolves ($n calls)"
fi

# ---- policyd under strace, doing everything it does -------------------------------
NSW=$PDT_PREFIX-web1 NSA=$PDT_PREFIX-alice IFW=pdu$$ IFA=pdv$$
netns_add "$NSW"
netns_add "$NSA"
veth_add "$NSW" uw$$ "$NSA" ua$$
addr_add "$NSW" uw$$ 198.51.100.1/24
addr_add "$NSA" ua$$ 198.51.100.2/24
for n in web1 alice; do wg genkey >"$T/$n.key"; done
cleanup_file "/var/run/wireguard/$IFW.sock"
cleanup_file "/var/run/wireguard/$IFA.sock"
cat >"$T/policy.json" <<EOF
{
  "version": 1,
  "network": { "ipv4": "100.64.0.0/24" },
  "nodes": {
    "web1":  { "key": "$(wg pubkey <"$T/web1.key")", "ips": ["100.64.0.1"], "endpoint": "198.51.100.1:51820" },
    "alice": { "key": "$(wg pubkey <"$T/alice.key")", "ips": ["100.64.0.2"] },
    "carol": { "key": "$(wg genkey | wg pubkey)", "ips": ["100.64.0.3"] }
  },
  "acls": [ { "id": "ping", "src": ["alice"], "dst": ["web1"], "ports": ["icmp", "tcp:22"] } ],
  "breakglass": { "holders": ["alice"], "ports": ["tcp:22"], "ttl": "10m", "minHolders": 1 }
}
EOF
netns_bg "$NSW" strace -f -qq -o "$T/trace" "$PD" --policy "$T/policy.json" --key "$T/web1.key" \
	--interface "$IFW" --control "$T/web1.ctl" --state "$T/web1.bans" 2>"$T/web1.log"
STRACE=$PDT_LAST_PID
netns_bg "$NSA" "$PD" --policy "$T/policy.json" --key "$T/alice.key" --interface "$IFA" \
	--control "$T/alice.ctl" --state "$T/alice.bans" 2>"$T/alice.log"
quiet() { "$@" >/dev/null; }
ctl() { ip netns exec "$NSW" "$POLICYCTL" "$@" --control "$T/web1.ctl"; }
ready() { ctl status >/dev/null 2>&1; }
check "policyd starts under strace" wait_until 20 ready
pingable() { ip netns exec "$NSA" ping -c1 -W1 -q 100.64.0.1 >/dev/null 2>&1; }
check "traffic over the mesh" wait_until 20 pingable
ip netns exec "$NSA" ping -c 50 -i 0.01 -q 100.64.0.1 >/dev/null 2>&1 || true
check "reload" quiet ctl reload
check "status" quiet ctl status
check "breakglass open" quiet ctl breakglass open --from 203.0.113.0/24 --ttl 1m
check "breakglass close" quiet ctl breakglass close --from 203.0.113.0/24
check "flag (a ban: quarantine set, conntrack, state file)" quiet ctl flag carol --reason unit-test
check "reauth" quiet ctl reauth carol
touch "$T/policy.json" && sleep 0.5 # inotify reload
pid=$(pgrep -P "$STRACE" -x policyd || true)
[ -n "$pid" ] || bail "policyd under strace has gone: $(tail -3 "$T/web1.log")"
kill -TERM "$pid"
check "policyd stops on SIGTERM" wait_until 10 bash -c "! kill -0 $STRACE 2>/dev/null"

sed -nE 's/^[0-9]+ +(<\.\.\. )?([a-z0-9_]+)(\(| resumed>).*/\2/p' "$T/trace" | sort -u >"$T/used"
diag "policyd made $(wc -l <"$T/used") distinct system calls"
outside=$(comm -23 "$T/used" "$T/allowed" | { grep -vx execve || true; } | paste -sd" " -)
if [ "$(wc -l <"$T/used")" -gt 20 ] && [ -z "$outside" ]; then
	ok "every system call policyd made is in the unit's allow-list"
else
	not_ok "system calls outside the unit's allow-list: ${outside:-none (trace too short?)}"
fi
tap_finish
