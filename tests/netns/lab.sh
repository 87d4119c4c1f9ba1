# shellcheck shell=bash
# The three-namespace lab of 10-rules.sh (source lib.sh first): a veth stands in
# for the VPN.  demo.sh and 50-daemon.sh run the real daemons instead.
#
#   internet 198.51.100.2 ──net0──pub0── 198.51.100.1  server  100.64.0.1 ──pd$$──vpn0── peer
#                                                          fd7a:115c:a1e0::1            100.64.0.2 = alice
#                                                                                     100.64.0.3 = bob
#                                                                      fd7a:115c:a1e0::2 / ::3
#
# The server's VPN interface is a veth standing in for the WireGuard device: it
# carries the name the policy gives as network.interface, so the rules treat
# what arrives on it as VPN traffic from the source address it carries.  The
# server runs TCP echo listeners on LAB_PORTS.

LAB_SRV=$PDT_PREFIX-server
LAB_NET=$PDT_PREFIX-internet
LAB_PEER=$PDT_PREFIX-peer
LAB_VPN_IF=pd$$
LAB_PUB_IF=pub0
LAB_NET_IF=net0
LAB_PEER_IF=vpn0
LAB_SRV4=198.51.100.1
LAB_NET4=198.51.100.2
LAB_SRV_VPN4=100.64.0.1
LAB_ALICE4=100.64.0.2
LAB_BOB4=100.64.0.3
LAB_SRV_VPN6=fd7a:115c:a1e0::1
LAB_ALICE6=fd7a:115c:a1e0::2
LAB_BOB6=fd7a:115c:a1e0::3
LAB_PORTS=(22 25 80 443 5432)

lab_setup() {
	netns_add "$LAB_SRV"
	netns_add "$LAB_NET"
	netns_add "$LAB_PEER"
	veth_add "$LAB_SRV" "$LAB_PUB_IF" "$LAB_NET" "$LAB_NET_IF"
	veth_add "$LAB_SRV" "$LAB_VPN_IF" "$LAB_PEER" "$LAB_PEER_IF"
	addr_add "$LAB_SRV" "$LAB_PUB_IF" "$LAB_SRV4/24"
	addr_add "$LAB_NET" "$LAB_NET_IF" "$LAB_NET4/24"
	addr_add "$LAB_SRV" "$LAB_VPN_IF" "$LAB_SRV_VPN4/24"
	addr_add "$LAB_SRV" "$LAB_VPN_IF" "$LAB_SRV_VPN6/64"
	addr_add "$LAB_PEER" "$LAB_PEER_IF" "$LAB_ALICE4/24"
	addr_add "$LAB_PEER" "$LAB_PEER_IF" "$LAB_BOB4/24"
	addr_add "$LAB_PEER" "$LAB_PEER_IF" "$LAB_ALICE6/64"
	addr_add "$LAB_PEER" "$LAB_PEER_IF" "$LAB_BOB6/64"
	listeners_start "$LAB_SRV" "${LAB_PORTS[@]}"
}

# lab_keys: WireGuard public keys for the three nodes (the lab never uses the
# private keys; the policy only carries public ones).
lab_keys() {
	LAB_KEY_SERVER=$(wg genkey | wg pubkey)
	LAB_KEY_ALICE=$(wg genkey | wg pubkey)
	LAB_KEY_BOB=$(wg genkey | wg pubkey)
}

# lab_policy FILE ACLS TESTS [GROUPS] [EXPOSE_PORTS]: write the lab policy.
# ACLS and TESTS are the bodies of the "acls" and "tests" lists, GROUPS the
# body of "groups" (JSON fragments, trailing commas allowed: it is HuJSON).
lab_policy() {
	local file=$1 acls=$2 tests=$3 groups=${4:-} expose=${5:-tcp:25,80,443}
	cat >"$file" <<EOF
// Lab policy written by tests/netns/lab.sh (HuJSON: comments and trailing commas).
{
	"version": 1,
	"network": {
		"interface": "$LAB_VPN_IF", // the veth that stands in for the VPN device
		"ipv4": "100.64.0.0/24",
		"ipv6": "fd7a:115c:a1e0::/64",
	},
	"nodes": {
		"server": {
			"key": "$LAB_KEY_SERVER",
			"ips": ["$LAB_SRV_VPN4", "$LAB_SRV_VPN6"],
			"endpoint": "$LAB_SRV4:51820",
			"tags": ["server"],
		},
		"alice": { "key": "$LAB_KEY_ALICE", "ips": ["$LAB_ALICE4", "$LAB_ALICE6"] },
		"bob": { "key": "$LAB_KEY_BOB", "ips": ["$LAB_BOB4", "$LAB_BOB6"] },
	},
	"groups": {
$groups
	},
	"services": { "ssh": ["tcp:22"] },
	/* public side: mail and web for everyone, nothing else */
	"expose": [
		{ "id": "web", "on": ["tag:server"], "ports": ["$expose"], "from": ["*"] },
	],
	"acls": [
$acls
	],
	"tests": [
$tests
	],
}
EOF
}

# Fragments shared by the scripts.
# shellcheck disable=SC2034
{
	LAB_ACL_ALICE_SSH='		{ "id": "alice-ssh", "src": ["alice"], "dst": ["server"], "ports": ["ssh"] },'
	LAB_ACL_ALICE_DB='		{ "id": "alice-db", "src": ["alice"], "dst": ["server"], "ports": ["tcp:5432"] },'
	LAB_TEST_INTERNET='		{ "src": "internet", "accept": ["server:25", "server:80", "server:443"], "deny": ["server:22", "server:5432"] },'
	LAB_TEST_BOB_DENIED='		{ "src": "bob", "deny": ["server:22"] },'
	LAB_TEST_ALICE_SSH='		{ "src": "alice", "accept": ["server:22"] },'
	LAB_TEST_ALICE_NO_DB='		{ "src": "alice", "deny": ["server:5432"] },'
}
