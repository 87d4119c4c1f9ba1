#!/usr/bin/python3
"""TCP echo helpers for the netns tests.

  echo.py serve PORT...
      Listen on every PORT (dual-stack, v4 and v6) and echo what each
      connection sends until it closes.  Runs until killed.

  echo.py session SRC DST PORT DIR [SECONDS]
      Open ONE connection from SRC to DST:PORT, send "one", expect it echoed,
      write DIR/phase1 ("ok LOCALPORT"), wait until DIR/go exists, send "two"
      on the same connection, expect it echoed (within SECONDS, default 5),
      write DIR/phase2.  Exit 0 only if both round trips succeeded on the
      same connection.

  echo.py probe SRC DST PORT
      One connect + round trip with a short timeout; exit 0 if echoed.
"""
import os
import socket
import sys
import threading
import time

TIMEOUT = 5.0


def echo_conn(conn):
    with conn:
        while True:
            try:
                data = conn.recv(4096)
            except OSError:
                return
            if not data:
                return
            conn.sendall(data)


def accept_loop(sock):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=echo_conn, args=(conn,), daemon=True).start()


def serve(ports):
    socks = []
    for port in ports:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", int(port)))
        s.listen(64)
        socks.append(s)
    for s in socks:
        threading.Thread(target=accept_loop, args=(s,), daemon=True).start()
    while True:
        time.sleep(3600)


def connect(src, dst, port, timeout=TIMEOUT):
    family = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect((dst, int(port)))
    return s


def round_trip(s, msg):
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionError("connection closed by peer")
        got += chunk
    if got != msg:
        raise ValueError("echo mismatch: sent %r got %r" % (msg, got))


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text + "\n")
    os.rename(tmp, path)


def session(src, dst, port, ctl, wait2=TIMEOUT):
    phase = "phase1"
    try:
        s = connect(src, dst, port)
        local = s.getsockname()[1]
        round_trip(s, b"one\n")
        write(os.path.join(ctl, "phase1"), "ok %d" % local)
        phase = "phase2"
        deadline = time.monotonic() + 60
        while not os.path.exists(os.path.join(ctl, "go")):
            if time.monotonic() > deadline:
                raise TimeoutError("no go signal within 60s")
            time.sleep(0.02)
        if s.getsockname()[1] != local:
            raise RuntimeError("local port changed")
        s.settimeout(float(wait2))
        round_trip(s, b"two\n")
        write(os.path.join(ctl, "phase2"), "ok %d" % local)
        s.close()
        return 0
    except Exception as e:  # report every failure in the control dir
        write(os.path.join(ctl, phase), "fail %s: %s" % (type(e).__name__, e))
        return 1


def probe(src, dst, port):
    try:
        s = connect(src, dst, port, timeout=2.0)
        round_trip(s, b"probe\n")
        s.close()
        return 0
    except Exception as e:
        print("probe %s -> %s:%s failed: %s" % (src, dst, port, e), file=sys.stderr)
        return 1


def main(argv):
    if len(argv) >= 2 and argv[0] == "serve":
        serve(argv[1:])
    elif len(argv) in (5, 6) and argv[0] == "session":
        return session(*argv[1:])
    elif len(argv) == 4 and argv[0] == "probe":
        return probe(*argv[1:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
