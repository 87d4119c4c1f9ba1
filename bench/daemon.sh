#!/usr/bin/env bash
# policyd start-to-ready time, reload time and memory for meshes of N nodes.
#
#   sudo bench/daemon.sh [-r RUNS] [N...]        (default: 10 1000 10000, 3 runs)
#
# For each N, a generated policy: N nodes (random public keys, one VPN
# address each in 100.64.0.0/10, every node with an endpoint in
# 198.51.100.0/24 and a 25 s keepalive), a group of every tenth node, and
# two ACLs (the group to tag:server on ssh, everyone to web on 443). The
# daemon runs as node 0 in a scratch namespace; "ready" is the time from its
# start until `policyctl status` answers (the control socket opens after the
# interface, every peer and the table are in place). "reload" is the time of
# `policyctl apply NEW --confirm 60s` with one ACL changed in NEW: the same
# read, check and switch as a reload, from a path the file watch does not
# see (a reload of the daemon's own file would find the watch had applied
# it already). RSS is VmRSS after the reload.
# Prints medians; every run must succeed.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3
while getopts r: o; do
	case $o in
	r) runs=$OPTARG ;;
	*) echo "usage: $0 [-r RUNS] [N...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10 1000 10000)
PD=${POLICYD:-build/policyd} PCTL=${POLICYCTL:-build/policyctl}
[ -x "$PD" ] && [ -x "$PCTL" ] || { echo "build first (make)" >&2; exit 1; }
T=$(mktemp -d /tmp/pdbench.XXXXXX)
NS=pdbd-$$ PID=
cleanup() {
	set +e # every step runs, whatever the one before returned
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null || true
	rm -f "/var/run/wireguard/pdbd$$.sock"
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
umask 077

gen() { # N FILE VARIANT: the policy; VARIANT changes one ACL's port
	python3 - "$1" "$3" >"$2" <<'EOF'
import base64, ipaddress, json, os, random, sys
n, variant = int(sys.argv[1]), int(sys.argv[2])
base = ipaddress.ip_address("100.64.0.1")
nodes = {}
with open(os.environ["PDBENCH_KEY0"]) as f:
    key0 = f.read().strip()
for i in range(n):
    key = key0 if i == 0 else base64.b64encode(random.Random(i).randbytes(32)).decode()
    nodes[f"n{i}"] = {"key": key, "ips": [str(base + i)],
                      "endpoint": f"198.51.100.{1 + i % 250}:{51820 + i // 250}",
                      "keepalive": 25, "tags": ["server"] if i % 2 else []}
pol = {"version": 1, "network": {"interface": "pd0", "ipv4": "100.64.0.0/10"},
       "nodes": nodes,
       "groups": {"admins": [f"n{i}" for i in range(0, n, 10)]},
       "acls": [{"id": "ssh", "src": ["group:admins"], "dst": ["tag:server"], "ports": ["tcp:22"]},
                {"id": "web", "src": ["*"], "dst": ["n0"], "ports": [f"tcp:{443 + variant}"]}]}
json.dump(pol, sys.stdout)
EOF
}

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

wg genkey >"$T/key"
mkdir -p "$T/new"
export PDBENCH_KEY0=$T/pub
wg pubkey <"$T/key" >"$T/pub"
printf '# policyd ready / reload / RSS, %s runs each; %s CPUs, kernel %s\n' "$runs" "$(nproc)" "$(uname -r)"
printf '%-8s %10s %10s %10s %12s\n' nodes ready_ms reload_ms rss_MB policy_KB
for n in "${sizes[@]}"; do
	rd=() rl=() rss=()
	for r in $(seq "$runs"); do
		gen "$n" "$T/p.json" 0
		ip netns add "$NS"
		t0=$(now_ms)
		ip netns exec "$NS" "$PD" --policy "$T/p.json" --key "$T/key" --interface "pdbd$$" \
			--control "$T/ctl" --state "$T/bans" 2>"$T/log" &
		PID=$!
		until ip netns exec "$NS" "$PCTL" status --control "$T/ctl" >/dev/null 2>&1; do
			kill -0 "$PID" 2>/dev/null || { cat "$T/log" >&2; exit 1; }
			sleep 0.01
		done
		rd+=($(($(now_ms) - t0)))
		# a changed policy, read, checked and switched to as a reload does; at
		# another path, so the file watch does not apply it first
		gen "$n" "$T/new/p.json" 1
		t0=$(now_ms)
		ip netns exec "$NS" "$PCTL" apply "$T/new/p.json" --confirm 60s --control "$T/ctl" >/dev/null
		rl+=($(($(now_ms) - t0)))
		rss+=($(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$PID/status"))
		kill "$PID"
		wait "$PID" || true
		PID=
		ip netns del "$NS"
	done
	printf '%-8s %10s %10s %10s %12s\n' "$n" "$(printf '%s\n' "${rd[@]}" | median)" \
		"$(printf '%s\n' "${rl[@]}" | median)" "$(printf '%s\n' "${rss[@]}" | median)" \
		$(($(stat -c %s "$T/p.json") / 1024))
done
