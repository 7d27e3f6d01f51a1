/* tls.renewal.overdue: a certificate that has lived past its issuer's
 * renewal point is one whose renewal is failing. cert-manager renews at two
 * thirds of the lifetime unless told otherwise (`renew_at`); a margin of 2%
 * of the lifetime, at least an hour, covers the renewal in flight and the
 * Secret reaching the ingress. Being relative, it fires weeks before the
 * fixed day thresholds on a 90-day certificate (at ~62 days of 90, 28 left)
 * and still means something for 45-day and 6-day ones. */
#include "checks.h"
#include "util.h"

static const struct finding_def findings[] = {
#define RENEWAL_OVERDUE (&findings[0])
        { "tls.renewal.overdue", SEVERITY_WARNING, "92b2814d0f2048fca9412872d5e3312a",
          "more of the certificate's lifetime has passed than its renewal point allows: renewal is failing" },
};

double renewal_due_after(double lifetime_sec, double renew_at) {
        double margin = lifetime_sec * 0.02;
        if (margin < 3600)
                margin = 3600;
        return lifetime_sec * renew_at + margin;
}

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        _cleanup_free_ bool *first = endpoints_first_with_leaf(ctx->obs);

        for (size_t i = 0; i < ctx->obs->n_endpoints; i++) {
                const struct endpoint_obs *e = &ctx->obs->endpoints[i];
                char due_s[RFC3339_MAX], exp_s[RFC3339_MAX];

                if (!first[i])
                        continue;
                const struct cert_obs *leaf = &e->chain[0];
                double lifetime = (double)leaf->not_after - (double)leaf->not_before;
                double elapsed = (double)ctx->now - (double)leaf->not_before;
                /* Expired and not-yet-valid certificates are tls.expiry's. */
                if (lifetime <= 0 || ctx->now >= leaf->not_after || elapsed < 0)
                        continue;
                double due = renewal_due_after(lifetime, ctx->platform->renew_at);
                if (elapsed <= due)
                        continue;
                finding_emit(out, RENEWAL_OVERDUE, e->name, e->address,
                             "%.0f%% of the %.1f-day lifetime of the certificate served by %s for %s has passed; "
                             "renewal was due at %.0f%% (%s) and it expires %s: renewal "
                             "is failing, check the issuer (cert-manager's Certificate and Order status)",
                             elapsed * 100 / lifetime, lifetime / 86400, e->address, e->name,
                             ctx->platform->renew_at * 100,
                             format_rfc3339(leaf->not_before + (time_t)(lifetime * ctx->platform->renew_at), due_s),
                             format_rfc3339(leaf->not_after, exp_s));
        }
        return 0;
}

const struct check check_tls_renewal = {
        .name = "tls.renewal",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
};
