/* tls.protocol.legacy: an address that still completes a TLS 1.0 or 1.1
 * handshake (RFC 8996 deprecates both). The audit probes each address once
 * with a handshake offering only those versions: the protocol versions a
 * listener accepts are settled before SNI picks a server block in common
 * ingresses, so one probe per address is enough and keeps the cost flat. */
#include "checks.h"
#include "util.h"

static const struct finding_def findings[] = {
#define PROTOCOL_LEGACY (&findings[0])
        { "tls.protocol.legacy", SEVERITY_WARNING, "e57fd131491044feb59a9e52f98f8062",
          "the endpoint still completes a TLS 1.0 or TLS 1.1 handshake" },
};

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        for (size_t i = 0; i < ctx->obs->n_endpoints; i++) {
                const struct endpoint_obs *e = &ctx->obs->endpoints[i];
                if (e->legacy != LEGACY_ACCEPTED)
                        continue;
                finding_emit(out, PROTOCOL_LEGACY, e->name, e->address,
                             "%s port %u completes a %s handshake (tried with SNI %s); RFC 8996 deprecates TLS 1.0 "
                             "and 1.1: allow only TLS 1.2 and 1.3",
                             e->address, e->port, e->legacy_detail ? e->legacy_detail : "TLS 1.0/1.1", e->name);
        }
        return 0;
}

const struct check check_tls_protocol = {
        .name = "tls.protocol",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
        .single_name = true,
};
