/* tls.kx.weak: the key exchange a current client ends up with. RSA key
 * transport gives no forward secrecy (a stolen key decrypts every recorded
 * session; TLS 1.3 dropped it), and finite-field DH under 2048 bits is
 * within reach of precomputation (the Logjam paper; NIST SP 800-57 puts
 * 2048 bits at the floor). The probe offers what GnuTLS's defaults offer,
 * so the server's choice is what such a client gets. */
#include "checks.h"
#include "util.h"

#define DH_MIN_BITS 2048

static const struct finding_def findings[] = {
#define KX_WEAK (&findings[0])
        { "tls.kx.weak", SEVERITY_WARNING, "edd58b184d2947f1a8bc4f0f55642bf2",
          "the endpoint negotiates RSA key transport (no forward secrecy) or finite-field DH under 2048 bits" },
};

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        for (size_t i = 0; i < ctx->obs->n_endpoints; i++) {
                const struct endpoint_obs *e = &ctx->obs->endpoints[i];
                if (e->status != ENDPOINT_OK)
                        continue;
                if (e->kx_kind == KX_RSA)
                        finding_emit(out, KX_WEAK, e->name, e->address,
                                     "%s port %u negotiates %s with RSA key transport (no forward secrecy: the "
                                     "certificate's key decrypts every recorded session); prefer ECDHE suites",
                                     e->address, e->port, e->cipher_suite ? e->cipher_suite : "a suite");
                else if (e->kx_kind == KX_DHE && e->kx_bits > 0 && e->kx_bits < DH_MIN_BITS)
                        finding_emit(out, KX_WEAK, e->name, e->address,
                                     "%s port %u negotiates %s with a %u-bit finite-field DH group (%s); use "
                                     "ECDHE, or a DH group of 2048 bits or more (RFC 7919 ffdhe2048)",
                                     e->address, e->port, e->cipher_suite ? e->cipher_suite : "a suite", e->kx_bits,
                                     e->kx_group ? e->kx_group : "unnamed");
        }
        return 0;
}

const struct check check_tls_kx = {
        .name = "tls.kx",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
        .single_name = true,
};
