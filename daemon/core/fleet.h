/* One instance of a fleet: which platforms it owns (its shard) and where
 * it serves its metrics (the listen address). Pure: the config and the
 * command line parse with it, the daemon and `plan` ask it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Shard `index` of `count` (1-based, as people count them); count 0: the
 * instance owns every platform. */
struct shard {
        unsigned index;
        unsigned count;
};

#define SHARDS_MAX 1024

/* "I/N" with 1 <= I <= N <= SHARDS_MAX. 0 or -EINVAL. */
int shard_parse(const char *s, struct shard *ret);

/* The shard (1..count) that owns the platform called name. Rendezvous
 * (highest random weight) hashing: every shard scores the name and the
 * highest score wins, so going from N to N+1 shards moves only the
 * platforms the new shard now wins (about 1/(N+1) of them) and no platform
 * moves between the old shards. The hash (FNV-1a, then a 64-bit mixer) is
 * part of the interface: changing it moves platforms between instances. */
unsigned shard_of(const char *name, unsigned count);

/* Whether s owns the platform (always true without sharding). */
bool shard_owns(const struct shard *s, const char *name);

/* The listen address "ADDR:PORT", "[ADDR6]:PORT", ":PORT" or "PORT": a
 * literal address (no name to resolve), loopback (127.0.0.1) when none is
 * given; a wildcard (0.0.0.0, [::]) only when written. Port 0 asks the
 * kernel for one. *ret_addr is the address without brackets (caller
 * frees). 0 or -EINVAL. */
int listen_parse(const char *s, char **ret_addr, uint16_t *ret_port);
