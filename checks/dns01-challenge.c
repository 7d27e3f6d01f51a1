/* dns01.challenge.stale: TXT records sitting at the challenge name while
 * no issuance runs. cert-manager deletes its own after each challenge, so
 * these are leftovers; many of them make answers large and slow. */
#include "checks.h"
#include "util.h"

static const struct finding_def findings[] = {
#define STALE (&findings[0])
        { "dns01.challenge.stale", SEVERITY_INFO, "10a20eb19808491884d3e4f7f3b45e24",
          "TXT records are left at the DNS-01 challenge name outside any issuance" },
};

/* Above this many, leftovers start to matter (answer size, TCP fallback). */
#define STALE_WARN 5

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        const struct dns_obs *d = &ctx->obs->dns;

        if (!d->gathered || !d->dns01 || d->n_txt == 0 || !d->effective_challenge)
                return 0;
        _cleanup_free_ char *shown = NULL;
        for (size_t i = 0; d->txt && d->txt[i] && i < 3; i++) {
                char *n = xasprintf("%s%s\"%s\"", shown ? shown : "", shown ? ", " : "", d->txt[i]);
                free(shown);
                shown = n;
        }
        finding_emit_severity(out, STALE, d->n_txt > STALE_WARN ? SEVERITY_WARNING : SEVERITY_INFO,
                              d->effective_challenge, NULL,
                              "asked the resolvers for TXT at %s: %zu record%s (%s%s) left from earlier challenges; "
                              "delete them at the DNS provider",
                              d->effective_challenge, d->n_txt, d->n_txt == 1 ? "" : "s", shown ? shown : "",
                              d->n_txt > 3 ? ", ..." : "");
        return 0;
}

const struct check check_dns01_challenge = {
        .name = "dns01.challenge",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
};
