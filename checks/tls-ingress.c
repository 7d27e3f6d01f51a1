/* tls.cert.ingress-default: an ingress controller serves its built-in
 * placeholder certificate when the TLS Secret it was told to use is missing
 * or unreadable. The subjects come from one data file
 * (contrib/data/ingress-default-certs.txt), loaded by the audit. */
#include <string.h>

#include "checks.h"
#include "util.h"

static const struct finding_def findings[] = {
#define INGRESS_DEFAULT (&findings[0])
        { "tls.cert.ingress-default", SEVERITY_CRITICAL, "bef5b018e5ca4600b628e81ef6bdf0a4",
          "the endpoint serves an ingress controller's placeholder certificate: the wildcard Secret is missing" },
};

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        for (size_t i = 0; i < ctx->obs->n_endpoints; i++) {
                const struct endpoint_obs *e = &ctx->obs->endpoints[i];
                if (e->status != ENDPOINT_OK || e->n_chain == 0)
                        continue;
                for (size_t k = 0; ctx->ingress_subjects && ctx->ingress_subjects[k]; k++) {
                        if (!strstr(e->chain[0].subject, ctx->ingress_subjects[k]))
                                continue;
                        finding_emit(out, INGRESS_DEFAULT, e->name, e->address,
                                     "%s serves the placeholder certificate '%s' for %s: the ingress cannot use "
                                     "the wildcard Secret%s%s; check that it exists in the ingress's namespace and "
                                     "holds tls.crt and tls.key",
                                     e->address, e->chain[0].subject, e->name,
                                     ctx->platform->wildcard_secret ? " " : "",
                                     ctx->platform->wildcard_secret ? ctx->platform->wildcard_secret : "");
                        break;
                }
        }
        return 0;
}

const struct check check_tls_ingress = {
        .name = "tls.cert.ingress-default",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
        .single_name = true,
};
