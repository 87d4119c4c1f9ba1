#!/usr/bin/env bash
# The demo (make demo) as a test: every claim it makes becomes a TAP line,
# and it must exit 0. It runs the real policyd on three hosts, sshd, nmap
# from the internet, SSH logins by key over the mesh, and a live reload.
# With B set (make check: build/san) the sanitizer binaries are used.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export POLICYD=${POLICYD:-$root/${B:-build}/policyd}
export POLICYCTL=${POLICYCTL:-$root/${B:-build}/policyctl}
"$here/demo.sh" 2>&1 | sed -u -e 's/\x1b\[[0-9;]*m//g' |
	sed -u -n -e 's/^ *=> yes: \(.*\)/ok - demo: \1/p;t' -e 's/^ *=> NO: \(.*\)/not ok - demo: \1/p;t' \
		-e 's/^/# /p'
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] || echo "not ok - demo.sh exited $rc"
exit "$rc"
