/* tls.secret.*: the Secret the ingress should be serving, compared with
 * what it serves. See tls-secret.h. */
#include <string.h>

#include "checks.h"
#include "tls-secret.h"
#include "util.h"

static const struct finding_def findings[] = {
#define MISMATCH (&findings[0])
        { "tls.secret.mismatch", SEVERITY_WARNING, "1f350f4cd6fc44aeb9faaed58402995e",
          "an endpoint serves another certificate than the wildcard Secret holds (pods or ingress not reloaded)" },
#define KEY_MISMATCH (&findings[1])
        { "tls.secret.key-mismatch", SEVERITY_CRITICAL, "2972647ee6464bb3aa404cd7a67b67f9",
          "the wildcard Secret's tls.key is not the private key of its tls.crt" },
};

/* In the catalog; judged by secret_judge() once the Secret is read. */
const struct check check_tls_secret = {
        .name = "tls.secret",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = NULL,
};

void secret_judge(const struct secret_facts *s, const struct platform_obs *obs, struct finding_list *out) {
        if (!s->key_matches)
                finding_emit(out, KEY_MISMATCH, NULL, NULL,
                             "Secret %s: tls.key is not the private key of tls.crt; the next pod or ingress reload "
                             "will fail to serve TLS: put the matching pair in the Secret",
                             s->what);
        for (size_t i = 0; obs && i < obs->n_endpoints; i++) {
                const struct endpoint_obs *e = &obs->endpoints[i];
                if (e->status != ENDPOINT_OK || e->n_chain == 0 || !e->chain[0].sha256 ||
                    strcmp(e->chain[0].sha256, s->sha256) == 0)
                        continue;
                finding_emit(out, MISMATCH, e->name, e->address,
                             "%s serves for %s the certificate sha256 %s, but Secret %s holds %s: reload the pods or "
                             "ingress that serve it",
                             e->address, e->name, e->chain[0].sha256, s->what, s->sha256);
        }
}
