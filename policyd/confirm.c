/* confirm.c — commit-confirmed: `policyctl apply FILE --confirm 60s`.
 *
 * The new policy goes in force at once and the old one is kept aside; unless
 * `policyctl confirm` comes before the deadline, the old one is switched
 * back by itself. Only a confirm writes the new policy (and its signature)
 * over the daemon's policy file, so a restart never resurrects an
 * unconfirmed policy. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "file.h"
#include "log.h"
#include "mesh.h"

/* apply FILE SECONDS: FILE in force now, the current policy back at the
 * deadline unless confirmed. FILE is checked like any reload. */
int daemon_apply_confirm(struct daemon *d, const char *file, const char *secs, char *err,
			 size_t errlen)
{
	uint32_t timeout;
	struct policy *p, *old = NULL;
	struct policy_bytes bytes;
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
	if (!(p = daemon_policy_read(d, file, &self, err, errlen, &bytes)))
		return -EINVAL;
	if (daemon_policy_switch(d, p, (size_t)self, err, errlen, &old) < 0) {
		policy_free(p);
		policy_bytes_free(&bytes);
		return -EINVAL;
	}
	d->rollback = old;
	d->rollback_self = (size_t)mesh_node_by_key(old, d->pub); /* it was in force: found */
	d->pending = bytes;
	d->confirm_by_ms = clock_ms() + (uint64_t)timeout * 1000;
	snprintf(d->pending_from, sizeof(d->pending_from), "%s", file);
	log_info("applied %s; it is rolled back in %u s unless confirmed", file, timeout);
	return 0;
}

static void pending_clear(struct daemon *d)
{
	policy_bytes_free(&d->pending);
	d->rollback = NULL;
	d->confirm_by_ms = 0;
}

/* confirm: the applied policy becomes the daemon's policy file, with the
 * very signature verified at apply (a .sig changed since is not taken). The
 * policy is written first: between the two renames a reload would refuse
 * the pair and keep this same policy in force. */
int daemon_confirm(struct daemon *d, char *err, size_t errlen)
{
	char sigdst[4200];
	int r;

	if (!d->rollback) {
		snprintf(err, errlen, "nothing awaits confirmation");
		return -ENOENT;
	}
	if ((r = file_write_atomic(d->policy_path, d->pending.text, d->pending.len)) < 0) {
		snprintf(err, errlen, "%s: %s", d->policy_path, strerror(-r));
		return r;
	}
	snprintf(sigdst, sizeof(sigdst), "%s.sig", d->policy_path);
	if (d->pending.sig && (r = file_write_atomic(sigdst, d->pending.sig, d->pending.siglen)) < 0) {
		snprintf(err, errlen, "%.200s: %s; the policy in force is confirmed, but its file "
			 "and signature no longer match: sign it again", sigdst, strerror(-r));
		log_error("confirm: %s", err);
	}
	daemon_signed_floor_raise(d, d->pending.signed_at);
	policy_free(d->rollback);
	pending_clear(d);
	log_info("confirmed: %s is the policy now", d->policy_path);
	return r;
}

void daemon_rollback_if_due(struct daemon *d)
{
	char err[512];
	struct policy *p = d->rollback;

	if (!p || clock_ms() < d->confirm_by_ms)
		return;
	d->rollback = NULL; /* policy_switch takes it */
	if (daemon_policy_switch(d, p, d->rollback_self, err, sizeof(err), NULL) < 0) {
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

/* At exit: what awaits confirmation is dropped (the file keeps the old). */
void daemon_pending_free(struct daemon *d)
{
	policy_free(d->rollback);
	pending_clear(d);
}
