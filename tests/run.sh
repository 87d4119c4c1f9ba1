#!/usr/bin/env bash
# Runs every test suite and ends with one line "N passed, N failed".
#
# Protocol: every suite prints TAP-style lines, "ok - name" or "not ok - name"
# (cmocka with CMOCKA_MESSAGE_OUTPUT=TAP does the same). A suite that exits
# non-zero without printing any "not ok" line counts as one failure, so a crash
# or a missing tool can never pass quietly. Logs: $B/test-logs/<suite>.log.
set -u
cd "$(dirname "$0")/.."
B=${B:-build/san}
export B
export POLICYCTL=${POLICYCTL:-$PWD/$B/policyctl}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
logs=$B/test-logs
mkdir -p "$logs"
passed=0 failed=0
failures=()

run_suite() { # name command...
	local name=$1; shift
	local log=$logs/$name.log t0=$SECONDS rc ok nok
	mkdir -p "$(dirname "$log")"
	"$@" >"$log" 2>&1 </dev/null
	rc=$?
	ok=$(grep -cE '^ok( |$)' "$log")
	nok=$(grep -cE '^not ok( |$)' "$log")
	if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then
		nok=1
		echo "not ok - $name exited $rc without naming a failure" >>"$log"
	fi
	passed=$((passed + ok)); failed=$((failed + nok))
	printf '%-32s %4d passed %4d failed  (%ds)\n' "$name" "$ok" "$nok" $((SECONDS - t0))
	if [ "$nok" -gt 0 ]; then
		failures+=("$name")
		grep -E '^not ok' "$log" | sed 's/^/    /'
		echo "    log: $log"
	fi
}

for t in "$B"/tests/unit/*/* "$B"/tests/unit/*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	run_suite "unit/${t#"$B"/tests/unit/}" env CMOCKA_MESSAGE_OUTPUT=TAP "$t"
done
for s in tests/golden/run.sh tests/schema/run.sh tests/fuzz/run.sh; do
	[ -x "$s" ] && run_suite "${s%/run.sh}" "$s"
done
for s in tests/netns/[0-9]*.sh; do
	[ -x "$s" ] || continue
	run_suite "netns/$(basename "$s" .sh)" timeout --kill-after=10 600 "$s"
done

[ "${#failures[@]}" -gt 0 ] && echo "failing suites: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
