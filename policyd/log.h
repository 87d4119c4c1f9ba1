/* log.h — the one place policyd's programs write diagnostics. Libraries never print. */
#ifndef POLICYD_LOG_H
#define POLICYD_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_init(const char *progname, enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap);
/* The same with the level as an int: the shape a library's log callback
 * takes (vpn/device.h), so programs hand it over as is. */
void log_callback(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* POLICYD_TIMING=1: print how long it was since the previous call (benchmarks);
 * name NULL only starts the clock. */
void log_phase(const char *name);
/* CLOCK_MONOTONIC in milliseconds: for deadlines a clock step cannot move. */
uint64_t clock_ms(void);
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
