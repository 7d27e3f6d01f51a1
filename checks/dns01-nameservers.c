/* dns01.nameservers.inconsistent: every authoritative server of the zone
 * holding the challenge record, asked directly (no recursion) for the SOA,
 * must answer authoritatively with the same serial: Let's Encrypt asks
 * any one of them, so a lagging or lame one fails issuance at random. */
#include <string.h>

#include "checks.h"
#include "util.h"

static const struct finding_def findings[] = {
#define INCONSISTENT (&findings[0])
        { "dns01.nameservers.inconsistent", SEVERITY_WARNING, "b33b119e643b41f7931f88e5e56050d1",
          "the zone's authoritative servers disagree on the SOA serial, or one of them is lame" },
};

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        const struct dns_obs *d = &ctx->obs->dns;
        const struct dns_zone_obs *z = &d->challenge_zone;

        if (!d->gathered || !d->dns01 || !dns01_zone_usable(d))
                return 0;
        if (!z->ns) {
                if (z->ns_status != DNS_STATUS_NOT_RUN)
                        finding_emit(out, INCONSISTENT, z->zone, NULL, "%s; the zone %s has no usable NS set",
                                     z->ns_error ? z->ns_error : "no NS records", z->zone);
                return 0;
        }
        for (size_t i = 0; i < z->n_servers; i++) {
                const struct dns_server_obs *s = &z->servers[i];
                if (s->error && s->status != DNS_STATUS_NOT_RUN)
                        finding_emit(out, INCONSISTENT, s->ns, s->address,
                                     "%s: fix or remove the NS record %s. NS %s", s->error, z->zone, s->ns);
        }

        bool differ = false;
        const struct dns_server_obs *first = NULL;
        for (size_t i = 0; i < z->n_servers; i++) {
                const struct dns_server_obs *s = &z->servers[i];
                if (!s->has_serial || !s->authoritative)
                        continue;
                if (!first)
                        first = s;
                else if (s->serial != first->serial)
                        differ = true;
        }
        if (!differ)
                return 0;
        _cleanup_free_ char *list = NULL;
        for (size_t i = 0; i < z->n_servers; i++) {
                const struct dns_server_obs *s = &z->servers[i];
                if (!s->has_serial || !s->authoritative)
                        continue;
                char *n = xasprintf("%s%s%s (%s) serial %u", list ? list : "", list ? ", " : "", s->ns, s->address,
                                    s->serial);
                free(list);
                list = n;
        }
        finding_emit(out, INCONSISTENT, z->zone, NULL,
                     "asked each authoritative server of %s directly for its SOA: %s; a server is behind (zone "
                     "transfers failing?), so a challenge record may be missing on it: fix the transfer to the "
                     "lagging server",
                     z->zone, list);
        return 0;
}

const struct check check_dns01_nameservers = {
        .name = "dns01.nameservers",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
};
