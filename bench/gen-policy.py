#!/usr/bin/env python3
"""Print a policy (JSON) whose node `server` gets N distinct ACL set elements.

Usage: gen-policy.py N [--ipv6] [--ranges] [--per-rule K] [--iperf]
                       [--iface pd0] [--client 100.64.0.2] [--seed 1]

Every element has its own literal source, with a gap to the next one, and a
tcp or udp port, so nothing merges and the compiled sets hold exactly N
elements (plus 2 with --iperf):
  default     one address and one port per element: the exact (hash) sets
              acl4/acl6;
  --ranges    a /30 (v6: /126) and a 2-port range per element: the interval
              concat (pipapo) sets acl4r/acl6r;
  --ipv6      sources from fd7a:115c:a1e0::/48 instead of 100.64.0.0/10;
  --per-rule  K sources per ACL rule (N/K rules) instead of one rule each;
  --iperf     adds the rule "iperf": client -> server tcp:5201 (iperf3) and
              tcp:8000 (connection-rate server); with --ranges as the port
              ranges 5201-5202 and 8000-8001, so that the client's packets
              are looked up in the interval set too.
Nodes: server 100.64.0.1 (fd7a:115c:a1e0::1), client --client (::2).
Deterministic: the same arguments print the same bytes.
"""
import argparse
import base64
import ipaddress
import json
import random

V4_BASE = ipaddress.ip_address("100.65.0.0")      # never a node's address
V6_BASE = ipaddress.ip_address("fd7a:115c:a1e0:1::")


def source(i, a):
    """The i-th source: an address or an aligned /30 (/126), then a gap of the
    same size, so that no two sources touch and nothing can merge."""
    step = 8 if a.ranges else 2
    addr = (V6_BASE if a.ipv6 else V4_BASE) + i * step
    if not a.ranges:
        return str(addr)
    return f"{addr}/{126 if a.ipv6 else 30}"


def port(i, a):
    """tcp/udp alternately, spread over 1-65535."""
    proto = "tcp" if i % 2 == 0 else "udp"
    p = 1 + (i * 7) % 65534
    return f"{proto}:{p}-{p + 1}" if a.ranges else f"{proto}:{p}"


def acls(a):
    out = []
    for r, first in enumerate(range(0, a.n, a.per_rule)):
        idx = range(first, min(first + a.per_rule, a.n))
        if a.per_rule == 1:
            out.append({"id": f"r{r}", "src": [source(first, a)],
                        "dst": ["server"], "ports": [port(first, a)]})
            continue
        # K sources and one port: K elements
        out.append({"id": f"r{r}", "src": [source(i, a) for i in idx],
                    "dst": ["server"], "ports": [port(r, a)]})
    if a.iperf:
        ports = "tcp:5201-5202,8000-8001" if a.ranges else "tcp:5201,8000"
        out.append({"id": "iperf", "src": ["client"], "dst": ["server"],
                    "ports": [ports]})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("n", type=int, help="number of distinct ACL elements")
    ap.add_argument("--ipv6", action="store_true")
    ap.add_argument("--ranges", action="store_true")
    ap.add_argument("--per-rule", type=int, default=1, metavar="K")
    ap.add_argument("--iperf", action="store_true")
    ap.add_argument("--iface", default="pd0")
    ap.add_argument("--client", default="100.64.0.2")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.n < 0 or a.per_rule < 1:
        ap.error("N >= 0 and K >= 1")
    rnd = random.Random(a.seed)

    def key():
        return base64.b64encode(rnd.randbytes(32)).decode()

    network = {"ipv4": "100.64.0.0/10", "interface": a.iface}
    server, client = ["100.64.0.1"], [a.client]
    if a.ipv6:
        network["ipv6"] = "fd7a:115c:a1e0::/48"
        server.append("fd7a:115c:a1e0::1")
        client.append("fd7a:115c:a1e0::2")
    print(json.dumps({
        "version": 1,
        "network": network,
        "nodes": {"server": {"key": key(), "ips": server},
                  "client": {"key": key(), "ips": client}},
        "acls": acls(a),
    }))


if __name__ == "__main__":
    main()
