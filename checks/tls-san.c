/* tls.san.*: the certificate must cover the name it is served for, judged
 * on the SAN dNSName entries alone (iPAddress entries for an address
 * literal). The Common Name is never consulted: RFC 6125 deprecates it and
 * Let's Encrypt certificates may omit it. */
#include <string.h>

#include "checks.h"
#include "util.h"

static const struct finding_def findings[] = {
#define SAN_MISMATCH (&findings[0])
        { "tls.san.mismatch", SEVERITY_CRITICAL, "d7afacbf486945f3a5b5817707f8e042",
          "the served certificate does not cover the name (SAN dNSName entries)" },
};

/* An address literal (certvigil check 127.0.0.1) is covered by an iPAddress
 * entry, never by a dNSName (RFC 6125 1.7.2); both sides are canonical text. */
static bool leaf_covers(const struct cert_obs *leaf, const char *name) {
        if (address_is_literal(name))
                return strv_contains(leaf->ip_san, name);
        for (size_t j = 0; leaf->san && leaf->san[j]; j++)
                if (dns_name_pattern_matches(leaf->san[j], name))
                        return true;
        return false;
}

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        for (size_t i = 0; i < ctx->obs->n_endpoints; i++) {
                const struct endpoint_obs *e = &ctx->obs->endpoints[i];
                if (e->status != ENDPOINT_OK || e->n_chain == 0)
                        continue;
                const struct cert_obs *leaf = &e->chain[0];
                if (leaf_covers(leaf, e->name))
                        continue;

                _cleanup_free_ char *sans = strv_join(leaf->san, ", ", 8);
                if (address_is_literal(e->name)) {
                        _cleanup_free_ char *ips = strv_join(leaf->ip_san, ", ", 8);
                        finding_emit(out, SAN_MISMATCH, e->name, e->address,
                                     "the certificate served by %s does not cover the address %s: its SAN "
                                     "iPAddresses are [%s] (dNSNames [%s])",
                                     e->address, e->name, ips ? ips : "none", sans ? sans : "none");
                } else if (!ctx->plan->wildcard)
                        finding_emit(out, SAN_MISMATCH, e->name, e->address,
                                     "the certificate served by %s does not cover %s: its SAN dNSNames are [%s]",
                                     e->address, e->name, sans ? sans : "none");
                else
                        finding_emit(out, SAN_MISMATCH, e->name, e->address,
                                     "the certificate served by %s does not cover %s: its SAN dNSNames are [%s]; "
                                     "the platform needs %s",
                                     e->address, e->name, sans ? sans : "none", ctx->plan->wildcard);
        }
        return 0;
}

const struct check check_tls_san = {
        .name = "tls.san",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
        .single_name = true,
};
