/* scan.c — fork/execvp nmap with an argv array and read its XML from a pipe.
 *
 * The child's stdout (where `-oX -` writes the XML, and nothing else) and
 * stderr are two pipes; the parent polls both, feeds the XML to the parser
 * as it comes and keeps the start of stderr for the error message. A third,
 * close-on-exec pipe carries execvp's errno back, so "nmap is not installed"
 * is told apart from "nmap failed". */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scan.h"

#define PORTLIST_MAX 100000

struct argv_b {
	char **v;
	size_t n, cap;
	int err;
};

static void push(struct argv_b *a, const char *s)
{
	char **v;

	if (a->err)
		return;
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 32;

		if (!(v = realloc(a->v, cap * sizeof(*v)))) {
			a->err = -ENOMEM;
			return;
		}
		a->v = v;
		a->cap = cap;
	}
	if (!(a->v[a->n] = strdup(s))) {
		a->err = -ENOMEM;
		return;
	}
	a->v[++a->n] = NULL;
}

/* A number. */
static void pushu(struct argv_b *a, unsigned v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%u", v);
	push(a, buf);
}

/* "T:1-21,23,U:53" into buf; -EINVAL if it does not fit. */
static int portlist(const struct expect_ports *ps, char *buf, size_t len)
{
	const struct rangeset *sets[2] = { &ps->tcp, &ps->udp };
	size_t off = 0;

	buf[0] = '\0';
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < sets[k]->n; i++) {
			const struct range16 *r = &sets[k]->v[i];
			int n;

			n = r->lo == r->hi
				? snprintf(buf + off, len - off, "%s%s%u", off ? "," : "",
					   i ? "" : (k ? "U:" : "T:"), r->lo)
				: snprintf(buf + off, len - off, "%s%s%u-%u", off ? "," : "",
					   i ? "" : (k ? "U:" : "T:"), r->lo, r->hi);
			if (n < 0 || (size_t)n >= len - off)
				return -EINVAL;
			off += (size_t)n;
		}
	return off ? 0 : -EINVAL;
}

static void discover_args(const struct scan_opts *o, struct argv_b *a)
{
	char buf[128];
	size_t off = 0, k = 0;

	push(a, "-sn");
	push(a, "-PE"); /* echo request (ARP/ND first on a local link anyway) */
	if (!o->probe_tcp || !o->probe_tcp->n)
		return;
	for (size_t i = 0; i < o->probe_tcp->n && k < 10; i++)
		for (uint32_t p = o->probe_tcp->v[i].lo; p <= o->probe_tcp->v[i].hi && k < 10;
		     p++, k++)
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%u", k ? "," : "-PS",
						p);
	push(a, buf);
}

int scan_argv(const struct scan_opts *o, char ***out)
{
	struct argv_b a = { 0 };
	bool udp = o->ports && o->ports->udp.n;
	char *ports = NULL;

	push(&a, o->nmap ? o->nmap : "nmap");
	if (o->discover) {
		discover_args(o, &a);
	} else {
		if (!o->ports || !(ports = malloc(PORTLIST_MAX)) ||
		    portlist(o->ports, ports, PORTLIST_MAX) < 0) {
			free(ports);
			scan_argv_free(a.v);
			return o->ports && !ports ? -ENOMEM : -EINVAL;
		}
		push(&a, "-Pn"); /* only for port scans: a discovery run pings */
		push(&a, o->raw ? "-sS" : "-sT");
		if (udp && o->raw)
			push(&a, "-sU");
		push(&a, "-p");
		push(&a, ports);
		free(ports);
	}
	push(&a, "-n");
	push(&a, "--reason");
	push(&a, "--noninteractive");
	if (o->v6)
		push(&a, "-6");
	if (o->source) {
		push(&a, "-S");
		push(&a, o->source);
	}
	if (o->iface) {
		push(&a, "-e");
		push(&a, o->iface);
	}
	if (o->timing >= 0) {
		char t[8];

		snprintf(t, sizeof(t), "-T%d", o->timing > 5 ? 5 : o->timing);
		push(&a, t);
	}
	if (o->min_rate) {
		push(&a, "--min-rate");
		pushu(&a, o->min_rate);
	}
	if (o->max_retries >= 0) {
		push(&a, "--max-retries");
		pushu(&a, (unsigned)o->max_retries);
	}
	push(&a, "-oX");
	push(&a, "-");
	push(&a, o->target);
	if (a.err) {
		scan_argv_free(a.v);
		return a.err;
	}
	*out = a.v;
	return 0;
}

void scan_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* In the child: never returns. */
static _Noreturn void child(char **argv, int out, int err, int exec_err, pid_t parent)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC), e;

	/* if policyctl dies, so does its scan (and if it already died, stop) */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(127);
	if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		goto fail;
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], argv);
fail:
	e = errno;
	if (write(exec_err, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

/* Stop the child we started: SIGTERM, then SIGKILL after 2 s. */
static int stop(pid_t pid)
{
	int st = 0;

	kill(pid, SIGTERM);
	for (int i = 0; i < 40; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		usleep(50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return st;
}

struct io {
	struct nmapxml *x;
	struct scan_info *info;
	size_t errlen;
	int xml_err;
};

/* Read what is there on fd; 0 at EOF, 1 if more may come, -errno. */
static int drain(int fd, bool is_xml, struct io *io)
{
	char buf[65536];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -errno;
	if (n == 0)
		return 0;
	if (is_xml) {
		if (!io->xml_err)
			io->xml_err = nmapxml_feed(io->x, buf, (size_t)n);
	} else if (io->errlen + 1 < SCAN_STDERR_MAX) {
		size_t k = (size_t)n < SCAN_STDERR_MAX - 1 - io->errlen
				   ? (size_t)n : SCAN_STDERR_MAX - 1 - io->errlen;

		memcpy(io->info->stderr_text + io->errlen, buf, k);
		io->errlen += k;
		io->info->stderr_text[io->errlen] = '\0';
	}
	return 1;
}

/* Poll both pipes until EOF on both or the deadline: 0, or -ETIMEDOUT. */
static int pump(int out, int err, double deadline, struct io *io)
{
	struct pollfd pf[2] = { { .fd = out, .events = POLLIN }, { .fd = err, .events = POLLIN } };

	while (pf[0].fd >= 0 || pf[1].fd >= 0) {
		int ms = -1, r;

		if (deadline > 0) {
			double left = deadline - now_s();

			if (left <= 0)
				return -ETIMEDOUT;
			ms = (int)(left * 1000) + 1;
		}
		r = poll(pf, 2, ms);
		if (r < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < 2 && r > 0; i++)
			if (pf[i].fd >= 0 && pf[i].revents && drain(pf[i].fd, i == 0, io) <= 0)
				pf[i].fd = -1;
	}
	return 0;
}

static int exec_errno(int fd)
{
	int e = 0;
	ssize_t n;

	do
		n = read(fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(e) ? e : 0;
}

static int spawn(char **argv, int fds[3], pid_t *pid)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, ex[2] = { -1, -1 }, e;
	pid_t parent = getpid();

	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(ex, O_CLOEXEC) < 0)
		goto fail;
	*pid = fork();
	if (*pid < 0)
		goto fail;
	if (*pid == 0)
		child(argv, out[1], err[1], ex[1], parent);
	close(out[1]);
	close(err[1]);
	close(ex[1]);
	fds[0] = out[0];
	fds[1] = err[0];
	fds[2] = ex[0];
	return 0;
fail:
	e = -errno;
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
		if (ex[i] >= 0)
			close(ex[i]);
	}
	return e;
}

static void wait_status(pid_t pid, int st_in, bool have, struct scan_info *info)
{
	int st = st_in;

	if (!have)
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	if (WIFEXITED(st))
		info->status = WEXITSTATUS(st);
	else if (WIFSIGNALED(st))
		info->signal = WTERMSIG(st);
}

int scan_run(const struct scan_opts *o, struct nmap_result **out, struct scan_info *info)
{
	struct io io = { .info = info };
	char **argv = NULL;
	double t0 = now_s();
	int fds[3] = { -1, -1, -1 }, r, e;
	pid_t pid = -1;

	memset(info, 0, sizeof(*info));
	info->status = -1;
	*out = NULL;
	if ((r = scan_argv(o, &argv)) < 0)
		return r;
	if (!(io.x = nmapxml_new())) {
		scan_argv_free(argv);
		return -ENOMEM;
	}
	r = spawn(argv, fds, &pid);
	scan_argv_free(argv);
	if (r < 0)
		goto out;
	if ((e = exec_errno(fds[2]))) { /* execvp failed; the child exits 127 */
		wait_status(pid, 0, false, info);
		r = -e;
	} else {
		r = pump(fds[0], fds[1], o->timeout ? t0 + o->timeout : 0, &io);
		if (r < 0) /* deadline or a poll error: never wait on a live nmap */
			wait_status(pid, stop(pid), true, info);
		else
			wait_status(pid, 0, false, info);
	}
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	if (r < 0)
		goto out;
	if (info->status != 0)
		r = -EIO;
	else if (io.xml_err || nmapxml_finish(io.x, out) < 0)
		r = io.xml_err == -ENOMEM || io.xml_err == -EFBIG || io.xml_err == -E2BIG
			    ? io.xml_err : -EBADMSG;
	else if (!(*out)->finished || (*out)->exit_error) /* nmap says it did not finish */
		r = -EIO;
	if (r == -EIO && *out) {
		nmap_result_free(*out);
		*out = NULL;
	}
	if (r == -EBADMSG)
		nmapxml_error_pos(io.x, &info->xml_line, &info->xml_col);
out:
	info->seconds = now_s() - t0;
	nmapxml_free(io.x);
	return r;
}
