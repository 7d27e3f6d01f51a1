/* tls.key.weak and tls.signature.weak: key sizes and signature digests of
 * the served chain. A root's own self-signature is never checked by clients
 * (RFC 5280 6.1: the trust anchor is taken as given), so self-issued
 * certificates are left out of the signature check. */
#include <string.h>
#include <strings.h>

#include "checks.h"
#include "util.h"

#define RSA_MIN_BITS 2048
#define EC_MIN_BITS 256

static const struct finding_def findings[] = {
#define KEY_WEAK (&findings[0])
        { "tls.key.weak", SEVERITY_WARNING, "e7d8f02566b24640981f8c0933f06dfc",
          "a served certificate has an RSA key under 2048 bits or an EC key under 256 bits" },
#define SIGNATURE_WEAK (&findings[1])
        { "tls.signature.weak", SEVERITY_WARNING, "98cb42c1db6e4e51ba76963929c6e5be",
          "a served certificate below the root is signed with SHA-1 or MD5" },
};

static bool key_is_weak(const struct cert_obs *c) {
        if (c->key_bits == 0)
                return false;
        return (c->key_kind == CERT_KEY_RSA && c->key_bits < RSA_MIN_BITS) ||
               (c->key_kind == CERT_KEY_EC && c->key_bits < EC_MIN_BITS);
}

static bool hash_is_weak(const char *h) {
        return h && (strcasecmp(h, "SHA1") == 0 || strcasecmp(h, "MD5") == 0 || strcasecmp(h, "MD2") == 0);
}

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        _cleanup_free_ bool *first = endpoints_first_with_leaf(ctx->obs);

        for (size_t i = 0; i < ctx->obs->n_endpoints; i++) {
                const struct endpoint_obs *e = &ctx->obs->endpoints[i];
                if (!first[i])
                        continue;
                for (size_t k = 0; k < e->n_chain; k++) {
                        const struct cert_obs *c = &e->chain[k];
                        if (key_is_weak(c))
                                finding_emit(out, KEY_WEAK, e->name, e->address,
                                             "certificate %zu of the chain served by %s for %s, "
                                             "'%s', has a %s key; use RSA 2048+ or ECDSA P-256+",
                                             k, e->address, e->name, c->subject, c->key);
                        if (!c->self_issued && hash_is_weak(c->sig_hash))
                                finding_emit(out, SIGNATURE_WEAK, e->name, e->address,
                                             "certificate %zu of the chain served by %s for %s, "
                                             "'%s', is signed with %s; clients reject it: reissue with SHA-256",
                                             k, e->address, e->name, c->subject, c->sig_algo);
                }
        }
        return 0;
}

const struct check check_tls_key = {
        .name = "tls.key",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
        .single_name = true,
};
