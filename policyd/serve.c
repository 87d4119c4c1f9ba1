/* serve.c — the control socket's verbs: one request, its whole reply,
 * computed on the daemon's main thread (control.h has the syntax;
 * ctlsock.c the connections and who may connect). */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "control.h"
#include "daemon.h"
#include "device.h"
#include "guard.h"
#include "log.h"
#include "mesh.h"
#include "uapi.h"

struct status_ctx {
	struct daemon *d;
	FILE *f;
	time_t now;
	const struct node **sorted;   /* the policy's nodes by key */
};

static void status_peer(void *arg, const struct device_peer_info *pi)
{
	struct status_ctx *c = arg;
	const struct node *n = mesh_find(c->sorted, c->d->p->nnodes, pi->public_key);
	char ep[80] = "-";

	if (pi->endpoint.ss_family)
		uapi_format_endpoint(ep, sizeof(ep), &pi->endpoint);
	fprintf(c->f, "  %-20s endpoint %-24s ", n ? n->name : "?", ep);
	if (pi->last_handshake.tv_sec)
		fprintf(c->f, "handshake %llds ago", (long long)(c->now - pi->last_handshake.tv_sec));
	else
		fprintf(c->f, "no handshake");
	fprintf(c->f, "  rx %llu B  tx %llu B\n", (unsigned long long)pi->rx_bytes,
		(unsigned long long)pi->tx_bytes);
}

static void status(struct daemon *d, FILE *f)
{
	struct status_ctx c = { d, f, time(NULL), mesh_nodes_by_key(d->p) };
	char hash[17], when[32];

	sodium_bin2hex(hash, sizeof(hash), d->p->hash, 8);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&d->loaded_at));
	fprintf(f, "ok\nnode: %s\ninterface: %s\n", d->p->nodes[d->self].name, d->ifname);
	fprintf(f, "policy: %s version %d hash %s loaded %s (%zu nodes, %zu acls)\n",
		d->policy_path, d->p->version, hash, when, d->p->nnodes, d->p->nacls);
	if (d->last_error[0])
		fprintf(f, "last reload: FAILED, previous policy in force: %s\n", d->last_error);
	else
		fprintf(f, "last reload: ok (%u reloads, %u refused)\n", d->reloads, d->failures);
	if (d->rollback) {
		uint64_t now = clock_ms(), left = d->confirm_by_ms > now ? d->confirm_by_ms - now : 0;

		fprintf(f, "pending: %s, rolled back in %llus unless confirmed\n", d->pending_from,
			(unsigned long long)((left + 999) / 1000));
	}
	if (d->last_rollback[0])
		fprintf(f, "last rollback: %s\n", d->last_rollback);
	fprintf(f, "table: %lu replaced, %lu changed by set elements, %lu unchanged\n",
		d->applies[APPLY_REPLACE], d->applies[APPLY_DIFF], d->applies[APPLY_UNCHANGED]);
	if (d->repairs) {
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&d->repaired_at));
		fprintf(f, "table: changed outside policyd %lu time(s), restored each time; last: %s, "
			   "restored %s\n",
			d->repairs, d->last_tamper, when);
	}
	fprintf(f, "peers:\n");
	device_peers(d->dev, status_peer, &c);
	free(c.sorted);
	daemon_glass_status(d, f);
	if (d->guard)
		guard_status(d->guard, f);
}

/* One request from a client ctlsock.c let in: the whole reply. `apply`
 * makes the daemon read a file by its path with its own rights, so it is
 * for root (and the daemon's uid) only, never for the control group; and
 * so is `confirm`, which makes such an apply permanent. */
char *daemon_answer(void *ctx, bool admin, const char *in, size_t got, size_t *outlen)
{
	struct daemon *d = ctx;
	struct ctl_request req;
	char *reply = NULL;
	const char *why;
	FILE *f = open_memstream(&reply, outlen);

	if (!f)
		return NULL;
	if (ctl_request_parse(in, got, &req, &why) < 0) {
		fprintf(f, "error: %s\n", why);
	} else if (!strcmp(req.verb, "status") && req.nargs == 0) {
		status(d, f);
	} else if (!strcmp(req.verb, "reload") && req.nargs == 0 && d->rollback) {
		fprintf(f, "error: an apply from %s awaits confirm; confirm it or let it roll back\n",
			d->pending_from);
	} else if (!strcmp(req.verb, "apply") && req.nargs == 2 && !admin) {
		fprintf(f, "error: apply is for root: the daemon reads FILE with its own rights\n");
	} else if (!strcmp(req.verb, "confirm") && req.nargs == 0 && !admin) {
		fprintf(f, "error: confirm is for root, who alone may apply\n");
	} else if (!strcmp(req.verb, "apply") && req.nargs == 2) {
		char err[1024];

		if (daemon_apply_confirm(d, req.args[0], req.args[1], err, sizeof(err)) == 0)
			fprintf(f, "ok\napplied %s; run `policyctl confirm` within %s or it is rolled "
				   "back\n", req.args[0], req.args[1]);
		else
			fprintf(f, "error: %s (the previous policy stays in force)\n", err);
	} else if (!strcmp(req.verb, "confirm") && req.nargs == 0) {
		char err[512];

		if (daemon_confirm(d, err, sizeof(err)) == 0)
			fprintf(f, "ok\nconfirmed; %s holds the policy in force\n", d->policy_path);
		else
			fprintf(f, "error: %s\n", err);
	} else if (!strcmp(req.verb, "breakglass") && req.nargs >= 2 &&
		   ((!strcmp(req.args[0], "open") && req.nargs == 3) ||
		    (!strcmp(req.args[0], "close") && req.nargs == 2))) {
		char msg[512];
		int r = !strcmp(req.args[0], "open")
				? daemon_glass_open(d, req.args[1], req.args[2], msg, sizeof(msg))
				: daemon_glass_close(d, req.args[1], msg, sizeof(msg));

		fprintf(f, r == 0 ? "ok\n%s\n" : "error: %s\n", msg);
	} else if ((!strcmp(req.verb, "flag") && req.nargs >= 2) ||
		   (!strcmp(req.verb, "reauth") && req.nargs == 1)) {
		char msg[512], reason[CTL_MAX_REQUEST] = "";
		int r;

		for (int i = 1; i < req.nargs; i++) /* the reason's words, as typed */
			snprintf(reason + strlen(reason), sizeof(reason) - strlen(reason), "%s%s",
				 i > 1 ? " " : "", req.args[i]);
		r = req.verb[0] == 'f' ? guard_flag(d->guard, req.args[0], reason, msg, sizeof(msg))
				       : guard_reauth(d->guard, req.args[0], msg, sizeof(msg));
		fprintf(f, r == 0 ? "ok\n%s\n" : "error: %s\n", msg);
	} else if (!strcmp(req.verb, "reload") && req.nargs == 0) {
		if (daemon_reload(d, "policyctl reload") == 0)
			fprintf(f, "ok\npolicy reloaded\n");
		else
			fprintf(f, "error: %s (the previous policy stays in force)\n", d->last_error);
	} else {
		fprintf(f, "error: unknown request \"%.40s\" with %d argument(s) (status, reload, apply FILE TIMEOUT, confirm, breakglass open CIDR TTL|-, breakglass close CIDR, flag NODE REASON..., reauth NODE)\n",
			req.verb, req.nargs);
	}
	if (fclose(f) != 0) {
		free(reply);
		return NULL;
	}
	return reply;
}
