/* tls.chain.*: the served chain must form a path, in order, from the leaf
 * to the platform's trust anchors (the system store, or the bundle named by
 * `trust`), and stay of a sane size.
 *
 * A chain whose leaf's issuer is neither served nor a trust anchor gets
 * tls.chain.incomplete and not also tls.chain.untrusted: it is one fault
 * with one fix, and both are critical. tls.chain.untrusted is left for the
 * rest: a path to an unknown root, a bad signature, an insecure algorithm. */
#include <string.h>

#include "checks.h"
#include "util.h"

/* RFC 8446 4.4.2 lets a server send extra certificates, but real paths are
 * 2-4 long; past these a client wastes bytes on every handshake. */
#define CHAIN_SANE_CERTS 10
#define CHAIN_SANE_BYTES (64u * 1024u)

static const struct finding_def findings[] = {
#define CHAIN_UNTRUSTED (&findings[0])
        { "tls.chain.untrusted", SEVERITY_CRITICAL, "3b3db8f479c24deabd61a51f9fee91cd",
          "the served certificate chain does not verify to a trust anchor" },
#define CHAIN_INCOMPLETE (&findings[1])
        { "tls.chain.incomplete", SEVERITY_CRITICAL, "2ec9cc584d0c4f15b3a33428fd1872f6",
          "the served chain lacks an intermediate needed to reach a trust anchor" },
#define CHAIN_ORDER (&findings[2])
        { "tls.chain.order", SEVERITY_WARNING, "7a523329b83041c1b1e9b0974e909785",
          "the served chain is out of order or carries certificates that belong to no path" },
#define CHAIN_OVERSIZED (&findings[3])
        { "tls.chain.oversized", SEVERITY_WARNING, "49201b29d3f8443abfeec73789c02788",
          "the served chain is larger than 10 certificates or 64 KiB" },
};

static void emit_incomplete(const struct check_ctx *ctx, const struct endpoint_obs *e, const struct chain_walk *w,
                            struct finding_list *out) {
        const struct cert_obs *last = &e->chain[w->last];
        _cleanup_free_ char *advice = NULL;

        if (e->aia.url && e->aia_cert)
                advice = xasprintf("; its AIA caIssuers URL %s serves '%s' (sha256 %s): add that certificate to the "
                                   "served chain, after %s",
                                   e->aia.url, e->aia_cert->subject, e->aia_cert->sha256,
                                   w->last == 0 ? "the leaf" : "the last certificate served");
        else if (e->aia.url)
                advice = xasprintf("; fetching its AIA caIssuers URL %s failed (%s): add the certificate of '%s' to "
                                   "the served chain",
                                   e->aia.url, e->aia.error ? e->aia.error : "no certificate", last->issuer);
        else
                advice = xasprintf("; it has no AIA caIssuers URL: add the certificate of '%s' (from your CA) to the "
                                   "served chain",
                                   last->issuer);
        finding_emit(out, CHAIN_INCOMPLETE, e->name, e->address,
                     "%s serves %zu certificate(s) for %s, but the issuer of '%s' ('%s') is neither served nor a "
                     "trust anchor (%s)%s",
                     e->address, e->n_served, e->name, last->subject, last->issuer,
                     ctx->platform->trust ? ctx->platform->trust : "system", advice);
}

/* Every certificate as served, in that order: "1. 'CN=a' (CA), 2. 'CN=b'". */
static char *served_list(const struct endpoint_obs *e) {
        char *s = xstrdup("");
        for (size_t k = 0; k < e->n_chain; k++) {
                char *t = xasprintf("%s%s%zu. '%s'%s", s, k ? ", " : "", k + 1, e->chain[k].subject,
                                    e->chain[k].is_ca ? " (CA)" : "");
                free(s);
                s = t;
        }
        return s;
}

static void emit_order(const struct endpoint_obs *e, const struct chain_walk *w, struct finding_list *out) {
        _cleanup_free_ char *stray = w->n_unused > 0 ? xasprintf("%zu certificate(s) on no path", w->n_unused) : NULL;
        _cleanup_free_ char *served = served_list(e);

        finding_emit(out, CHAIN_ORDER, e->name, e->address,
                     "the chain served by %s for %s is %s%s%s: serve the leaf first, then each issuer in turn, and "
                     "nothing else (served: %s)",
                     e->address, e->name, w->in_order ? "in order but carries " : "out of order",
                     !w->in_order && stray ? " and carries " : "", stray ? stray : "", served);
}

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        for (size_t i = 0; i < ctx->obs->n_endpoints; i++) {
                const struct endpoint_obs *e = &ctx->obs->endpoints[i];
                struct chain_walk w;

                /* A handshake that failed because a CA certificate came
                 * first (tls.c keeps what was received): the order is the
                 * cause, say so. */
                if (e->status == ENDPOINT_HANDSHAKE_FAILED && e->n_chain > 0 && e->chain[0].is_ca) {
                        chain_walk(e, &w);
                        /* Walked from the CA certificate, the real leaf
                         * looks stray; it is only misplaced. */
                        w.in_order = false;
                        w.n_unused = 0;
                        emit_order(e, &w, out);
                        continue;
                }
                if (e->status != ENDPOINT_OK)
                        continue;
                if (e->n_served > CHAIN_SANE_CERTS || e->served_bytes > CHAIN_SANE_BYTES)
                        finding_emit(out, CHAIN_OVERSIZED, e->name, e->address,
                                     "%s serves %zu certificates (%zu bytes) for %s; a sane chain has at most %d "
                                     "certificates and %u KiB: serve the leaf and its intermediates only",
                                     e->address, e->n_served, e->served_bytes, e->name, CHAIN_SANE_CERTS,
                                     CHAIN_SANE_BYTES / 1024);
                if (e->n_chain == 0) {
                        if (!e->verified)
                                finding_emit(out, CHAIN_UNTRUSTED, e->name, e->address,
                                             "%s sent no usable certificate for %s: %s", e->address, e->name,
                                             e->verify_error ? e->verify_error : "none");
                        continue;
                }
                chain_walk(e, &w);
                if (w.leaf_issuer_missing && !e->verified)
                        emit_incomplete(ctx, e, &w, out);
                else if (!e->verified)
                        finding_emit(out, CHAIN_UNTRUSTED, e->name, e->address,
                                     "the chain served by %s for %s does not verify to the trust anchors (%s): %s; "
                                     "%zu certificate(s) served, leaf issued by '%s'",
                                     e->address, e->name, ctx->platform->trust ? ctx->platform->trust : "system",
                                     e->verify_error ? e->verify_error : "not verified", e->n_chain,
                                     e->chain[0].issuer);
                if (!w.in_order || w.n_unused > 0)
                        emit_order(e, &w, out);
        }
        return 0;
}

const struct check check_tls_chain = {
        .name = "tls.chain",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
        .single_name = true,
};
