/* Checks: pure functions over a platform's observations that emit
 * findings. They touch no network and no clock of their own (now is
 * injected), so each is unit-tested with fixtures. Each family lives in one
 * file named after its finding ids (tls.expiry.* in checks/tls-expiry.c)
 * and exports one descriptor, registered in checks/checks.c. */
#pragma once

#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "finding.h"
#include "observe.h"
#include "plan.h"

struct check_ctx {
        const struct platform *platform;
        const struct plan *plan;
        const struct platform_obs *obs;
        time_t now;
};

struct check {
        const char *name;                       /* the family, e.g. "tls.expiry" */
        const struct finding_def *findings;     /* the ids this check may emit */
        size_t n_findings;
        /* Returns 0 (findings, if any, appended to out) or a negative errno
         * when the check could not run; the engine reports that. */
        int (*run)(const struct check_ctx *ctx, struct finding_list *out);
};

extern const struct check check_dns_resolve;
extern const struct check check_tls_connect;
extern const struct check check_tls_chain;
extern const struct check check_tls_san;
extern const struct check check_tls_expiry;
/* In the catalog, not run by checks_run(): daemon/renew.c emits its ids. */
extern const struct check check_renew;
extern const struct check check_tls_ari;
extern const struct check check_tls_secret;

/* The registration table, in the order checks run. */
const struct check *const *checks_all(size_t *ret_n);

/* Runs every check; a check that fails to run becomes a check.error finding. */
void checks_run(const struct check_ctx *ctx, struct finding_list *out);

/* The catalog: every finding id, looked up by id; NULL when unknown. Calls
 * fn for each definition when iterating. */
const struct finding_def *checks_find_def(const char *id);
void checks_foreach_def(void (*fn)(const struct finding_def *def, const struct check *c, void *userdata),
                        void *userdata);

/* RFC 6125 section 6.4.3 as the CA/Browser Forum applies it: pattern
 * (from a SAN dNSName) matches host (both compared case-insensitively, a
 * trailing dot ignored). A wildcard is the whole left-most label, stands for
 * exactly one label, needs at least two labels after it, and never matches
 * the apex. */
bool san_pattern_matches(const char *pattern, const char *host);

/* Days from now to t, as a fraction (negative when t is past). */
double days_until(time_t t, time_t now);
