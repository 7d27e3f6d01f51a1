/* Checks: pure functions over a platform's observations that emit
 * findings. They touch no network and no clock of their own (now is
 * injected), so each is unit-tested with fixtures. Each family lives in one
 * file named after its finding ids (tls.expiry.* in checks/tls-expiry.c)
 * and exports one descriptor, registered in checks/checks.c. */
#pragma once

#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "dnsname.h"
#include "finding.h"
#include "observe.h"
#include "plan.h"

struct providers;

struct check_ctx {
        const struct platform *platform;
        const struct plan *plan;
        const struct platform_obs *obs;
        time_t now;
        /* Subjects of ingress controllers' placeholder certificates, from
         * the data file (audit-pool.c loads it); may be NULL. */
        char *const *ingress_subjects;
        const struct providers *providers;  /* the DNS-01 provider table; NULL when not loaded */
        /* Why a data file a check reads could not be loaded ("PATH: cannot
         * read: ..."); NULL when none failed. A check without its data
         * returns -ENOENT, and check.error then carries this. */
        const char *data_error;
};

struct check {
        const char *name;                       /* the family, e.g. "tls.expiry" */
        const struct finding_def *findings;     /* the ids this check may emit */
        size_t n_findings;
        /* Returns 0 (findings, if any, appended to out) or a negative errno
         * when the check could not run; the engine reports that. */
        int (*run)(const struct check_ctx *ctx, struct finding_list *out);
        /* Judges one name's addresses alone, so it also runs for a
         * PLATFORM_HOST (certvigil check); the others judge the platform's
         * DNS facts, DNS-01 or renewal policy and are skipped there. */
        bool single_name;
};

extern const struct check check_dns_resolve;
extern const struct check check_tls_connect;
extern const struct check check_tls_chain;
extern const struct check check_tls_san;
extern const struct check check_tls_expiry;
extern const struct check check_tls_wildcard;
extern const struct check check_tls_consistency;
extern const struct check check_tls_renewal;
extern const struct check check_tls_issuer;
extern const struct check check_tls_ingress;
extern const struct check check_tls_key;
extern const struct check check_tls_protocol;
extern const struct check check_tls_kx;
extern const struct check check_tls_ct;
extern const struct check check_tls_revoked;
extern const struct check check_dns_wildcard;
extern const struct check check_dns_address;
extern const struct check check_dns_resolvers;
extern const struct check check_dns01_zone;
extern const struct check check_dns01_cname;
extern const struct check check_dns01_nameservers;
extern const struct check check_dns01_challenge;
extern const struct check check_dns01_provider;
extern const struct check check_caa;
extern const struct check check_dnssec;

/* In the catalog, not run by checks_run(): emitted after the audit by
 * daemon/renew/renewal.c, daemon/renew/ari.c and daemon/renew/secret.c. */
extern const struct check check_renew;
extern const struct check check_tls_ari;
extern const struct check check_tls_secret;
extern const struct check check_domain_expiry;
extern const struct check check_ct_watch;
extern const struct check check_silence;

/* The registration table, in the order checks run. */
const struct check *const *checks_all(size_t *ret_n);

/* Runs every check (for a PLATFORM_HOST, those with single_name); a check
 * that fails to run becomes a check.error finding. */
void checks_run(const struct check_ctx *ctx, struct finding_list *out);

/* The catalog: every finding id, looked up by id; NULL when unknown. Calls
 * fn for each definition when iterating. */
const struct finding_def *checks_find_def(const char *id);
void checks_foreach_def(void (*fn)(const struct finding_def *def, const struct check *c, void *userdata),
                        void *userdata);

/* True for the first endpoint (in the plan's order of names, then by
 * address) that completed a handshake and served this leaf:
 * certificate-level findings are emitted once per certificate, not once per
 * address, and always name the same endpoint. */
bool endpoint_is_first_with_leaf(const struct platform_obs *obs, size_t i);
/* The plan's order of endpoints: by name as planned, then address. */
bool endpoint_before(const struct platform_obs *obs, size_t a, size_t b);
/* The same two for every endpoint at once, in O(n log n) where calling the
 * above per endpoint costs O(n^2): a name can have hundreds of addresses.
 * endpoints_plan_order() gives the endpoints' indices sorted by
 * endpoint_before(); endpoints_first_with_leaf() is true at i when
 * endpoint_is_first_with_leaf(obs, i) is. Each array has n_endpoints
 * entries (at least one allocated); the caller frees it. */
size_t *endpoints_plan_order(const struct platform_obs *obs);
bool *endpoints_first_with_leaf(const struct platform_obs *obs);
/* Where each of names[0..n) comes in the plan (its first entry in
 * obs->names; obs->n_names for a name not planned or NULL, and 0 for all
 * when obs is NULL), in O((N + n) log N) for N planned names. */
void names_plan_rank(const struct platform_obs *obs, const char *const *names, size_t n, size_t *ret_rank);
/* For each string of v[0..n), the index of its first occurrence
 * (SIZE_MAX for NULL), in O(n log n). */
void strs_first(const char *const *v, size_t n, size_t *ret_first);
/* Keeps the first occurrence of each string of v[0..n) in place, in
 * order, and drops NULLs; returns how many remain. O(n log n). */
size_t strs_unique(const char **v, size_t n);

/* How many endpoints served the same leaf as endpoint i. */
size_t endpoints_with_leaf(const struct platform_obs *obs, size_t i);

/* The expiry thresholds in days for a certificate with this lifetime (in
 * days): the smaller of the configured days and the share of the lifetime,
 * or the share alone when the key was given as one. */
double threshold_days(int days, double share, double lifetime_days);

/* Seconds after notBefore past which renewal is overdue: renew_at of the
 * lifetime plus a margin of 2% of it, at least an hour. */
double renewal_due_after(double lifetime_sec, double renew_at);

/* Days from now to t, as a fraction (negative when t is past). */
double days_until(time_t t, time_t now);

/* RFC 8659 sections 4.1-4.3 over one CAA RRset: may issuer (a domain such
 * as "letsencrypt.org") issue, for a wildcard certificate or not? An
 * unknown tag marked critical forbids; for a wildcard, issuewild governs
 * when present, else issue; an empty issuer value permits no one; no
 * issue/issuewild property at all permits everyone. *ret_reason (when not
 * NULL) says why, for messages; the caller frees it. */
bool caa_permits(const struct dns_caa_obs *rrs, size_t n, const char *issuer, bool wildcard, char **ret_reason);

/* The zone that must hold the DNS-01 record is known and is a real zone
 * (below a top-level domain). When it is not, dns01.cname.dangling (or the
 * gatherer's error) says so, and the zone-based dns01 checks stay quiet. */
bool dns01_zone_usable(const struct dns_obs *d);
