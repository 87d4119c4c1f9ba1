#!/usr/bin/env bash
# A reload where one ACL element changed, on a big table: as a diff
# (rules_update) against a full replacement (rules_update's replace path,
# and plain rules_apply as every reload did before), alternating in the same
# run, in a fresh network namespace. See bench/reload.c.
#
#   sudo bench/reload.sh [-r ROUNDS] [-g "GEN-POLICY OPTIONS"] [N]
#   defaults: -r 11, N 100000; e.g. -g --ranges for the pipapo sets
#   RELOAD=path overrides build/bench/reload (make bench).
set -euo pipefail
cd "$(dirname "$0")/.."
R=${RELOAD:-build/bench/reload}
rounds=11 gen=""
while getopts r:g: o; do
	case $o in
	r) rounds=$OPTARG ;;
	g) gen=$OPTARG ;;
	*) echo "usage: $0 [-r ROUNDS] [-g GEN-OPTIONS] [N]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
n=${1:-100000}
[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces)" >&2; exit 2; }
[ -x "$R" ] || { echo "$0: $R missing: run make bench" >&2; exit 2; }
command -v python3 >/dev/null || { echo "$0: python3 missing" >&2; exit 2; }

work=$(mktemp -d)
ns=pdb-reload-$$
cleanup() {
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# shellcheck disable=SC2086  # $gen is a list of options
bench/gen-policy.py "$n" $gen > "$work/a.json"
# B: the first rule's port moves (tcp:1 -> tcp:65535 by default): one element
# out, one in
python3 - "$work/a.json" "$work/b.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
r = p["acls"][0]
proto, port = r["ports"][0].split(":")
r["ports"] = [f"{proto}:65000-65001" if "-" in port else f"{proto}:65535"]
json.dump(p, open(sys.argv[2], "w"))
EOF
ip netns add "$ns"
echo "# $R A B server $rounds; N=$n; generator options: '$gen'; $(date -u +%FT%TZ)"
ip netns exec "$ns" "$R" "$work/a.json" "$work/b.json" server "$rounds"
