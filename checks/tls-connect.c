/* tls.connect.* and tls.handshake.*: every address of every name must
 * accept a connection and complete a TLS handshake within the timeout. */
#include "checks.h"
#include "util.h"

static const struct finding_def findings[] = {
#define CONNECT_FAILED (&findings[0])
        { "tls.connect.failed", SEVERITY_CRITICAL, "9d3b7da303654b6983ab5276b1fba7b3",
          "an address of the platform does not accept TCP connections on its port" },
#define HANDSHAKE_FAILED (&findings[1])
        { "tls.handshake.failed", SEVERITY_CRITICAL, "4fe930ab90934abfaadd58db126cd047",
          "an address accepts connections but does not complete a TLS handshake" },
};

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        for (size_t i = 0; i < ctx->obs->n_endpoints; i++) {
                const struct endpoint_obs *e = &ctx->obs->endpoints[i];
                switch (e->status) {
                case ENDPOINT_OK:
                        break;
                case ENDPOINT_CONNECT_FAILED:
                        finding_emit(out, CONNECT_FAILED, e->name, e->address, "cannot connect to %s port %u for %s: %s",
                                     e->address, e->port, e->name, e->error ? e->error : "unknown error");
                        break;
                case ENDPOINT_HANDSHAKE_FAILED:
                        finding_emit(out, HANDSHAKE_FAILED, e->name, e->address,
                                     "TLS handshake with %s port %u for %s failed: %s", e->address, e->port,
                                     e->name, e->error ? e->error : "unknown error");
                        break;
                case ENDPOINT_NOT_RUN:
                        finding_emit(out, CONNECT_FAILED, e->name, e->address,
                                     "%s port %u for %s was not probed: %s", e->address, e->port, e->name,
                                     e->error ? e->error : "the audit deadline was reached first");
                        break;
                }
        }
        return 0;
}

const struct check check_tls_connect = {
        .name = "tls.connect",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
        .single_name = true,
};
