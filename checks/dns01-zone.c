/* dns01.zone.*: does the DNS-01 record land in the zone the provider's
 * token manages (tls.letsencrypt.dns01.dnsZone)? The gatherer found, by
 * SOA, the zone that really encloses the challenge name (after its CNAME
 * chain, if any) and whether dnsZone is a zone at all. */
#include <string.h>

#include "checks.h"
#include "dnsname.h"
#include "util.h"

static const struct finding_def findings[] = {
#define MISSING (&findings[0])
        { "dns01.zone.missing", SEVERITY_CRITICAL, "17f4f13850f4401e8f4754f9af27c10a",
          "dns01.dnsZone is not a zone: there is no SOA at that name" },
#define OUTSIDE (&findings[1])
        { "dns01.zone.outside", SEVERITY_CRITICAL, "2cf801bbdd1f4375914f983569ffce66",
          "the DNS-01 challenge name is not in dns01.dnsZone, and no CNAME leads it there" },
#define CUT (&findings[2])
        { "dns01.zone.cut", SEVERITY_CRITICAL, "5a72838db68c4b9c8ffa322a4a87dadd",
          "the challenge name is below dns01.dnsZone by name but in a delegated child zone" },
};

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        const struct dns_obs *d = &ctx->obs->dns;
        const char *zone = ctx->plan->dns01_zone;
        const char *challenge = ctx->plan->challenge_name;

        if (!d->gathered || !d->dns01 || !zone)
                return 0;

        const struct dns_zone_obs *dz = &d->dns01_zone;
        if ((dz->status == DNS_STATUS_OK && (!dz->zone || strcmp(dz->zone, zone) != 0)) ||
            dz->status == DNS_STATUS_NXDOMAIN) {
                if (dz->zone && *dz->zone)
                        finding_emit(out, MISSING, zone, NULL,
                                     "asked the resolvers for the SOA of dns01.dnsZone %s: there is none, the name lies "
                                     "in zone %s; set dnsZone to the zone the provider's token manages (%s?)",
                                     zone, dz->zone, dz->zone);
                else
                        finding_emit(out, MISSING, zone, NULL,
                                     "asked the resolvers for the SOA of dns01.dnsZone %s: %s; create the zone at the "
                                     "DNS provider or set dnsZone to the zone the provider's token manages",
                                     zone, dz->error ? dz->error : "no SOA");
        }

        const char *effective = d->effective_challenge;
        if (!effective)
                return 0; /* the CNAME chain broke: dns01.cname reports it */
        bool cname = d->cname_chain && d->cname_chain[0];
        if (cname && !dns01_zone_usable(d))
                return 0; /* a dangling CNAME: dns01.cname reports it */
        if (!dns_name_in_zone(effective, zone)) {
                if (cname)
                        finding_emit(out, OUTSIDE, challenge, NULL,
                                     "%s is a CNAME to %s, which is not in dns01.dnsZone %s either: the record "
                                     "written through the token for %s is never looked up; point the CNAME at a "
                                     "name in %s or set dnsZone to the zone of %s",
                                     challenge, effective, zone, zone, zone, effective);
                else
                        finding_emit(out, OUTSIDE, challenge, NULL,
                                     "the challenge name %s is not in dns01.dnsZone %s (the separator '%c' puts "
                                     "the wildcard %s under %s), and %s is not a CNAME: set dnsZone to %s, or "
                                     "delegate the challenge with %s. CNAME _acme-challenge.%s. (and let the token "
                                     "write there)",
                                     challenge, zone, ctx->platform->separator, ctx->plan->wildcard,
                                     ctx->plan->wildcard_base,
                                     challenge, d->challenge_zone.zone ? d->challenge_zone.zone : ctx->plan->wildcard_base,
                                     challenge, zone);
                return 0;
        }
        const struct dns_zone_obs *cz = &d->challenge_zone;
        if (cz->status == DNS_STATUS_OK && cz->zone && strcmp(cz->zone, zone) != 0 &&
            dns_name_in_zone(cz->zone, zone)) {
                _cleanup_free_ char *ns = strv_join_or(cz->ns, ", ", "unknown");
                finding_emit(out, CUT, effective, NULL,
                             "%s is below dns01.dnsZone %s by name, but %s is a delegated zone of its own (its SOA "
                             "is at %s, served by %s): records written through the token for %s are never seen "
                             "there; set dnsZone to %s (with a token for it) or remove the delegation",
                             effective, zone, cz->zone, cz->zone, ns, zone, cz->zone);
        }
        return 0;
}

const struct check check_dns01_zone = {
        .name = "dns01.zone",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
};
