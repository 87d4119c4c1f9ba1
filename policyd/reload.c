/* reload.c — reading a policy, checking it, and putting it in force.
 *
 * A policy is read whole, its signature checked (--trust), parsed,
 * validated and its tests run before anything changes. Switching applies
 * the table first, in one kernel transaction, then the peers that changed
 * and the addresses: if the kernel refuses the table, nothing has moved. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "compile.h"
#include "daemon.h"
#include "device.h"
#include "file.h"
#include "guard.h"
#include "link.h"
#include "log.h"
#include "mesh.h"
#include "ptest.h"
#include "sign.h"
#include "uapi.h"

static void iso_time(uint64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%llu", (unsigned long long)t);
}

/* With --trust: POLICY.sig must be an admin's signature of these bytes,
 * made no earlier than the newest signed policy this host accepted (else
 * it is an old policy played back). The signature read is kept in keep
 * (the one verified, not a later file), with its time. */
static int verify_signature(struct daemon *d, const char *file, const char *text, size_t len,
			    struct policy_bytes *keep, char *err, size_t errlen)
{
	char path[4096], why[384], *sig = NULL, at[32], floor[32];
	uint64_t when = 0;
	size_t slen;
	int r;

	snprintf(path, sizeof(path), "%s.sig", file);
	if ((r = file_read(path, &sig, &slen)) < 0) {
		snprintf(err, errlen, "%s: unsigned policy refused (%.200s.sig: %s)", file, file,
			 strerror(-r));
		return -1;
	}
	r = sign_verify(d->trust_path, text, len, sig, slen, &when, why, sizeof(why));
	if (r < 0) {
		snprintf(err, errlen, "%s: signature refused: %s", file, why);
	} else if (when < d->signed_floor) {
		iso_time(when, at, sizeof(at));
		iso_time(d->signed_floor, floor, sizeof(floor));
		snprintf(err, errlen, "%s: signed %s, before the policy this host already accepted "
			 "(signed %s): an older policy played back? Sign it again to apply it",
			 file, at, floor);
		r = -1;
	}
	if (r == 0 && keep) {
		keep->sig = sig;
		keep->siglen = slen;
		keep->signed_at = when;
	} else {
		free(sig);
	}
	return r;
}

/* The signing time of the newest signed policy in force so far, kept in
 * STATE.signed so a restart remembers it. A file that is not one number
 * stops the daemon: the check must not silently lapse. */
int daemon_signed_floor_load(struct daemon *d)
{
	char *text = NULL, num[32], *end;
	size_t len;
	int r;

	snprintf(d->signed_path, sizeof(d->signed_path), "%s.signed", d->state_path);
	if ((r = file_read(d->signed_path, &text, &len)) == -ENOENT)
		return 0;
	if (r < 0) {
		log_error("%s: %s", d->signed_path, strerror(-r));
		return r;
	}
	snprintf(num, sizeof(num), "%.*s", (int)(len < sizeof(num) ? len : sizeof(num) - 1), text);
	errno = 0;
	d->signed_floor = strtoull(num, &end, 10);
	r = len >= sizeof(num) || num[0] < '0' || num[0] > '9' || errno ||
		    (*end && strcmp(end, "\n")) ? -EINVAL : 0;
	if (r < 0)
		log_error("%s: not a signing time (one number of seconds); remove it only if you "
			  "know no older policy can be played back", d->signed_path);
	free(text);
	return r;
}

/* A signed policy went in force for good (start, reload, confirm). */
void daemon_signed_floor_raise(struct daemon *d, uint64_t when)
{
	char buf[32];
	int r, n;

	if (!d->trust_path || when <= d->signed_floor)
		return;
	d->signed_floor = when;
	n = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)when);
	if ((r = file_write_atomic(d->signed_path, buf, (size_t)n)) < 0)
		log_error("%s: %s: after a restart an older signed policy could be applied again",
			  d->signed_path, strerror(-r));
}

void policy_bytes_free(struct policy_bytes *b)
{
	free(b->text);
	free(b->sig);
	memset(b, 0, sizeof(*b));
}

static void report(const struct diags *dg, const char *path, char *err, size_t errlen)
{
	char line[512];

	for (size_t i = 0; i < dg->n; i++) {
		diag_format(&dg->v[i], path, line, sizeof(line));
		log_msg(dg->v[i].sev == DIAG_ERROR ? LOG_LVL_ERROR : LOG_LVL_WARN, "%s", line);
		if (!err[0] && dg->v[i].sev == DIAG_ERROR)
			snprintf(err, errlen, "%s", line);
	}
}

/* Parse, validate, test; find ourselves. Errors go to err; every diagnostic
 * is logged here, once. */
struct policy *daemon_policy_read(struct daemon *d, const char *path, long *self, char *err,
				  size_t errlen, struct policy_bytes *keep)
{
	struct diags dg;
	struct policy *p = NULL;
	char *text = NULL, pubtxt[64];
	size_t len, checked;
	int r = file_read(path, &text, &len);

	err[0] = '\0';
	if (keep)
		memset(keep, 0, sizeof(*keep));
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return NULL;
	}
	if (d->trust_path && verify_signature(d, path, text, len, keep, err, errlen) < 0) {
		free(text);
		return NULL;
	}
	diags_init(&dg);
	p = policy_load(text, len, NULL, &dg);
	if (p && ptest_run(p, time(NULL), &dg, &checked)) {
		policy_diags_locate(text, len, &dg);
		policy_free(p);
		p = NULL;
	}
	report(&dg, path, err, errlen);
	if (!p && !err[0])
		snprintf(err, errlen, "%s: invalid policy", path);
	diags_free(&dg);
	if (p && (*self = mesh_node_by_key(p, d->pub)) < 0) {
		sodium_bin2base64(pubtxt, sizeof(pubtxt), d->pub, 32, sodium_base64_VARIANT_ORIGINAL);
		snprintf(err, errlen, "%s: no node has this host's public key %s", path, pubtxt);
		policy_free(p);
		p = NULL;
	}
	if (p && keep) {
		keep->text = text;
		keep->len = len;
	} else {
		free(text);
		if (keep)
			policy_bytes_free(keep);
	}
	return p;
}

/* The node's table in force as differences from the one in force (set
 * elements only, when the shape is the same and nobody else changed it),
 * else a whole replacement. The new IR waits in d->ir_next until the
 * switch is done (it borrows from p). */
static int apply_rules(struct daemon *d, const struct policy *p, size_t self, char *err,
		       size_t errlen)
{
	int64_t at = time(NULL);
	struct compile_opts co = { .ifname = d->ifname, .now = (time_t)at };
	struct ir *ir = compile_node(p, self, &co);
	struct apply_report rep;
	int r = rules_update(d->nl, d->watch, d->ir, d->ir_at, ir, at, &rep);

	if (r < 0) {
		snprintf(err, errlen, "table inet policyd not applied: %s%s%s", strerror(-r),
			 rep.nerrors ? ": " : "", rep.nerrors ? rep.errors[0] : "");
		ir_free(ir);
	} else {
		log_info("table inet policyd: %s (%zu elements added, %zu removed%s%s)",
			 apply_path_name(rep.path), rep.added, rep.removed,
			 rep.path == APPLY_REPLACE && rep.why[0] ? "; a replacement because " : "",
			 rep.path == APPLY_REPLACE ? rep.why : "");
		d->applies[rep.path]++;
		ir_free(d->ir_next);
		d->ir_next = ir;
		d->ir_next_at = at;
	}
	apply_report_free(&rep);
	return r;
}

/* The IR just applied goes in force with its policy; the old one goes
 * (before its policy, which it borrows from). */
static void ir_commit(struct daemon *d)
{
	ir_free(d->ir);
	d->ir = d->ir_next;
	d->ir_at = d->ir_next_at;
	d->ir_next = NULL;
}

static int apply_device(struct daemon *d, const struct policy *p, size_t self,
			const struct policy *old, char *err, size_t errlen)
{
	struct uapi_set s;
	char warn[256];
	int r = mesh_device_set(p, self, old, &s, warn, sizeof(warn));

	if (r == 0 && warn[0])
		log_warn("%s", warn);
	if (r == 0)
		r = device_apply(d->dev, &s);
	if (r < 0)
		snprintf(err, errlen, "peers not configured: %s", strerror(-r));
	uapi_set_free(&s);
	return r;
}

/* Our own VPN address with the prefix length it gets on the interface: the
 * mesh's where the address is inside the mesh, else its own. */
static unsigned addr_len(const struct policy *p, const struct prefix *ip)
{
	bool v4 = ip->a.family == AF_INET;
	const struct prefix *net = v4 ? &p->net.v4 : &p->net.v6;

	return (v4 ? p->net.has_v4 : p->net.has_v6) && prefix_contains(net, &ip->a) ? net->len
										  : ip->len;
}

static bool has_addr(const struct policy *p, size_t self, const struct prefix *ip, unsigned len)
{
	const struct node *n = &p->nodes[self];

	for (size_t i = 0; i < n->nips; i++)
		if (!addr_cmp(&n->ips[i].a, &ip->a) && addr_len(p, &n->ips[i]) == len)
			return true;
	return false;
}

/* The interface gets p's addresses for our node; those old gave it and p
 * no longer does (or with another prefix length) go. */
static int apply_addresses(struct daemon *d, const struct policy *p, size_t self,
			   const struct policy *old, size_t oldself)
{
	const struct node *n = &p->nodes[self], *was = old ? &old->nodes[oldself] : NULL;
	int r = 0;

	for (size_t i = 0; was && i < was->nips && !r; i++) {
		unsigned len = addr_len(old, &was->ips[i]);

		if (!has_addr(p, self, &was->ips[i], len))
			r = link_addr_del(d->ifname, &was->ips[i].a, len);
	}
	for (size_t i = 0; i < n->nips && !r; i++)
		r = link_addr_add(d->ifname, &n->ips[i].a, addr_len(p, &n->ips[i]));
	if (r == 0)
		r = link_up(d->ifname, VPN_MTU);
	return r;
}

/* The new table is in, the peers failed: the old table and peers go back,
 * so what is in force matches d->p again. */
static void switch_undo(struct daemon *d, const struct policy *p)
{
	char err[512];

	if (!d->p) /* at start: nothing to go back to; the daemon will not run */
		return;
	/* from the table now in force (p's) back to d->p's */
	ir_commit(d);
	if (apply_rules(d, d->p, d->self, err, sizeof(err)) < 0 ||
	    apply_device(d, d->p, d->self, p, err, sizeof(err)) < 0)
		log_error("the previous policy could not be put back whole: %s", err);
	if (d->ir_next) { /* the previous policy's table in force again */
		ir_commit(d);
	} else { /* p's table stays, and p goes: the next apply replaces it whole */
		ir_free(d->ir);
		d->ir = NULL;
	}
}

int daemon_policy_switch(struct daemon *d, struct policy *p, size_t self, char *err,
			 size_t errlen, struct policy **old)
{
	int r;

	log_phase(NULL);
	if ((r = apply_rules(d, p, self, err, errlen)) < 0)
		return r;
	log_phase("rules");
	if ((r = apply_device(d, p, self, d->p, err, errlen)) < 0) {
		switch_undo(d, p);
		return r;
	}
	log_phase("peers");
	if ((r = apply_addresses(d, p, self, d->p, d->self)) < 0) /* the tunnel may still carry */
		log_warn("%s: addresses: %s", d->ifname, strerror(-r));
	ir_commit(d); /* before the old policy goes: the old IR borrows from it */
	if (old)
		*old = d->p;
	else
		policy_free(d->p);
	d->p = p;
	d->self = self;
	d->loaded_at = time(NULL);
	if (d->guard)
		guard_policy(d->guard, p);
	daemon_glass_policy(d);
	return 0;
}

/* Someone else changed table inet policyd: put ours back, compiled afresh
 * from the policy in force (its expiries counted from now, the bans and
 * openings in force carried over as they are now). */
void daemon_table_repair(struct daemon *d)
{
	char what[256], err[512];

	if (!d->p || !rules_watch_tampered(d->watch))
		return;
	rules_watch_describe(d->watch, what, sizeof(what));
	if (apply_rules(d, d->p, d->self, err, sizeof(err)) < 0) {
		log_error("%s; it could not be restored: %s", what, err);
		return;
	}
	ir_commit(d);
	d->repairs++;
	d->repaired_at = time(NULL);
	snprintf(d->last_tamper, sizeof(d->last_tamper), "%s", what);
	log_warn("table inet policyd restored as the policy has it (%lu time(s) so far)",
		 d->repairs);
}

int daemon_reload(struct daemon *d, const char *why)
{
	char err[sizeof(d->last_error)];
	struct policy_bytes bytes;
	struct policy *p;
	long self;
	int r;

	d->reloads++;
	if (!(p = daemon_policy_read(d, d->policy_path, &self, err, sizeof(err), &bytes))) {
		r = -EINVAL;
	} else if ((r = daemon_policy_switch(d, p, (size_t)self, err, sizeof(err), NULL)) < 0) {
		policy_free(p);
		policy_bytes_free(&bytes);
	}
	if (r < 0) {
		d->failures++;
		snprintf(d->last_error, sizeof(d->last_error), "%s", err);
		log_error("reload (%s) refused, the previous policy stays in force: %s", why, err);
		return r;
	}
	daemon_signed_floor_raise(d, bytes.signed_at);
	policy_bytes_free(&bytes);
	d->last_error[0] = '\0';
	log_info("reload (%s): policy applied, node %s, %zu peers", why, d->p->nodes[d->self].name,
		 d->p->nnodes - 1);
	return 0;
}
