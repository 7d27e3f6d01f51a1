/* Shards and the listen address of one instance of a fleet (fleet.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "fleet.h"
#include "util.h"

int shard_parse(const char *s, struct shard *ret) {
        const char *slash = s ? strchr(s, '/') : NULL;
        _cleanup_free_ char *left = NULL;
        long long i, n;

        if (!slash || slash == s || strspn(s, "0123456789") != (size_t)(slash - s) ||
            !slash[1] || strspn(slash + 1, "0123456789") != strlen(slash + 1))
                return -EINVAL;
        left = xstrndup(s, (size_t)(slash - s));
        if (parse_int(left, 1, SHARDS_MAX, &i) < 0 || parse_int(slash + 1, 1, SHARDS_MAX, &n) < 0 || i > n)
                return -EINVAL;
        *ret = (struct shard){ .index = (unsigned)i, .count = (unsigned)n };
        return 0;
}

/* splitmix64's finalizer: FNV-1a alone spreads neighbouring inputs poorly. */
static uint64_t mix64(uint64_t x) {
        x ^= x >> 30;
        x *= 0xbf58476d1ce4e5b9ULL;
        x ^= x >> 27;
        x *= 0x94d049bb133111ebULL;
        return x ^ (x >> 31);
}

static uint64_t shard_score(const char *name, unsigned shard) {
        uint64_t h = 0xcbf29ce484222325ULL;   /* FNV-1a offset basis */

        for (const unsigned char *p = (const unsigned char *)name; *p; p++)
                h = (h ^ *p) * 0x100000001b3ULL;
        return mix64(h ^ mix64(shard));
}

unsigned shard_of(const char *name, unsigned count) {
        unsigned best = 1;
        uint64_t best_score = 0;

        for (unsigned i = 1; i <= count; i++) {
                uint64_t sc = shard_score(name, i);
                if (i == 1 || sc > best_score) {
                        best = i;
                        best_score = sc;
                }
        }
        return best;
}

bool shard_owns(const struct shard *s, const char *name) {
        return !s || s->count == 0 || shard_of(name, s->count) == s->index;
}

int listen_parse(const char *s, char **ret_addr, uint16_t *ret_port) {
        unsigned char bin[sizeof(struct in6_addr)];
        _cleanup_free_ char *addr = NULL;
        const char *port;
        long long v;
        int family = AF_INET;

        if (!s || !*s)
                return -EINVAL;
        if (s[0] == '[') {
                const char *end = strchr(s, ']');
                if (!end || end[1] != ':')
                        return -EINVAL;
                addr = xstrndup(s + 1, (size_t)(end - s - 1));
                port = end + 2;
                family = AF_INET6;
        } else {
                const char *colon = strrchr(s, ':');
                if (colon && strchr(s, ':') != colon)
                        return -EINVAL;   /* a bare IPv6 address needs brackets */
                addr = colon && colon > s ? xstrndup(s, (size_t)(colon - s)) : xstrdup("127.0.0.1");
                port = colon ? colon + 1 : s;
        }
        if (inet_pton(family, addr, bin) != 1)
                return -EINVAL;
        if (!*port || strspn(port, "0123456789") != strlen(port) || parse_int(port, 0, 65535, &v) < 0)
                return -EINVAL;
        *ret_addr = TAKE_PTR(addr);
        *ret_port = (uint16_t)v;
        return 0;
}
