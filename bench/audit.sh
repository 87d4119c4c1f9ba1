#!/usr/bin/env bash
# Time and accuracy of a full 65,535-port TCP audit (`policyctl audit
# --ports all`, public zone) of one namespace host, for several nmap tunings.
#
# Two namespaces: a server (node `server` of a small policy, TCP listeners on
# 22 25 80 443 5432, the node's table applied with `policyctl apply`) and an
# internet host that runs the audits. Per tuning, RUNS audits in each of two
# states, alternating:
#   - "policy": the table in place. 65,532 ports must come back filtered
#     (the slow case: every one is a timeout) and 25/80/443 open.
#   - "no table": the table deleted. 65,532 ports must be drift (22 and 5432
#     open, the rest closed) and 25/80/443 match: a second, independent
#     check that every port is read right.
# A port reported wrongly in any run is counted; the target is 0 wrong ports
# in every run and a median of ≤ 30 s for the "policy" state.
#
#   sudo bench/audit.sh [-r RUNS] [TUNING...]
#   TUNING is TIMING:MIN_RATE:MAX_RETRIES (policyctl's --timing, --min-rate,
#   --max-retries); default: the built-in default (4:20000:2) and 4:5000:1,
#   4:50000:1. -r defaults to 10. POLICYCTL=path overrides build/policyctl.
set -euo pipefail
cd "$(dirname "$0")/.."
P=${POLICYCTL:-build/policyctl}
runs=10
while getopts r: o; do
	case $o in
	r) runs=$OPTARG ;;
	*) echo "usage: $0 [-r RUNS] [TIMING:MIN_RATE:MAX_RETRIES...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
tunings=${*:-default 4:5000:1 4:50000:1}
[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces)" >&2; exit 2; }
[ -x "$P" ] || { echo "$0: $P missing: run make" >&2; exit 2; }
P=$(cd "$(dirname "$P")" && pwd)/$(basename "$P")
for t in nft nmap python3 wg ip; do
	command -v "$t" >/dev/null || { echo "$0: $t missing" >&2; exit 2; }
done

S=pdau-$$-s I=pdau-$$-i
work=$(mktemp -d)
srv_pid=
cleanup() {
	[ -z "$srv_pid" ] || { kill "$srv_pid" 2>/dev/null; wait "$srv_pid" 2>/dev/null; } || true
	ip netns del "$S" 2>/dev/null || true
	ip netns del "$I" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$S"
ip netns add "$I"
ip -n "$S" link set lo up
ip -n "$I" link set lo up
ip -n "$S" link add pub0 type veth peer name net0 netns "$I"
ip -n "$S" link set pub0 up
ip -n "$I" link set net0 up
ip -n "$S" addr add 198.51.100.1/24 dev pub0
ip -n "$I" addr add 198.51.100.2/24 dev net0
ip -n "$S" link add pdb$$ type veth peer name pdc$$ # stands in for the VPN interface
ip -n "$S" addr add 100.64.0.1/24 dev pdb$$
ip -n "$S" link set pdb$$ up

ip netns exec "$S" python3 -c '
import socket, threading, time
def serve(p):
    s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0); s.bind(("::", p)); s.listen(128)
    while True: s.accept()[0].close()
for p in (22, 25, 80, 443, 5432): threading.Thread(target=serve, args=(p,), daemon=True).start()
while True: time.sleep(60)' &
srv_pid=$!

cat >"$work/policy.json" <<EOF
{
	"version": 1,
	"network": { "interface": "pdb$$", "ipv4": "100.64.0.0/24" },
	"nodes": {
		"server": { "key": "$(wg genkey | wg pubkey)", "ips": ["100.64.0.1"], "endpoint": "198.51.100.1:51820" },
		"alice": { "key": "$(wg genkey | wg pubkey)", "ips": ["100.64.0.2"] },
	},
	"expose": [ { "id": "web", "on": ["server"], "ports": ["tcp:25,80,443"] } ],
	"acls": [ { "id": "admin", "src": ["alice"], "dst": ["server"], "ports": ["tcp:22,5432"] } ],
}
EOF
for i in $(seq 50); do
	ip netns exec "$S" ss -Hltn | grep -q ':5432 ' && break
	sleep 0.1
done
apply() { ip netns exec "$S" "$P" apply "$work/policy.json" --node server >/dev/null; }
apply

now_us() { date +%s%6N; }
median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# One audit: prints "SECONDS EXIT WRONG" where WRONG counts ports read wrong
# for the state (policy|none).
one() {
	local state=$1 t0 t1 rc=0
	shift
	t0=$(now_us)
	ip netns exec "$I" "$P" audit "$work/policy.json" --node server --target 198.51.100.1 \
		--ports all --json "$@" >"$work/out.json" 2>"$work/err" || rc=$?
	t1=$(now_us)
	python3 - "$work/out.json" "$state" "$rc" $(((t1 - t0) / 1000)) <<'PY'
import json, sys
path, state, rc, ms = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
try:
    j = json.load(open(path))
except Exception:
    print(ms / 1000, rc, 65535); sys.exit()
want_open = {25, 80, 443}
wrong = 0
for p in j["ports"]:
    for port in range(p["first"], p["last"] + 1):
        if state == "policy":
            good = p["observed"] == ("open" if port in want_open else "filtered")
        else:
            good = p["observed"] == ("open" if port in want_open | {22, 5432} else "closed")
        wrong += not good
seen = sum(p["last"] - p["first"] + 1 for p in j["ports"])
wrong += 65535 - seen
want_rc = 0 if state == "policy" else 1
if rc != want_rc:
    wrong = max(wrong, 1)
print(ms / 1000, rc, wrong)
PY
}

printf '%-14s %-8s %5s %9s %9s %9s %7s %s\n' tuning state runs "median s" "min s" "max s" wrong exits
for tune in $tunings; do
	args=()
	if [ "$tune" != default ]; then
		IFS=: read -r tm mr mx <<<"$tune"
		args=(--timing "$tm" --min-rate "$mr" --max-retries "$mx")
	fi
	: >"$work/policy.res"
	: >"$work/none.res"
	for r in $(seq "$runs"); do
		one policy "${args[@]}" >>"$work/policy.res"
		ip netns exec "$S" nft delete table inet policyd
		one none "${args[@]}" >>"$work/none.res"
		apply
	done
	for st in policy none; do
		f=$work/$st.res
		printf '%-14s %-8s %5d %9s %9s %9s %7d %s\n' "$tune" "$st" "$runs" \
			"$(awk '{print $1}' "$f" | median)" "$(awk '{print $1}' "$f" | sort -n | head -1)" \
			"$(awk '{print $1}' "$f" | sort -n | tail -1)" "$(awk '{s+=$3} END {print s}' "$f")" \
			"$(awk '{print $2}' "$f" | sort | uniq -c | awk '{printf "%s×%s ", $1, $2}')"
	done
done
