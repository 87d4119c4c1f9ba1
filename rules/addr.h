/* addr.h — IPv4/IPv6 addresses, prefixes and inclusive ranges.
 *
 * An address is stored in network byte order in b[]; IPv4 uses b[0..3].
 * Ranges are inclusive [lo, hi] of one family. */
#ifndef RULES_ADDR_H
#define RULES_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */
#define RANGE_STRLEN (2 * ADDR_STRLEN + 2)

struct addr {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t b[16];
};

struct prefix {
	struct addr a;
	uint8_t len;
};

size_t addr_size(int family);               /* 4 or 16 */
int addr_parse(const char *s, struct addr *out);  /* 0 or -EINVAL */
/* "ADDR" (a host prefix) or "ADDR/LEN". -EINVAL bad syntax, -ERANGE bad length. */
int prefix_parse(const char *s, struct prefix *out);
bool prefix_has_host_bits(const struct prefix *p);
void prefix_bounds(const struct prefix *p, struct addr *lo, struct addr *hi);
bool prefix_contains(const struct prefix *p, const struct addr *a);
bool prefix_within(const struct prefix *inner, const struct prefix *outer);
struct prefix prefix_all(int family);       /* 0.0.0.0/0 or ::/0 */

int addr_cmp(const struct addr *a, const struct addr *b); /* same family */
bool addr_inc(struct addr *a);              /* false on wrap-around */
bool addr_dec(struct addr *a);
bool addr_is_zero(const struct addr *a);
bool addr_is_max(const struct addr *a);
const char *addr_str(const struct addr *a, char buf[ADDR_STRLEN]);
/* nft style: "a", "a/len" when the range is exactly a prefix, else "a-b". */
const char *range_str(const struct addr *lo, const struct addr *hi, char buf[RANGE_STRLEN]);

#endif
