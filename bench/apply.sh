#!/usr/bin/env bash
# Apply time and peak memory: `policyctl apply` against `nft -f` of the text
# `policyctl show` prints for the same policy, in the same run, alternating
# A B A B, each run into a fresh network namespace. Prints medians and ratios.
#   sudo bench/apply.sh [RUNS] [SIZES...]      (defaults: 5; 1000 10000 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
P=${POLICYCTL:-build/policyctl}
runs=${1:-5}; shift || true
sizes=${*:-1000 10000 100000}
[ -x "$P" ] || { echo "build first: make" >&2; exit 1; }
work=$(mktemp -d)
ns=pdb-$$
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# one timed run in a fresh namespace: prints "seconds kilobytes"
timed() {
	ip netns add "$ns"
	/usr/bin/time -f '%e %M' -o "$work/t" ip netns exec "$ns" "$@" >/dev/null
	ip netns del "$ns"
	cat "$work/t"
}

elements() { # count elements in acl4 after applying with "$@"
	ip netns add "$ns"
	ip netns exec "$ns" "$@" >/dev/null
	ip netns exec "$ns" nft -j list set inet policyd acl4 |
		/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin)["nftables"]; print(sum(len(x["set"].get("elem",[])) for x in d if "set" in x))'
	ip netns del "$ns"
}

printf '%-8s %12s %12s %9s %12s %12s %9s\n' entries policyctl_s nft_s speedup policyctl_MB nft_MB mem_ratio
for n in $sizes; do
	bench/gen-policy.py "$n" > "$work/p.json"
	"$P" show "$work/p.json" --node server > "$work/p.nft"
	a=$(elements "$P" apply "$work/p.json" --node server)
	b=$(elements nft -f "$work/p.nft")
	[ "$a" = "$b" ] || { echo "element counts differ: policyctl $a, nft $b" >&2; exit 1; }
	timed "$P" apply "$work/p.json" --node server >/dev/null   # warm-up
	timed nft -f "$work/p.nft" >/dev/null
	: > "$work/a"; : > "$work/b"
	for _ in $(seq "$runs"); do
		timed "$P" apply "$work/p.json" --node server >> "$work/a"
		timed nft -f "$work/p.nft" >> "$work/b"
	done
	at=$(cut -d' ' -f1 "$work/a" | median); am=$(cut -d' ' -f2 "$work/a" | median)
	bt=$(cut -d' ' -f1 "$work/b" | median); bm=$(cut -d' ' -f2 "$work/b" | median)
	awk -v n="$n" -v at="$at" -v bt="$bt" -v am="$am" -v bm="$bm" -v e="$a" 'BEGIN {
		printf "%-8s %12.3f %12.3f %8.2fx %12.1f %12.1f %9.2f   (%s set elements each)\n",
			n, at, bt, bt/at, am/1024, bm/1024, am/bm, e }'
done
