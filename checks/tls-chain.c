/* tls.chain.*: the served chain must verify to the platform's trust
 * anchors (the system store, or the bundle named by `trust`). */
#include "checks.h"
#include "util.h"

static const struct finding_def findings[] = {
#define CHAIN_UNTRUSTED (&findings[0])
        { "tls.chain.untrusted", SEVERITY_CRITICAL, "3b3db8f479c24deabd61a51f9fee91cd",
          "the served certificate chain does not verify to a trust anchor" },
};

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        for (size_t i = 0; i < ctx->obs->n_endpoints; i++) {
                const struct endpoint_obs *e = &ctx->obs->endpoints[i];
                if (e->status != ENDPOINT_OK || e->verified)
                        continue;
                const char *issuer = e->n_chain > 0 ? e->chain[0].issuer : "(none)";
                finding_emit(out, CHAIN_UNTRUSTED, e->name, e->address,
                             "the chain served by %s for %s does not verify to the trust anchors (%s): %s; "
                             "%zu certificate(s) served, leaf issued by '%s'",
                             e->address, e->name, ctx->platform->trust ? ctx->platform->trust : "system",
                             e->verify_error ? e->verify_error : "not verified", e->n_chain, issuer);
        }
        return 0;
}

const struct check check_tls_chain = {
        .name = "tls.chain",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
};
