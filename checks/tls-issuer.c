/* tls.issuer.*: the certificate's issuer must agree with tls.mode and the
 * Let's Encrypt issuer the values select. Let's Encrypt's staging hierarchy
 * names every CA "(STAGING) ..."; its production CAs carry
 * O=Let's Encrypt. In letsencrypt mode the issuer must be Let's Encrypt
 * when the trust anchors are the system store; a private `trust` bundle or
 * `expect_issuer` names another ACME CA (step-ca, Pebble in tests). */
#include <stdbool.h>
#include <string.h>

#include "checks.h"
#include "util.h"

static const struct finding_def findings[] = {
#define ISSUER_STAGING (&findings[0])
        { "tls.issuer.staging", SEVERITY_CRITICAL, "b53738da1b2d4041951a12609025ce08",
          "the served certificate comes from Let's Encrypt's staging hierarchy, which no client trusts" },
#define ISSUER_STAGING_CONFIGURED (&findings[1])
        { "tls.issuer.staging-configured", SEVERITY_INFO, "61b23a065c3648f78be14185b9ae4e46",
          "the platform's values still select letsencrypt-staging" },
#define ISSUER_MODE_MISMATCH (&findings[2])
        { "tls.issuer.mode-mismatch", SEVERITY_CRITICAL, "5258eab720454fc4a007ebf662bd2023",
          "the certificate's issuer contradicts tls.mode (or expect_issuer)" },
};

static bool is_staging(const char *dn) {
        return strstr(dn, "(STAGING)") != NULL;
}

static bool is_letsencrypt(const char *dn) {
        return strstr(dn, "O=Let's Encrypt") != NULL || strstr(dn, "O=(STAGING) Let's Encrypt") != NULL;
}

/* With a private bundle as `trust`, the operator has named the CA to
 * expect and tls.chain.* holds the chain to it; the Let's Encrypt test
 * is for the public trust store. */
static bool trust_is_system(const struct platform *p) {
        return !p->trust || strcmp(p->trust, "system") == 0;
}

static bool values_select_staging(const struct platform *p) {
        return p->le_issuer && strstr(p->le_issuer, "staging") != NULL;
}

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        const struct platform *p = ctx->platform;

        if (p->tls_mode == TLS_MODE_LETSENCRYPT && values_select_staging(p))
                finding_emit(out, ISSUER_STAGING_CONFIGURED, NULL, NULL,
                             "platform %s has tls.letsencrypt.issuer: %s; switch to letsencrypt-prod once DNS-01 "
                             "issuance works end to end",
                             p->name, p->le_issuer);

        _cleanup_free_ bool *first = endpoints_first_with_leaf(ctx->obs);

        for (size_t i = 0; i < ctx->obs->n_endpoints; i++) {
                const struct endpoint_obs *e = &ctx->obs->endpoints[i];
                if (!first[i])
                        continue;
                const char *issuer = e->chain[0].issuer;

                if (is_staging(issuer) && !values_select_staging(p)) {
                        finding_emit(out, ISSUER_STAGING, e->name, e->address,
                                     "the certificate served by %s for %s was issued by '%s', "
                                     "Let's Encrypt's staging hierarchy, while tls.letsencrypt.issuer is %s: delete "
                                     "the Secret so cert-manager reissues it from production",
                                     e->address, e->name, issuer, p->le_issuer ? p->le_issuer : "unset");
                        continue;
                }
                if (p->expect_issuer && !strstr(issuer, p->expect_issuer)) {
                        finding_emit(out, ISSUER_MODE_MISMATCH, e->name, e->address,
                                     "the certificate served by %s for %s was issued by '%s', "
                                     "which does not contain expect_issuer '%s'",
                                     e->address, e->name, issuer, p->expect_issuer);
                        continue;
                }
                switch (p->tls_mode) {
                case TLS_MODE_LETSENCRYPT:
                        /* expect_issuer, when set, names the ACME CA instead
                         * (a private ACME server, a test CA); so does a
                         * private `trust` bundle. */
                        if (!p->expect_issuer && trust_is_system(p) && !is_letsencrypt(issuer))
                                finding_emit(out, ISSUER_MODE_MISMATCH, e->name, e->address,
                                             "tls.mode is letsencrypt but the certificate served by %s for %s was issued "
                                             "by '%s', not by Let's Encrypt: "
                                             "cert-manager's certificate is not the one served (or set "
                                             "expect_issuer for another ACME CA)",
                                             e->address, e->name, issuer);
                        break;
                case TLS_MODE_SELFSIGNED: {
                        struct chain_walk w;
                        chain_walk(e, &w);
                        /* An incomplete chain is tls.chain.incomplete's. */
                        if (!e->verified && !w.leaf_issuer_missing)
                                finding_emit(out, ISSUER_MODE_MISMATCH, e->name, e->address,
                                             "tls.mode is selfsigned but the certificate served by %s for %s, issued by "
                                             "'%s', does not chain to the configured "
                                             "trust (%s)",
                                             e->address, e->name, issuer, p->trust ? p->trust : "system");
                        break;
                }
                case TLS_MODE_PROVIDED:
                default:
                        break;
                }
        }
        return 0;
}

const struct check check_tls_issuer = {
        .name = "tls.issuer",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
        .single_name = true,
};
