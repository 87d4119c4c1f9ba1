/* banstate.c — the ban list in memory and its JSON state file. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "policy.h"
#include "file.h"
#include "quarantine/banstate.h"

#define MAX_SAFE_INT 9007199254740991.0  /* 2^53 - 1: exact in a double */

struct banstate *banstate_new(void)
{
	return calloc(1, sizeof(struct banstate));
}

void banstate_free(struct banstate *b)
{
	if (!b)
		return;
	free(b->v);
	free(b->counts);
	free(b);
}

/* ---- the list -------------------------------------------------------------- */

static bool text_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (n == max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static bool ban_ok(const struct ban *ban)
{
	if (strnlen(ban->name, BAN_NAME_MAX) == BAN_NAME_MAX || !policy_name_ok(ban->name))
		return false;
	if (!ban->naddrs || ban->naddrs > BAN_ADDRS_MAX)
		return false;
	for (size_t i = 0; i < ban->naddrs; i++) {
		const struct prefix *p = &ban->addrs[i];

		if ((p->a.family != AF_INET && p->a.family != AF_INET6) ||
		    p->len > 8 * addr_size(p->a.family) || prefix_has_host_bits(p))
			return false;
	}
	return text_ok(ban->reason, BAN_REASON_MAX) && text_ok(ban->evidence, BAN_EVIDENCE_MAX) &&
	       ban->start >= 0 && ban->expiry > ban->start;
}

static int count_cmp(const void *x, const void *y)
{
	return strcmp(((const struct ban_count *)x)->name, ((const struct ban_count *)y)->name);
}

static int name_count_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct ban_count *)elem)->name);
}

/* counts is kept sorted by name: where name is, or would go */
static size_t count_pos(const struct banstate *b, const char *name, bool *found)
{
	size_t lo = 0, hi = b->ncounts;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(b->counts[mid].name, name);

		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct ban_count *count_find(const struct banstate *b, const char *name)
{
	if (!b->ncounts)
		return NULL;
	return bsearch(name, b->counts, b->ncounts, sizeof(*b->counts), name_count_cmp);
}

static bool grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t nc;
	void *p;

	if (n < *cap)
		return true;
	nc = *cap ? *cap * 2 : 8;
	p = realloc(*v, nc * size);
	if (!p)
		return false;
	*v = p;
	*cap = nc;
	return true;
}

int banstate_count_set(struct banstate *b, const char *name, uint32_t bans)
{
	bool found;
	size_t at;

	if (!policy_name_ok(name) || strlen(name) >= BAN_NAME_MAX)
		return -EINVAL;
	at = count_pos(b, name, &found);
	if (!found) {
		if (b->ncounts >= BANSTATE_MAX)
			return -ENOSPC;
		if (!grow((void **)&b->counts, &b->capcounts, b->ncounts, sizeof(*b->counts)))
			return -ENOMEM;
		memmove(&b->counts[at + 1], &b->counts[at], (b->ncounts - at) * sizeof(*b->counts));
		b->ncounts++;
		memset(&b->counts[at], 0, sizeof(b->counts[at]));
		strcpy(b->counts[at].name, name);
	}
	b->counts[at].bans = bans;
	return 0;
}

uint32_t banstate_count(const struct banstate *b, const char *name)
{
	const struct ban_count *c = count_find(b, name);

	return c ? c->bans : 0;
}

const struct ban *banstate_find(const struct banstate *b, const char *name)
{
	for (size_t i = 0; i < b->n; i++)
		if (!strcmp(b->v[i].name, name))
			return &b->v[i];
	return NULL;
}

int banstate_add(struct banstate *b, const struct ban *ban)
{
	struct ban *slot = (struct ban *)banstate_find(b, ban->name);
	uint32_t need = ban->repeat == UINT32_MAX ? UINT32_MAX : ban->repeat + 1;
	int r;

	if (!ban_ok(ban))
		return -EINVAL;
	if (!slot) {
		if (b->n >= BANSTATE_MAX)
			return -ENOSPC;
		if (!grow((void **)&b->v, &b->cap, b->n, sizeof(*b->v)))
			return -ENOMEM;
		slot = &b->v[b->n];
	}
	if (banstate_count(b, ban->name) < need && (r = banstate_count_set(b, ban->name, need)) < 0)
		return r;
	if (slot == &b->v[b->n])
		b->n++;
	*slot = *ban;
	return 0;
}

static void remove_at(struct banstate *b, size_t i)
{
	memmove(&b->v[i], &b->v[i + 1], (b->n - i - 1) * sizeof(*b->v));
	b->n--;
}

int banstate_del(struct banstate *b, const char *name)
{
	const struct ban *ban = banstate_find(b, name);

	if (!ban)
		return -ENOENT;
	remove_at(b, (size_t)(ban - b->v));
	return 0;
}

size_t banstate_expire(struct banstate *b, int64_t now)
{
	size_t k = 0, dropped;

	for (size_t i = 0; i < b->n; i++)
		if (b->v[i].expiry > now)
			b->v[k++] = b->v[i];
	dropped = b->n - k;
	b->n = k;
	return dropped;
}

/* ---- saving ---------------------------------------------------------------- */

static cJSON *ban_json(const struct ban *ban)
{
	cJSON *o = cJSON_CreateObject(), *a = cJSON_CreateArray();

	if (!o || !a) {
		cJSON_Delete(o);
		cJSON_Delete(a);
		return NULL;
	}
	cJSON_AddStringToObject(o, "node", ban->name);
	cJSON_AddItemToObject(o, "addrs", a);
	for (size_t i = 0; i < ban->naddrs; i++) {
		char s[ADDR_STRLEN + 4];
		const struct prefix *p = &ban->addrs[i];

		addr_str(&p->a, s);
		if (p->len != 8 * addr_size(p->a.family))
			snprintf(s + strlen(s), sizeof(s) - strlen(s), "/%u", p->len);
		cJSON_AddItemToArray(a, cJSON_CreateString(s));
	}
	cJSON_AddStringToObject(o, "reason", ban->reason);
	cJSON_AddStringToObject(o, "evidence", ban->evidence);
	cJSON_AddNumberToObject(o, "start", (double)ban->start);
	cJSON_AddNumberToObject(o, "expiry", (double)ban->expiry);
	cJSON_AddNumberToObject(o, "repeat", ban->repeat);
	return o;
}

static char *state_text(const struct banstate *b)
{
	cJSON *root = cJSON_CreateObject(), *bans = cJSON_CreateArray(), *counts = cJSON_CreateObject();
	char *text = NULL;

	if (!root || !bans || !counts) {
		cJSON_Delete(bans);
		cJSON_Delete(counts);
		goto out;
	}
	cJSON_AddNumberToObject(root, "version", 1);
	cJSON_AddItemToObject(root, "bans", bans);
	cJSON_AddItemToObject(root, "counts", counts);
	for (size_t i = 0; i < b->n; i++) {
		cJSON *o = ban_json(&b->v[i]);

		if (!o)
			goto out;
		cJSON_AddItemToArray(bans, o);
	}
	for (size_t i = 0; i < b->ncounts; i++)
		if (!cJSON_AddNumberToObject(counts, b->counts[i].name, b->counts[i].bans))
			goto out;
	text = cJSON_Print(root);
out:
	cJSON_Delete(root);
	return text;
}

int banstate_text(const struct banstate *b, char **out, size_t *len)
{
	char *text = state_text(b), *t;
	size_t n;

	if (!text)
		return -ENOMEM;
	n = strlen(text);
	if (!(t = realloc(text, n + 2))) {
		free(text);
		return -ENOMEM;
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	*out = t;
	*len = n + 1;
	return 0;
}

int banstate_save(const struct banstate *b, const char *path)
{
	char *text;
	size_t len;
	int r = banstate_text(b, &text, &len);

	if (r < 0)
		return r;
	r = file_write_atomic(path, text, len);
	free(text);
	return r;
}

/* ---- loading --------------------------------------------------------------- */

struct lctx {
	char *why;
	size_t whylen;
	int64_t now;
};

__attribute__((format(printf, 2, 3)))
static int bad(struct lctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->whylen) {
		va_start(ap, fmt);
		vsnprintf(c->why, c->whylen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool int_of(const cJSON *v, double lo, double hi, int64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return false;
	d = v->valuedouble;
	if (!(d >= lo && d <= hi) || d != (double)(int64_t)d)
		return false;
	*out = (int64_t)d;
	return true;
}

/* Copy a JSON string of at most max-1 bytes without control characters. */
static bool str_of(const cJSON *v, char *out, size_t max)
{
	if (!cJSON_IsString(v) || !v->valuestring || !text_ok(v->valuestring, max))
		return false;
	strcpy(out, v->valuestring);
	return true;
}

static int ban_addrs(struct lctx *c, const cJSON *a, struct ban *ban, size_t i)
{
	const cJSON *e;

	if (!cJSON_IsArray(a))
		return bad(c, "/bans/%zu/addrs: not an array", i);
	cJSON_ArrayForEach(e, a) {
		struct prefix *p = &ban->addrs[ban->naddrs];

		if (ban->naddrs == BAN_ADDRS_MAX)
			return bad(c, "/bans/%zu/addrs: more than %d addresses", i, BAN_ADDRS_MAX);
		if (!cJSON_IsString(e) || prefix_parse(e->valuestring, p) < 0 ||
		    prefix_has_host_bits(p))
			return bad(c, "/bans/%zu/addrs/%zu: not an address or prefix", i, ban->naddrs);
		ban->naddrs++;
	}
	if (!ban->naddrs)
		return bad(c, "/bans/%zu/addrs: empty", i);
	return 0;
}

static const char *const ban_keys[] = { "node", "addrs", "reason", "evidence", "start", "expiry",
					"repeat" };

static int ban_field(struct lctx *c, const cJSON *m, struct ban *ban, size_t i, int k)
{
	int64_t x;

	switch (k) {
	case 0:
		if (!str_of(m, ban->name, BAN_NAME_MAX) || !policy_name_ok(ban->name))
			return bad(c, "/bans/%zu/node: not a node name", i);
		return 0;
	case 1:
		return ban_addrs(c, m, ban, i);
	case 2:
		return str_of(m, ban->reason, BAN_REASON_MAX) ? 0 :
			bad(c, "/bans/%zu/reason: not a string of at most %d printable bytes", i, BAN_REASON_MAX - 1);
	case 3:
		return str_of(m, ban->evidence, BAN_EVIDENCE_MAX) ? 0 :
			bad(c, "/bans/%zu/evidence: not a string of at most %d printable bytes", i, BAN_EVIDENCE_MAX - 1);
	case 4:
	case 5:
		if (!int_of(m, 0, MAX_SAFE_INT, &x))
			return bad(c, "/bans/%zu/%s: not an integer of unix seconds", i, ban_keys[k]);
		*(k == 4 ? &ban->start : &ban->expiry) = x;
		return 0;
	default:
		if (!int_of(m, 0, UINT32_MAX, &x))
			return bad(c, "/bans/%zu/repeat: not an integer 0-%u", i, UINT32_MAX);
		ban->repeat = (uint32_t)x;
		return 0;
	}
}

static int ban_parse(struct lctx *c, const cJSON *o, size_t i, struct ban *ban)
{
	unsigned seen = 0;
	const cJSON *m;
	int r;

	if (!cJSON_IsObject(o))
		return bad(c, "/bans/%zu: not an object", i);
	memset(ban, 0, sizeof(*ban));
	cJSON_ArrayForEach(m, o) {
		int k = -1;

		for (int j = 0; j < (int)(sizeof(ban_keys) / sizeof(*ban_keys)); j++)
			if (m->string && !strcmp(m->string, ban_keys[j]))
				k = j;
		if (k < 0)
			return bad(c, "/bans/%zu: unknown key \"%.40s\"", i, m->string ? m->string : "");
		if (seen & 1u << k)
			return bad(c, "/bans/%zu/%s: given twice", i, ban_keys[k]);
		seen |= 1u << k;
		if ((r = ban_field(c, m, ban, i, k)) < 0)
			return r;
	}
	for (int j = 0; j < (int)(sizeof(ban_keys) / sizeof(*ban_keys)); j++)
		if (!(seen & 1u << j))
			return bad(c, "/bans/%zu: \"%s\" missing", i, ban_keys[j]);
	if (ban->expiry <= ban->start)
		return bad(c, "/bans/%zu: expiry %lld is not after start %lld", i,
			   (long long)ban->expiry, (long long)ban->start);
	return 0;
}

/* Names sorted with their position: a node's second ban is the later one. */
struct name_at {
	const char *name;
	size_t i;
};

static int name_at_cmp(const void *x, const void *y)
{
	const struct name_at *a = x, *b = y;
	int c = strcmp(a->name, b->name);

	return c ? c : (a->i > b->i) - (a->i < b->i);
}

/* Two bans of one node: refused, naming the first second ban. O(n log n). */
static int bans_unique(struct lctx *c, const struct banstate *b)
{
	struct name_at *v = calloc(b->n ? b->n : 1, sizeof(*v));
	size_t dup = SIZE_MAX;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < b->n; i++)
		v[i] = (struct name_at){ b->v[i].name, i };
	qsort(v, b->n, sizeof(*v), name_at_cmp);
	for (size_t i = 1; i < b->n; i++)
		if (!strcmp(v[i - 1].name, v[i].name) && v[i].i < dup)
			dup = v[i].i;
	free(v);
	if (dup != SIZE_MAX)
		return bad(c, "/bans/%zu: a second ban of \"%s\"", dup, b->v[dup].name);
	return 0;
}

/* Every ban's node has a count of at least repeat + 1: raised in place, or
 * appended and the whole list sorted once. */
/* One more node's ban count, at the end (the caller sorts). */
static int count_append(struct lctx *c, struct banstate *b, const char *name, uint32_t bans)
{
	struct ban_count *cnt;

	if (b->ncounts >= BANSTATE_MAX)
		return bad(c, "/counts: more than %d nodes", BANSTATE_MAX);
	if (!grow((void **)&b->counts, &b->capcounts, b->ncounts, sizeof(*b->counts)))
		return -ENOMEM;
	cnt = &b->counts[b->ncounts++];
	memset(cnt, 0, sizeof(*cnt));
	strcpy(cnt->name, name);
	cnt->bans = bans;
	return 0;
}

static int counts_cover(struct lctx *c, struct banstate *b)
{
	size_t sorted = b->ncounts;
	int r;

	for (size_t i = 0; i < b->n; i++) {
		const struct ban *ban = &b->v[i];
		uint32_t need = ban->repeat == UINT32_MAX ? UINT32_MAX : ban->repeat + 1;
		struct ban_count *cnt = !sorted ? NULL : bsearch(ban->name, b->counts, sorted,
								 sizeof(*b->counts), name_count_cmp);

		if (cnt) {
			if (cnt->bans < need)
				cnt->bans = need;
			continue;
		}
		if ((r = count_append(c, b, ban->name, need)) < 0)
			return r;
	}
	if (b->ncounts)
		qsort(b->counts, b->ncounts, sizeof(*b->counts), count_cmp);
	return 0;
}

static int bans_load(struct lctx *c, const cJSON *a, struct banstate *b)
{
	const cJSON *o;
	struct ban ban;
	int r;

	if (!cJSON_IsArray(a))
		return bad(c, "/bans: not an array");
	cJSON_ArrayForEach(o, a) {
		if (b->n == BANSTATE_MAX)
			return bad(c, "/bans: more than %d bans", BANSTATE_MAX);
		if ((r = ban_parse(c, o, b->n, &ban)) < 0)
			return r;
		if (!ban_ok(&ban))
			return bad(c, "/bans/%zu: invalid", b->n);
		if (!grow((void **)&b->v, &b->cap, b->n, sizeof(*b->v)))
			return -ENOMEM;
		b->v[b->n++] = ban;
	}
	if ((r = bans_unique(c, b)) < 0)
		return r;
	return counts_cover(c, b);
}

/* Appended as they come, then sorted once; a name given twice is refused. */
static int counts_load(struct lctx *c, const cJSON *o, struct banstate *b)
{
	const cJSON *m;
	int r;

	if (!cJSON_IsObject(o))
		return bad(c, "/counts: not an object");
	cJSON_ArrayForEach(m, o) {
		int64_t x;

		if (!m->string || strlen(m->string) >= BAN_NAME_MAX || !policy_name_ok(m->string))
			return bad(c, "/counts: \"%.40s\" is not a node name", m->string ? m->string : "");
		if (!int_of(m, 0, UINT32_MAX, &x))
			return bad(c, "/counts/%s: not an integer 0-%u", m->string, UINT32_MAX);
		if ((r = count_append(c, b, m->string, (uint32_t)x)) < 0)
			return r;
	}
	if (b->ncounts)
		qsort(b->counts, b->ncounts, sizeof(*b->counts), count_cmp);
	for (size_t i = 1; i < b->ncounts; i++)
		if (!strcmp(b->counts[i - 1].name, b->counts[i].name))
			return bad(c, "/counts/%s: given twice", b->counts[i].name);
	return 0;
}

static int root_load(struct lctx *c, const cJSON *root, struct banstate *b)
{
	const cJSON *m, *bans = NULL, *counts = NULL;
	int64_t version;
	bool have_version = false;
	int r;

	if (!cJSON_IsObject(root))
		return bad(c, "/: not an object");
	cJSON_ArrayForEach(m, root) {
		const char *k = m->string ? m->string : "";

		if (!strcmp(k, "version") && !have_version) {
			if (!int_of(m, 0, 1000, &version) || version != 1)
				return bad(c, "/version: not 1");
			have_version = true;
		} else if (!strcmp(k, "bans") && !bans) {
			bans = m;
		} else if (!strcmp(k, "counts") && !counts) {
			counts = m;
		} else {
			return bad(c, "/: unknown or repeated key \"%.40s\"", k);
		}
	}
	if (!have_version || !bans || !counts)
		return bad(c, "/: \"version\", \"bans\" and \"counts\" are required");
	/* counts first: a ban's repeat raises its node's count, never lowers it */
	if ((r = counts_load(c, counts, b)) < 0 || (r = bans_load(c, bans, b)) < 0)
		return r;
	banstate_expire(b, c->now);
	return 0;
}

int banstate_parse(const char *text, size_t len, int64_t now, struct banstate **out, char *why,
		   size_t whylen)
{
	struct lctx c = { why, whylen, now };
	const char *end = NULL;
	struct banstate *b;
	cJSON *root;
	int r;

	if (whylen)
		why[0] = 0;
	if (len > BANSTATE_FILE_MAX)
		return bad(&c, "larger than %u bytes", BANSTATE_FILE_MAX);
	if (memchr(text, 0, len))
		return bad(&c, "contains a NUL byte");
	root = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (!root) {
		size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;

		return bad(&c, "not JSON (near byte %zu)", off);
	}
	for (; end && end < text + len; end++)
		if (!strchr(" \t\r\n", *end)) {
			cJSON_Delete(root);
			return bad(&c, "trailing bytes after the JSON value");
		}
	b = banstate_new();
	if (!b) {
		cJSON_Delete(root);
		return -ENOMEM;
	}
	r = root_load(&c, root, b);
	cJSON_Delete(root);
	if (r < 0) {
		banstate_free(b);
		return r;
	}
	*out = b;
	return 0;
}

static int read_capped(const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	size_t got = 0;
	char *buf;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > BANSTATE_FILE_MAX) {
		close(fd);
		return S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;                  /* shrank under us: parse what is there */
		got += (size_t)n;
	}
	close(fd);
	*out = buf;
	*len = got;
	return 0;
}

int banstate_load(const char *path, int64_t now, struct banstate **out, char *why, size_t whylen)
{
	char *text = NULL;
	size_t len = 0;
	int r = read_capped(path, &text, &len);

	if (whylen)
		why[0] = 0;
	if (r < 0)
		return r;
	r = banstate_parse(text, len, now, out, why, whylen);
	free(text);
	return r;
}
