#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time on a corpus seeded from the
# project's own examples. A crash, leak or sanitizer report fails the suite.
# FUZZ_SECONDS (default 20) per target.
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-20}
fail=0 n=0
for bin in build/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin"); n=$((n + 1))
	corpus=build/fuzz/corpus-$name
	mkdir -p "$corpus"
	seeds=tests/fuzz/seeds/${name#fuzz_}
	case $name in
	fuzz_policy) cp -n tests/golden/*.json tests/golden/errors/*.json schemas/examples/*/*.json "$corpus"/ 2>/dev/null ;;
	esac
	[ -d "$seeds" ] && cp -n "$seeds"/* "$corpus"/ 2>/dev/null
	log=build/fuzz/$name.log
	if "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
		"$corpus" >"$log" 2>&1; then
		echo "ok - $name ran ${secs}s: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') inputs"
	else
		echo "not ok - $name found a failure (see $log)"
		grep -m5 -E 'ERROR|SUMMARY' "$log" | sed 's/^/# /'
		fail=1
	fi
done
[ $n -gt 0 ] || { echo "not ok - no fuzz targets built (make fuzz)"; exit 1; }
exit $fail
