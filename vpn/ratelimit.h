/* ratelimit.h — handshake messages per source address (kernel
 * ratelimiter.c): a token bucket per IPv4 address or IPv6 /64, 20 per second
 * with a burst of 5, applied while the device is under load. Entries idle for
 * a second are forgotten; the table is bounded, and when full a new source is
 * refused rather than let anyone evict a bucket. Not thread-safe. */
#ifndef VPN_RATELIMIT_H
#define VPN_RATELIMIT_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#define RATELIMIT_PER_SECOND 20
#define RATELIMIT_BURST 5
#define RATELIMIT_MAX_ENTRIES 8192
struct ratelimit;
struct ratelimit *ratelimit_new(void);
void ratelimit_free(struct ratelimit *rl);
/* May a handshake message from src be processed at time now (seconds)? */
bool ratelimit_allow(struct ratelimit *rl, const struct sockaddr_storage *src, double now);
size_t ratelimit_count(const struct ratelimit *rl);
#endif
