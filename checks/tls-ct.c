/* tls.ct.missing: Chrome and Safari require a publicly trusted certificate
 * to carry Signed Certificate Timestamps from at least two distinct
 * Certificate Transparency logs (RFC 6962); without them the browser
 * rejects a certificate that verifies. Checked on the leaf as served, when
 * the platform trusts the system store (a public CA), or with a private
 * trust bundle when ct.required says so. SCT signatures are not checked. */
#include <string.h>

#include "checks.h"
#include "util.h"

#define CT_MIN_LOGS 2

static const struct finding_def findings[] = {
#define CT_MISSING (&findings[0])
        { "tls.ct.missing", SEVERITY_CRITICAL, "5ee9549a5ec84264a59b25369c8f4fe1",
          "a publicly trusted leaf carries embedded SCTs from fewer than two distinct CT logs" },
};

static size_t distinct_logs(const struct cert_obs *c) {
        size_t n = 0;
        for (size_t i = 0; i < c->n_scts; i++) {
                bool seen = false;
                for (size_t j = 0; j < i && !seen; j++)
                        seen = streq_ptr(c->scts[i].log_id, c->scts[j].log_id);
                if (!seen)
                        n++;
        }
        return n;
}

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        bool public = streq_ptr(ctx->platform->trust, "system");

        if (!public && !ctx->platform->ct_required)
                return 0;
        _cleanup_free_ bool *first = endpoints_first_with_leaf(ctx->obs);

        for (size_t i = 0; i < ctx->obs->n_endpoints; i++) {
                const struct endpoint_obs *e = &ctx->obs->endpoints[i];
                if (!first[i])
                        continue;
                /* A certificate that does not verify fails for its own
                 * reasons (tls.chain.*); CT only matters once it does. */
                if (public && !e->verified)
                        continue;
                const struct cert_obs *leaf = &e->chain[0];
                size_t logs = distinct_logs(leaf);
                if (logs >= CT_MIN_LOGS)
                        continue;
                finding_emit(out, CT_MISSING, e->name, e->address,
                             "the certificate served by %s for %s, serial %s, carries %s "
                             "(%zu SCT(s) from %zu distinct log(s)); Chrome and Safari require SCTs from at least "
                             "two logs and reject it: reissue from a CA that logs its certificates",
                             e->address, e->name, leaf->serial,
                             leaf->scts_error ? leaf->scts_error
                             : leaf->has_scts ? "too few embedded SCTs" : "no embedded SCT list",
                             leaf->n_scts, logs);
        }
        return 0;
}

const struct check check_tls_ct = {
        .name = "tls.ct",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
        .single_name = true,
};
