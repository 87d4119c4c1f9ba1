#!/usr/bin/env bash
# tests/schema/run.sh — schemas/policy.schema.json and policyctl agree on
# every example in schemas/examples/.
#
#   valid/*.json    the schema accepts it, and `policyctl check` exits 0
#                   (which also runs the policy's own tests)
#   invalid/*.json  the schema reports exactly one error, and `policyctl check`
#                   exits 1 reporting exactly one error; the file's first line
#                   says what is wrong: "// expect: ..."
#
# Prints one TAP-style line per check ("ok - ..." / "not ok - ...") and exits
# non-zero if any check failed. POLICYCTL (default build/san/policyctl) must
# exist: a missing compiler is a failure, never a skip.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
POLICYCTL=${POLICYCTL:-build/san/policyctl}
PYTHON=${PYTHON:-/usr/bin/python3} # Debian's python3-jsonschema lives there
schema=schemas/policy.schema.json
validate=schemas/validate.py
examples=schemas/examples
min_valid=10 min_invalid=12

failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { echo "ok - $*"; }
not_ok() {
	echo "not ok - $*"
	failed=$((failed + 1))
}
check() { # name command... : ok if the command succeeds
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
show() { sed 's/^/#   /' "$1"; } # diagnostics, indented as TAP comments

# ---- the tools --------------------------------------------------------------

if ! "$PYTHON" -c 'import jsonschema' 2>/dev/null; then
	not_ok "python jsonschema package available in $PYTHON (apt-get install python3-jsonschema)"
	exit 1
fi

schema_ok() {
	"$PYTHON" - "$schema" >"$tmp/out" 2>&1 <<'EOF'
import json, sys
from jsonschema import Draft202012Validator
s = json.load(open(sys.argv[1]))
assert s.get("$schema") == "https://json-schema.org/draft/2020-12/schema", s.get("$schema")
Draft202012Validator.check_schema(s)
EOF
}
if schema_ok; then ok "$schema is a valid JSON Schema 2020-12"; else not_ok "$schema is a valid JSON Schema 2020-12"; show "$tmp/out"; fi

# validate.py's comment stripper must not touch "//" or "/*" inside strings,
# and must keep "[1,,]" and "{,}" invalid.
hujson_ok() {
	"$PYTHON" - "$validate" >"$tmp/out" 2>&1 <<'EOF'
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("validate", sys.argv[1])
v = importlib.util.module_from_spec(spec); spec.loader.exec_module(v)
text = '{"a": "x//y", /* c */ "b": "/*z*/", "c": ["\\"//", 1,], // d\n}'
got = json.loads(v.hujson_strip(text))
assert got == {"a": "x//y", "b": "/*z*/", "c": ['"//', 1]}, got
assert len(v.hujson_strip(text)) == len(text)
for bad in ('[1,,]', '{,}', '[,]'):
	try:
		json.loads(v.hujson_strip(bad))
	except ValueError:
		continue
	raise AssertionError(bad + " accepted")
try:
	v.hujson_strip('{"a": 1 /* open')
	raise AssertionError("unterminated comment accepted")
except v.HujsonError:
	pass
EOF
}
if hujson_ok; then ok "validate.py strips HuJSON comments but not // or /* in strings"; else not_ok "validate.py strips HuJSON comments but not // or /* in strings"; show "$tmp/out"; fi

rc=0
"$PYTHON" "$validate" "$tmp/no-such-file.json" >/dev/null 2>&1 || rc=$?
check "validate.py exits 2 on a missing file (got $rc)" test "$rc" -eq 2

# ---- the examples -----------------------------------------------------------

shopt -s nullglob
valid=("$examples"/valid/*.json)
invalid=("$examples"/invalid/*.json)
check "at least $min_valid valid examples (found ${#valid[@]})" test "${#valid[@]}" -ge "$min_valid"
check "at least $min_invalid invalid examples (found ${#invalid[@]})" test "${#invalid[@]}" -ge "$min_invalid"

# One validate.py run per directory (python start-up dominates); its output
# is "FILE: /ptr: message", one line per error, so count the lines per file.
lines_of() { awk -v p="$1: " 'index($0, p) == 1' "$2" | wc -l; }

if [ "${#valid[@]}" -gt 0 ]; then
	rc=0
	"$PYTHON" "$validate" "${valid[@]}" >"$tmp/valid.out" 2>&1 || rc=$?
	check "validate.py exits 0 on valid/*.json (got $rc)" test "$rc" -eq 0
	for f in "${valid[@]}"; do
		name=valid/${f##*/}
		n=$(lines_of "$f" "$tmp/valid.out")
		if [ "$n" -eq 0 ]; then
			ok "schema accepts $name"
		else
			not_ok "schema accepts $name ($n errors)"
			grep -F -- "$f: " "$tmp/valid.out" | sed 's/^/#   /' || true
		fi
	done
fi

if [ "${#invalid[@]}" -gt 0 ]; then
	rc=0
	"$PYTHON" "$validate" "${invalid[@]}" >"$tmp/invalid.out" 2>&1 || rc=$?
	check "validate.py exits 1 on invalid/*.json (got $rc)" test "$rc" -eq 1
	for f in "${invalid[@]}"; do
		name=invalid/${f##*/}
		n=$(lines_of "$f" "$tmp/invalid.out")
		if [ "$n" -eq 1 ]; then
			ok "schema rejects $name"
		else
			not_ok "schema rejects $name with exactly one error ($n errors)"
			grep -F -- "$f: " "$tmp/invalid.out" | sed 's/^/#   /' || true
		fi
		check "$name starts with \"// expect: ...\"" grep -qE '^// expect: .+' <(head -n 1 "$f")
	done
fi

# ---- the compiler -------------------------------------------------------------

if [ ! -x "$POLICYCTL" ]; then
	not_ok "policyctl missing at $POLICYCTL"
	exit 1
fi

for f in "${valid[@]}"; do
	name=valid/${f##*/}
	rc=0
	"$POLICYCTL" check "$f" >"$tmp/out" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ]; then ok "policyctl accepts $name"; else not_ok "policyctl accepts $name (exit $rc)"; show "$tmp/out"; fi
done

for f in "${invalid[@]}"; do
	name=invalid/${f##*/}
	rc=0
	"$POLICYCTL" check "$f" >"$tmp/out" 2>&1 || rc=$?
	# errors are "FILE:LINE:COL: /ptr: message"; warnings say "warning: "
	n=$(grep -E "^$f:[0-9]+:[0-9]+: " "$tmp/out" | grep -vc ': warning: ' || true)
	if [ "$rc" -eq 1 ] && [ "$n" -eq 1 ]; then
		ok "policyctl rejects $name"
	else
		not_ok "policyctl rejects $name with exactly one error (exit $rc, $n errors)"
		show "$tmp/out"
	fi
done

[ "$failed" -eq 0 ]
