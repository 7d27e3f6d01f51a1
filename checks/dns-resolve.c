/* dns.resolve.*: every expected name must resolve to at least one address. */
#include "checks.h"
#include "util.h"

static const struct finding_def findings[] = {
#define RESOLVE_FAILED (&findings[0])
        { "dns.resolve.failed", SEVERITY_CRITICAL, "9788b79eeccb4bfe9bed212c62aa05b4",
          "an expected name of the platform does not resolve to any address" },
};

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        _cleanup_free_ char *asked = strv_join(ctx->platform->resolvers, ", ", 0);

        for (size_t i = 0; i < ctx->obs->n_names; i++) {
                const struct name_obs *n = &ctx->obs->names[i];
                if (n->status == DNS_STATUS_OK)
                        continue;
                if (n->status == DNS_STATUS_NOT_RUN) {
                        finding_emit(out, RESOLVE_FAILED, n->name, NULL, "%s (%s) was not resolved: %s", n->name,
                                     service_to_string(n->service), n->error ? n->error : "the audit ended first");
                        continue;
                }
                finding_emit(out, RESOLVE_FAILED, n->name, NULL, "%s (%s) does not resolve: %s (asked %s)",
                             n->name, service_to_string(n->service), n->error ? n->error : dns_status_to_string(n->status),
                             asked ? asked : "the system resolver");
        }
        return 0;
}

const struct check check_dns_resolve = {
        .name = "dns.resolve",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
        .single_name = true,
};
