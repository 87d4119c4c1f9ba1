#!/usr/bin/env python3
"""Print a policy whose node `server` gets N distinct ACL set elements.

Usage: gen-policy.py N [--iface pd0] [--client 100.64.0.2] [--seed 1]

Each ACL rule has one literal source address from 100.64.0.0/10 and one TCP
or UDP port, chosen so that no two rules merge: the compiled acl4 set has
exactly N elements plus the client's iperf3 rule. Deterministic per seed.
"""
import argparse, base64, json, random

ap = argparse.ArgumentParser()
ap.add_argument("n", type=int)
ap.add_argument("--iface", default="pd0")
ap.add_argument("--client", default="100.64.0.2")
ap.add_argument("--seed", type=int, default=1)
a = ap.parse_args()
rnd = random.Random(a.seed)
key = lambda: base64.b64encode(bytes(rnd.getrandbits(8) for _ in range(32))).decode()
acls = []
for i in range(a.n):
    host = 0x00410000 + i          # 100.65.0.0 upwards: never the nodes' addresses
    src = f"100.{64 + (host >> 16) % 64}.{(host >> 8) & 255}.{host & 255}"
    proto = "tcp" if i % 2 == 0 else "udp"
    acls.append({"id": f"r{i}", "src": [src], "dst": ["server"],
                 "ports": [f"{proto}:{1 + (i * 7) % 65535}"]})
acls.append({"id": "iperf", "src": ["client"], "dst": ["server"], "ports": ["tcp:5201,8000"]})
print(json.dumps({
    "version": 1,
    "network": {"ipv4": "100.64.0.0/10", "interface": a.iface},
    "nodes": {"server": {"key": key(), "ips": ["100.64.0.1"]},
              "client": {"key": key(), "ips": [a.client]}},
    "acls": acls,
}, indent=None))
