/* policyd.c — one policy, this host configured: the daemon.
 *
 *   policyd --policy FILE --key FILE [--interface NAME] [--control PATH]
 *           [--trust ADMIN-KEYS]
 *
 * Finds its own node by the public key of its private key, brings up the
 * VPN interface (the policy's name unless --interface; MTU 1420, the node's
 * VPN addresses), configures every other node as a peer, installs the node's
 * nftables table, and tells systemd it is ready (sd_notify). It reloads on
 * SIGHUP, on `policyctl reload` and when the policy file changes: a policy
 * that fails to load, to pass its tests or to apply is logged, reported in
 * `policyctl status`, and the running one stays. On exit the table stays in
 * the kernel (fail closed). The UAPI socket of the interface works as for
 * policyd-vpn, so `wg show` reads the daemon's device. With --trust, a
 * policy is applied only if FILE.sig is a signature of it by one of the
 * admin keys listed there (policyctl sign), at start and at every reload. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "compile.h"
#include "control.h"
#include "device.h"
#include "file.h"
#include "keyfile.h"
#include "link.h"
#include "log.h"
#include "mesh.h"
#include "policy.h"
#include "ptest.h"
#include "sign.h"
#include "uapi.h"

#define VPN_MTU 1420

struct daemon {
	const char *policy_path, *key_path, *ifname_opt, *ctl_path;
	const char *trust_path;        /* admin keys; set: only signed policies */
	char ifname[IFNAMSIZ];
	uint8_t *priv;                 /* sodium_malloc */
	uint8_t pub[32];
	struct policy *p;              /* in force */
	size_t self;
	time_t loaded_at;
	unsigned reloads, failures;
	char last_error[1024];         /* of the last reload; empty: it worked */
	/* commit-confirmed: the policy in force before `apply --confirm`, back
	 * in force at confirm_by unless `confirm` comes first */
	struct policy *rollback;
	size_t rollback_self;
	time_t confirm_by;
	char *pending_text;            /* the new policy's bytes, written on confirm */
	size_t pending_len;
	char pending_from[256];
	char last_rollback[512];
	struct device *dev;
	pthread_t dev_thread;
	int uapi_fd, ctl_fd, sig_fd, ino_fd, ino_wd;
	char uapi_path[128];
	struct rules_nl *nl;
};


/* ---- the private key ------------------------------------------------------------ */

/* A wg-style base64 key from a file that nobody but its owner may read. */
static int key_load(struct daemon *d)
{
	char err[512];

	if (!(d->priv = sodium_malloc(32)) ||
	    keyfile_read(d->key_path, "WireGuard private key", "wg genkey", d->priv, err,
			 sizeof(err)) < 0) {
		log_error("%s", d->priv ? err : "out of memory");
		return -1;
	}
	d->priv[0] &= 248;
	d->priv[31] = (d->priv[31] & 127) | 64;
	crypto_scalarmult_base(d->pub, d->priv);
	return 0;
}

/* ---- loading and applying a policy ---------------------------------------------- */

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
static struct policy *policy_read_from(struct daemon *d, const char *path, long *self,
					char *err, size_t errlen, char **text_out, size_t *len_out)
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

static struct policy *policy_read(struct daemon *d, long *self, char *err, size_t errlen)
{
	return policy_read_from(d, d->policy_path, self, err, errlen, NULL, NULL);
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

/* Make p the policy in force: rules first (the kernel may still refuse),
 * then peers and addresses. On failure the old policy stays. The old one is
 * freed, or handed to *old if old is not NULL. */
static int policy_switch(struct daemon *d, struct policy *p, size_t self, char *err,
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
	return 0;
}

static int reload(struct daemon *d, const char *why)
{
	char err[sizeof(d->last_error)];
	struct policy *p;
	long self;
	int r;

	d->reloads++;
	if (!(p = policy_read(d, &self, err, sizeof(err)))) {
		r = -EINVAL;
	} else if ((r = policy_switch(d, p, (size_t)self, err, sizeof(err), NULL)) < 0) {
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

/* ---- commit-confirmed ------------------------------------------------------------ */

/* Write text to path in one rename (and its signature beside it). */
static int write_atomic(const char *path, const char *text, size_t len)
{
	char tmp[4200];
	int fd, r = 0;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		r = errno ? -errno : -EIO;
	close(fd);
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

/* apply FILE SECONDS: FILE in force now, the current policy back at the
 * deadline unless confirmed. FILE is checked like any reload. */
static int apply_confirm(struct daemon *d, const char *file, const char *secs, char *err,
			 size_t errlen)
{
	uint32_t timeout;
	struct policy *p, *old = NULL;
	char *text = NULL;
	size_t len;
	long self;

	if (file[0] != '/' || duration_parse(secs, &timeout) < 0 || timeout == 0 ||
	    timeout > 3600) {
		snprintf(err, errlen, "apply needs an absolute FILE and a timeout of 1 s to 1 h");
		return -EINVAL;
	}
	if (d->rollback) {
		snprintf(err, errlen, "an apply from %s awaits confirm", d->pending_from);
		return -EBUSY;
	}
	if (!(p = policy_read_from(d, file, &self, err, errlen, &text, &len)))
		return -EINVAL;
	if (policy_switch(d, p, (size_t)self, err, errlen, &old) < 0) {
		policy_free(p);
		free(text);
		return -EINVAL;
	}
	d->rollback = old;
	d->rollback_self = (size_t)mesh_node_by_key(old, d->pub); /* it was in force: found */
	d->pending_text = text;
	d->pending_len = len;
	d->confirm_by = time(NULL) + timeout;
	snprintf(d->pending_from, sizeof(d->pending_from), "%s", file);
	log_info("applied %s; it is rolled back in %u s unless confirmed", file, timeout);
	return 0;
}

static void pending_clear(struct daemon *d)
{
	free(d->pending_text);
	d->pending_text = NULL;
	d->rollback = NULL;
	d->confirm_by = 0;
}

/* confirm: the applied policy becomes the daemon's policy file. */
static int confirm(struct daemon *d, char *err, size_t errlen)
{
	char sigsrc[300], sigdst[4200], *sig = NULL;
	size_t slen;
	int r;

	if (!d->rollback) {
		snprintf(err, errlen, "nothing awaits confirmation");
		return -ENOENT;
	}
	if (d->trust_path) { /* the signature travels with the policy */
		snprintf(sigsrc, sizeof(sigsrc), "%s.sig", d->pending_from);
		snprintf(sigdst, sizeof(sigdst), "%s.sig", d->policy_path);
		if ((r = file_read(sigsrc, &sig, &slen)) == 0)
			r = write_atomic(sigdst, sig, slen);
		free(sig);
		if (r < 0) {
			snprintf(err, errlen, "%.200s: %s", sigdst, strerror(-r));
			return r;
		}
	}
	if ((r = write_atomic(d->policy_path, d->pending_text, d->pending_len)) < 0) {
		snprintf(err, errlen, "%s: %s", d->policy_path, strerror(-r));
		return r;
	}
	policy_free(d->rollback);
	pending_clear(d);
	log_info("confirmed: %s is the policy now", d->policy_path);
	return 0;
}

static void rollback_if_due(struct daemon *d)
{
	char err[512];
	struct policy *p = d->rollback;

	if (!p || time(NULL) < d->confirm_by)
		return;
	d->rollback = NULL; /* policy_switch takes it */
	if (policy_switch(d, p, d->rollback_self, err, sizeof(err), NULL) < 0) {
		/* the kernel refused the old policy now: keep the new, say so loudly */
		log_error("rollback of %s failed, it stays in force: %s", d->pending_from, err);
		policy_free(p);
		snprintf(d->last_rollback, sizeof(d->last_rollback), "rollback FAILED: %.400s", err);
	} else {
		log_warn("%s was not confirmed in time: the previous policy is back", d->pending_from);
		snprintf(d->last_rollback, sizeof(d->last_rollback),
			 "%s was not confirmed in time and was rolled back", d->pending_from);
	}
	pending_clear(d);
}

/* ---- control socket -------------------------------------------------------------- */

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
	if (d->rollback)
		fprintf(f, "pending: %s, rolled back in %llds unless confirmed\n", d->pending_from,
			(long long)(d->confirm_by - c.now));
	if (d->last_rollback[0])
		fprintf(f, "last rollback: %s\n", d->last_rollback);
	fprintf(f, "peers:\n");
	device_peers(d->dev, status_peer, &c);
	free(c.sorted);
}

/* One request on a connected client. Only root or our own uid may ask. */
static void serve(struct daemon *d, int fd)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct ctl_request req;
	char in[CTL_MAX_REQUEST], *reply = NULL;
	const char *why;
	size_t rlen = 0, got = 0;
	FILE *f = open_memstream(&reply, &rlen);
	ssize_t n;

	if (!f)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		fprintf(f, "error: permission denied\n");
		goto out;
	}
	while (got < sizeof(in) && !memchr(in, '\n', got) &&
	       (n = read(fd, in + got, sizeof(in) - got)) > 0)
		got += (size_t)n;
	if (ctl_request_parse(in, got, &req, &why) < 0) {
		fprintf(f, "error: %s\n", why);
	} else if (!strcmp(req.verb, "status") && req.nargs == 0) {
		status(d, f);
	} else if (!strcmp(req.verb, "reload") && req.nargs == 0 && d->rollback) {
		fprintf(f, "error: an apply from %s awaits confirm; confirm it or let it roll back\n",
			d->pending_from);
	} else if (!strcmp(req.verb, "apply") && req.nargs == 2) {
		char err[1024];

		if (apply_confirm(d, req.args[0], req.args[1], err, sizeof(err)) == 0)
			fprintf(f, "ok\napplied %s; run `policyctl confirm` within %s or it is rolled "
				   "back\n", req.args[0], req.args[1]);
		else
			fprintf(f, "error: %s (the previous policy stays in force)\n", err);
	} else if (!strcmp(req.verb, "confirm") && req.nargs == 0) {
		char err[512];

		if (confirm(d, err, sizeof(err)) == 0)
			fprintf(f, "ok\nconfirmed; %s holds the policy in force\n", d->policy_path);
		else
			fprintf(f, "error: %s\n", err);
	} else if (!strcmp(req.verb, "reload") && req.nargs == 0) {
		if (reload(d, "policyctl reload") == 0)
			fprintf(f, "ok\npolicy reloaded\n");
		else
			fprintf(f, "error: %s (the previous policy stays in force)\n", d->last_error);
	} else {
		fprintf(f, "error: unknown request \"%.40s\" with %d argument(s) (status, reload, apply FILE TIMEOUT, confirm)\n",
			req.verb, req.nargs);
	}
out:
	fclose(f);
	if (reply && write(fd, reply, rlen) < 0)
		log_debug("control: reply not sent: %s", strerror(errno));
	free(reply);
}

static int ctl_listen(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[sizeof(sun.sun_path)];
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	memcpy(dir, path, strlen(path) + 1);
	if (mkdir(dirname(dir), 0755) < 0 && errno != EEXIST)
		return -errno;
	(void)unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 8) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

/* ---- systemd --------------------------------------------------------------------- */

static void sd_notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sun.sun_path))
		return;
	memcpy(sun.sun_path, path, strlen(path));
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0'; /* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	(void)!sendto(fd, "READY=1", 7, 0, (struct sockaddr *)&sun, len);
	close(fd);
}

/* ---- privileges ------------------------------------------------------------------ */

/* From the start the daemon keeps CAP_NET_ADMIN (TUN, nftables, links,
 * socket buffers) and CAP_NET_BIND_SERVICE (a listen port below 1024),
 * nothing else, for all its threads and anything it could ever execute. It
 * stays uid 0, so it still reads and writes its own root-owned files. */
static int drop_privileges(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct c[2];
	const uint32_t keep = (1u << CAP_NET_ADMIN) | (1u << CAP_NET_BIND_SERVICE);

	for (int cap = 0; cap < 64; cap++)
		if (cap != CAP_NET_ADMIN && cap != CAP_NET_BIND_SERVICE &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	memset(c, 0, sizeof(c));
	c[0].effective = c[0].permitted = keep;
	if (syscall(SYS_capset, &h, c) < 0)
		return -errno;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -errno : 0;
}

/* ---- main --------------------------------------------------------------------------- */

static void *device_thread(void *arg)
{
	struct daemon *d = arg;

	device_run(d->dev, d->uapi_fd);
	return NULL;
}

static int start(struct daemon *d)
{
	char err[sizeof(d->last_error)];
	long self;
	struct policy *p;
	int r;

	log_phase(NULL);
	if (key_load(d) < 0 || !(p = policy_read(d, &self, err, sizeof(err))))
		return -1;
	log_phase("load");
	snprintf(d->ifname, sizeof(d->ifname), "%s", d->ifname_opt ? d->ifname_opt
								     : p->net.interface);
	if ((r = rules_nl_open(&d->nl)) < 0)
		return log_error("netlink: %s", strerror(-r)), -1;
	if ((r = device_new(d->ifname, log_callback, &d->dev)) < 0)
		return log_error("cannot create interface %s: %s", d->ifname, strerror(-r)), -1;
	if ((d->uapi_fd = device_uapi_listen(d->ifname, d->uapi_path, sizeof(d->uapi_path))) < 0)
		return log_error("%s/%s.sock: %s", DEVICE_UAPI_DIR, d->ifname,
				 strerror(-d->uapi_fd)), -1;
	{
		struct uapi_set s = { .has_private_key = true };

		memcpy(s.private_key, d->priv, 32);
		r = device_apply(d->dev, &s);
		uapi_set_free(&s); /* wipes the key copy */
	}
	if (r < 0 || policy_switch(d, p, (size_t)self, err, sizeof(err), NULL) < 0) {
		log_error("%s", r < 0 ? strerror(-r) : err);
		policy_free(p);
		return -1;
	}
	if ((r = device_start(d->dev)) < 0 || pthread_create(&d->dev_thread, NULL, device_thread, d))
		return log_error("cannot start the datapath"), -1;
	if ((d->ctl_fd = ctl_listen(d->ctl_path)) < 0)
		return log_error("%s: %s", d->ctl_path, strerror(-d->ctl_fd)), -1;
	return 0;
}

static int watch_policy(struct daemon *d)
{
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s", d->policy_path);
	if ((d->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
		return -errno;
	/* the directory: editors replace the file rather than write it in place */
	d->ino_wd = inotify_add_watch(d->ino_fd, dirname(dir), IN_CLOSE_WRITE | IN_MOVED_TO);
	return d->ino_wd < 0 ? -errno : 0;
}

static bool policy_changed(struct daemon *d)
{
	char buf[4096], base[4096], sig[4100];
	const char *name;
	bool hit = false;
	ssize_t n;

	snprintf(base, sizeof(base), "%s", d->policy_path);
	name = basename(base);
	snprintf(sig, sizeof(sig), "%s.sig", name);
	while ((n = read(d->ino_fd, buf, sizeof(buf))) > 0)
		for (char *q = buf; q < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)(void *)q;

			/* the policy, or its signature (written after it) */
			if (ev->len && (!strcmp(ev->name, name) || !strcmp(ev->name, sig)))
				hit = true;
			q += sizeof(*ev) + ev->len;
		}
	return hit;
}

static void run(struct daemon *d)
{
	for (;;) {
		struct pollfd pfd[3] = { { d->sig_fd, POLLIN, 0 }, { d->ctl_fd, POLLIN, 0 },
					 { d->ino_fd, POLLIN, 0 } };
		struct signalfd_siginfo si;

		int timeout = d->rollback ? 200 : -1;

		if (poll(pfd, 3, timeout) < 0)
			continue;
		rollback_if_due(d);
		if (pfd[0].revents && read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGHUP)
				reload(d, "SIGHUP");
			else
				return;
		}
		if (pfd[1].revents) {
			int fd = accept4(d->ctl_fd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0) {
				struct timeval tv = { 5, 0 };

				(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
				serve(d, fd);
				close(fd);
			}
		}
		if (pfd[2].revents && policy_changed(d) && !d->rollback)
			reload(d, "policy file changed");
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: policyd --policy FILE --key FILE [--interface NAME] [--control PATH]\n"
		   "               [--trust ADMIN-KEYS]   (then only policies signed by one of them)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' }, { "key", required_argument, NULL, 'k' },
		{ "interface", required_argument, NULL, 'i' },
		{ "control", required_argument, NULL, 'c' }, { "trust", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	struct daemon d = { .ctl_path = CTL_DEFAULT_PATH, .uapi_fd = -1, .ctl_fd = -1,
			    .sig_fd = -1, .ino_fd = -1 };
	sigset_t mask;
	int o, rc = 1;

	while ((o = getopt_long(argc, argv, "p:k:i:c:t:h", opts, NULL)) != -1) {
		switch (o) {
		case 'p': d.policy_path = optarg; break;
		case 'k': d.key_path = optarg; break;
		case 'i': d.ifname_opt = optarg; break;
		case 'c': d.ctl_path = optarg; break;
		case 't': d.trust_path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!d.policy_path || !d.key_path || optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("policyd", getenv("POLICYD_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (sodium_init() < 0)
		fatal("libsodium failed to initialise");
	prctl(PR_SET_DUMPABLE, 0); /* no core dumps: they would hold keys */
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	/* blocked before any thread starts, so only the signalfd sees them */
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	/* before any thread exists: capabilities are per thread */
	if ((o = drop_privileges()) < 0) {
		log_error("cannot drop privileges (run as root): %s", strerror(-o));
		goto out;
	}
	if ((d.sig_fd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0 || start(&d) < 0 ||
	    watch_policy(&d) < 0)
		goto out;
	log_info("node %s up on %s: %zu peers, table inet policyd applied; control %s",
		 d.p->nodes[d.self].name, d.ifname, d.p->nnodes - 1, d.ctl_path);
	sd_notify_ready();
	run(&d);
	log_info("stopping; table inet policyd stays in force");
	rc = 0;
out:
	if (d.dev) {
		device_stop(d.dev);
		if (d.dev_thread)
			pthread_join(d.dev_thread, NULL);
		device_free(d.dev);
	}
	if (d.uapi_fd >= 0) {
		close(d.uapi_fd);
		unlink(d.uapi_path);
	}
	if (d.ctl_fd >= 0) {
		close(d.ctl_fd);
		unlink(d.ctl_path);
	}
	rules_nl_close(d.nl);
	policy_free(d.rollback);
	free(d.pending_text);
	policy_free(d.p);
	sodium_free(d.priv);
	return rc;
}
