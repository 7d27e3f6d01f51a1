/* dns.dnssec.bogus, dns01.dnssec.bogus, dns.dnssec.expiring and
 * dns.dnssec.unchecked: what a
 * validating resolver (Let's Encrypt runs one) concludes about the names,
 * the DNS-01 challenge and CAA. A bogus answer is SERVFAIL to the CA and to
 * every validating resolver: issuance fails, and so does the name. Nothing
 * is judged when the resolvers do not serve the trust anchor's zone: a
 * validator behind them could not tell bogus from unreachable. */
#include <arpa/nameser.h>
#include <string.h>

#include "checks.h"
#include "util.h"

static const struct finding_def findings[] = {
#define DNS01_BOGUS (&findings[0])
        { "dns01.dnssec.bogus", SEVERITY_CRITICAL, "1c3bb9205ab4454b873c8dac8ddfaf18",
          "the DNS-01 challenge TXT (through its CNAMEs) or a CAA RRset does not validate under DNSSEC" },
#define NAME_BOGUS (&findings[1])
        { "dns.dnssec.bogus", SEVERITY_CRITICAL, "4b04ea53a6d0493e81b0196129f76a4f",
          "an expected name does not validate under DNSSEC, so validating resolvers fail it" },
#define EXPIRING (&findings[2])
        { "dns.dnssec.expiring", SEVERITY_WARNING, "3b5332fa28044e30b19938827e72fd6e",
          "an RRSIG over a record the platform needs expires soon" },
#define UNCHECKED (&findings[3])
        { "dns.dnssec.unchecked", SEVERITY_WARNING, "4f014f5ad09e402e813e4d03f669aec8",
          "DNSSEC validation could not run for answers the platform needs: no verdict on them" },
};

static const char *what(const struct dnssec_answer_obs *a) {
        switch (a->purpose) {
        case DNSSEC_FOR_NAME:
                return "the name";
        case DNSSEC_FOR_CHALLENGE:
                return "the DNS-01 challenge TXT (with its CNAMEs)";
        case DNSSEC_FOR_CAA:
                return "the CAA lookup the CA makes";
        }
        return "the answer";
}

static void bogus(const struct check_ctx *ctx, const struct dnssec_answer_obs *a, struct finding_list *out) {
        bool dns01 = a->purpose != DNSSEC_FOR_NAME;
        finding_emit(out, dns01 ? DNS01_BOGUS : NAME_BOGUS, a->purpose == DNSSEC_FOR_NAME ? a->name : NULL, NULL,
                     "%s %s does not validate under DNSSEC (trust anchor %s): %s%s; fix the signatures or the "
                     "DS at the parent, or remove the DS to go unsigned",
                     what(a), a->name, ctx->obs->dns.dnssec.trust_anchor,
                     a->why_bogus ? a->why_bogus : "bogus",
                     dns01 ? "; Let's Encrypt gets SERVFAIL and the DNS-01 issuance fails"
                           : "; validating resolvers answer SERVFAIL for it");
}

/* One finding per signing zone: its earliest signature among the answers. */
static void expiring(const struct check_ctx *ctx, struct finding_list *out) {
        const struct dnssec_obs *d = &ctx->obs->dns.dnssec;
        double limit = (double)ctx->platform->dnssec_warn_days;

        for (size_t i = 0; i < d->n_answers; i++) {
                const struct dnssec_answer_obs *a = &d->answers[i];
                bool first = true;
                size_t n = 0;
                if (a->state != DNSSEC_SECURE || a->rrsig_expires == 0 || days_until(a->rrsig_expires, ctx->now) >= limit)
                        continue;
                for (size_t j = 0; j < d->n_answers; j++) {
                        const struct dnssec_answer_obs *b = &d->answers[j];
                        if (b->state != DNSSEC_SECURE || b->rrsig_expires == 0 ||
                            days_until(b->rrsig_expires, ctx->now) >= limit || !streq_ptr(a->rrsig_signer, b->rrsig_signer))
                                continue;
                        n++;
                        if (b->rrsig_expires < a->rrsig_expires || (b->rrsig_expires == a->rrsig_expires && j < i))
                                first = false;
                }
                if (!first)
                        continue;
                char when[RFC3339_MAX];
                finding_emit(out, EXPIRING, NULL, NULL,
                             "the RRSIG by %s over %s expires %s (in %.1f days; %zu needed answer(s) rest on "
                             "signatures of that zone expiring within %u days): if the signer does not re-sign "
                             "by then, validating resolvers and the CA fail these names",
                             a->rrsig_signer ? a->rrsig_signer : "?", a->rrsig_over ? a->rrsig_over : a->name,
                             format_rfc3339(a->rrsig_expires, when), days_until(a->rrsig_expires, ctx->now), n,
                             ctx->platform->dnssec_warn_days);
        }
}

/* One finding for the answers the validator gave no verdict on (its worker
 * could not be forked or stopped, the lookup failed, the validator timed
 * out): a blind spot must not read as "secure". Not when the audit deadline
 * cut them short: audit.deadline.reached says that. */
static void unchecked(const struct check_ctx *ctx, struct finding_list *out) {
        const struct dnssec_obs *d = &ctx->obs->dns.dnssec;
        const struct dnssec_answer_obs *first = NULL;
        size_t n = 0;

        if (ctx->obs->deadline_reached)
                return;
        for (size_t i = 0; i < d->n_answers; i++) {
                const struct dnssec_answer_obs *a = &d->answers[i];
                if (a->state != DNSSEC_FAILED && !(a->state == DNSSEC_NOT_RUN && a->error))
                        continue;
                if (!first)
                        first = a;
                n++;
        }
        if (n == 0)
                return;
        finding_emit(out, UNCHECKED, NULL, NULL,
                     "DNSSEC validation (trust anchor %s) gave no verdict on %zu of %zu needed answer(s), first %s "
                     "%s: %s; whether validating resolvers and the CA accept them is unknown",
                     d->trust_anchor, n, d->n_answers, what(first), first->name,
                     first->error ? first->error : d->error ? d->error : "no reason given");
}

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        const struct dnssec_obs *d = &ctx->obs->dns.dnssec;

        if (!d->ran || !d->anchor_usable)
                return 0;
        for (size_t i = 0; i < d->n_answers; i++)
                if (d->answers[i].state == DNSSEC_BOGUS)
                        bogus(ctx, &d->answers[i], out);
        expiring(ctx, out);
        unchecked(ctx, out);
        return 0;
}

const struct check check_dnssec = {
        .name = "dnssec",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
};
