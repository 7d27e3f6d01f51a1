/* dns.wildcard.*: the wildcard record the platform's docs ask for
 * (*.<wildcard base> pointing at the gateway), probed with a random label,
 * and explicit records that override it with other addresses. */
#include "checks.h"
#include "util.h"

static const struct finding_def findings[] = {
#define MISSING (&findings[0])
        { "dns.wildcard.missing", SEVERITY_WARNING, "1b59b26e2ca24149b6b30d8e782dfd6c",
          "a random name under the wildcard's base does not resolve: the wildcard DNS record is absent" },
#define MISMATCH (&findings[1])
        { "dns.wildcard.mismatch", SEVERITY_WARNING, "b4ba6ec0250c4725aca234ab7e359df2",
          "an explicit record for an expected name overrides the wildcard with different addresses" },
};

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        const struct dns_obs *d = &ctx->obs->dns;
        const struct dns_answer_obs *probe = &d->wildcard_probe;

        /* With the tunnel, Cloudflare manages the public host names. */
        if (ctx->platform->tunnel_enabled || !d->gathered)
                return 0;
        if (probe->status == DNS_STATUS_NXDOMAIN || probe->status == DNS_STATUS_NODATA) {
                bool names_fail = false;
                for (size_t i = 0; i < ctx->obs->n_names; i++)
                        if (ctx->obs->names[i].status != DNS_STATUS_OK)
                                names_fail = true;
                finding_emit_severity(out, MISSING, names_fail ? SEVERITY_CRITICAL : SEVERITY_WARNING,
                                      ctx->plan->wildcard, NULL,
                                      "asked %s for a random name under %s (the report's dns.wildcard_probe "
                                      "has it): %s, so there is no wildcard record%s; create %s A (and/or AAAA) "
                                      "pointing at the gateway's external address",
                                      probe->source, ctx->plan->wildcard_base,
                                      probe->error ? probe->error : dns_status_to_string(probe->status),
                                      names_fail ? " and some expected names do not resolve either" : "",
                                      ctx->plan->wildcard);
                return 0;
        }
        if (probe->status != DNS_STATUS_OK)
                return 0;
        _cleanup_free_ char *wild = strv_join_or(probe->addresses, ", ", "-");
        for (size_t i = 0; i < ctx->obs->n_names; i++) {
                const struct name_obs *n = &ctx->obs->names[i];
                if (n->status != DNS_STATUS_OK || strv_same_set(n->addresses, probe->addresses))
                        continue;
                _cleanup_free_ char *got = strv_join_or(n->addresses, ", ", "-");
                finding_emit(out, MISMATCH, n->name, NULL,
                             "%s resolves to %s but the wildcard %s gives %s (asked %s): an explicit record "
                             "overrides the wildcard, perhaps left from an older install; delete the record for %s "
                             "or make it point where the wildcard does",
                             n->name, got, ctx->plan->wildcard, wild, probe->source, n->name);
        }
        return 0;
}

const struct check check_dns_wildcard = {
        .name = "dns.wildcard",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
};
