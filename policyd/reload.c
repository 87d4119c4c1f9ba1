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

/* With --trust: POLICY.sig must be an admin's signature of these bytes. */
static int verify_signature(struct daemon *d, const char *file, const char *text, size_t len,
			    char *err, size_t errlen)
{
	char path[4096], why[384], *sig = NULL;
	size_t slen;
	int r;

	snprintf(path, sizeof(path), "%s.sig", file);
	if ((r = file_read(path, &sig, &slen)) < 0) {
		snprintf(err, errlen, "%s: unsigned policy refused (%.200s.sig: %s)", file, file,
			 strerror(-r));
		return -1;
	}
	r = sign_verify(d->trust_path, text, len, sig, slen, why, sizeof(why));
	free(sig);
	if (r < 0)
		snprintf(err, errlen, "%s: signature refused: %s", file, why);
	return r;
}

/* Parse, validate, test; find ourselves. Errors go to err (and the log). */
struct policy *daemon_policy_read(struct daemon *d, const char *path, long *self, char *err,
				  size_t errlen, char **text_out, size_t *len_out)
{
	struct diags dg;
	struct policy *p = NULL;
	char *text = NULL, line[512], pubtxt[64];
	size_t len, checked;
	int r = file_read(path, &text, &len);

	err[0] = '\0';
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return NULL;
	}
	if (d->trust_path && verify_signature(d, path, text, len, err, errlen) < 0) {
		free(text);
		log_error("%s", err);
		return NULL;
	}
	diags_init(&dg);
	p = policy_load(text, len, NULL, &dg);
	if (p && ptest_run(p, time(NULL), &dg, &checked)) {
		policy_diags_locate(text, len, &dg);
		policy_free(p);
		p = NULL;
	}
	for (size_t i = 0; i < dg.n; i++) {
		diag_format(&dg.v[i], path, line, sizeof(line));
		log_msg(dg.v[i].sev == DIAG_ERROR ? LOG_LVL_ERROR : LOG_LVL_WARN, "%s", line);
		if (!err[0] && dg.v[i].sev == DIAG_ERROR)
			snprintf(err, errlen, "%s", line);
	}
	if (!p && !err[0])
		snprintf(err, errlen, "%s: invalid policy", path);
	diags_free(&dg);
	if (p && text_out) {
		*text_out = text;
		*len_out = len;
	} else {
		free(text);
	}
	if (p && (*self = mesh_node_by_key(p, d->pub)) < 0) {
		sodium_bin2base64(pubtxt, sizeof(pubtxt), d->pub, 32, sodium_base64_VARIANT_ORIGINAL);
		snprintf(err, errlen, "%s: no node has this host's public key %s", path, pubtxt);
		if (text_out) {
			free(*text_out);
			*text_out = NULL;
		}
		policy_free(p);
		p = NULL;
	}
	if (err[0])
		log_error("%s", err);
	return p;
}

static int apply_rules(struct daemon *d, const struct policy *p, size_t self, char *err,
		       size_t errlen)
{
	struct compile_opts co = { .ifname = d->ifname };
	struct ir *ir = compile_node(p, self, &co);
	struct apply_report rep;
	int r = rules_apply(d->nl, ir, true, &rep);

	if (r < 0)
		snprintf(err, errlen, "table inet policyd not applied: %s%s%s", strerror(-r),
			 rep.nerrors ? ": " : "", rep.nerrors ? rep.errors[0] : "");
	apply_report_free(&rep);
	ir_free(ir);
	return r;
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

/* Our own VPN addresses, with the mesh's prefix length where they are in it. */
static int apply_addresses(struct daemon *d, const struct policy *p, size_t self)
{
	const struct node *n = &p->nodes[self];
	int r = 0;

	for (size_t i = 0; i < n->nips && !r; i++) {
		const struct prefix *net = n->ips[i].a.family == AF_INET ? &p->net.v4 : &p->net.v6;
		bool inside = (n->ips[i].a.family == AF_INET ? p->net.has_v4 : p->net.has_v6) &&
			      prefix_contains(net, &n->ips[i].a);

		r = link_addr_add(d->ifname, &n->ips[i].a, inside ? net->len : n->ips[i].len);
	}
	if (r == 0)
		r = link_up(d->ifname, VPN_MTU);
	return r;
}

int daemon_policy_switch(struct daemon *d, struct policy *p, size_t self, char *err,
			 size_t errlen, struct policy **old)
{
	int r;

	log_phase(NULL);
	if ((r = apply_rules(d, p, self, err, errlen)) < 0)
		return r;
	log_phase("rules");
	if ((r = apply_device(d, p, self, d->p, err, errlen)) < 0)
		return r;
	log_phase("peers");
	if ((r = apply_addresses(d, p, self)) < 0) /* not fatal: the tunnel may still carry */
		log_warn("%s: addresses: %s", d->ifname, strerror(-r));
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

int daemon_reload(struct daemon *d, const char *why)
{
	char err[sizeof(d->last_error)];
	struct policy *p;
	long self;
	int r;

	d->reloads++;
	if (!(p = daemon_policy_read(d, d->policy_path, &self, err, sizeof(err), NULL, NULL))) {
		r = -EINVAL;
	} else if ((r = daemon_policy_switch(d, p, (size_t)self, err, sizeof(err), NULL)) < 0) {
		policy_free(p);
	}
	if (r < 0) {
		d->failures++;
		snprintf(d->last_error, sizeof(d->last_error), "%s", err);
		log_error("reload (%s) refused, the previous policy stays in force: %s", why, err);
		return r;
	}
	d->last_error[0] = '\0';
	log_info("reload (%s): policy applied, node %s, %zu peers", why, d->p->nodes[d->self].name,
		 d->p->nnodes - 1);
	return 0;
}
