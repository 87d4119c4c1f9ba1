/* policyd.c — one policy, this host configured: the daemon.
 *
 *   policyd --policy FILE --key FILE [--interface NAME] [--control PATH]
 *           [--control-group GROUP] [--trust ADMIN-KEYS] [--state FILE]
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
#include "control.h"
#include "ctlsock.h"
#include "daemon.h"
#include "device.h"
#include "file.h"
#include "guard.h"
#include "ir.h"
#include "keyfile.h"
#include "link.h"
#include "log.h"
#include "mesh.h"
#include "policy.h"
#include "ptest.h"
#include "sign.h"
#include "uapi.h"

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
 * nothing else, for all its threads and anything it could ever execute;
 * once its socket is bound, only CAP_NET_ADMIN (keep_net_admin_only). It
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

/* After the first switch the datapath's socket is bound: unless the policy's
 * port is privileged, CAP_NET_BIND_SERVICE goes too, before any thread is
 * started, so every thread keeps CAP_NET_ADMIN alone. A reload that moves
 * the port below 1024 is then refused by the datapath and undone. */
static int keep_net_admin_only(const struct policy *p)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct c[2];

	if (p->net.port < 1024)
		return 0;
	memset(c, 0, sizeof(c));
	c[0].effective = c[0].permitted = 1u << CAP_NET_ADMIN;
	return syscall(SYS_capset, &h, c) < 0 ? -errno : 0;
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
	struct policy_bytes bytes;
	uint64_t signed_at;
	long self;
	struct policy *p;
	int r;

	log_phase(NULL);
	if (key_load(d) < 0 || (d->trust_path && daemon_signed_floor_load(d) < 0))
		return -1;
	if (!(p = daemon_policy_read(d, d->policy_path, &self, err, sizeof(err), &bytes)))
		return log_error("%s", err), -1;
	signed_at = bytes.signed_at;
	policy_bytes_free(&bytes);
	log_phase("load");
	snprintf(d->ifname, sizeof(d->ifname), "%s", d->ifname_opt ? d->ifname_opt
								     : p->net.interface);
	if ((r = rules_nl_open(&d->nl)) < 0 || (r = rules_watch_new(d->nl, 0, &d->watch)) < 0)
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
	if (r < 0 || daemon_policy_switch(d, p, (size_t)self, err, sizeof(err), NULL) < 0) {
		log_error("%s", r < 0 ? strerror(-r) : err);
		policy_free(p);
		return -1;
	}
	daemon_signed_floor_raise(d, signed_at);
	if ((r = keep_net_admin_only(d->p)) < 0)
		return log_error("cannot drop CAP_NET_BIND_SERVICE: %s", strerror(-r)), -1;
	if (guard_new(d, d->state_path, &d->guard) < 0)
		return log_error("quarantine cannot start"), -1;
	if ((r = device_start(d->dev)) < 0 || pthread_create(&d->dev_thread, NULL, device_thread, d))
		return log_error("cannot start the datapath"), -1;
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
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	char base[4096], sig[4100];
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

/* A reload asked for while an apply awaits confirm would decide its fate
 * behind the admin's back: it waits until confirm or rollback. */
static void reload_or_defer(struct daemon *d, const char *why)
{
	if (d->rollback) {
		if (!d->reload_deferred)
			log_info("%s: reload deferred until the apply from %s is confirmed or "
				 "rolled back", why, d->pending_from);
		d->reload_deferred = true;
		return;
	}
	daemon_reload(d, why);
}

/* Another process changed table inet policyd: it is put back at once, but
 * no more than once a second (a script fighting us must not spin us), and
 * less often while repairs do not make the table vouched for again. */
#define REPAIR_EVERY_MS 1000

static void on_watch(struct daemon *d)
{
	char what[256];

	if (rules_watch_drain(d->watch) > 0) {
		rules_watch_describe(d->watch, what, sizeof(what));
		log_warn("%s", what);
	}
}

/* Checked on every turn of the loop: a foreign change may also have been
 * found by the drain inside an apply, and a failed repair is tried again. */
static int repair_if_due(struct daemon *d, int timeout)
{
	uint64_t now = clock_ms(), due;

	if (!d->repair_every_ms)
		d->repair_every_ms = REPAIR_EVERY_MS;
	due = d->last_repair_ms + d->repair_every_ms;
	if (!d->p || !rules_watch_tampered(d->watch))
		return timeout;
	if (now >= due) {
		d->last_repair_ms = now;
		daemon_table_repair(d);
		/* still not vouched for (a watch that cannot resubscribe, a repair
		 * that failed): try less and less often, up to once a minute */
		if (rules_watch_tampered(d->watch) && d->repair_every_ms < 60000)
			d->repair_every_ms *= 2;
		else if (!rules_watch_tampered(d->watch))
			d->repair_every_ms = REPAIR_EVERY_MS;
		return timeout;
	}
	return timeout < 0 || (uint64_t)timeout > due - now ? (int)(due - now) : timeout;
}

enum { PFD_SIG, PFD_INO, PFD_WATCH, PFD_NFLOG, PFD_EVENTS, PFD_CTL,
       PFD_N = PFD_CTL + CTLSOCK_POLLFDS };

static void run(struct daemon *d)
{
	for (;;) {
		struct pollfd pfd[PFD_N] = { [PFD_SIG] = { d->sig_fd, POLLIN, 0 },
					     [PFD_INO] = { d->ino_fd, POLLIN, 0 },
					     [PFD_WATCH] = { rules_watch_fd(d->watch), POLLIN, 0 } };
		struct signalfd_siginfo si;
		int timeout = guard_tick(d->guard);

		if (d->rollback && (timeout < 0 || timeout > 200))
			timeout = 200;
		timeout = ctlsock_timeout(d->ctl, timeout);
		timeout = repair_if_due(d, timeout);
		guard_fds(d->guard, pfd + PFD_NFLOG);
		ctlsock_pollfds(d->ctl, pfd + PFD_CTL);
		if (poll(pfd, PFD_N, timeout) < 0)
			continue;
		if (pfd[PFD_WATCH].revents)
			on_watch(d);
		if (pfd[PFD_NFLOG].revents)
			guard_on_nflog(d->guard);
		if (pfd[PFD_EVENTS].revents)
			guard_on_events(d->guard);
		daemon_rollback_if_due(d);
		if (pfd[PFD_SIG].revents && read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGHUP)
				reload_or_defer(d, "SIGHUP");
			else
				return;
		}
		ctlsock_process(d->ctl, pfd + PFD_CTL, daemon_answer, d);
		if (pfd[PFD_INO].revents && policy_changed(d))
			reload_or_defer(d, "policy file changed");
		if (d->reload_deferred && !d->rollback) {
			d->reload_deferred = false;
			daemon_reload(d, "deferred while an apply awaited confirm");
		}
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: policyd --policy FILE --key FILE [--interface NAME] [--control PATH]\n"
		   "               [--control-group GROUP] (its members may use the control socket)\n"
		   "               [--trust ADMIN-KEYS]   (then only policies signed by one of them)\n"
		   "               [--state FILE]         quarantine bans (default " STATE_DEFAULT_PATH ")\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' }, { "key", required_argument, NULL, 'k' },
		{ "interface", required_argument, NULL, 'i' },
		{ "control", required_argument, NULL, 'c' }, { "trust", required_argument, NULL, 't' },
		{ "state", required_argument, NULL, 's' },
		{ "control-group", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	struct daemon d = { .ctl_path = CTL_DEFAULT_PATH, .state_path = STATE_DEFAULT_PATH,
			    .ctl_group = CTLSOCK_NO_GROUP, .uapi_fd = -1, .sig_fd = -1, .ino_fd = -1 };
	const char *group = NULL;
	sigset_t mask;
	int o, rc = 1;

	while ((o = getopt_long(argc, argv, "p:k:i:c:t:s:g:h", opts, NULL)) != -1) {
		switch (o) {
		case 'p': d.policy_path = optarg; break;
		case 'k': d.key_path = optarg; break;
		case 'i': d.ifname_opt = optarg; break;
		case 'c': d.ctl_path = optarg; break;
		case 't': d.trust_path = optarg; break;
		case 's': d.state_path = optarg; break;
		case 'g': group = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!d.policy_path || !d.key_path || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (d.ifname_opt && (!d.ifname_opt[0] || strlen(d.ifname_opt) >= IFNAMSIZ)) {
		fprintf(stderr, "policyd: --interface \"%s\": 1 to %d characters\n", d.ifname_opt,
			IFNAMSIZ - 1);
		return 2;
	}
	if (group && ctlsock_group_parse(group, &d.ctl_group) < 0) {
		fprintf(stderr, "policyd: --control-group \"%s\": no such group\n", group);
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
	/* while we may still chown it to the control group */
	if ((o = ctlsock_open(d.ctl_path, d.ctl_group, &d.ctl)) < 0) {
		log_error("control socket %s: %s", d.ctl_path, strerror(-o));
		goto out;
	}
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
	}
	guard_free(d.guard); /* after the packet threads: they call into it */
	device_free(d.dev);
	if (d.uapi_fd >= 0) {
		close(d.uapi_fd);
		unlink(d.uapi_path);
	}
	ctlsock_free(d.ctl);
	rules_watch_free(d.watch);
	rules_nl_close(d.nl);
	ir_free(d.ir_next);
	ir_free(d.ir);
	daemon_pending_free(&d);
	policy_free(d.p);
	sodium_free(d.priv);
	return rc;
}
