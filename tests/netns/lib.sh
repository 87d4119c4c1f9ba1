# shellcheck shell=bash
# Helpers for the end-to-end tests in network namespaces (tests/netns/*.sh), in
# the style of WireGuard's netns.sh.
#
# Every namespace, background process and temporary file a script creates
# through these helpers is recorded, and one EXIT trap removes all of them on
# success, failure, Ctrl-C or timeout alike.  Nothing here touches the
# caller's own network namespace: links are created inside the namespaces.
#
# Use from a script that runs `set -euo pipefail`:
#   . "$(dirname "$0")/lib.sh"
#
# Output is TAP-style: `ok - NAME` / `not ok - NAME`, diagnostics start with
# `#`.  Call tap_finish last: it fails the script if any check failed.
#
# Do not call netns_add / netns_bg inside $( ): the subshell would lose the
# record of what it created.

PDT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PDT_ROOT=$(cd "$PDT_DIR/../.." && pwd)
PDT_PREFIX=pdt-$$
PDT_PY=/usr/bin/python3
PDT_NETNS=()
PDT_PIDS=()
PDT_FILES=()
PDT_LAST_PID=
PDT_ERR=
PDT_TMP=
TAP_N=0
TAP_FAILED=0

# ---- TAP ----------------------------------------------------------------------

diag() { printf '# %s\n' "$*"; }
ok() { TAP_N=$((TAP_N + 1)); printf 'ok - %s\n' "$*"; }
not_ok() { TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); printf 'not ok - %s\n' "$*"; }

# bail NAME: report one failure and stop (cleanup still runs).
bail() { not_ok "$*"; exit 1; }

# check NAME CMD...: ok if CMD succeeds.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# expect_eq NAME GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1 (got '$2', want '$3')"
	fi
}

tap_finish() {
	echo "1..$TAP_N"
	diag "$((TAP_N - TAP_FAILED)) passed, $TAP_FAILED failed"
	[ "$TAP_FAILED" -eq 0 ] && [ "$TAP_N" -gt 0 ]
}

# ---- cleanup ------------------------------------------------------------------

# pdt_reap PID: wait for a child we signalled; SIGKILL it after 2 s.
pdt_reap() {
	local pid=$1 i state
	for i in $(seq 40); do
		state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || state=
		if [ -z "$state" ] || [ "$state" = Z ]; then
			wait "$pid" 2>/dev/null || true
			return 0
		fi
		if [ "$i" -eq 20 ]; then kill -KILL "$pid" 2>/dev/null || true; fi
		sleep 0.1
	done
	wait "$pid" 2>/dev/null || true
}

pdt_cleanup() {
	local rc=$? pid ns f
	set +e
	trap - EXIT INT TERM HUP ERR
	# an abort inside a redirected function would otherwise print there
	exec 1>&"$PDT_STDOUT" 2>&"$PDT_STDERR"
	if [ "$rc" -ne 0 ] && [ "$TAP_FAILED" -eq 0 ]; then
		not_ok "script aborted with status $rc${PDT_ERR:+ ($PDT_ERR)}"
	fi
	for pid in "${PDT_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${PDT_PIDS[@]}"; do pdt_reap "$pid"; done
	for f in "${PDT_FILES[@]}"; do rm -f -- "$f"; done
	for ns in "${PDT_NETNS[@]}"; do
		# anything still running inside a namespace this script created
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	if [ -n "$PDT_TMP" ]; then
		if [ -n "${PDT_KEEP:-}" ]; then diag "kept $PDT_TMP"; else rm -rf "$PDT_TMP"; fi
	fi
	exit "$rc"
}

exec {PDT_STDOUT}>&1 {PDT_STDERR}>&2
set -o errtrace
trap pdt_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'PDT_ERR="line $LINENO: $BASH_COMMAND"' ERR
PDT_TMP=$(mktemp -d "/tmp/$PDT_PREFIX.XXXXXX")

# ---- prerequisites ------------------------------------------------------------

# require_tools TOOL...: every tool must exist, or the script fails loudly.
require_tools() {
	local t missing=()
	[ "$(id -u)" -eq 0 ] || bail "must run as root (creates network namespaces)"
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	[ -x "$PDT_PY" ] || missing+=("$PDT_PY")
	[ "${#missing[@]}" -eq 0 ] && return 0
	for t in "${missing[@]}"; do not_ok "required tool missing: $t (make deps installs it)"; done
	exit 1
}

# policyctl_find CANDIDATE...: set POLICYCTL to an absolute path: $POLICYCTL
# if set (relative to the current directory, else to the repo root), otherwise
# the first executable CANDIDATE (relative to the repo root).  Fails if none.
policyctl_find() {
	local c=
	if [ -n "${POLICYCTL:-}" ]; then
		c=$POLICYCTL
		case $c in
		/*) ;;
		*) if [ -e "$PWD/$c" ]; then c=$PWD/$c; else c=$PDT_ROOT/$c; fi ;;
		esac
	else
		for c in "$@"; do
			[ -x "$PDT_ROOT/$c" ] && break
		done
		c=$PDT_ROOT/$c
	fi
	[ -x "$c" ] || bail "policyctl missing ($c; build it with make or make san)"
	POLICYCTL=$c
}

# ---- namespaces and links -----------------------------------------------------

# netns_add NAME: create a namespace (recorded for cleanup) with lo up.
netns_add() {
	PDT_NETNS+=("$1")
	ip netns add "$1"
	ip -n "$1" link set lo up
}

# veth_add NS1 IF1 NS2 IF2: a veth pair between two namespaces, both ends up.
veth_add() {
	local i
	for i in "$2" "$4"; do
		[ "${#i}" -le 15 ] || bail "interface name longer than 15 characters: $i"
	done
	ip -n "$1" link add "$2" type veth peer name "$4" netns "$3"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

# addr_add NS IF CIDR: add an address; IPv6 skips duplicate address detection
# so that it is usable at once.
addr_add() {
	case $3 in
	*:*) ip -n "$1" addr add "$3" dev "$2" nodad ;;
	*) ip -n "$1" addr add "$3" dev "$2" ;;
	esac
}

# netns_addr_dev NS ADDR: print the interface that holds ADDR in NS.
netns_addr_dev() {
	ip -n "$1" -o addr show | awk -v a="$2" '{ split($4, x, "/"); if (x[1] == a) { print $2; exit } }'
}

# ---- processes ----------------------------------------------------------------

# netns_bg NS CMD...: run CMD in NS in the background; its PID is recorded for
# cleanup and left in PDT_LAST_PID.  Redirect the call to capture its output.
netns_bg() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" &
	PDT_LAST_PID=$!
	PDT_PIDS+=("$PDT_LAST_PID")
}

# cleanup_file PATH: remove PATH on exit, after the background processes are
# gone (e.g. the UAPI socket of a daemon that was killed before it could).
cleanup_file() { PDT_FILES+=("$1"); }

# pdt_stop PID: stop one process this script started and forget it.
pdt_stop() {
	local pid=$1 i keep=()
	kill "$pid" 2>/dev/null || true
	pdt_reap "$pid"
	for i in "${PDT_PIDS[@]}"; do
		[ "$i" = "$pid" ] || keep+=("$i")
	done
	PDT_PIDS=("${keep[@]}")
}

# wait_until SECONDS CMD...: poll CMD every 50 ms until it succeeds.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# netns_listening NS PORT...: true if NS has TCP listeners on every PORT.
netns_listening() {
	local ns=$1 port out
	shift
	out=$(ip netns exec "$ns" ss -Hltn) || return 1
	for port in "$@"; do
		grep -qE "[:.]${port}[[:space:]]" <<<"$out" || return 1
	done
}

# listeners_start NS PORT...: TCP echo listeners (v4 and v6) on every PORT,
# returns once all of them accept connections.
listeners_start() {
	local ns=$1
	shift
	netns_bg "$ns" "$PDT_PY" "$PDT_DIR/echo.py" serve "$@" >>"$PDT_TMP/echo-$ns.log" 2>&1
	if ! wait_until 10 netns_listening "$ns" "$@"; then
		diag "echo listeners in $ns: $(cat "$PDT_TMP/echo-$ns.log")"
		bail "TCP listeners on $* up in $ns"
	fi
}

# ---- nmap ---------------------------------------------------------------------

# nmap_scan NS TARGET PORTS [SRC]: TCP SYN scan of the comma list PORTS from
# NS (from address SRC and its interface if given); prints "PORT STATE" lines
# (open / closed / filtered).  The raw output is appended to $PDT_TMP/nmap.log.
nmap_scan() {
	local ns=$1 target=$2 ports=$3 src=${4:-} ifc out
	local args=(-Pn -n -sS -T4 --max-retries 1 --reason -oG - -p "$ports")
	case $target in *:*) args+=(-6) ;; esac
	if [ -n "$src" ]; then
		ifc=$(netns_addr_dev "$ns" "$src")
		[ -n "$ifc" ] || { diag "nmap_scan: no interface holds $src in $ns"; return 1; }
		args+=(-S "$src" -e "$ifc")
	fi
	if ! out=$(ip netns exec "$ns" nmap "${args[@]}" "$target" 2>&1); then
		diag "nmap failed: $out"
		return 1
	fi
	printf '%s\n' "$out" >>"$PDT_TMP/nmap.log"
	sed -n 's/.*Ports: //p' <<<"$out" | tr ',' '\n' |
		awk -F/ '{ gsub(/[ \t]/, "", $1); if ($1 != "") print $1, $2 }'
}

# nmap_state NS TARGET PORT [SRC]: print open, closed, filtered (or unknown).
nmap_state() {
	local st
	st=$(nmap_scan "$@" | awk -v p="$3" '$1 == p { print $2 }')
	echo "${st:-unknown}"
}

# expect_ports LABEL NS TARGET SRC PORT=STATE...: one nmap run, one TAP line
# per port.  SRC may be "" (the namespace's own address).  A mismatch is
# rescanned once so that one lost probe cannot flip a result; a real rule
# error gives the same answer twice.
expect_ports() {
	local label=$1 ns=$2 target=$3 src=$4 ports spec try bad out got
	shift 4
	ports=$(printf '%s\n' "${@%%=*}" | paste -sd,)
	for try in 1 2; do
		out=$(nmap_scan "$ns" "$target" "$ports" "$src") || out=
		bad=0
		for spec in "$@"; do
			got=$(awk -v p="${spec%%=*}" '$1 == p { print $2 }' <<<"$out")
			[ "$got" = "${spec#*=}" ] || bad=1
		done
		[ "$bad" -eq 0 ] && break
		[ "$try" -eq 1 ] && diag "$label: nmap gave $(tr '\n' ' ' <<<"$out")- rescanning once"
	done
	for spec in "$@"; do
		got=$(awk -v p="${spec%%=*}" '$1 == p { print $2 }' <<<"$out")
		expect_eq "$label -> $target port ${spec%%=*}/tcp is ${spec#*=}" "${got:-unknown}" "${spec#*=}"
	done
}

# ---- nftables -----------------------------------------------------------------

# nft_in NS ARGS...: run nft inside NS.
nft_in() {
	local ns=$1
	shift
	ip netns exec "$ns" nft "$@"
}

# has_table NS FAMILY NAME: true if the table exists in NS.
has_table() {
	ip netns exec "$1" nft list table "$2" "$3" >/dev/null 2>&1
}
