/* emit.c — the IR as libnftnl objects in a batch.
 *
 * Each match kind emits the same expressions nft 1.0.6 generates for its
 * text form (checked with `nft --debug=netlink`), and sets carry the same
 * flags and user data, so `nft list` shows our table exactly as if the text
 * of render.c had been loaded with `nft -f`; a netns test checks that. */
#include <arpa/inet.h>
#include <errno.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"

#define ELEMS_PER_MSG 128

/* nft's datatype ids (nftables include/datatype.h) */
enum { DT_IPADDR = 7, DT_IP6ADDR = 8, DT_INET_PROTO = 12, DT_INET_SERVICE = 13,
       DT_ICMP_TYPE = 14, DT_ICMP6_TYPE = 29 };
#define CONCAT_TYPE(a, b, c) (((a) << 12) | ((b) << 6) | (c))

/* what nft 1.0.6 stores as user data for a declared concat type */
static const uint8_t concat_udata[] = { 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x03, 0x08,
					0x00, 0x04, 0x0d, 0x00, 0x00, 0x00, 0x01, 0x00 };

/* ---- expressions ------------------------------------------------------------ */

static struct nftnl_expr *expr(const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (!e)
		abort();
	return e;
}

static void add_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = expr("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	nftnl_rule_add_expr(r, e);
}

static void add_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = expr("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	nftnl_rule_add_expr(r, e);
}

static void add_cmp_u8(struct nftnl_rule *r, uint8_t v)
{
	add_cmp(r, NFT_CMP_EQ, &v, 1);
}

static void add_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len,
			uint32_t dreg)
{
	struct nftnl_expr *e = expr("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	nftnl_rule_add_expr(r, e);
}

static void add_lookup(struct nftnl_rule *r, const char *set, uint32_t set_id)
{
	struct nftnl_expr *e = expr("lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
	nftnl_rule_add_expr(r, e);
}

/* limit rate N/second burst B packets */
static struct nftnl_expr *limit_expr(uint32_t rate, uint32_t burst)
{
	struct nftnl_expr *e = expr("limit");

	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, rate);
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, burst);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
	return e;
}

/* update @set { <key in reg 1> <per element> }: nft 1.0.6 sends the one
 * expression as NFTA_DYNSET_EXPR, no timeout (the set's), no flags. The
 * dynset takes ownership of per. */
static void add_meter(struct nftnl_rule *r, const char *set, uint32_t set_id,
		      struct nftnl_expr *per)
{
	struct nftnl_expr *e = expr("dynset");

	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, set_id);
	nftnl_expr_add_expr(e, NFTNL_EXPR_DYNSET_EXPRESSIONS, per);
	nftnl_rule_add_expr(r, e);
}

static void add_nfproto(struct nftnl_rule *r, int family)
{
	add_meta(r, NFT_META_NFPROTO, NFT_REG_1);
	add_cmp_u8(r, family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6);
}

static void add_saddr(struct nftnl_rule *r, int family)
{
	if (family == AF_INET)
		add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG_1);
	else
		add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 8, 16, NFT_REG_1);
}

static void add_icmp_type(struct nftnl_rule *r, int family)
{
	add_nfproto(r, family);
	add_meta(r, NFT_META_L4PROTO, NFT_REG_1);
	add_cmp_u8(r, family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
	add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
}

static void add_ct_state(struct nftnl_rule *r, uint32_t bits)
{
	struct nftnl_expr *e = expr("ct");
	uint32_t zero = 0;

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
	e = expr("bitwise");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &bits, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
	nftnl_rule_add_expr(r, e);
	add_cmp(r, NFT_CMP_NEQ, &zero, 4);
}

/* ip saddr . meta l4proto . th dport: three fields in consecutive 32-bit
 * registers starting at NFT_REG_1 (NFT_REG32_00). */
static void add_concat(struct nftnl_rule *r, int family)
{
	uint32_t proto_reg = family == AF_INET ? NFT_REG32_01 : NFT_REG32_04;
	struct nftnl_expr *e;

	add_nfproto(r, family);
	add_saddr(r, family);
	add_meta(r, NFT_META_L4PROTO, proto_reg);
	e = expr("byteorder"); /* nft emits this no-op for inet_proto in a concat */
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, proto_reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, proto_reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, 1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, 2);
	nftnl_rule_add_expr(r, e);
	add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, proto_reg + 1);
}

static void add_iifname(struct nftnl_rule *r, const char *name, bool neg)
{
	char buf[16] = { 0 };
	size_t n = strlen(name);

	add_meta(r, NFT_META_IIFNAME, NFT_REG_1);
	if (n && name[n - 1] == '*') /* prefix match: compare without the NUL */
		add_cmp(r, neg ? NFT_CMP_NEQ : NFT_CMP_EQ, name, (uint32_t)(n - 1));
	else {
		memcpy(buf, name, n < 15 ? n : 15);
		add_cmp(r, neg ? NFT_CMP_NEQ : NFT_CMP_EQ, buf, 16);
	}
}

static void add_match(struct nftnl_rule *r, const struct ir *ir, const struct ir_match *m)
{
	const struct ir_set *s = &ir->sets[m->set];
	uint16_t port;
	uint8_t v;

	switch (m->kind) {
	case IRM_IIFNAME:
		add_iifname(r, m->str, m->neg);
		break;
	case IRM_CT_STATE:
		add_ct_state(r, m->val);
		break;
	case IRM_SADDR_IN:
		add_nfproto(r, m->family);
		add_saddr(r, m->family);
		add_lookup(r, s->name, (uint32_t)m->set + 1);
		break;
	case IRM_CONCAT_IN:
		add_concat(r, m->family);
		add_lookup(r, s->name, (uint32_t)m->set + 1);
		break;
	case IRM_ICMP_IN:
		add_icmp_type(r, m->family);
		add_lookup(r, s->name, (uint32_t)m->set + 1);
		break;
	case IRM_ICMP_TYPE:
		add_icmp_type(r, m->family);
		v = (uint8_t)m->val;
		add_cmp(r, NFT_CMP_EQ, &v, 1);
		break;
	case IRM_UDP_DPORT:
		add_meta(r, NFT_META_L4PROTO, NFT_REG_1);
		add_cmp_u8(r, IPPROTO_UDP);
		add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1);
		port = htons((uint16_t)m->val);
		add_cmp(r, NFT_CMP_EQ, &port, 2);
		break;
	case IRM_LIMIT:
		nftnl_rule_add_expr(r, limit_expr(m->val, m->val2));
		break;
	case IRM_METER:
		add_nfproto(r, m->family);
		add_saddr(r, m->family);
		add_meter(r, s->name, (uint32_t)m->set + 1, limit_expr(m->val, m->val2));
		break;
	}
}

static void add_tail(struct nftnl_rule *r, const struct ir *ir, const struct ir_rule *ir_r)
{
	struct nftnl_expr *e;

	if (ir_r->log) {
		e = expr("log");
		nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, ir_r->log);
		nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, IR_NFLOG_GROUP);
		nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_QTHRESHOLD, 1);
		nftnl_rule_add_expr(r, e);
	}
	if (ir_r->counter)
		nftnl_rule_add_expr(r, expr("counter"));
	if (ir_r->verdict == IRV_NONE)
		return;
	e = expr("immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	if (ir_r->verdict == IRV_JUMP) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)NFT_JUMP);
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, ir->chains[ir_r->target].name);
	} else {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT,
				   ir_r->verdict == IRV_ACCEPT ? NF_ACCEPT : NF_DROP);
	}
	nftnl_rule_add_expr(r, e);
}

/* ---- objects ------------------------------------------------------------------ */

static int put_table(struct nlb *b, uint16_t type, uint16_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh = nlb_msg(b, type, NFPROTO_INET, flags, 0);

	if (!t || !nlh) {
		if (t)
			nftnl_table_free(t);
		return -ENOMEM;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, IR_TABLE);
	if (type == NFT_MSG_NEWTABLE)
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, 0);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	return nlb_end_msg(b);
}

static int put_chain(struct nlb *b, const struct ir_chain *c)
{
	struct nftnl_chain *ch = nftnl_chain_alloc();
	struct nlmsghdr *nlh = nlb_msg(b, NFT_MSG_NEWCHAIN, NFPROTO_INET, NLM_F_CREATE, 0);

	if (!ch || !nlh) {
		if (ch)
			nftnl_chain_free(ch);
		return -ENOMEM;
	}
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, IR_TABLE);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, c->name);
	if (c->base) {
		nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, NF_INET_LOCAL_IN);
		nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, c->prio);
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, c->policy_drop ? NF_DROP : NF_ACCEPT);
	}
	nftnl_chain_nlmsg_build_payload(nlh, ch);
	nftnl_chain_free(ch);
	return nlb_end_msg(b);
}

static void set_type(const struct ir_set *s, uint32_t *type, uint32_t *len, uint32_t *flags)
{
	bool v4 = s->family == AF_INET;

	*flags = (s->interval ? NFT_SET_INTERVAL : 0) | (s->timeout ? NFT_SET_TIMEOUT : 0) |
		 (s->dynamic ? NFT_SET_EVAL : 0);
	switch (s->kind) {
	case IRS_CONCAT:
		*type = v4 ? CONCAT_TYPE(DT_IPADDR, DT_INET_PROTO, DT_INET_SERVICE)
			   : CONCAT_TYPE(DT_IP6ADDR, DT_INET_PROTO, DT_INET_SERVICE);
		*len = v4 ? 12 : 24;
		if (s->interval) /* pipapo; a plain concat set is a hash and takes no CONCAT */
			*flags |= NFT_SET_CONCAT;
		break;
	case IRS_ADDR:
		*type = v4 ? DT_IPADDR : DT_IP6ADDR;
		*len = v4 ? 4 : 16;
		break;
	case IRS_ICMP:
		*type = v4 ? DT_ICMP_TYPE : DT_ICMP6_TYPE;
		*len = 1;
		break;
	}
}

static int put_set(struct nlb *b, const struct ir_set *s, uint32_t id)
{
	struct nftnl_set *set = nftnl_set_alloc();
	struct nlmsghdr *nlh = nlb_msg(b, NFT_MSG_NEWSET, NFPROTO_INET, NLM_F_CREATE, 0);
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(64);
	uint32_t type = 0, len = 0, flags = 0;

	if (!set || !nlh || !ud) {
		if (set)
			nftnl_set_free(set);
		if (ud)
			nftnl_udata_buf_free(ud);
		return -ENOMEM;
	}
	set_type(s, &type, &len, &flags);
	nftnl_set_set_str(set, NFTNL_SET_TABLE, IR_TABLE);
	nftnl_set_set_str(set, NFTNL_SET_NAME, s->name);
	nftnl_set_set_u32(set, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(set, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(set, NFTNL_SET_KEY_TYPE, type);
	nftnl_set_set_u32(set, NFTNL_SET_KEY_LEN, len);
	nftnl_set_set_u32(set, NFTNL_SET_ID, id);
	if (s->size)
		nftnl_set_set_u32(set, NFTNL_SET_DESC_SIZE, s->size);
	if (s->timeout_ms)
		nftnl_set_set_u64(set, NFTNL_SET_TIMEOUT, s->timeout_ms);
	if (s->kind == IRS_CONCAT) {
		uint8_t fields[3] = { s->family == AF_INET ? 4 : 16, 1, 2 };

		if (s->interval) /* field lengths on a hash set: EINVAL */
			nftnl_set_set_data(set, NFTNL_SET_DESC_CONCAT, fields, sizeof(fields));
		nftnl_set_set_data(set, NFTNL_SET_USERDATA, concat_udata, sizeof(concat_udata));
	} else {
		nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, 2 /* big endian */);
		nftnl_set_set_data(set, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
				   nftnl_udata_buf_len(ud));
	}
	nftnl_set_nlmsg_build_payload(nlh, set);
	nftnl_set_free(set);
	nftnl_udata_buf_free(ud);
	return nlb_end_msg(b);
}

/* ---- elements ------------------------------------------------------------------ */

struct elem_writer {
	struct nlb *b;
	const char *set;
	uint32_t set_id;     /* 0 for a set that already exists */
	uint16_t msgtype;    /* NFT_MSG_NEWSETELEM or _DELSETELEM */
	struct nftnl_set *cur;
	size_t count;
	uint32_t origin;
	uint32_t origins[ELEMS_PER_MSG];  /* of the elements in cur, in order */
};

static int ew_flush(struct elem_writer *w)
{
	struct nlmsghdr *nlh;
	int r;

	if (!w->cur)
		return 0;
	nlh = nlb_msg(w->b, w->msgtype, NFPROTO_INET,
		      w->msgtype == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0, w->origin);
	if (!nlh)
		return -ENOMEM;
	for (size_t i = 0; i < w->count; i++)
		if (nlb_elem_origin(w->b, w->origins[i]) < 0)
			return -ENOMEM;
	nftnl_set_elems_nlmsg_build_payload(nlh, w->cur);
	r = nlb_end_msg(w->b);
	nftnl_set_free(w->cur);
	w->cur = NULL;
	w->count = 0;
	return r;
}

static int ew_add(struct elem_writer *w, struct nftnl_set_elem *e, uint32_t origin)
{
	if (!w->cur) {
		w->cur = nftnl_set_alloc();
		if (!w->cur) {
			nftnl_set_elem_free(e);
			return -ENOMEM;
		}
		nftnl_set_set_str(w->cur, NFTNL_SET_TABLE, IR_TABLE);
		nftnl_set_set_str(w->cur, NFTNL_SET_NAME, w->set);
		if (w->set_id)
			nftnl_set_set_u32(w->cur, NFTNL_SET_ID, w->set_id);
		w->origin = origin;
	}
	nftnl_set_elem_add(w->cur, e);
	w->origins[w->count] = origin;
	return ++w->count >= ELEMS_PER_MSG ? ew_flush(w) : 0;
}

static void key_bytes(const struct ir_set *s, const struct addr *a, uint8_t proto,
		      uint16_t port, uint8_t *key, uint32_t *len)
{
	size_t al = addr_size(s->family);

	memset(key, 0, 24);
	if (s->kind == IRS_ICMP) {
		key[0] = (uint8_t)port;
		*len = 1;
		return;
	}
	memcpy(key, a->b, al);
	*len = (uint32_t)al;
	if (s->kind != IRS_CONCAT)
		return;
	key[al] = proto;
	key[al + 4] = (uint8_t)(port >> 8);
	key[al + 5] = (uint8_t)port;
	*len = (uint32_t)al + 8;
}

static int key_decode(const struct ir_set *s, const uint8_t *key, uint32_t len,
		      struct addr *a, uint8_t *proto, uint16_t *port)
{
	size_t al = addr_size(s->family);

	if (s->kind == IRS_ICMP || len != (s->kind == IRS_CONCAT ? al + 8 : al))
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)s->family;
	memcpy(a->b, key, al);
	if (s->kind == IRS_CONCAT) {
		*proto = key[al];
		*port = (uint16_t)(key[al + 4] << 8 | key[al + 5]);
	}
	return 0;
}

int emit_elem_decode(const struct ir_set *s, const void *key, uint32_t keylen,
		     const void *key_end, uint32_t endlen, struct ir_elem *out)
{
	uint8_t proto = 0, proto_end = 0;
	uint16_t port = 0, port_end = 0;

	memset(out, 0, sizeof(*out));
	if (key_decode(s, key, keylen, &out->lo, &proto, &port) < 0)
		return -EINVAL;
	out->hi = out->lo;
	out->proto = proto;
	out->plo = out->phi = port;
	if (!key_end)
		return 0;
	if (key_decode(s, key_end, endlen, &out->hi, &proto_end, &port_end) < 0 ||
	    proto_end != proto)
		return -EINVAL;
	out->phi = port_end;
	return 0;
}

static struct nftnl_set_elem *elem_alloc(const void *key, uint32_t len, uint32_t flags)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	if (!e)
		return NULL;
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, len);
	if (flags)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, flags);
	return e;
}

static void elem_udata(struct nftnl_set_elem *e, const char *comment, bool open)
{
	struct nftnl_udata_buf *ud;

	if (!comment[0] && !open)
		return;
	ud = nftnl_udata_buf_alloc(256);
	if (!ud)
		return;
	if (comment[0])
		nftnl_udata_put_strz(ud, NFTNL_UDATA_SET_ELEM_COMMENT, comment);
	if (open)
		nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_ELEM_FLAGS, NFTNL_SET_ELEM_F_INTERVAL_OPEN);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA, nftnl_udata_buf_data(ud),
			   nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
}

/* One IR element; an rbtree interval becomes a start and an end element. */
static int put_elem(struct elem_writer *w, const struct ir *ir, const struct ir_set *s,
		    const struct ir_elem *ie)
{
	uint8_t key[24], end[24];
	uint32_t klen, elen;
	char comment[160] = "";
	struct nftnl_set_elem *e;
	struct addr after = ie->hi;
	bool open = s->kind == IRS_ADDR && s->interval && !addr_inc(&after);
	int r;

	if (ir)
		ir_elem_comment(ir, ie, comment, sizeof(comment));
	key_bytes(s, &ie->lo, ie->proto, ie->plo, key, &klen);
	if (!(e = elem_alloc(key, klen, 0)))
		return -ENOMEM;
	if (ie->timeout_ms && w->msgtype == NFT_MSG_NEWSETELEM)
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, ie->timeout_ms);
	if (w->msgtype == NFT_MSG_NEWSETELEM)
		elem_udata(e, comment, open);
	if (s->kind == IRS_CONCAT && s->interval) {
		key_bytes(s, &ie->hi, ie->proto, ie->phi, end, &elen);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, end, elen);
	}
	r = ew_add(w, e, ie->origin[0]);
	if (r < 0 || s->kind != IRS_ADDR || !s->interval || open)
		return r;
	key_bytes(s, &after, 0, 0, end, &elen);
	if (!(e = elem_alloc(end, elen, NFT_SET_ELEM_INTERVAL_END)))
		return -ENOMEM;
	return ew_add(w, e, ie->origin[0]);
}

static int put_elems(struct elem_writer *w, const struct ir *ir, const struct ir_set *s,
		     const struct ir_elem *v, size_t n)
{
	int r = 0;

	/* an rbtree set starts with an end element at 0 unless a range starts there */
	if (s->kind == IRS_ADDR && s->interval && n && !addr_is_zero(&v[0].lo) &&
	    w->msgtype == NFT_MSG_NEWSETELEM) {
		uint8_t zero[16] = { 0 };
		struct nftnl_set_elem *e = elem_alloc(zero, (uint32_t)addr_size(s->family),
						      NFT_SET_ELEM_INTERVAL_END);

		if (!e)
			return -ENOMEM;
		r = ew_add(w, e, 0);
	}
	for (size_t i = 0; i < n && r == 0; i++)
		r = put_elem(w, ir, s, &v[i]);
	return r ? r : ew_flush(w);
}

int emit_elems(struct nlb *b, const struct ir_set *s, const struct ir_elem *v, size_t n,
	       bool add)
{
	struct elem_writer w = { .b = b, .set = s->name,
				 .msgtype = add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM };
	int r = put_elems(&w, NULL, s, v, n);

	if (w.cur)
		nftnl_set_free(w.cur);
	return r;
}

/* ---- rules and the whole table --------------------------------------------------- */

static int put_rule(struct nlb *b, const struct ir *ir, const struct ir_rule *ir_r)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;

	if (!r)
		return -ENOMEM;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, IR_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, ir->chains[ir_r->chain].name);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	for (unsigned i = 0; i < ir_r->nm; i++)
		add_match(r, ir, &ir_r->m[i]);
	add_tail(r, ir, ir_r);
	if (ir_r->comment[0]) {
		struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(128);

		if (!ud) {
			nftnl_rule_free(r);
			return -ENOMEM;
		}
		nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, ir_r->comment);
		nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
				    nftnl_udata_buf_len(ud));
		nftnl_udata_buf_free(ud);
	}
	nlh = nlb_msg(b, NFT_MSG_NEWRULE, NFPROTO_INET, NLM_F_CREATE | NLM_F_APPEND, ir_r->origin);
	if (!nlh) {
		nftnl_rule_free(r);
		return -ENOMEM;
	}
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	return nlb_end_msg(b);
}

int emit_table(struct nlb *b, const struct ir *ir, bool replace)
{
	int r = 0;

	if (replace) { /* add (no-op if present), delete, create: one atomic swap */
		r = put_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE);
		if (!r)
			r = put_table(b, NFT_MSG_DELTABLE, 0);
	}
	if (!r)
		r = put_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	for (size_t i = 0; i < ir->nchains && !r; i++)
		r = put_chain(b, &ir->chains[i]);
	for (size_t i = 0; i < ir->nsets && !r; i++)
		r = put_set(b, &ir->sets[i], (uint32_t)i + 1);
	for (size_t i = 0; i < ir->nsets && !r; i++) {
		struct elem_writer w = { .b = b, .set = ir->sets[i].name, .set_id = (uint32_t)i + 1,
					 .msgtype = NFT_MSG_NEWSETELEM };

		r = put_elems(&w, ir, &ir->sets[i], ir->sets[i].v, ir->sets[i].n);
		if (w.cur)
			nftnl_set_free(w.cur);
	}
	for (size_t i = 0; i < ir->nrules && !r; i++)
		r = put_rule(b, ir, &ir->rules[i]);
	return r;
}

/* ---- incremental updates (rules/diff.c) ------------------------------------------ */

int emit_elems_diff(struct nlb *b, const struct ir *ir, const struct ir_set *s,
		    const struct ir_elem *v, size_t n, bool add, bool zero_end)
{
	struct elem_writer w = { .b = b, .set = s->name,
				 .msgtype = add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM };
	int r = 0;

	if (zero_end) { /* the end element at 0 that put_elems writes for an rbtree set */
		uint8_t zero[16] = { 0 };
		struct nftnl_set_elem *e = elem_alloc(zero, (uint32_t)addr_size(s->family),
						      NFT_SET_ELEM_INTERVAL_END);

		r = e ? ew_add(&w, e, 0) : -ENOMEM;
	}
	for (size_t i = 0; i < n && r == 0; i++)
		r = put_elem(&w, ir, s, &v[i]);
	if (r == 0)
		r = ew_flush(&w);
	if (w.cur)
		nftnl_set_free(w.cur);
	return r;
}
