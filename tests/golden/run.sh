#!/usr/bin/env bash
# Golden tests: policy in, nft text out (and error reports out), byte for byte.
#   NAME.json + NAME.node  → `policyctl show NAME.json --node NODE` == NAME.nft
#   errors/NAME.json       → `policyctl check` exits 1 and stderr == errors/NAME.err
# Expiry is evaluated as of a fixed instant so the output never drifts.
# `tests/golden/run.sh --update` rewrites the expected files (review the diff!).
set -u
cd "$(dirname "$0")"
P=$(realpath -m "${POLICYCTL:-../../build/san/policyctl}")
NOW=2026-11-25T00:00:00Z
update=${1:-}
fail=0
[ -x "$P" ] || { echo "not ok - policyctl missing at $P"; exit 1; }
n=0
for j in [0-9]*.json; do
	name=${j%.json}; node=$(cat "$name.node"); n=$((n + 1))
	out=$("$P" show "$j" --node "$node" --now "$NOW" 2>&1); rc=$?
	[ "$update" = --update ] && printf '%s\n' "$out" > "$name.nft"
	if [ $rc -eq 0 ] && [ "$out" = "$(cat "$name.nft" 2>/dev/null)" ]; then
		echo "ok - golden $name"
	else
		echo "not ok - golden $name (rc $rc)"; diff <(printf '%s\n' "$out") "$name.nft" | head -20; fail=1
	fi
	if "$P" check "$j" --now "$NOW" >/dev/null 2>&1; then echo "ok - golden $name passes check"
	else echo "not ok - golden $name fails check"; fail=1; fi
done
for j in errors/*.json; do
	name=${j%.json}; n=$((n + 1))
	out=$(cd errors && "$P" check "$(basename "$j")" --now "$NOW" 2>&1 >/dev/null); rc=$?
	[ "$update" = --update ] && printf '%s\n' "$out" > "$name.err"
	if [ $rc -eq 1 ] && [ "$out" = "$(cat "$name.err" 2>/dev/null)" ]; then
		echo "ok - golden $name"
	else
		echo "not ok - golden $name (rc $rc)"; diff <(printf '%s\n' "$out") "$name.err" | head -20; fail=1
	fi
done
[ $n -ge 14 ] || { echo "not ok - only $n golden cases"; fail=1; }
exit $fail
