/* main.c — policyd-vpn: the datapath as a standalone program with
 * wireguard-go's conventions, so `wg` and `wg-quick`
 * (WG_QUICK_USERSPACE_IMPLEMENTATION=policyd-vpn) drive it unchanged:
 *
 *   policyd-vpn [-f|--foreground] IFNAME
 *
 * creates the TUN interface IFNAME and the UAPI socket
 * /var/run/wireguard/IFNAME.sock, and without -f (or WG_PROCESS_FOREGROUND=1)
 * returns once both exist, leaving the daemon running. SIGINT or SIGTERM
 * remove the socket and the interface. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "device.h"
#include "log.h"


static struct device *the_dev;

static void on_signal(int sig)
{
	(void)sig;
	if (the_dev)
		device_stop(the_dev);
}


static void usage(FILE *f)
{
	fprintf(f, "usage: policyd-vpn [-f|--foreground] INTERFACE-NAME\n"
		   "A WireGuard-compatible userspace datapath; configure it with wg(8).\n");
}

/* Without -f: the parent waits until the child is ready, then exits. */
static int daemonize(int *ready_fd)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0)
		return -errno;
	if (pid > 0) {
		close(p[1]);
		_exit(read(p[0], &c, 1) == 1 ? 0 : 1);
	}
	close(p[0]);
	if (setsid() < 0)
		return -errno;
	*ready_fd = p[1];
	return 0;
}

int main(int argc, char **argv)
{
	const char *env = getenv("WG_PROCESS_FOREGROUND"), *ifname = NULL;
	bool foreground = env && !strcmp(env, "1");
	char path[128];
	int listen_fd, ready_fd = -1, r, null;
	struct sigaction sa = { .sa_handler = on_signal };

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--foreground")) {
			foreground = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-' || ifname) {
			usage(stderr);
			return 2;
		} else {
			ifname = argv[i];
		}
	}
	if (!ifname) {
		usage(stderr);
		return 2;
	}
	log_init("policyd-vpn", getenv("LOG_LEVEL") && !strcmp(getenv("LOG_LEVEL"), "debug")
					? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (sodium_init() < 0)
		fatal("libsodium failed to initialise");
	prctl(PR_SET_DUMPABLE, 0); /* no core dumps: they would hold keys */
	umask(077);
	if (!foreground && (r = daemonize(&ready_fd)) < 0)
		fatal("cannot daemonize: %s", strerror(-r));
	if ((r = device_new(ifname, log_callback, &the_dev)) < 0)
		fatal("cannot create interface %s: %s", ifname, strerror(-r));
	if ((listen_fd = device_uapi_listen(ifname, path, sizeof(path))) < 0) {
		device_free(the_dev);
		fatal("cannot listen on %s/%s.sock: %s", DEVICE_UAPI_DIR, ifname, strerror(-listen_fd));
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((r = device_start(the_dev)) < 0) {
		unlink(path);
		device_free(the_dev);
		fatal("cannot start threads: %s", strerror(-r));
	}
	log_info("interface %s up, UAPI at %s", ifname, path);
	if (ready_fd >= 0) {
		if ((null = open("/dev/null", O_RDWR)) >= 0) {
			dup2(null, STDIN_FILENO);
			close(null);
		}
		(void)!write(ready_fd, "1", 1);
		close(ready_fd);
	}
	device_run(the_dev, listen_fd);
	unlink(path);
	close(listen_fd);
	device_free(the_dev);
	log_info("interface %s removed", ifname);
	return 0;
}
