/* The DNS-01 provider table: which name servers belong to which provider
 * (contrib/data/dns-providers.txt, installed into the package data
 * directory). Immutable once loaded. */
#pragma once

#include <stdbool.h>

struct providers;

/* dns-providers.txt in $CERTVIGIL_DATA_DIR when that is set, else in the
 * installed PKGDATADIR when readable, else in the source tree (data_path()).
 * Caller frees. */
char *providers_default_path(void);

/* Returns 0, or a negative errno with *ret_error naming the file (and line
 * for bad content). */
int providers_load(const char *path, struct providers **ret, char **ret_error);
struct providers *providers_free(struct providers *t);

bool providers_known(const struct providers *t, const char *provider);
/* ns (lower-case, no final dot) matches one of provider's patterns. */
bool providers_ns_matches(const struct providers *t, const char *provider, const char *ns);
/* "*.ns.cloudflare.com", patterns joined for messages. Caller frees. */
char *providers_describe(const struct providers *t, const char *provider);
