/* tls.expiry.* and tls.cert.not-yet-valid: the leaf's validity period
 * against the injected clock and the warn_days / critical_days thresholds.
 * A threshold is the smaller of its days and its share of the leaf's
 * lifetime (a third for warn, a tenth for critical unless configured), so
 * a 6-day certificate is not in warning from its first day while a 90-day
 * one keeps 21 and 7 days. */
#include "checks.h"
#include "util.h"

static const struct finding_def findings[] = {
#define EXPIRED (&findings[0])
        { "tls.expiry.expired", SEVERITY_CRITICAL, "b801e61143ca4195a2e3a36a68768892",
          "the served certificate has expired" },
#define NOT_YET_VALID (&findings[1])
        { "tls.cert.not-yet-valid", SEVERITY_CRITICAL, "e5632046b2aa44c7a8ad4fee50045edd",
          "the served certificate is not valid yet (notBefore is in the future)" },
#define EXPIRY_CRITICAL (&findings[2])
        { "tls.expiry.critical", SEVERITY_CRITICAL, "a074be15f8e344c8a8439dc20c01cb20",
          "the served certificate expires within the critical threshold (critical_days, or a tenth of its lifetime)" },
#define EXPIRY_WARNING (&findings[3])
        { "tls.expiry.warning", SEVERITY_WARNING, "d037509d282148f681ec98ce4b2a06c0",
          "the served certificate expires within the warning threshold (warn_days, or a third of its lifetime)" },
};

/* Which rule set the threshold: "critical_days (7)" as before shares
 * existed, or the share of a short lifetime. */
static char *threshold_describe(const char *key, int days, double share, double threshold, double lifetime) {
        if (days >= 0 && (double)days <= threshold)
                return xasprintf("%s (%d)", key, days);
        return xasprintf("the threshold of %.1f days, %.0f%% of its %.1f-day lifetime (%s %s)", threshold,
                         share * 100, lifetime, key, days >= 0 ? "is larger" : "is a share");
}

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        for (size_t i = 0; i < ctx->obs->n_endpoints; i++) {
                const struct endpoint_obs *e = &ctx->obs->endpoints[i];
                char when[RFC3339_MAX];
                if (e->status != ENDPOINT_OK || e->n_chain == 0)
                        continue;
                const struct cert_obs *leaf = &e->chain[0];
                double left = days_until(leaf->not_after, ctx->now);
                double lifetime = days_until(leaf->not_after, leaf->not_before);
                double warn = threshold_days(ctx->platform->warn_days, ctx->platform->warn_share, lifetime);
                double crit = threshold_days(ctx->platform->critical_days, ctx->platform->critical_share, lifetime);

                if (ctx->now < leaf->not_before)
                        finding_emit(out, NOT_YET_VALID, e->name, e->address,
                                     "the certificate served by %s for %s is not valid until %s (in %.1f days); "
                                     "check the issuer's clock or install the certificate later",
                                     e->address, e->name, format_rfc3339(leaf->not_before, when),
                                     days_until(leaf->not_before, ctx->now));
                else if (ctx->now >= leaf->not_after)
                        finding_emit(out, EXPIRED, e->name, e->address,
                                     "the certificate served by %s for %s expired %.1f days ago (%s)",
                                     e->address, e->name, -left, format_rfc3339(leaf->not_after, when));
                else if (left < crit) {
                        _cleanup_free_ char *why = threshold_describe("critical_days", ctx->platform->critical_days,
                                                                      ctx->platform->critical_share, crit, lifetime);
                        finding_emit(out, EXPIRY_CRITICAL, e->name, e->address,
                                     "the certificate served by %s for %s expires in %.1f days (%s), under %s",
                                     e->address, e->name, left, format_rfc3339(leaf->not_after, when), why);
                } else if (left < warn) {
                        _cleanup_free_ char *why = threshold_describe("warn_days", ctx->platform->warn_days,
                                                                      ctx->platform->warn_share, warn, lifetime);
                        finding_emit(out, EXPIRY_WARNING, e->name, e->address,
                                     "the certificate served by %s for %s expires in %.1f days (%s), under %s",
                                     e->address, e->name, left, format_rfc3339(leaf->not_after, when), why);
                }
        }
        return 0;
}

const struct check check_tls_expiry = {
        .name = "tls.expiry",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
        .single_name = true,
};
