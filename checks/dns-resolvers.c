/* dns.resolvers.disagree: the same name asked of each configured resolver
 * and of each authoritative server of its zone; definite answers (addresses,
 * NXDOMAIN, no data) must agree. Failures are left to other checks. */
#include <string.h>

#include "checks.h"
#include "util.h"

static const struct finding_def findings[] = {
#define DISAGREE (&findings[0])
        { "dns.resolvers.disagree", SEVERITY_WARNING, "aa8eedfab9be4baa8850716a3cfaad94",
          "resolvers, or a resolver and the zone's authoritative servers, give different answers for a name" },
};

static bool definite(const struct dns_answer_obs *a) {
        return a->status == DNS_STATUS_OK || a->status == DNS_STATUS_NXDOMAIN || a->status == DNS_STATUS_NODATA;
}

static bool same(const struct dns_answer_obs *a, const struct dns_answer_obs *b) {
        if (a->status != b->status)
                return false;
        return strv_same_set(a->addresses, b->addresses);
}

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        const struct dns_obs *d = &ctx->obs->dns;

        for (size_t i = 0; d->gathered && i < d->n_names; i++) {
                const struct dns_name_obs *n = &d->names[i];
                const struct dns_answer_obs *first = NULL;
                bool differ = false;

                for (size_t j = 0; j < n->n_answers; j++) {
                        if (!definite(&n->answers[j]))
                                continue;
                        if (!first)
                                first = &n->answers[j];
                        else if (!same(first, &n->answers[j]))
                                differ = true;
                }
                if (!differ)
                        continue;
                _cleanup_free_ char *said = NULL;
                for (size_t j = 0; j < n->n_answers; j++) {
                        const struct dns_answer_obs *a = &n->answers[j];
                        if (!definite(a))
                                continue;
                        _cleanup_free_ char *what = a->status == DNS_STATUS_OK ? strv_join_or(a->addresses, ", ", "-")
                                                                               : xstrdup(dns_status_to_string(a->status));
                        char *s = xasprintf("%s%s%s%s says %s", said ? said : "", said ? "; " : "",
                                            a->authoritative ? "authoritative " : "", a->source, what);
                        free(said);
                        said = s;
                }
                finding_emit(out, DISAGREE, n->name, NULL,
                             "asked for %s: %s. A change still propagating (wait out the TTL), a split-horizon "
                             "view or a stale record on one source: fix the source that differs",
                             n->name, said);
        }
        return 0;
}

const struct check check_dns_resolvers = {
        .name = "dns.resolvers",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
};
