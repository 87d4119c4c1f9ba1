#!/usr/bin/env bash
# Interop of our userspace WireGuard datapath with Debian's wireguard-go.
#
# Ours follows wireguard-go's command line: `$VPN_OURS -f IFNAME` creates the
# TUN IFNAME and the UAPI socket /var/run/wireguard/IFNAME.sock, and it is
# configured with the stock `wg set` and `ip addr/link` like wireguard-go.
#
#   A: ours             198.51.100.1  2001:db8::1  ──vPIDa──vPIDb──  198.51.100.2  2001:db8::2   B: wireguard-go
#      (roaming)        203.0.113.1                                  203.0.113.2 (after B moves)
#      inner            100.64.0.1    fd7a:115c:a1e0::1              100.64.0.2    fd7a:115c:a1e0::2
#
# Every tunnel is two fresh daemons with fresh interface names; the two ends
# never share state between checks.  Pings are ICMP echoes sent by a small
# raw-socket helper (no iputils needed).
#
#   tests/netns/30-vpn.sh                          # ours = build/policyd-vpn
#   B=build/san tests/netns/30-vpn.sh              # ours = build/san/policyd-vpn
#   VPN_OURS=wireguard-go tests/netns/30-vpn.sh    # the script against itself
# VPN_LOG_LEVEL (default verbose) goes to both daemons as LOG_LEVEL; their
# logs are in the temporary directory (PDT_KEEP=1 keeps it).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

require_tools ip wg tcpdump iperf3 timeout awk
T=$PDT_TMP
umask 077
WG_RUN=/var/run/wireguard

# vpn_resolve PATH|NAME: absolute path of a binary (a bare name is looked up
# in PATH, a relative path is taken from the current directory, else the repo).
vpn_resolve() {
	local c=$1
	case $c in
	/*) ;;
	*/*) if [ -e "$PWD/$c" ]; then c=$PWD/$c; else c=$PDT_ROOT/$c; fi ;;
	*) c=$(command -v -- "$c") || c=$1 ;;
	esac
	printf '%s\n' "$c"
}
OURS=$(vpn_resolve "${VPN_OURS:-$PDT_ROOT/${B:-build}/policyd-vpn}")
THEIRS=$(vpn_resolve "${VPN_THEIRS:-wireguard-go}")
if [ ! -f "$OURS" ] || [ ! -x "$OURS" ]; then
	bail "our datapath binary exists: $OURS (build it with make, or set VPN_OURS)"
fi
if [ ! -f "$THEIRS" ] || [ ! -x "$THEIRS" ]; then
	bail "wireguard-go exists: $THEIRS (make deps installs it)"
fi
diag "ours: $OURS"
diag "theirs: $THEIRS"

# ---- ICMP echo ------------------------------------------------------------------
# vping SIDE DST [-c COUNT] [-i INTERVAL] [-W WAIT] [-I SRC] [-1] [-v]: send COUNT
# echo requests (default 1) every INTERVAL s from SIDE's namespace, then wait
# WAIT s for the last replies; -1 stops at the first reply; -v prints each
# reply and a summary.  Succeeds if any reply came back.
PING_PY='
import os, select, socket, struct, sys, time

def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

args = sys.argv[1:]
dst = args.pop(0)
opt = {"-c": "1", "-i": "0.2", "-W": "1", "-I": None}
flags = set()
while args:
    a = args.pop(0)
    if a in ("-1", "-v"):
        flags.add(a)
    elif a in opt and args:
        opt[a] = args.pop(0)
    else:
        sys.exit("ping: bad option " + a)
count, interval, wait = int(opt["-c"]), float(opt["-i"]), float(opt["-W"])
v6 = ":" in dst
fam = socket.AF_INET6 if v6 else socket.AF_INET
s = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
if opt["-I"]:
    s.bind((opt["-I"], 0))
want = socket.inet_pton(fam, dst)
ident = os.getpid() & 0xFFFF
payload = b"policyd-30-vpn-ping" + bytes(37)
sent, got = 0, set()
start = time.monotonic()
nxt, end = start, None
while True:
    now = time.monotonic()
    if sent < count and now >= nxt:
        hdr = struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, ident, sent)
        if not v6:  # the kernel fills in the ICMPv6 checksum
            hdr = struct.pack("!BBHHH", 8, 0, csum(hdr + payload), ident, sent)
        try:
            s.sendto(hdr + payload, (dst, 0))
        except OSError as e:
            if "-v" in flags:
                print("send seq=%d: %s" % (sent, e.strerror), flush=True)
        sent += 1
        nxt += interval
        if sent == count:
            end = now + wait
    if end is not None and now >= end:
        break
    r, _, _ = select.select([s], [], [], max((end if end is not None else nxt) - now, 0))
    if not r:
        continue
    data, addr = s.recvfrom(4096)
    if not v6:
        data = data[(data[0] & 15) * 4:]
    if len(data) < 8 or socket.inet_pton(fam, addr[0].split("%")[0]) != want:
        continue
    typ, _, _, rid, seq = struct.unpack("!BBHHH", data[:8])
    if typ != (129 if v6 else 0) or rid != ident or seq in got or seq >= sent:
        continue
    got.add(seq)
    if "-v" in flags:
        print("reply seq=%d t=%.2f" % (seq, time.monotonic() - start), flush=True)
    if "-1" in flags:
        break
if "-v" in flags:
    print("%d sent, %d received" % (sent, len(got)), flush=True)
sys.exit(0 if got else 1)
'
vping() {
	local s=$1
	shift
	timeout 30 ip netns exec "${NS[$s]}" "$PDT_PY" -c "$PING_PY" "$@"
}

# ---- the two ends -----------------------------------------------------------------
declare -A NS=([a]=$PDT_PREFIX-a [b]=$PDT_PREFIX-b)
declare -A VETH=([a]=v$$a [b]=v$$b)
declare -A OUT4=([a]=198.51.100.1 [b]=198.51.100.2)
declare -A OUT6=([a]=2001:db8::1 [b]=2001:db8::2)
declare -A IN4=([a]=100.64.0.1 [b]=100.64.0.2)
declare -A IN6=([a]=fd7a:115c:a1e0::1 [b]=fd7a:115c:a1e0::2)
declare -A PORT=([a]=41001 [b]=41002)
declare -A PUB=() IFN=() PID=() WHO=() UP=()
ROAM_A=203.0.113.1 ROAM_B=203.0.113.2
STRAY4=100.64.0.99 STRAY6=fd7a:115c:a1e0::99 # B's addresses outside A's allowed-ips
IF_SEQ=0

other() { if [ "$1" = a ]; then echo b; else echo a; fi; }

# wgn SIDE ARGS...: the stock wg inside SIDE's namespace.
wgn() {
	local s=$1
	shift
	timeout 5 ip netns exec "${NS[$s]}" wg "$@"
}

# wg_peer SIDE WHAT: the value `wg show IF WHAT` gives for SIDE's only peer
# (empty if wg fails).
wg_peer() {
	wgn "$1" show "${IFN[$1]}" "$2" 2>/dev/null |
		awk -v k="${PUB[$(other "$1")]}" '$1 == k { $1 = ""; sub(/^ /, ""); print }' || true
}

# alive PID: the process exists and is not a zombie (no fork: polled often).
alive() {
	local line st
	read -r line 2>/dev/null <"/proc/$1/stat" || return 1
	st=${line##*) }
	[ "${st%% *}" != Z ]
}

# wait_ms MS CMD...: poll CMD every 50 ms for up to MS milliseconds of wall
# clock (an iteration count would stretch on a loaded machine).
wait_ms() {
	local end=$((${EPOCHREALTIME//[!0-9]/} / 1000 + $1))
	shift
	until "$@"; do
		[ $((${EPOCHREALTIME//[!0-9]/} / 1000)) -lt "$end" ] || return 1
		sleep 0.05
	done
}

# vpn_ready SIDE: the daemon has its UAPI socket and TUN, or has exited.
vpn_ready() {
	alive "${PID[$1]}" || return 0
	[ -S "$WG_RUN/${IFN[$1]}.sock" ] && ip -n "${NS[$1]}" link show "${IFN[$1]}" >/dev/null 2>&1
}

# vpn_start SIDE ours|theirs: run `BIN -f IFNAME` in SIDE's namespace with a
# fresh, machine-wide unique IFNAME; wait for its TUN and UAPI socket.
vpn_start() {
	local s=$1 bin=$OURS ifn
	WHO[$s]=ours
	[ "$2" = ours ] || { bin=$THEIRS WHO[$s]=wireguard-go; }
	IF_SEQ=$((IF_SEQ + 1))
	ifn=wg$$x$IF_SEQ
	IFN[$s]=$ifn
	cleanup_file "$WG_RUN/$ifn.sock"
	netns_bg "${NS[$s]}" env LOG_LEVEL="${VPN_LOG_LEVEL:-verbose}" "$bin" -f "$ifn" >"$T/$ifn.log" 2>&1
	PID[$s]=$PDT_LAST_PID
	wait_ms 5000 vpn_ready "$s" || true
	if ! alive "${PID[$s]}"; then
		diag "${WHO[$s]} ($ifn) exited at start: $(tail -n 5 "$T/$ifn.log")"
		return 1
	fi
	if ! [ -S "$WG_RUN/$ifn.sock" ] || ! ip -n "${NS[$s]}" link show "$ifn" >/dev/null 2>&1; then
		diag "${WHO[$s]} ($ifn): no TUN or no $WG_RUN/$ifn.sock after 5 s"
		return 1
	fi
	UP[$s]=1
}

dead() { ! alive "$1"; }

# vpn_stop SIDE: SIGTERM SIDE's daemon; returns 1 if it needed SIGKILL (after
# 2 s), 2 if it had already exited by itself.
vpn_stop() {
	local s=$1 pid=${PID[$1]:-} rc=0
	[ -n "$pid" ] || return 0
	PID[$s]=
	if ! alive "$pid"; then
		rc=2
	else
		kill -TERM "$pid" 2>/dev/null || true
		if ! wait_ms 2000 dead "$pid"; then
			kill -KILL "$pid" 2>/dev/null || true
			rc=1
		fi
	fi
	pdt_stop "$pid"
	return $rc
}

# vpn_conf SIDE ENDPOINT PSKFILE: what wg-quick would do for one peer (the
# other side).  ENDPOINT and PSKFILE may be empty.
vpn_conf() {
	local s=$1 ep=$2 psk=$3 o args
	o=$(other "$s")
	args=(listen-port "${PORT[$s]}" private-key "$T/$s.key"
		peer "${PUB[$o]}" allowed-ips "${IN4[$o]}/32,${IN6[$o]}/128")
	[ -z "$psk" ] || args+=(preshared-key "$psk")
	[ -z "$ep" ] || args+=(endpoint "$ep")
	wgn "$s" set "${IFN[$s]}" "${args[@]}" || return 1
	addr_add "${NS[$s]}" "${IFN[$s]}" "${IN4[$s]}/24" || return 1
	addr_add "${NS[$s]}" "${IFN[$s]}" "${IN6[$s]}/64" || return 1
	ip -n "${NS[$s]}" link set "${IFN[$s]}" mtu 1420 up
}

# tunnel_up ours|theirs ours|theirs INITIATOR [4|6] [PSKFILE_A PSKFILE_B]:
# stop whatever runs, start both ends (A, B); only INITIATOR (a or b) knows the
# other's endpoint, over the outer IPv4 or IPv6 address.
tunnel_up() {
	local ini=$3 fam=${4:-4} s o ep psk
	tunnel_down
	vpn_start a "$1" || return 1
	vpn_start b "$2" || return 1
	for s in a b; do
		o=$(other "$s")
		ep=
		if [ "$s" = "$ini" ]; then
			if [ "$fam" = 6 ]; then ep="[${OUT6[$o]}]:${PORT[$o]}"; else ep="${OUT4[$o]}:${PORT[$o]}"; fi
		fi
		if [ "$s" = a ]; then psk=${5:-}; else psk=${6:-}; fi
		if ! vpn_conf "$s" "$ep" "$psk"; then
			diag "configuring ${WHO[$s]} (${IFN[$s]}) with wg set / ip failed"
			return 1
		fi
	done
}

# tunnel_down: stop both ends.  A daemon that died on its own while its checks
# ran is a failure of its own; one that ignored SIGTERM is a diagnostic (the
# last check tests SIGTERM).
tunnel_down() {
	local s rc
	for s in a b; do
		rc=0
		vpn_stop "$s" || rc=$?
		if [ "$rc" -eq 2 ] && [ -n "${UP[$s]:-}" ]; then
			not_ok "${WHO[$s]} (${IFN[$s]}) was still running when its checks ended"
			tail -n 15 "$T/${IFN[$s]}.log" | sed 's/^/#   log: /'
		elif [ "$rc" -eq 1 ]; then
			diag "${WHO[$s]} (${IFN[$s]}) needed SIGKILL"
		fi
		UP[$s]=
	done
}

# vpn_diag: both ends as wg sees them, and the end of their logs.
vpn_diag() {
	local s
	for s in a b; do
		[ -n "${IFN[$s]:-}" ] || continue
		diag "---- $s: ${WHO[$s]} ${IFN[$s]}"
		wgn "$s" show "${IFN[$s]}" 2>&1 | sed 's/^/#   /' || true
		tail -n 8 "$T/${IFN[$s]}.log" 2>/dev/null | sed 's/^/#   log: /' || true
	done
}

# pcheck NAME CMD...: check, with both ends' state as diagnostics on failure.
pcheck() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; vpn_diag; fi
}

# up_or_fail NAME ARGS...: tunnel_up ARGS, one TAP line for it.
up_or_fail() {
	local name=$1
	shift
	if tunnel_up "$@"; then
		ok "$name"
	else
		not_ok "$name"
		vpn_diag
		return 1
	fi
}

# ---- captures ---------------------------------------------------------------------
# cap_start SIDE IF FILTER: tcpdump in SIDE's namespace into $T/cap.pcap.
cap_start() {
	rm -f "$T/cap.pcap" "$T/cap.log"
	netns_bg "${NS[$1]}" timeout 60 tcpdump -i "$2" -n -U -w "$T/cap.pcap" "$3" >"$T/cap.log" 2>&1
	CAP_PID=$PDT_LAST_PID
	wait_until 5 grep -q "listening on" "$T/cap.log" || { diag "tcpdump: $(cat "$T/cap.log")"; return 1; }
}
# cap_stop: stop the capture, its packets as text in $T/cap.txt.
cap_stop() {
	sleep 0.2 # let the last packets land
	pdt_stop "$CAP_PID"
	timeout 10 tcpdump -n -r "$T/cap.pcap" >"$T/cap.txt" 2>/dev/null || true
}

# ---- the lab ----------------------------------------------------------------------
wg genkey >"$T/a.key"
wg genkey >"$T/b.key"
PUB[a]=$(wg pubkey <"$T/a.key")
PUB[b]=$(wg pubkey <"$T/b.key")
wg genpsk >"$T/psk1"
wg genpsk >"$T/psk2"

netns_add "${NS[a]}"
netns_add "${NS[b]}"
veth_add "${NS[a]}" "${VETH[a]}" "${NS[b]}" "${VETH[b]}"
for s in a b; do
	addr_add "${NS[$s]}" "${VETH[$s]}" "${OUT4[$s]}/24"
	addr_add "${NS[$s]}" "${VETH[$s]}" "${OUT6[$s]}/64"
done
addr_add "${NS[a]}" "${VETH[a]}" "$ROAM_A/24"
# the first packets must not wait for neighbour discovery of the new link
wait_until 5 vping a "${OUT6[b]}" -W 0.2 || bail "outer IPv6 between the namespaces"
check "outer IPv4 between the namespaces" vping a "${OUT4[b]}" -W 1

# ---- 1. ours initiates; wg show; iperf3; keepalive; allowed-ips; roaming ----------
if up_or_fail "ours (A) and wireguard-go (B) up; only ours knows an endpoint" ours theirs a; then
	pcheck "ours initiates: ping ${IN4[b]} from A (v4 inner)" vping a "${IN4[b]}" -1 -c 25
	pcheck "ours initiates: ping ${IN6[b]} from A (v6 inner)" vping a "${IN6[b]}" -1 -c 10
	hs=$(wg_peer b latest-handshakes)
	diag "wireguard-go's latest handshake with ours: ${hs:-none}"
	pcheck "wireguard-go shows a latest handshake with ours" test "${hs:-0}" -gt 0
	expect_eq "wireguard-go learned ours' endpoint from the initiation" \
		"$(wg_peer b endpoints)" "${OUT4[a]}:${PORT[a]}"

	# ---- 9. wg show against ours
	wgn a show "${IFN[a]}" >"$T/show.txt" 2>&1 || true
	sed 's/^/#   /' "$T/show.txt"
	for want in "peer: ${PUB[b]}|the peer" "endpoint: ${OUT4[b]}:${PORT[b]}|its endpoint" \
		"latest handshake: |a latest handshake" "transfer: |its transfer counters" \
		"listening port: ${PORT[a]}|the listening port" "public key: ${PUB[a]}|its own public key"; do
		pcheck "wg show IFNAME (ours) prints ${want#*|}" grep -qF "${want%%|*}" "$T/show.txt"
	done
	hs=$(wg_peer a latest-handshakes)
	diag "ours' latest handshake: ${hs:-none}, now $(date +%s)"
	pcheck "wg show (ours) latest-handshakes is a recent unix time" \
		test "${hs:-0}" -gt $(($(date +%s) - 30)) -a "${hs:-0}" -le $(($(date +%s) + 1))
	read -r rx1 tx1 <<<"$(wg_peer a transfer)" || true
	vping a "${IN4[b]}" -c 5 -i 0.05 -W 0.5 || true
	read -r rx2 tx2 <<<"$(wg_peer a transfer)" || true
	diag "ours' transfer: rx ${rx1:-?} -> ${rx2:-?}, tx ${tx1:-?} -> ${tx2:-?}"
	pcheck "wg show (ours) transfer counters grow with traffic" \
		test "${rx1:-x}" -ge 0 -a "${rx2:-0}" -gt "${rx1:-0}" -a "${tx2:-0}" -gt "${tx1:-0}"
	allowed=$(wg_peer a allowed-ips)
	expect_eq "wg show (ours) allowed-ips" "$allowed" "${IN4[b]}/32 ${IN6[b]}/128"

	# ---- 3. iperf3 both ways
	netns_bg "${NS[b]}" timeout 60 iperf3 -s -B "${IN4[b]}" -p 5201 >"$T/iperf-s.log" 2>&1
	IPERF_PID=$PDT_LAST_PID
	if wait_until 5 netns_listening "${NS[b]}" 5201; then
		for dir in "" -R; do
			label="A -> B (ours sends)"
			[ -z "$dir" ] || label="B -> A (ours receives)"
			mbit=$(timeout 20 ip netns exec "${NS[a]}" iperf3 -c "${IN4[b]}" -p 5201 -t 3 --connect-timeout 5000 -J $dir 2>/dev/null |
				"$PDT_PY" -c 'import json, sys; print("%.1f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6))' \
				2>/dev/null) || mbit=0
			diag "iperf3 TCP $label: $mbit Mbit/s"
			pcheck "iperf3 TCP $label through the tunnel: nonzero throughput" \
				awk -v m="$mbit" 'BEGIN { exit !(m > 0) }'
		done
	else
		not_ok "iperf3 server listening in B"
	fi
	pdt_stop "$IPERF_PID"

	# ---- 5. persistent keepalive from ours, seen on B's wire: UDP length 40
	if cap_start b "${VETH[b]}" "udp and src host ${OUT4[a]} and src port ${PORT[a]} and udp[4:2] = 40"; then
		rx1=$(wg_peer b transfer | awk '{print $1}')
		wgn a set "${IFN[a]}" peer "${PUB[b]}" persistent-keepalive 1 || true
		expect_eq "wg show (ours) persistent-keepalive" "$(wg_peer a persistent-keepalive)" 1
		sleep 3.3
		rx2=$(wg_peer b transfer | awk '{print $1}')
		cap_stop
		n=$(grep -c . "$T/cap.txt" || true)
		diag "keepalives seen in 3.3 s: $n; wireguard-go rx ${rx1:-?} -> ${rx2:-?}"
		pcheck "persistent-keepalive 1 (ours): >= 2 keepalives of 32 bytes on the wire in 3.3 s" \
			test "$n" -ge 2
		pcheck "wireguard-go's rx counter grows with keepalives only" test "${rx2:-0}" -gt "${rx1:-0}"
		wgn a set "${IFN[a]}" peer "${PUB[b]}" persistent-keepalive off || true
	else
		not_ok "tcpdump on ${VETH[b]} in B"
	fi

	# ---- 7. the allowed-IPs source check on receive
	addr_add "${NS[b]}" "${IFN[b]}" "$STRAY4/32"
	addr_add "${NS[b]}" "${IFN[b]}" "$STRAY6/128"
	if cap_start a "${IFN[a]}" "icmp or icmp6"; then
		vping b "${IN4[a]}" -I "$STRAY4" -c 4 -i 0.1 -W 0.8 && r4=replied || r4=none
		vping b "${IN6[a]}" -I "$STRAY6" -c 4 -i 0.1 -W 0.8 && r6=replied || r6=none
		vping b "${IN4[a]}" -c 2 -i 0.1 -W 0.5 || true # a legitimate source: the capture works
		cap_stop
		stray=$(grep -cE "IP6? ($STRAY4|$STRAY6) >" "$T/cap.txt" || true)
		legit=$(grep -cE "IP ${IN4[b]} > ${IN4[a]}: ICMP echo request" "$T/cap.txt" || true)
		expect_eq "source outside allowed-ips (v4 $STRAY4): no reply" "$r4" none
		expect_eq "source outside allowed-ips (v6 $STRAY6): no reply" "$r6" none
		expect_eq "ours delivered none of them to its TUN (tcpdump there)" "$stray" 0
		pcheck "the capture on ours' TUN sees the legitimate echo requests" test "$legit" -gt 0
	else
		not_ok "tcpdump on ours' TUN in A"
	fi
	wgn a set "${IFN[a]}" peer "${PUB[b]}" \
		allowed-ips "${IN4[b]}/32,${IN6[b]}/128,$STRAY4/32,$STRAY6/128" || true
	pcheck "control: once ours allows $STRAY4, it answers" vping b "${IN4[a]}" -I "$STRAY4" -1 -c 10
	pcheck "control: once ours allows $STRAY6, it answers" vping b "${IN6[a]}" -I "$STRAY6" -1 -c 10
	wgn a set "${IFN[a]}" peer "${PUB[b]}" allowed-ips "${IN4[b]}/32,${IN6[b]}/128" || true
	ip -n "${NS[b]}" addr del "$STRAY4/32" dev "${IFN[b]}"
	ip -n "${NS[b]}" addr del "$STRAY6/128" dev "${IFN[b]}"

	# ---- 6. roaming: B's outer address moves while B pings A.  B re-sets its
	# (unchanged) endpoint after the move: wireguard-go 0.0.20220316 sends from
	# the source address it last used, and when that address is gone this
	# kernel answers ENETUNREACH where wireguard-go only retries without the
	# source on EINVAL.  What is tested is A (ours) following B.
	netns_bg "${NS[b]}" "$PDT_PY" -c "$PING_PY" "${IN4[a]}" -c 40 -i 0.1 -W 1 -v >"$T/roam.log" 2>&1
	ROAM_PID=$PDT_LAST_PID
	wait_until 5 grep -q "seq=9 " "$T/roam.log" || true
	addr_add "${NS[b]}" "${VETH[b]}" "$ROAM_B/24"
	ip -n "${NS[b]}" route add "${OUT4[a]}/32" dev "${VETH[b]}" src "$ROAM_B"
	ip -n "${NS[b]}" addr del "${OUT4[b]}/24" dev "${VETH[b]}"
	wgn b set "${IFN[b]}" peer "${PUB[a]}" endpoint "${OUT4[a]}:${PORT[a]}" || true
	moved=$(grep -c '^reply' "$T/roam.log" || true)
	wait_until 10 grep -q "received" "$T/roam.log" || true
	pdt_stop "$ROAM_PID"
	after=$(awk '/^reply/ { sub("seq=", "", $2); if ($2 + 0 >= 25) n++ } END { print n + 0 }' "$T/roam.log")
	diag "roaming ping from B: $(tail -n 1 "$T/roam.log"), $moved replies before the move, $after of seq 25-39 after"
	if [ "$after" -ge 12 ] && [ "$moved" -ge 8 ]; then
		ok "roaming: B's pings kept getting replies after B moved to $ROAM_B"
	else
		not_ok "roaming: B's pings kept getting replies after B moved to $ROAM_B"
		sed 's/^/#   /' "$T/roam.log"
		vpn_diag
	fi
	expect_eq "roaming: ours' endpoint for B followed it" "$(wg_peer a endpoints)" "$ROAM_B:${PORT[b]}"
	pcheck "roaming: ours reaches B at its new address (ping from A)" vping a "${IN4[b]}" -1 -c 10
	# put B back where it was
	ip -n "${NS[b]}" route del "${OUT4[a]}/32" dev "${VETH[b]}"
	addr_add "${NS[b]}" "${VETH[b]}" "${OUT4[b]}/24"
	ip -n "${NS[b]}" addr del "$ROAM_B/24" dev "${VETH[b]}"
fi

# ---- 2. wireguard-go initiates ----------------------------------------------------
if up_or_fail "ours (A) and wireguard-go (B) up again; only wireguard-go knows an endpoint" ours theirs b; then
	pcheck "wireguard-go initiates: ping ${IN4[a]} from B (v4 inner)" vping b "${IN4[a]}" -1 -c 25
	pcheck "wireguard-go initiates: ping ${IN6[a]} from B (v6 inner)" vping b "${IN6[a]}" -1 -c 10
	pcheck "and ours answers pings from A" vping a "${IN4[b]}" -1 -c 10
	expect_eq "ours learned wireguard-go's endpoint from the initiation" \
		"$(wg_peer a endpoints)" "${OUT4[b]}:${PORT[b]}"
	hs=$(wg_peer a latest-handshakes)
	pcheck "ours shows a latest handshake as responder" test "${hs:-0}" -gt 0
fi

# ---- 4. preshared keys ------------------------------------------------------------
for ini in a b; do
	[ "$ini" = a ] && who=ours || who=wireguard-go
	if up_or_fail "PSK on both sides, $who initiates" ours theirs $ini 4 "$T/psk1" "$T/psk1"; then
		pcheck "PSK, $who initiates: ping v4 inner" vping "$ini" "${IN4[$(other $ini)]}" -1 -c 25
		pcheck "PSK, $who initiates: ping v6 inner" vping "$ini" "${IN6[$(other $ini)]}" -1 -c 10
		[ "$ini" = b ] || expect_eq "wg show (ours) preshared-keys returns the PSK" \
			"$(wg_peer a preshared-keys)" "$(cat "$T/psk1")"
	fi
done
for ini in a b; do
	[ "$ini" = a ] && who=ours || who=wireguard-go
	if up_or_fail "mismatched PSKs, $who initiates" ours theirs $ini 4 "$T/psk1" "$T/psk2"; then
		if vping "$ini" "${IN4[$(other $ini)]}" -c 6 -i 0.25 -W 1; then
			not_ok "mismatched PSKs, $who initiates: no connectivity"
			vpn_diag
		else
			ok "mismatched PSKs, $who initiates: no connectivity"
		fi
		expect_eq "mismatched PSKs, $who initiates: ours has no handshake" "$(wg_peer a latest-handshakes)" 0
	fi
done

# ---- 10. IPv6 outer endpoint ------------------------------------------------------
for ini in a b; do
	o=$(other $ini)
	[ "$ini" = a ] && who=ours || who=wireguard-go
	if up_or_fail "outer IPv6: $who initiates to [${OUT6[$o]}]:${PORT[$o]}" ours theirs $ini 6; then
		pcheck "outer IPv6, $who initiates: ping v4 inner" vping "$ini" "${IN4[$o]}" -1 -c 25
		pcheck "outer IPv6, $who initiates: ping v6 inner" vping "$ini" "${IN6[$o]}" -1 -c 10
		expect_eq "outer IPv6, $who initiates: the responder learned [${OUT6[$ini]}]:${PORT[$ini]}" \
			"$(wg_peer "$o" endpoints)" "[${OUT6[$ini]}]:${PORT[$ini]}"
	fi
done

# ---- 8. ours with ours ------------------------------------------------------------
if up_or_fail "ours on both sides up; A initiates" ours ours a; then
	pcheck "ours <-> ours: ping v4 inner from A" vping a "${IN4[b]}" -1 -c 25
	pcheck "ours <-> ours: ping v6 inner from A" vping a "${IN6[b]}" -1 -c 10
	pcheck "ours <-> ours: ping v4 inner from B" vping b "${IN4[a]}" -1 -c 10
	pcheck "ours <-> ours: ping v6 inner from B" vping b "${IN6[a]}" -1 -c 10
	for s in a b; do
		hs=$(wg_peer $s latest-handshakes)
		pcheck "ours <-> ours: $s shows a latest handshake" test "${hs:-0}" -gt 0
	done
	ifa=${IFN[a]}
	UP[a]=
	pcheck "ours exits on SIGTERM within 2 s" vpn_stop a
	pcheck "ours removed its UAPI socket" test ! -e "$WG_RUN/$ifa.sock"
	pcheck "ours' TUN is gone" wait_until 2 eval "! ip -n '${NS[a]}' link show '$ifa' >/dev/null 2>&1"
fi
tunnel_down

# ---- 11. wg-quick drives ours as its userspace implementation (daemon mode) -------
# wg-quick finds no wireguard module, runs $WG_QUICK_USERSPACE_IMPLEMENTATION
# IFNAME without -f and expects it to return once the interface exists; `down`
# deletes the interface, and the daemon must then exit by itself.
ifq=wgq$$
cat >"$T/$ifq.conf" <<EOF
[Interface]
PrivateKey = $(cat "$T/a.key")
Address = ${IN4[a]}/24
ListenPort = ${PORT[a]}

[Peer]
PublicKey = ${PUB[b]}
AllowedIPs = ${IN4[b]}/32
Endpoint = ${OUT4[b]}:${PORT[b]}
EOF
cleanup_file "$WG_RUN/$ifq.sock"
if vpn_start b theirs && vpn_conf b "" ""; then
	if timeout 20 ip netns exec "${NS[a]}" env WG_QUICK_USERSPACE_IMPLEMENTATION="$OURS" \
		wg-quick up "$T/$ifq.conf" >"$T/wg-quick.log" 2>&1; then
		ok "wg-quick up with ours as WG_QUICK_USERSPACE_IMPLEMENTATION"
	else
		not_ok "wg-quick up with ours as WG_QUICK_USERSPACE_IMPLEMENTATION: $(tail -n 3 "$T/wg-quick.log")"
	fi
	qpid=$(ip netns pids "${NS[a]}" | head -n 1)
	if [ -n "$qpid" ]; then
		PDT_PIDS+=("$qpid") # ours, daemonized: stopped on exit if still there
		pcheck "wg-quick/ours: ping v4 inner from A" vping a "${IN4[b]}" -1 -c 25
		timeout 20 ip netns exec "${NS[a]}" env WG_QUICK_USERSPACE_IMPLEMENTATION="$OURS" \
			wg-quick down "$T/$ifq.conf" >>"$T/wg-quick.log" 2>&1 || true
		pcheck "wg-quick down: ours exits by itself once its interface is deleted" \
			wait_ms 3000 dead "$qpid"
		pcheck "wg-quick down: ours removed its UAPI socket" test ! -e "$WG_RUN/$ifq.sock"
	else
		not_ok "wg-quick up left ours running in the background"
	fi
else
	not_ok "wireguard-go up for the wg-quick check"
fi
tunnel_down

tap_finish
