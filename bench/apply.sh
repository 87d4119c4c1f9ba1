#!/usr/bin/env bash
# Apply time and peak memory: `policyctl apply` against `nft -f` of the text
# `policyctl show` prints for the same policy, in the same run, alternating
# A B A B after one warm-up each, every run into a fresh network namespace.
# Before timing, both tools load the ruleset once and the script checks that
# they produce the same number of ACL set elements (and says whether the
# `nft list table` listings are identical), so both do the same work.
# Prints per size the medians, the speed-up (nft time / policyctl time) and
# the memory ratio (policyctl peak RSS / nft peak RSS).
#
#   sudo bench/apply.sh [-r RUNS] [-g "GEN-POLICY OPTIONS"] [SIZES...]
#   defaults: -r 5, sizes 1000 10000 100000; e.g. -g "--ranges" or -g "--ipv6"
#   POLICYCTL=path overrides build/policyctl.
set -euo pipefail
cd "$(dirname "$0")/.."
P=${POLICYCTL:-build/policyctl}
runs=5 gen=""
while getopts r:g: o; do
	case $o in
	r) runs=$OPTARG ;;
	g) gen=$OPTARG ;;
	*) echo "usage: $0 [-r RUNS] [-g GEN-OPTIONS] [SIZES...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
sizes=${*:-1000 10000 100000}
[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces)" >&2; exit 2; }
[ -x "$P" ] || { echo "$0: $P missing: run make" >&2; exit 2; }
for t in nft /usr/bin/time python3 sha256sum; do
	command -v "$t" >/dev/null || { echo "$0: $t missing" >&2; exit 2; }
done

work=$(mktemp -d)
ns="" seq=0
cleanup() {
	[ -z "$ns" ] || ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

ns_new() { seq=$((seq + 1)); ns=pdb-$$-$seq; ip netns add "$ns"; }

# Drop the table synchronously, then the namespace, then let the kernel's
# deferred freeing of the elements finish: none of it inside a timed run.
ns_gone() {
	ip netns exec "$ns" nft delete table inet policyd 2>/dev/null || true
	ip netns del "$ns"; ns=""
	sleep 0.3
}

# One timed run in a fresh namespace: appends "seconds kilobytes" to $1.
# Peak RSS is /usr/bin/time's %M. Wall time is taken around /usr/bin/time
# with a microsecond clock, because %e rounds to 10 ms; it includes
# /usr/bin/time's own start (~5 ms here), the same for both tools. Both run
# inside the namespace, so `ip netns exec` is not counted.
RUNNER='import subprocess, sys, time
t0 = time.perf_counter()
r = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", sys.argv[1]] + sys.argv[2:],
                   stdout=subprocess.DEVNULL)
t = time.perf_counter() - t0
if r.returncode:
    sys.exit("failed: " + " ".join(sys.argv[2:]))
print(f"{t:.4f} {open(sys.argv[1]).read().split()[-1]}")'
timed() {
	local out=$1; shift
	ns_new
	ip netns exec "$ns" python3 -c "$RUNNER" "$work/t" "$@" >> "$out"
	ns_gone
}

# Load once with "$@" and print "ELEMENTS SHA256-OF-LISTING".
loaded() {
	ns_new
	ip netns exec "$ns" "$@" >/dev/null
	ip netns exec "$ns" nft -j list table inet policyd | python3 -c '
import json, sys
d = json.load(sys.stdin)["nftables"]
print(sum(len(x["set"].get("elem", [])) for x in d
          if "set" in x and x["set"]["name"].startswith("acl")))'
	ip netns exec "$ns" nft list table inet policyd | sha256sum | cut -c1-16
	ns_gone
}

echo "# policyctl apply vs nft -f; ${runs} runs each, alternating; medians; generator options: '${gen}'"
printf '%-8s %9s %11s %9s %9s %13s %11s %9s\n' \
	entries elements policyctl_s nft_s speed-up policyctl_MiB nft_MiB mem_ratio
for n in $sizes; do
	# shellcheck disable=SC2086  # $gen is a list of options
	bench/gen-policy.py "$n" $gen > "$work/p.json"
	"$P" show "$work/p.json" --node server > "$work/p.nft"
	mapfile -t a < <(loaded "$P" apply "$work/p.json" --node server)
	mapfile -t b < <(loaded nft -f "$work/p.nft")
	if [ "${a[0]}" != "${b[0]}" ]; then
		echo "$0: N=$n: ACL elements differ: policyctl ${a[0]}, nft -f ${b[0]}" >&2
		exit 1
	fi
	same="identical"; [ "${a[1]}" = "${b[1]}" ] || same="DIFFERENT"
	timed "$work/warm" "$P" apply "$work/p.json" --node server
	timed "$work/warm" nft -f "$work/p.nft"
	: > "$work/a"; : > "$work/b"
	for _ in $(seq "$runs"); do
		timed "$work/a" "$P" apply "$work/p.json" --node server
		timed "$work/b" nft -f "$work/p.nft"
	done
	at=$(cut -d' ' -f1 "$work/a" | median); am=$(cut -d' ' -f2 "$work/a" | median)
	bt=$(cut -d' ' -f1 "$work/b" | median); bm=$(cut -d' ' -f2 "$work/b" | median)
	awk -v n="$n" -v e="${a[0]}" -v at="$at" -v bt="$bt" -v am="$am" -v bm="$bm" 'BEGIN {
		printf "%-8s %9d %11.3f %9.3f %8.2fx %13.1f %11.1f %9.2f\n",
			n, e, at, bt, bt/at, am/1024, bm/1024, am/bm }'
	echo "#   runs (s KiB) policyctl: $(paste -sd, "$work/a"); nft: $(paste -sd, "$work/b"); listings $same"
done
