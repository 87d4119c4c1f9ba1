/* log.c — stderr logging with a program prefix; journald reads stderr. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"

static const char *prog = "policyd";
static enum log_level threshold = LOG_LVL_INFO;

void log_init(const char *progname, enum log_level level)
{
	prog = progname;
	threshold = level;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	if (level > threshold)
		return;
	fprintf(stderr, "%s: %s: ", prog, names[level]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void log_callback(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg((enum log_level)level, fmt, ap);
	va_end(ap);
}

void log_phase(const char *name)
{
	static struct timespec last;
	struct timespec now;

	if (!getenv("POLICYD_TIMING"))
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (name)
		fprintf(stderr, "timing: %-8s %8.1f ms\n", name,
			(double)(now.tv_sec - last.tv_sec) * 1e3 +
				(double)(now.tv_nsec - last.tv_nsec) / 1e6);
	last = now;
}

uint64_t clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERROR, fmt, ap);
	va_end(ap);
	exit(2);
}
