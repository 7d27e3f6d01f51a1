/* dns01.provider.mismatch: the zone that must hold the challenge record is
 * served by name servers of another provider than dns01.provider, so the
 * provider's API token cannot write to it. The name-server patterns of each
 * provider live in one data file (contrib/data/dns-providers.txt); an
 * unknown provider skips the check. */
#include <errno.h>

#include "checks.h"
#include "providers.h"
#include "util.h"

static const struct finding_def findings[] = {
#define MISMATCH (&findings[0])
        { "dns01.provider.mismatch", SEVERITY_WARNING, "ff0468dc83b24f4abc4db0e9e85619c4",
          "the zone's NS records do not belong to dns01.provider, so its token cannot manage the zone" },
};

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        const struct dns_obs *d = &ctx->obs->dns;
        const char *provider = ctx->platform->dns01_provider;
        const struct dns_zone_obs *z = &d->challenge_zone;

        if (!d->gathered || !d->dns01 || !provider || !dns01_zone_usable(d) || !z->ns)
                return 0;
        if (!ctx->providers)
                return -ENOENT;
        if (!providers_known(ctx->providers, provider))
                return 0;
        _cleanup_free_ char *foreign = NULL;
        for (size_t i = 0; z->ns[i]; i++) {
                if (providers_ns_matches(ctx->providers, provider, z->ns[i]))
                        continue;
                char *n = xasprintf("%s%s%s", foreign ? foreign : "", foreign ? ", " : "", z->ns[i]);
                free(foreign);
                foreign = n;
        }
        if (!foreign)
                return 0;
        _cleanup_free_ char *want = providers_describe(ctx->providers, provider);
        finding_emit(out, MISMATCH, z->zone, NULL,
                     "the zone %s (where the challenge record goes) is served by %s, not by %s name servers (%s): "
                     "a %s token cannot write there; move the zone to %s or set dns01.provider to the zone's real "
                     "provider",
                     z->zone, foreign, provider, want, provider, provider);
        return 0;
}

const struct check check_dns01_provider = {
        .name = "dns01.provider",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
};
