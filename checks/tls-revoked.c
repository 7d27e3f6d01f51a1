/* tls.revoked: the leaf's CRL (from its CRL distribution point, signature
 * checked against the leaf's issuer) lists its serial. A CRL that could not
 * be fetched or verified is an observation in the report, not a finding:
 * revocation infrastructure being down says nothing about the platform.
 * tls.crl.stale: the CRL verified and does not list the serial, but is past
 * its nextUpdate, so it says nothing about now; clients that insist on a
 * current CRL refuse the certificate. */
#include "checks.h"
#include "util.h"

static const struct finding_def findings[] = {
#define REVOKED (&findings[0])
        { "tls.revoked", SEVERITY_CRITICAL, "84027d5fee2e44d0bee21590c2fa9b31",
          "the served certificate is revoked: its CRL lists its serial" },
#define STALE (&findings[1])
        { "tls.crl.stale", SEVERITY_WARNING, "71c7bdb250884c3cae527132455566dc",
          "the certificate's CRL is past its nextUpdate: revocation cannot be judged and strict clients refuse it" },
};

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        _cleanup_free_ bool *first = endpoints_first_with_leaf(ctx->obs);

        for (size_t i = 0; i < ctx->obs->n_endpoints; i++) {
                const struct endpoint_obs *e = &ctx->obs->endpoints[i];
                if (!first[i])
                        continue;
                if (e->crl_status == CRL_STALE)
                        finding_emit(out, STALE, e->name, e->address,
                                     "the CRL %s of the certificate served by %s (and %zu other endpoint(s)) is out "
                                     "of date: %s; the CA (or whoever publishes it) must publish a new one",
                                     e->crl.url ? e->crl.url : "", e->address, endpoints_with_leaf(ctx->obs, i) - 1,
                                     e->crl_detail ? e->crl_detail : "past its nextUpdate");
                if (e->crl_status != CRL_REVOKED)
                        continue;
                finding_emit(out, REVOKED, e->name, e->address,
                             "the certificate served by %s for %s, serial %s, is listed in its "
                             "CRL %s (%s): clients that check revocation refuse it; deploy a new certificate",
                             e->address, e->name, e->chain[0].serial,
                             e->crl.url ? e->crl.url : "", e->crl_detail ? e->crl_detail : "revoked");
        }
        return 0;
}

const struct check check_tls_revoked = {
        .name = "tls.revoked",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
        .single_name = true,
};
