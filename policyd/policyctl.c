/* policyctl — check, show and apply a policy; make keys.
 *
 * Exit status: 0 ok, 1 policy errors or failing tests (or the kernel refused
 * the ruleset), 2 usage or I/O errors. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "apply.h"
#include "compile.h"
#include "log.h"
#include "policy.h"
#include "control.h"
#include "file.h"
#include "importwg.h"
#include "keyfile.h"
#include "sign.h"
#include "ptest.h"
#include "render.h"


enum { EXIT_POLICY = 1, EXIT_USAGE = 2 };

struct cmd_opts {
	const char *file;
	const char *node;
	bool check_only;
	time_t now;
	const char *control;   /* the daemon's control socket */
	const char *key;       /* an admin (Ed25519) key file */
	const char *trust;     /* trusted admin public keys */
	const char *confirm;   /* apply through the daemon, rolled back unless confirmed */
	bool lockout;          /* check: warn about nodes nobody can SSH to */
	const char *from;      /* breakglass: the source range */
	const char *ttl;       /* breakglass: how long */
	const char *reason;    /* flag: why */
	char **extra;          /* import-wg: the configs; breakglass: open|close */
	size_t nextra;
};

struct loaded {
	char *text;
	size_t len;
	struct policy *p;
	size_t checked;      /* test assertions that ran (and passed) */
	struct ir *ir;       /* the node's ruleset, after load_node() */
};

static int usage(void);


/* ---- helpers ------------------------------------------------------------------- */

static void print_diags(const char *file, const struct diags *d)
{
	char line[1024];

	for (size_t i = 0; i < d->n; i++) {
		diag_format(&d->v[i], file, line, sizeof(line));
		fprintf(stderr, "%s\n", line);
	}
}

/* Load, validate and (with run_tests) run the policy's tests. Returns 0, or
 * the exit status after printing why. */
static int load(const struct cmd_opts *o, bool run_tests, struct loaded *l)
{
	struct policy_opts po = { .now = o->now };
	struct diags d;
	int r = file_read(o->file, &l->text, &l->len);

	if (r < 0) {
		log_error("%s: %s", o->file, strerror(-r));
		return EXIT_USAGE;
	}
	diags_init(&d);
	l->p = policy_load(l->text, l->len, &po, &d);
	if (l->p && o->lockout) {
		ptest_lockout_warnings(l->p, o->now ? o->now : time(NULL), &d);
		policy_diags_locate(l->text, l->len, &d);
	}
	if (l->p && run_tests && ptest_run(l->p, o->now ? o->now : time(NULL), &d, &l->checked)) {
		policy_diags_locate(l->text, l->len, &d);
		policy_free(l->p);
		l->p = NULL;
	}
	print_diags(o->file, &d);
	if (!l->p)
		fprintf(stderr, "%s: %zu error(s), %zu warning(s); nothing applied\n", o->file,
			d.nerr, d.nwarn);
	diags_free(&d);
	return l->p ? 0 : EXIT_POLICY;
}

static void unload(struct loaded *l)
{
	ir_free(l->ir);
	policy_free(l->p);
	free(l->text);
}

/* load() and compile the ruleset of --node. */
static int load_node(const struct cmd_opts *o, bool run_tests, struct loaded *l)
{
	struct compile_opts co = { .now = o->now };
	long n;
	int r;

	if (!o->node) {
		log_error("--node NAME is required");
		return EXIT_USAGE;
	}
	r = load(o, run_tests, l);
	log_phase("load");
	if (r)
		return r;
	n = policy_node_find(l->p, o->node);
	if (n < 0) {
		log_error("%s: no node \"%s\" in the policy", o->file, o->node);
		return EXIT_POLICY;
	}
	l->ir = compile_node(l->p, (size_t)n, &co);
	log_phase("compile");
	return 0;
}

/* ---- commands ------------------------------------------------------------------ */

static int cmd_check(const struct cmd_opts *o)
{
	struct cmd_opts co = *o;
	struct loaded l = { 0 };
	int r;

	co.lockout = true;
	r = load(&co, true, &l);

	if (!r)
		printf("%s: ok: %zu nodes, %zu acls, %zu exposures, %zu test assertions pass\n",
		       o->file, l.p->nnodes, l.p->nacls, l.p->nexpose, l.checked);
	unload(&l);
	return r;
}

static int cmd_show(const struct cmd_opts *o)
{
	struct loaded l = { 0 };
	int r = load_node(o, false, &l);

	if (!r)
		r = render_ir(l.ir, stdout) < 0 || fflush(stdout) ? EXIT_USAGE : 0;
	unload(&l);
	return r;
}

static int daemon_request(const struct cmd_opts *o, const char *verb);

/* apply FILE --confirm 60s: the running daemon applies FILE and rolls it
 * back by itself unless `policyctl confirm` follows in time. */
static int apply_confirmed(const struct cmd_opts *o)
{
	char abs[4096], line[CTL_MAX_REQUEST];
	uint32_t secs;

	if (duration_parse(o->confirm, &secs) < 0 || !secs) {
		log_error("--confirm: bad duration \"%s\" (e.g. 60s, 5m)", o->confirm);
		return EXIT_USAGE;
	}
	if (o->node || o->check_only) {
		log_error("apply --confirm goes through the daemon: no --node or --check");
		return EXIT_USAGE;
	}
	if (!realpath(o->file, abs)) {
		log_error("%s: %s", o->file, strerror(errno));
		return EXIT_USAGE;
	}
	if ((size_t)snprintf(line, sizeof(line), "apply %s %us", abs, secs) >= sizeof(line) ||
	    strpbrk(abs, " \"'\\")) {
		log_error("%s: the path must be short and without spaces or quotes", abs);
		return EXIT_USAGE;
	}
	return daemon_request(o, line);
}

/* wg-config FILE --node NAME: the node as plain WireGuard sees it, for a
 * member that does not run policyd (wg(8) setconf format; the private key
 * stays on that host: `wg set IF private-key FILE` after setconf). Its
 * firewall is its own business: policyd's tables on the others still apply
 * to it. */
static int cmd_wg_config(const struct cmd_opts *o)
{
	struct loaded l = { 0 };
	char a[ADDR_STRLEN];
	long self;
	int r;

	if (!o->node) {
		log_error("wg-config: --node NAME is required");
		return EXIT_USAGE;
	}
	if ((r = load(o, true, &l)))
		return r;
	if ((self = policy_node_find(l.p, o->node)) < 0) {
		log_error("%s: no node \"%s\" in the policy", o->file, o->node);
		unload(&l);
		return EXIT_POLICY;
	}
	printf("# %s as a plain WireGuard peer of the policyd mesh in %s\n", o->node, o->file);
	printf("# wg setconf IF THIS; wg set IF private-key KEYFILE;");
	for (size_t i = 0; i < l.p->nodes[self].nips; i++) {
		const struct prefix *ip = &l.p->nodes[self].ips[i];
		const struct prefix *net = ip->a.family == AF_INET ? &l.p->net.v4 : &l.p->net.v6;

		printf(" ip addr add %s/%u dev IF;", addr_str(&ip->a, a),
		       prefix_contains(net, &ip->a) ? net->len : ip->len);
	}
	printf(" ip link set IF mtu 1420 up\n[Interface]\nListenPort = %u\n", l.p->net.port);
	for (size_t n = 0; n < l.p->nnodes; n++) {
		const struct node *nd = &l.p->nodes[n];
		char key[45];

		if ((long)n == self)
			continue;
		sodium_bin2base64(key, sizeof(key), nd->key, 32, sodium_base64_VARIANT_ORIGINAL);
		printf("\n# %s\n[Peer]\nPublicKey = %s\nAllowedIPs = ", nd->name, key);
		for (size_t i = 0; i < nd->nips; i++)
			printf("%s%s/%u", i ? ", " : "", addr_str(&nd->ips[i].a, a), nd->ips[i].len);
		printf("\n");
		if (nd->endpoint)
			printf("Endpoint = %s\n", nd->endpoint);
		if (nd->keepalive)
			printf("PersistentKeepalive = %d\n", nd->keepalive);
	}
	unload(&l);
	return fflush(stdout) ? EXIT_USAGE : 0;
}

static int cmd_apply(const struct cmd_opts *o)
{
	struct apply_report rep;
	struct rules_nl *nl = NULL;
	struct loaded l = { 0 };
	int r;

	if (o->confirm)
		return apply_confirmed(o);
	log_phase(NULL);
	r = load_node(o, true, &l);
	if (r) {
		unload(&l);
		return r;
	}
	r = rules_nl_open(&nl);
	if (r < 0) {
		log_error("netlink: %s", strerror(-r));
		r = EXIT_USAGE;
		goto out;
	}
	r = rules_apply(nl, l.ir, !o->check_only, &rep);
	log_phase("apply");
	for (size_t i = 0; i < rep.nerrors; i++)
		log_error("%s: %s", o->file, rep.errors[i]);
	if (r < 0) {
		log_error("%s: table inet %s %s: %s%s", o->file, IR_TABLE,
			  o->check_only ? "failed the kernel's check" : "not applied", strerror(-r),
			  r == -EPERM ? " (needs CAP_NET_ADMIN)" : "");
		r = (r == -EPERM || rep.nerrors == 0) ? EXIT_USAGE : EXIT_POLICY;
	} else {
		printf("%s table inet %s for node %s: %zu set elements, %zu messages, %zu bytes%s\n",
		       o->check_only ? "kernel accepts" : "applied", IR_TABLE, o->node,
		       ir_elem_count(l.ir), rep.messages, rep.bytes,
		       rep.carried ? " (bans in force kept)" : "");
		r = 0;
	}
	apply_report_free(&rep);
out:
	rules_nl_close(nl);
	unload(&l);
	return r;
}

static int cmd_keygen(const struct cmd_opts *o)
{
	unsigned char *sk = sodium_malloc(32);
	char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];

	(void)o;
	if (!sk)
		return EXIT_USAGE;
	randombytes_buf(sk, 32);
	sk[0] &= 248; /* X25519 clamping, as `wg genkey` */
	sk[31] = (sk[31] & 127) | 64;
	sodium_bin2base64(b64, sizeof(b64), sk, 32, sodium_base64_VARIANT_ORIGINAL);
	sodium_free(sk);
	umask(077);
	puts(b64);
	sodium_memzero(b64, sizeof(b64));
	return fflush(stdout) ? EXIT_USAGE : 0;
}

static int cmd_pubkey(const struct cmd_opts *o)
{
	char *line = sodium_malloc(128);
	unsigned char *sk = sodium_malloc(32);
	unsigned char pk[32];
	char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
	int r = EXIT_USAGE;

	(void)o;
	if (!line || !sk)
		goto out;
	if (!fgets(line, 128, stdin) || key_from_base64(line, strlen(line), sk) < 0) {
		log_error("pubkey: expected a base64 private key on standard input");
		goto out;
	}
	if (crypto_scalarmult_base(pk, sk) != 0)
		goto out;
	sodium_bin2base64(b64, sizeof(b64), pk, 32, sodium_base64_VARIANT_ORIGINAL);
	puts(b64);
	r = fflush(stdout) ? EXIT_USAGE : 0;
out:
	sodium_free(line);
	sodium_free(sk);
	return r;
}

/* ---- dispatch ---------------------------------------------------------------- */

/* ---- signed policies -------------------------------------------------------- */

static int cmd_sign_keygen(const struct cmd_opts *o)
{
	char b64[45];

	(void)o;
	sign_keygen(b64);
	puts(b64);
	sodium_memzero(b64, sizeof(b64));
	return fflush(stdout) ? EXIT_USAGE : 0;
}

static int cmd_sign_pubkey(const struct cmd_opts *o)
{
	char b64[45], err[256];

	if (!o->key) {
		log_error("sign-pubkey: --key ADMIN.key is required");
		return EXIT_USAGE;
	}
	if (sign_pubkey(o->key, b64, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return EXIT_USAGE;
	}
	puts(b64);
	return fflush(stdout) ? EXIT_USAGE : 0;
}

/* FILE.sig, replaced in one rename so a daemon never reads half of it. */
static int cmd_sign(const struct cmd_opts *o)
{
	char sig[SIGN_LINE_LEN], err[256], *text = NULL, path[4096], tmp[4100];
	size_t len;
	FILE *f;
	int r;

	if (!o->key) {
		log_error("sign: --key ADMIN.key is required");
		return EXIT_USAGE;
	}
	if ((r = file_read(o->file, &text, &len)) < 0) {
		log_error("%s: %s", o->file, strerror(-r));
		return EXIT_USAGE;
	}
	r = sign_text(o->key, text, len, (uint64_t)time(NULL), sig, err, sizeof(err));
	free(text);
	if (r < 0) {
		log_error("%s", err);
		return EXIT_USAGE;
	}
	snprintf(path, sizeof(path), "%s.sig", o->file);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!(f = fopen(tmp, "w")) || fprintf(f, "%s\n", sig) < 0 || fclose(f) != 0 ||
	    chmod(tmp, 0644) < 0 || rename(tmp, path) < 0) {
		log_error("%s: %s", path, strerror(errno));
		return EXIT_USAGE;
	}
	printf("%s: signed\n", path);
	return 0;
}

static int cmd_verify(const struct cmd_opts *o)
{
	char err[512], path[4096], *text = NULL, *sig = NULL, when[32];
	size_t len, slen;
	uint64_t signed_at;
	time_t t;
	int r;

	if (!o->trust) {
		log_error("verify: --trust KEYS is required");
		return EXIT_USAGE;
	}
	snprintf(path, sizeof(path), "%s.sig", o->file);
	if ((r = file_read(o->file, &text, &len)) < 0 || (r = file_read(path, &sig, &slen)) < 0) {
		log_error("%s: %s", text ? path : o->file, strerror(-r));
		free(text);
		return EXIT_USAGE;
	}
	r = sign_verify(o->trust, text, len, sig, slen, &signed_at, err, sizeof(err));
	free(text);
	free(sig);
	if (r < 0) {
		log_error("%s: %s", o->file, err);
		return EXIT_POLICY;
	}
	t = (time_t)signed_at;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	printf("%s: signature ok, signed %s\n", o->file, when);
	return 0;
}

/* status / reload: ask the running daemon. */
static int daemon_request(const struct cmd_opts *o, const char *verb)
{
	const char *path = o->control ? o->control : CTL_DEFAULT_PATH;
	int r = ctl_request(path, verb, stdout);

	if (r < 0) {
		log_error("%s: %s (is policyd running?)", path, strerror(-r));
		return EXIT_USAGE;
	}
	return r ? EXIT_POLICY : 0;
}

static int cmd_status(const struct cmd_opts *o)
{
	return daemon_request(o, "status");
}

static int cmd_reload(const struct cmd_opts *o)
{
	return daemon_request(o, "reload");
}

static int cmd_confirm(const struct cmd_opts *o)
{
	return daemon_request(o, "confirm");
}

/* import-wg CONF...: hand-written WireGuard configs → a policy on stdout. */
static int cmd_import_wg(const struct cmd_opts *o)
{
	char err[512];
	int r;

	if (!o->nextra) {
		log_error("import-wg: give one wg-quick config per host (wg0.conf ...)");
		return EXIT_USAGE;
	}
	if ((r = importwg((const char *const *)o->extra, o->nextra, stdout, err, sizeof(err))) < 0) {
		log_error("import-wg: %s", err[0] ? err : strerror(-r));
		return r == -EINVAL ? EXIT_POLICY : EXIT_USAGE;
	}
	return fflush(stdout) ? EXIT_USAGE : 0;
}

/* breakglass open --from CIDR [--ttl 30m] | close --from CIDR: the
 * policy's breakglass ports on the node's public side for that source only,
 * closed by the kernel when the ttl runs out. The daemon checks the range
 * and the ttl against the policy. */
static int cmd_breakglass(const struct cmd_opts *o)
{
	char line[CTL_MAX_REQUEST];
	bool open = o->nextra == 1 && !strcmp(o->extra[0], "open");
	bool close = o->nextra == 1 && !strcmp(o->extra[0], "close");

	if ((!open && !close) || !o->from || (close && o->ttl)) {
		log_error("usage: policyctl breakglass open --from CIDR [--ttl 30m] | close --from CIDR");
		return EXIT_USAGE;
	}
	if (strpbrk(o->from, " \n") || (o->ttl && strpbrk(o->ttl, " \n")) ||
	    (size_t)snprintf(line, sizeof(line), "breakglass %s %s%s%s", o->extra[0], o->from,
			     open ? " " : "", open ? (o->ttl ? o->ttl : "-") : "") >= sizeof(line)) {
		log_error("breakglass: --from and --ttl are single words");
		return EXIT_USAGE;
	}
	return daemon_request(o, line);
}

/* flag NODE --reason TEXT: quarantine a peer now (exempt peers and
 * breakglass holders are only reported). reauth NODE: lift its ban. */
static int cmd_flag(const struct cmd_opts *o)
{
	char line[CTL_MAX_REQUEST];

	if (o->nextra != 1 || !o->reason || !o->reason[0]) {
		log_error("usage: policyctl flag NODE --reason TEXT");
		return EXIT_USAGE;
	}
	if ((size_t)snprintf(line, sizeof(line), "flag %s %s", o->extra[0], o->reason) >=
	    sizeof(line) - 1) {
		log_error("flag: the reason is too long");
		return EXIT_USAGE;
	}
	for (char *c = line; *c; c++) /* the request is words of printable ASCII */
		if (*c < 0x21 || *c > 0x7e || *c == '"' || *c == '\'' || *c == '\\')
			*c = c[-1] == ' ' ? '_' : ' ';
	return daemon_request(o, line);
}

static int cmd_reauth(const struct cmd_opts *o)
{
	char line[CTL_MAX_REQUEST];

	if (o->nextra != 1 || !policy_name_ok(o->extra[0])) {
		log_error("usage: policyctl reauth NODE");
		return EXIT_USAGE;
	}
	snprintf(line, sizeof(line), "reauth %s", o->extra[0]);
	return daemon_request(o, line);
}

struct command {
	const char *name;
	int (*fn)(const struct cmd_opts *);
	bool needs_file;
	const char *help;
};

/* audit parses its own options: parse_opts() hands it the words as they are */
static int cmd_audit(const struct cmd_opts *o)
{
	return audit_main((int)o->nextra, o->extra);
}

static const struct command commands[] = {
	{ "check", cmd_check, true, "FILE                parse, validate and run the policy's tests" },
	{ "show", cmd_show, true, "FILE --node NAME     print the node's nftables ruleset" },
	{ "apply", cmd_apply, true,
	  "FILE --node NAME [--check]  install the node's table in this network namespace\n"
	  "              FILE --confirm 60s  through the daemon; rolled back unless confirmed" },
	{ "confirm", cmd_confirm, false, "[--control PATH]  keep what apply --confirm applied" },
	{ "wg-config", cmd_wg_config, true,
	  "FILE --node NAME  the node's wg(8) config, for a member without policyd" },
	{ "import-wg", cmd_import_wg, false,
	  "CONF...        wg-quick configs (one per host) -> a policy on stdout" },
	{ "keygen", cmd_keygen, false, "                   print a new private key" },
	{ "pubkey", cmd_pubkey, false, "                   private key on stdin -> public key" },
	{ "sign-keygen", cmd_sign_keygen, false, "                print a new admin (Ed25519) key" },
	{ "sign-pubkey", cmd_sign_pubkey, false, "--key ADMIN.key  its public key, for --trust files" },
	{ "sign", cmd_sign, true, "--key ADMIN.key FILE  write FILE.sig" },
	{ "verify", cmd_verify, true, "--trust KEYS FILE  check FILE.sig against trusted keys" },
	{ "status", cmd_status, false, "[--control PATH]   the running daemon: node, policy, peers" },
	{ "breakglass", cmd_breakglass, false,
	  "open --from CIDR [--ttl 30m] | close --from CIDR  public access for a locked-out admin" },
	{ "flag", cmd_flag, false, "NODE --reason TEXT  quarantine a peer now" },
	{ "reauth", cmd_reauth, false, "NODE             lift a peer's quarantine" },
	{ "reload", cmd_reload, false,
	  "[--control PATH]   reload the daemon's policy (a bad one is refused, the old stays)" },
	{ "audit", cmd_audit, false,
	  "FILE --node NAME --target ADDR [--zone public|vpn] [--as PEER [--key FILE]]\n"
	  "              [--ports all|declared|LIST] [--json]   nmap vs the policy\n"
	  "              FILE --node NAME --local [--json]    this host's listeners vs the policy" },
};

static int usage(void)
{
	fprintf(stderr, "usage: policyctl COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "  %-11s %s\n", commands[i].name, commands[i].help);
	fprintf(stderr, "\noptions: --now RFC3339  evaluate expiry as of that time (tests)\n");
	return EXIT_USAGE;
}

static int parse_opts(int argc, char **argv, const struct command *c, struct cmd_opts *o)
{
	static const struct option longopts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "check", no_argument, NULL, 'c' },
		{ "now", required_argument, NULL, 't' },
		{ "control", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'k' },
		{ "trust", required_argument, NULL, 'T' },
		{ "confirm", required_argument, NULL, 'F' },
		{ "from", required_argument, NULL, 'f' },
		{ "ttl", required_argument, NULL, 'L' },
		{ "reason", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t t;
	int ch;

	if (c->fn == cmd_audit) {
		o->extra = argv;
		o->nextra = (size_t)argc;
		return 0;
	}
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			o->node = optarg;
			break;
		case 'c':
			o->check_only = true;
			break;
		case 'C':
			o->control = optarg;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 'T':
			o->trust = optarg;
			break;
		case 'F':
			o->confirm = optarg;
			break;
		case 'f':
			o->from = optarg;
			break;
		case 'L':
			o->ttl = optarg;
			break;
		case 'R':
			o->reason = optarg;
			break;
		case 't':
			if (rfc3339_parse(optarg, &t) < 0) {
				log_error("--now: bad time \"%s\" (expected RFC 3339)", optarg);
				return -1;
			}
			o->now = (time_t)t;
			break;
		default:
			return -1;
		}
	}
	if (c->needs_file) {
		if (optind != argc - 1) {
			log_error("%s: expected one policy file", c->name);
			return -1;
		}
		o->file = argv[optind];
	} else if (!strcmp(c->name, "import-wg") || !strcmp(c->name, "breakglass") ||
		   !strcmp(c->name, "flag") || !strcmp(c->name, "reauth")) {
		o->extra = argv + optind;
		o->nextra = (size_t)(argc - optind);
	} else if (optind != argc) {
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct cmd_opts o = { 0 };

	log_init("policyctl", LOG_LVL_INFO);
	if (sodium_init() < 0)
		fatal("libsodium failed to initialise");
	if (argc < 2)
		return usage();
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		if (parse_opts(argc - 1, argv + 1, &commands[i], &o) < 0)
			return usage();
		return commands[i].fn(&o);
	}
	log_error("unknown command \"%s\"", argv[1]);
	return usage();
}
