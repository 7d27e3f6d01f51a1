/* The registration table of checks, the engine that runs them, and the
 * finding catalog assembled from the checks' own definitions. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks.h"
#include "dnsname.h"
#include "group.h"
#include "util.h"

static const struct finding_def engine_findings[] = {
        { "check.error", SEVERITY_WARNING, "8e5674f8addd4058a466c8979ed532d2",
          "a check could not run, so part of the platform was not judged" },
        /* Emitted by the alert discipline (daemon/state/alert.c, journal.c) when an
         * open warning or critical finding is gone. */
        { "finding.resolved", SEVERITY_INFO, "128dd13f9f794368be0e63ac15863394",
          "a warning or critical finding reported earlier is no longer found" },
};

static const struct check check_engine = {
        .name = "check",
        .findings = engine_findings,
        .n_findings = ELEMENTSOF(engine_findings),
        .run = NULL,
};

/* Findings emitted outside checks_run(), after an audit: renewal, ARI and
 * the provided-mode Secret. In the catalog like every other. */
static const struct check *const catalog_only[] = {
        &check_renew,
        &check_tls_ari,
        &check_tls_secret,
        &check_domain_expiry,
        &check_ct_watch,
        &check_silence,
        &check_group,
        &check_engine,
};

static const struct check *const checks[] = {
        &check_dns_resolve,
        &check_tls_connect,
        &check_tls_chain,
        &check_tls_san,
        &check_tls_expiry,
        &check_tls_wildcard,
        &check_tls_consistency,
        &check_tls_renewal,
        &check_tls_issuer,
        &check_tls_ingress,
        &check_tls_key,
        &check_tls_protocol,
        &check_tls_kx,
        &check_tls_ct,
        &check_tls_revoked,
        &check_dns_wildcard,
        &check_dns_address,
        &check_dns_resolvers,
        &check_dns01_zone,
        &check_dns01_cname,
        &check_dns01_nameservers,
        &check_dns01_challenge,
        &check_dns01_provider,
        &check_caa,
        &check_dnssec,
};

const struct check *const *checks_all(size_t *ret_n) {
        *ret_n = ELEMENTSOF(checks);
        return checks;
}

void checks_run(const struct check_ctx *ctx, struct finding_list *out) {
        for (size_t i = 0; i < ELEMENTSOF(checks); i++) {
                if (ctx->platform->kind == PLATFORM_HOST && !checks[i]->single_name)
                        continue;
                int r = checks[i]->run(ctx, out);
                if (r < 0)
                        finding_emit(out, &engine_findings[0], NULL, NULL, "check %s could not run: %s",
                                     checks[i]->name,
                                     r == -ENOENT && ctx->data_error ? ctx->data_error : strerror(-r));
        }
}

void checks_foreach_def(void (*fn)(const struct finding_def *def, const struct check *c, void *userdata),
                        void *userdata) {
        for (size_t i = 0; i < ELEMENTSOF(checks); i++)
                for (size_t j = 0; j < checks[i]->n_findings; j++)
                        fn(&checks[i]->findings[j], checks[i], userdata);
        for (size_t i = 0; i < ELEMENTSOF(catalog_only); i++)
                for (size_t j = 0; j < catalog_only[i]->n_findings; j++)
                        fn(&catalog_only[i]->findings[j], catalog_only[i], userdata);
}

const struct finding_def *checks_find_def(const char *id) {
        for (size_t i = 0; i < ELEMENTSOF(checks); i++)
                for (size_t j = 0; j < checks[i]->n_findings; j++)
                        if (strcmp(checks[i]->findings[j].id, id) == 0)
                                return &checks[i]->findings[j];
        for (size_t i = 0; i < ELEMENTSOF(catalog_only); i++)
                for (size_t j = 0; j < catalog_only[i]->n_findings; j++)
                        if (strcmp(catalog_only[i]->findings[j].id, id) == 0)
                                return &catalog_only[i]->findings[j];
        return NULL;
}

double days_until(time_t t, time_t now) {
        return ((double)t - (double)now) / 86400.0;
}

static const char *leaf_sha(const struct endpoint_obs *e) {
        return e->status == ENDPOINT_OK && e->n_chain > 0 ? e->chain[0].sha256 : NULL;
}

/* Endpoints are observed in the order DNS answers arrive; findings name
 * the one first in the plan's order (name, then address as text), so a
 * report does not depend on which answer came first. */
static size_t name_rank(const struct platform_obs *obs, const char *name) {
        for (size_t k = 0; k < obs->n_names; k++)
                if (strcmp(obs->names[k].name, name) == 0)
                        return k;
        return obs->n_names;
}

bool endpoint_before(const struct platform_obs *obs, size_t a, size_t b) {
        const struct endpoint_obs *ea = &obs->endpoints[a], *eb = &obs->endpoints[b];
        size_t ra = name_rank(obs, ea->name), rb = name_rank(obs, eb->name);
        int c;

        if (ra != rb)
                return ra < rb;
        c = strcmp(ea->address, eb->address);
        return c != 0 ? c < 0 : a < b;
}

bool endpoint_is_first_with_leaf(const struct platform_obs *obs, size_t i) {
        const char *sha = leaf_sha(&obs->endpoints[i]);
        if (!sha)
                return false;
        for (size_t j = 0; j < obs->n_endpoints; j++)
                if (j != i && streq_ptr(leaf_sha(&obs->endpoints[j]), sha) && endpoint_before(obs, j, i))
                        return false;
        return true;
}

/* A string and where it came from: sorted by both, equal strings are
 * adjacent, each run led by its first occurrence. */
struct str_at {
        const char *s;
        size_t at;
};

static int str_at_cmp(const void *a, const void *b) {
        const struct str_at *x = a, *y = b;
        int c = strcmp(x->s, y->s);
        return c != 0 ? c : x->at < y->at ? -1 : x->at > y->at;
}

void names_plan_rank(const struct platform_obs *obs, const char *const *names, size_t n, size_t *ret_rank) {
        size_t n_planned = obs ? obs->n_names : 0;
        _cleanup_free_ struct str_at *planned = xcalloc(n_planned + 1, sizeof(*planned));

        for (size_t k = 0; k < n_planned; k++)
                planned[k] = (struct str_at){ obs->names[k].name, k };
        qsort(planned, n_planned, sizeof(*planned), str_at_cmp);
        for (size_t i = 0; i < n; i++) {
                size_t lo = 0, hi = n_planned;
                /* The first entry not below the name: its first rank, as name_rank() finds. */
                while (names[i] && lo < hi) {
                        size_t mid = lo + (hi - lo) / 2;
                        if (strcmp(planned[mid].s, names[i]) < 0)
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                ret_rank[i] = names[i] && lo < n_planned && strcmp(planned[lo].s, names[i]) == 0 ? planned[lo].at
                                                                                                 : n_planned;
        }
}

/* endpoint_before()'s key, computed once per endpoint. */
struct endpoint_key {
        size_t rank;
        const char *address;
        size_t i;
};

static int endpoint_key_cmp(const void *a, const void *b) {
        const struct endpoint_key *x = a, *y = b;
        int c;

        if (x->rank != y->rank)
                return x->rank < y->rank ? -1 : 1;
        c = strcmp(x->address, y->address);
        return c != 0 ? c : x->i < y->i ? -1 : x->i > y->i;
}

size_t *endpoints_plan_order(const struct platform_obs *obs) {
        size_t n = obs->n_endpoints;
        _cleanup_free_ const char **names = xcalloc(n + 1, sizeof(*names));
        _cleanup_free_ size_t *rank = xcalloc(n + 1, sizeof(*rank));
        _cleanup_free_ struct endpoint_key *keys = xcalloc(n + 1, sizeof(*keys));
        size_t *order = xcalloc(n + 1, sizeof(*order));

        for (size_t i = 0; i < n; i++)
                names[i] = obs->endpoints[i].name;
        names_plan_rank(obs, names, n, rank);
        for (size_t i = 0; i < n; i++)
                keys[i] = (struct endpoint_key){ rank[i], obs->endpoints[i].address, i };
        qsort(keys, n, sizeof(*keys), endpoint_key_cmp);
        for (size_t k = 0; k < n; k++)
                order[k] = keys[k].i;
        return order;
}

bool *endpoints_first_with_leaf(const struct platform_obs *obs) {
        size_t n = obs->n_endpoints, m = 0;
        _cleanup_free_ size_t *order = endpoints_plan_order(obs);
        _cleanup_free_ struct str_at *leaves = xcalloc(n + 1, sizeof(*leaves));
        bool *first = xcalloc(n + 1, sizeof(*first));

        /* Each leaf with its endpoints' places in the plan's order. */
        for (size_t k = 0; k < n; k++) {
                const char *sha = leaf_sha(&obs->endpoints[order[k]]);
                if (sha)
                        leaves[m++] = (struct str_at){ sha, k };
        }
        qsort(leaves, m, sizeof(*leaves), str_at_cmp);
        for (size_t k = 0; k < m; k++)
                if (k == 0 || strcmp(leaves[k - 1].s, leaves[k].s) != 0)
                        first[order[leaves[k].at]] = true;
        return first;
}

void strs_first(const char *const *v, size_t n, size_t *ret_first) {
        _cleanup_free_ struct str_at *sorted = xcalloc(n + 1, sizeof(*sorted));
        size_t m = 0;

        for (size_t i = 0; i < n; i++) {
                ret_first[i] = SIZE_MAX;
                if (v[i])
                        sorted[m++] = (struct str_at){ v[i], i };
        }
        qsort(sorted, m, sizeof(*sorted), str_at_cmp);
        for (size_t k = 0; k < m; k++)
                ret_first[sorted[k].at] = k > 0 && strcmp(sorted[k - 1].s, sorted[k].s) == 0
                                                  ? ret_first[sorted[k - 1].at]
                                                  : sorted[k].at;
}

size_t strs_unique(const char **v, size_t n) {
        _cleanup_free_ size_t *first = xcalloc(n + 1, sizeof(*first));
        size_t kept = 0;

        strs_first(v, n, first);
        for (size_t i = 0; i < n; i++)
                if (first[i] == i)
                        v[kept++] = v[i];
        return kept;
}

size_t endpoints_with_leaf(const struct platform_obs *obs, size_t i) {
        const char *sha = leaf_sha(&obs->endpoints[i]);
        size_t n = 0;
        for (size_t j = 0; sha && j < obs->n_endpoints; j++)
                if (streq_ptr(leaf_sha(&obs->endpoints[j]), sha))
                        n++;
        return n;
}

double threshold_days(int days, double share, double lifetime_days) {
        double by_share = share * (lifetime_days > 0 ? lifetime_days : 0);
        if (days < 0)
                return by_share;
        return (double)days < by_share ? (double)days : by_share;
}

bool dns01_zone_usable(const struct dns_obs *d) {
        const struct dns_zone_obs *z = &d->challenge_zone;
        return z->status == DNS_STATUS_OK && z->zone && dns_name_labels(z->zone) >= 2;
}
