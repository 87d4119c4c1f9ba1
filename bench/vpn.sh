#!/usr/bin/env bash
# Datapath throughput: policyd's userspace WireGuard against wireguard-go.
#
# Two namespaces, client and server, are joined by a veth (underlay
# 198.51.100.0/24). Both ends run the same implementation, each as
# `BIN -f IFNAME` configured with the stock `wg set` and `ip`, and carry
# 100.64.0.0/24 (MTU 1420). The client initiates the handshake, so the server
# is the responder. iperf3 sends client -> server through the tunnel.
# The two implementations take turns, one tunnel at a time, and the order
# swaps every round (A B, B A, ...). Each tunnel is started fresh for its turn
# and stopped after it.
#
#   sudo bench/vpn.sh [-r ROUNDS] [-t SECONDS]
#     iperf3 TCP with 1 and with 4 streams (-P 4).
#   sudo bench/vpn.sh --flood [-r ROUNDS] [-t SECONDS] [-p PPS]
#     iperf3 TCP, 1 stream, on one tunnel: undisturbed, and while a third
#     namespace (203.0.113.2, its own veth into the server namespace) floods
#     the responder's UDP port with 148-byte handshake initiations from a
#     Python loop, as fast as it can or paced to PPS: (a) badmac1: random
#     mac1; (b) mac1: a valid mac1 and no mac2. Unpaced, the rate depends on
#     the CPU the implementation leaves the sender, and the two kept ratios
#     are only comparable when the rates match (the script warns otherwise).
#     The three conditions rotate within each round; a flood starts 1 s
#     before iperf3 and stops after it. Reports the ratio flooded/undisturbed
#     ("kept") per implementation, the packets/s sent and arrived, UDP
#     receive-buffer drops and cookie replies.
#   defaults: 3 rounds, iperf3 for 5 s; ~1.5 min (tput) or ~3 min (flood).
#
# Implementations: wg-go = `wireguard-go` from PATH (Debian's v0.0.20220316);
# ours = ${VPN_OURS:-build/policyd-vpn}. VPN_OURS=wireguard-go measures the
# reference against itself: the ratios should be ~1.0, and how far they are
# from it shows the machine's noise.
#
# Every iperf3 run must succeed, and the server's tunnel interface must have
# received at least the bytes iperf3 counted, or the script stops with status
# 1 and reports no figure. The last lines are `RESULT METRIC wg-go=A ours=B
# ratio=B/A`.
set -euo pipefail
export LC_ALL=C
here=$PWD
cd "$(dirname "$0")/.."

usage() {
	echo "usage: $0 [-r ROUNDS] [-t SECONDS]" >&2
	echo "       $0 --flood [-r ROUNDS] [-t SECONDS] [-p PPS]" >&2
	exit 2
}
mode=tput rounds=3 secs=5 pps=0
args=()
for a in "$@"; do
	case $a in
	--flood) mode=flood ;;
	--*) usage ;;
	*) args+=("$a") ;;
	esac
done
set -- ${args[@]+"${args[@]}"}
while getopts r:t:p: o; do
	case $o in
	p) pps=$OPTARG ;;
	r) rounds=$OPTARG ;;
	t) secs=$OPTARG ;;
	*) usage ;;
	esac
done
[ $# -eq $((OPTIND - 1)) ] || usage
case $rounds$secs$pps in *[!0-9]*) usage ;; esac
[ "$rounds" -ge 1 ] && [ "$secs" -ge 1 ] || usage
[ "$mode" = flood ] || [ "$pps" = 0 ] || usage

[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces)" >&2; exit 2; }
for t in ip wg iperf3 python3 timeout ss wireguard-go sha256sum; do
	command -v "$t" >/dev/null || { echo "$0: $t missing" >&2; exit 2; }
done

# BIN names: a command in PATH, or a path relative to where the script was
# started or else to the repository root
resolve() {
	case $1 in
	*/*)
		case $1 in
		/*) echo "$1" ;;
		*) if [ -e "$here/$1" ]; then echo "$here/$1"; else echo "$PWD/$1"; fi ;;
		esac ;;
	*) command -v "$1" || echo "$1" ;;
	esac
}
bin=("$(resolve wireguard-go)" "$(resolve "${VPN_OURS:-build/policyd-vpn}")")
name=(wg-go ours)
tag=(g o)
[ -x "${bin[1]}" ] || { echo "$0: ${bin[1]} missing: build it or set VPN_OURS" >&2; exit 2; }

# Namespaces and the tunnel interfaces carry our PID. The UAPI sockets in
# /var/run/wireguard are machine-wide, so the tunnel interface names must be
# unique on the machine: pdv<PID><g|o><c|s>, at most 12 characters.
c=pdvc-$$ s=pdvs-$$ f=pdvf-$$
work=$(mktemp -d /tmp/pdv-$$.XXXXXX)
pids=()
ifnames=()
for i in 0 1; do ifnames+=("pdv$$${tag[i]}c" "pdv$$${tag[i]}s"); done

# reap PID: wait for a child we signalled; SIGKILL after 3 s
reap() {
	local i
	for i in $(seq 60); do
		alive "$1" || break
		[ "$i" -eq 30 ] && kill -KILL "$1" 2>/dev/null
		sleep 0.1
	done
	wait "$1" 2>/dev/null || true
}
alive() { local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ "$st" != Z ]; }
# stop PID: SIGTERM, reap, and forget it (a reaped PID may be reused)
stop() {
	local p keep=()
	kill "$1" 2>/dev/null || true
	reap "$1"
	for p in ${pids[@]+"${pids[@]}"}; do [ "$p" = "$1" ] || keep+=("$p"); done
	pids=(${keep[@]+"${keep[@]}"})
}
cleanup() {
	local rc=$? p n
	set +e
	trap - EXIT INT TERM HUP
	for p in ${pids[@]+"${pids[@]}"}; do kill "$p" 2>/dev/null; done
	for p in ${pids[@]+"${pids[@]}"}; do reap "$p"; done
	for n in "$c" "$s" "$f"; do
		# anything still running inside a namespace we created is ours
		for p in $(ip netns pids "$n" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$n" 2>/dev/null
	done
	for n in "${ifnames[@]}"; do rm -f "/var/run/wireguard/$n.sock"; done
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
die() { echo "$0: $*" >&2; exit 1; }

# ---- network ------------------------------------------------------------------

ip netns add "$c"
ip netns add "$s"
ip -n "$c" link add eth0 type veth peer name eth0 netns "$s"
ip -n "$c" addr add 198.51.100.1/24 dev eth0
ip -n "$s" addr add 198.51.100.2/24 dev eth0
for n in "$c" "$s"; do
	ip -n "$n" link set lo up
	ip -n "$n" link set eth0 up
done
if [ "$mode" = flood ]; then
	ip netns add "$f"
	ip -n "$f" link add eth0 type veth peer name eth1 netns "$s"
	ip -n "$f" addr add 203.0.113.2/24 dev eth0
	ip -n "$s" addr add 203.0.113.1/24 dev eth1
	ip -n "$f" link set lo up
	ip -n "$f" link set eth0 up
	ip -n "$s" link set eth1 up
fi

umask 077
for k in c s; do
	wg genkey > "$work/$k.key"
	wg pubkey < "$work/$k.key" > "$work/$k.pub"
done
cpub=$(cat "$work/c.pub") spub=$(cat "$work/s.pub")

# iperf3 server, stopped by PID on exit. `ip netns exec` execs the command,
# so $! is the program's own PID.
ip netns exec "$s" iperf3 -s > "$work/iperf3-s.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	[ "$(ip netns exec "$s" ss -Hltn 'sport = :5201' | wc -l)" -ge 1 ] && break
	sleep 0.1
done

# ---- tunnels ------------------------------------------------------------------

# daemon NS IFNAME BIN: start `BIN -f IFNAME` in NS and wait for its UAPI
# socket and interface; sets $dpid
daemon() {
	local i
	ip netns exec "$1" "$3" -f "$2" >> "$work/$2.log" 2>&1 &
	dpid=$!
	pids+=("$dpid")
	for i in $(seq 100); do
		[ -S "/var/run/wireguard/$2.sock" ] && ip -n "$1" link show "$2" >/dev/null 2>&1 && return 0
		alive "$dpid" || break
		sleep 0.05
	done
	tail -5 "$work/$2.log" >&2
	die "$3 -f $2: no UAPI socket or interface after 5 s"
}

# ping DST TRIES: ICMP echo, one per second until a reply (no iputils here)
ping='
import socket, struct, sys, time
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(1)
for seq in range(int(sys.argv[2])):
    m = struct.pack("!BBHHH", 8, 0, 0, 0x7064, seq) + b"pdv-ping"
    s.sendto(m[:2] + struct.pack("!H", csum(m)) + m[4:], (sys.argv[1], 0))
    end = time.monotonic() + 1
    try:
        while time.monotonic() < end:
            r, a = s.recvfrom(2048)
            h = (r[0] & 15) * 4
            if a[0] == sys.argv[1] and r[h] == 0 and r[h + 4:h + 8] == m[4:8]:
                sys.exit(0)
    except socket.timeout:
        pass
sys.exit(1)'

# up I: start implementation I on both ends, configure it as wg-quick would,
# and wait until a ping crosses the tunnel; sets $ifc $ifs $pc $ps
up() {
	local i
	ifc=pdv$$${tag[$1]}c ifs=pdv$$${tag[$1]}s
	daemon "$s" "$ifs" "${bin[$1]}"; ps=$dpid
	daemon "$c" "$ifc" "${bin[$1]}"; pc=$dpid
	ip netns exec "$s" timeout 10 wg set "$ifs" listen-port 51820 private-key "$work/s.key" \
		peer "$cpub" allowed-ips 100.64.0.2/32
	ip netns exec "$c" timeout 10 wg set "$ifc" listen-port 51820 private-key "$work/c.key" \
		peer "$spub" allowed-ips 100.64.0.1/32 endpoint 198.51.100.2:51820
	ip -n "$s" addr add 100.64.0.1/24 dev "$ifs"
	ip -n "$c" addr add 100.64.0.2/24 dev "$ifc"
	ip -n "$s" link set "$ifs" mtu 1420 up
	ip -n "$c" link set "$ifc" mtu 1420 up
	ip netns exec "$c" timeout 20 python3 -c "$ping" 100.64.0.1 10 && return 0
	tail -5 "$work/$ifs.log" "$work/$ifc.log" >&2
	die "${name[$1]}: no ping through the tunnel in 10 tries"
}

down() {
	local n
	stop "$pc"
	stop "$ps"
	# a daemon should remove its socket; do it for one that did not
	for n in "$ifc" "$ifs"; do rm -f "/var/run/wireguard/$n.sock"; done
}

# UDP counters of the server namespace: InDatagrams RcvbufErrors
udpstat() {
	ip netns exec "$s" awk '/^Udp:/ { if (!h) { for (i = 2; i <= NF; i++) c[$i] = i; h = 1 }
		else print $c["InDatagrams"], $c["RcvbufErrors"] }' /proc/net/snmp
}
rxbytes() { ip netns exec "$s" cat "/sys/class/net/$ifs/statistics/rx_bytes"; }

# gbit STREAMS: iperf3 TCP client -> server through the tunnel for $secs s;
# prints "GBIT/S RETRANSMITS SOCKDROPS": the received rate, the sender's TCP
# retransmissions, and the UDP receive-buffer drops (RcvbufErrors) in the
# server namespace during the run, tunnel and flood datagrams alike. Fails if
# iperf3 fails or if the server's tunnel interface received fewer bytes than
# iperf3 counted.
gbit() {
	local before after out u0 u1 g
	before=$(rxbytes) && u0=$(udpstat) || return 1
	out=$(ip netns exec "$c" timeout $((secs + 30)) iperf3 -c 100.64.0.1 -t "$secs" -P "$1" -J \
		2> "$work/iperf3-c.err") || {
		{ printf '%s\n' "$out" | grep '"error"'; cat "$work/iperf3-c.err"; } >&2
		echo "$0: iperf3 -P $1 failed or timed out" >&2
		return 1
	}
	after=$(rxbytes) && u1=$(udpstat) || return 1
	g=$(printf '%s\n' "$out" | python3 -c '
import json, sys
j = json.load(sys.stdin)
if "error" in j:
    sys.exit("iperf3: " + j["error"])
r = j["end"]["sum_received"]
if r["bytes"] <= 0 or r["bits_per_second"] <= 0:
    sys.exit("iperf3: nothing received")
if int(sys.argv[1]) < r["bytes"]:
    sys.exit("the tunnel interface received %s bytes, iperf3 %d: not through the tunnel" % (sys.argv[1], r["bytes"]))
print("%.4f %d" % (r["bits_per_second"] / 1e9, j["end"]["sum_sent"].get("retransmits", -1)))' $((after - before))) ||
		return 1
	echo "$g $(( ${u1#* } - ${u0#* } ))"
}

# ---- flood --------------------------------------------------------------------

cat > "$work/flood.py" <<'EOF'
# flood.py KIND DST PORT RESPONDER-PUBKEY PPS: send 148-byte handshake
# initiations (type 1) to DST:PORT until SIGTERM, then print what was sent.
# KIND badmac1: random mac1; mac1: valid mac1 = BLAKE2s-128 keyed with
# BLAKE2s-256("mac1----" || responder public key) over the first 116 bytes.
# Everything else is random and mac2 is zero (no cookie). PPS 0: as fast as
# possible; otherwise paced to PPS in bursts of 64.
import base64, hashlib, os, signal, socket, sys, time

kind, dst, port, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[5])
key = hashlib.blake2s(b"mac1----" + base64.b64decode(sys.argv[4])).digest()
pool = []
for _ in range(4096):
    body = b"\x01\0\0\0" + os.urandom(112)  # sender index, ephemeral, static, timestamp
    if kind == "mac1":
        mac1 = hashlib.blake2s(body, digest_size=16, key=key).digest()
    else:
        mac1 = os.urandom(16)
    pool.append(body + mac1 + bytes(16))
assert all(len(p) == 148 for p in pool)
bursts = [pool[i:i + 64] for i in range(0, len(pool), 64)]
stop = False
def term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, term)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((dst, port))
send, recv, now = s.send, s.recv, time.monotonic
sent = errors = cookies = 0
print("ready", flush=True)
t0 = now()
while not stop:
    for burst in bursts:
        for p in burst:
            try:
                send(p)
            except OSError:
                errors += 1
        sent += len(burst)
        if rate:
            ahead = t0 + sent / rate - now()
            if ahead > 0:
                time.sleep(ahead)
        while True:  # the responder's answers: cookie replies are type 3
            try:
                m = recv(2048, socket.MSG_DONTWAIT)
            except OSError:
                break
            cookies += m[:1] == b"\x03"
        if stop:
            break
dt = now() - t0
sent -= errors
print("sent %d secs %.3f pps %.0f errors %d cookies %d" % (sent, dt, sent / dt, errors, cookies))
EOF

flood_rx() { ip netns exec "$s" cat /sys/class/net/eth1/statistics/rx_packets; }

# flooded KIND OUT: gbit 1 while flood.py KIND (badmac1, mac1, or none: no
# flood) runs against the responder; writes one line to OUT:
#   GBIT/S RETRANSMITS SOCKET-DROPS SENT-PPS ARRIVED-PPS COOKIES
# Not to be called in $( ): the flooder must stay this shell's child,
# recorded in $pids.
flooded() {
	local kind=$1 out=$2 fp='' g rx0 rx1 t0 t1 st
	if [ "$kind" != none ]; then
		ip netns exec "$f" python3 "$work/flood.py" "$kind" 203.0.113.1 51820 "$spub" "$pps" \
			> "$work/flood.out" 2>&1 &
		fp=$!
		pids+=("$fp")
		for _ in $(seq 100); do
			grep -q ready "$work/flood.out" && break
			alive "$fp" || break
			sleep 0.1
		done
		grep -q ready "$work/flood.out" || { cat "$work/flood.out" >&2; die "flood.py $kind did not start"; }
		sleep 1
	fi
	t0=$EPOCHREALTIME
	rx0=$(flood_rx) || die "cannot read the server's counters"
	g=$(gbit 1) || die "${name[cur]}: iperf3 with flood $kind failed"
	rx1=$(flood_rx) || die "cannot read the server's counters"
	t1=$EPOCHREALTIME
	if [ -z "$fp" ]; then
		echo "$g - - -" > "$out"
		return 0
	fi
	stop "$fp"
	st=$(tail -1 "$work/flood.out")
	case $st in sent\ *) ;; *) echo "$st" >&2; die "flood.py $kind failed" ;; esac
	set -- $st
	[ "$2" -gt 0 ] && [ "$rx1" -gt "$rx0" ] || die "$kind flood: nothing reached the responder ($st)"
	# the send rate is over the flood's life; arrivals are counted over the
	# iperf3 client's whole run, which may take longer than $secs s: its
	# control connection crosses the flooded tunnel too
	echo "$g $6 $(awk -v n=$((rx1 - rx0)) -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }') ${10}" > "$out"
}

# ---- run ----------------------------------------------------------------------

median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" -v p="${3:-2}" 'BEGIN { if (a == 0) print "nan"; else printf "%.*f\n", p, b / a }'; }
raw() { echo "#   $2 per round (Gbit/s retr sockdrop): $(sed 's/.*/[&]/' "$work/$1" | paste -sd' ')"; }

echo "# bench/vpn.sh ${mode}: $(date -u '+%Y-%m-%d %H:%M UTC'), $rounds rounds, iperf3 ${secs} s"
echo "# host: nproc $(nproc), kernel $(uname -r), $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $(iperf3 --version | head -1); $(python3 --version)"
echo "# wg-go: ${bin[0]} ($(${bin[0]} --version 2>&1 | head -1))"
echo "# ours:  ${bin[1]} (sha256 $(sha256sum "${bin[1]}" | cut -c1-12)); tree $(git rev-parse --short HEAD 2>/dev/null || echo ?)$(git diff --quiet HEAD 2>/dev/null || echo +changes)"
echo "# underlay veth 198.51.100.0/24, tunnel 100.64.0.0/24 MTU 1420, client -> server (responder)"

conds=(none badmac1 mac1)
for r in $(seq "$rounds"); do
	order="0 1"; [ $((r % 2)) -eq 0 ] && order="1 0"
	for i in $order; do
		cur=$i
		up "$i"
		if [ "$mode" = tput ]; then
			for p in 1 4; do
				v=$(gbit "$p") || die "${name[i]}: iperf3 -P $p failed in round $r"
				echo "$v" >> "$work/$i.tcp$p.raw"
				echo "${v%% *}" >> "$work/$i.tcp$p"
				set -- $v
				echo "# round $r ${name[i]} tcp$p $1 Gbit/s, $2 TCP retransmits, $3 UDP rcvbuf drops" >&2
			done
		else
			for k in 0 1 2; do
				cond=${conds[(k + r - 1) % 3]}
				flooded "$cond" "$work/$i.$cond.$r"
				echo "# round $r ${name[i]} $cond: $(cat "$work/$i.$cond.$r")" >&2
				# let "under load" (1 s in wireguard-go) expire before the next condition
				[ "$cond" = none ] || sleep 2
			done
		fi
		down
	done
	echo "# round $r/$rounds done" >&2
done

if [ "$mode" = tput ]; then
	echo "# iperf3 TCP ${secs} s through the tunnel, medians of $rounds rounds (Gbit/s)"
	printf '%-22s %10s %10s %11s\n' metric wg-go ours ours/wg-go
	res=()
	for p in 1 4; do
		a=$(median < "$work/0.tcp$p") b=$(median < "$work/1.tcp$p")
		w="1 stream"; [ "$p" = 4 ] && w="4 streams (-P 4)"
		printf '%-22s %10.2f %10.2f %11s\n' "$w" "$a" "$b" "$(ratio "$a" "$b")"
		raw 0.tcp$p.raw wg-go
		raw 1.tcp$p.raw ours
		res+=("$(printf 'RESULT tcp%s wg-go=%.2f ours=%.2f ratio=%s' "$p" "$a" "$b" "$(ratio "$a" "$b")")")
	done
	printf '%s\n' "${res[@]}"
	exit 0
fi

# flood: per implementation and condition, the medians of each column, and
# "kept": the median of the per-round ratios flooded/undisturbed
echo "# iperf3 TCP 1 stream ${secs} s through the tunnel while 203.0.113.2 floods the responder's"
echo "# port with 148-byte initiations; medians of $rounds rounds. kept: median of the per-round"
echo "# ratios flooded/undisturbed; retr: TCP retransmissions; sockdrop: UDP RcvbufErrors in the"
echo "# server namespace during iperf3 (tunnel and flood datagrams alike); pps: sent by flood.py;"
echo "# arrived: flood packets/s reaching the server namespace; cookies: cookie replies received"
printf '%-6s %-8s %7s %6s %7s %9s %8s %8s %8s\n' impl flood Gbit/s kept retr sockdrop pps arrived cookies
col() { # FILE COLUMN: the median of a column over the rounds
	local r
	for r in $(seq "$rounds"); do awk -v c="$2" '{print $c}' "$work/$1.$r"; done | median
}
for i in 0 1; do
	for cond in none badmac1 mac1; do
		: > "$work/$i.$cond.kept"
		for r in $(seq "$rounds"); do
			ratio "$(cut -d' ' -f1 "$work/$i.none.$r")" "$(cut -d' ' -f1 "$work/$i.$cond.$r")" 4 \
				>> "$work/$i.$cond.kept"
		done
		if [ "$cond" = none ]; then
			printf '%-6s %-8s %7.2f %6s %7.0f %9.0f %8s %8s %8s\n' "${name[i]}" none \
				"$(col "$i.$cond" 1)" - "$(col "$i.$cond" 2)" "$(col "$i.$cond" 3)" - - -
		else
			printf '%-6s %-8s %7.2f %6.2f %7.0f %9.0f %8.0f %8.0f %8.0f\n' "${name[i]}" "$cond" \
				"$(col "$i.$cond" 1)" "$(median < "$work/$i.$cond.kept")" "$(col "$i.$cond" 2)" \
				"$(col "$i.$cond" 3)" "$(col "$i.$cond" 4)" "$(col "$i.$cond" 5)" "$(col "$i.$cond" 6)"
		fi
	done
done
echo "# per round (Gbit/s retr sockdrop pps arrived cookies):"
for i in 0 1; do
	for cond in none badmac1 mac1; do
		echo "#   ${name[i]} $cond: $(for r in $(seq "$rounds"); do printf '[%s] ' "$(cat "$work/$i.$cond.$r")"; done)"
	done
done
a=$(col 0.none 1) b=$(col 1.none 1)
printf 'RESULT flood-none wg-go=%.2f ours=%.2f ratio=%s\n' "$a" "$b" "$(ratio "$a" "$b")"
for cond in badmac1 mac1; do
	a=$(median < "$work/0.$cond.kept") b=$(median < "$work/1.$cond.kept")
	printf 'RESULT flood-%s wg-go=%.2f ours=%.2f ratio=%s\n' "$cond" "$a" "$b" "$(ratio "$a" "$b")"
done
for cond in badmac1 mac1; do
	a=$(col 0.$cond 4) b=$(col 1.$cond 4)
	awk -v a="$a" -v b="$b" -v c="$cond" 'BEGIN { if (b < 0.9 * a || b > 1.1 * a)
		printf "# warning: the %s floods ran at different rates (%.0f vs %.0f pps): their kept\n" \
			"#   ratios are not comparable; pace both with -p PPS\n", c, a, b }' >&2
	printf 'RESULT pps-%s wg-go=%.0f ours=%.0f ratio=%s\n' "$cond" "$a" "$b" "$(ratio "$a" "$b")"
done
