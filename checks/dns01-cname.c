/* dns01.cname.dangling: _acme-challenge delegated by CNAME (acme-dns and
 * the like) to a target in no existing zone, or through a chain that loops
 * or runs longer than validators follow. */
#include <string.h>

#include "checks.h"
#include "dnsname.h"
#include "util.h"

static const struct finding_def findings[] = {
#define DANGLING (&findings[0])
        { "dns01.cname.dangling", SEVERITY_CRITICAL, "2d7b7bd6bc4e46dfb7b9e4bfbc3c01f4",
          "the DNS-01 challenge name is a CNAME whose target is in no existing zone" },
};

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        const struct dns_obs *d = &ctx->obs->dns;
        const char *challenge = ctx->plan->challenge_name;

        if (!d->gathered || !d->dns01 || !d->cname_chain)
                return 0;
        if (d->cname_status == DNS_STATUS_ERROR && d->cname_error) {
                finding_emit(out, DANGLING, challenge, NULL,
                             "asked the resolvers for the CNAME chain from %s: %s; the challenge record can never "
                             "be found, so point %s at one name that exists",
                             challenge, d->cname_error, challenge);
                return 0;
        }
        const struct dns_zone_obs *z = &d->challenge_zone;
        if (!d->effective_challenge)
                return 0;
        /* A zone directly under the root is a TLD: the target's own domain
         * is gone (expired, deleted) and the CNAME leads nowhere. */
        if ((z->status == DNS_STATUS_OK && z->zone && dns_name_labels(z->zone) < 2) || z->status == DNS_STATUS_NXDOMAIN) {
                _cleanup_free_ char *chain = dns_chain_describe(challenge, d->cname_chain);
                finding_emit(out, DANGLING, challenge, NULL,
                             "%s is a CNAME (%s) but no zone exists for %s (%s%s%s): create the target zone or "
                             "the acme-dns account it belongs to, or remove the CNAME",
                             challenge, chain, d->effective_challenge,
                             z->zone ? "the closest SOA is the top-level zone " : "", z->zone ? (*z->zone ? z->zone : ".") : "",
                             z->zone ? "" : (z->error ? z->error : "no SOA"));
        }
        return 0;
}

const struct check check_dns01_cname = {
        .name = "dns01.cname",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
};
