/* caa.forbids-issuer: RFC 8659 applied to the wildcard certificate the
 * platform asks Let's Encrypt for. The gatherer found the relevant RRset by
 * climbing from the wildcard's base (section 3); this file decides whether
 * it lets letsencrypt.org issue (sections 4.2 and 4.3). */
#include <string.h>
#include <strings.h>

#include "checks.h"
#include "util.h"

static const struct finding_def findings[] = {
#define FORBIDS (&findings[0])
        { "caa.forbids-issuer", SEVERITY_CRITICAL, "12329fff14434ebca6a5026875cbeb39",
          "the CAA policy for the wildcard's base does not let Let's Encrypt issue the wildcard certificate" },
};

#define LE_ISSUER "letsencrypt.org"

static bool tag_is(const struct dns_caa_obs *r, const char *tag) {
        return strcasecmp(r->tag, tag) == 0;
}

/* RFC 8659 4.1 and the IANA registry: tags a CA understands. */
static bool tag_known(const struct dns_caa_obs *r) {
        static const char *const known[] = { "issue", "issuewild", "iodef", "contactemail", "contactphone",
                                             "issuemail", "issuevmc" };
        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (tag_is(r, known[i]))
                        return true;
        return false;
}

static const char *skip_ws(const char *s) {
        while (*s == ' ' || *s == '\t')
                s++;
        return s;
}

/* RFC 8659 4.2: issue-value = [issuer-domain-name] *(";" parameter); an
 * empty issuer-domain-name permits no one. RFC 8657 4: a validationmethods
 * parameter limits the methods, so one without dns-01 rules DNS-01 out. */
static bool value_permits(const char *value, const char *issuer) {
        const char *s = skip_ws(value);
        size_t n = strcspn(s, ";");
        size_t len = n;

        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
                len--;
        if (len != strlen(issuer) || strncasecmp(s, issuer, len) != 0)
                return false;
        for (const char *p = s + n; *p == ';';) {
                const char *param = skip_ws(p + 1);
                size_t plen = strcspn(param, ";");
                if (plen >= 18 && strncasecmp(param, "validationmethods", 17) == 0) {
                        const char *v = skip_ws(param + 17);
                        if (*v == '=') {
                                _cleanup_free_ char *list = xstrndup(v + 1, plen - (size_t)(v + 1 - param));
                                bool dns01 = false;
                                for (char *m = list; *m;) {
                                        size_t ml = strcspn(m, ",");
                                        const char *t = skip_ws(m);
                                        size_t tl = ml - (size_t)(t - m);
                                        while (tl > 0 && (t[tl - 1] == ' ' || t[tl - 1] == '\t'))
                                                tl--;
                                        if (tl == 6 && strncasecmp(t, "dns-01", 6) == 0)
                                                dns01 = true;
                                        m += ml;
                                        if (*m == ',')
                                                m++;
                                }
                                if (!dns01)
                                        return false;
                        }
                }
                p = param + plen;
        }
        return true;
}

bool caa_permits(const struct dns_caa_obs *rrs, size_t n, const char *issuer, bool wildcard, char **ret_reason) {
        const char *tag = "issue";
        bool any = false;

        /* 4.1: the critical flag (bit 0, value 128) on a tag the CA does not
         * understand forbids issuance outright. */
        for (size_t i = 0; i < n; i++)
                if ((rrs[i].flags & 128) && !tag_known(&rrs[i])) {
                        if (ret_reason)
                                *ret_reason = xasprintf("the tag '%s' is marked critical and no CA knows it", rrs[i].tag);
                        return false;
                }
        /* 4.3: for a wildcard, issuewild governs when present, else issue. */
        if (wildcard)
                for (size_t i = 0; i < n; i++)
                        if (tag_is(&rrs[i], "issuewild"))
                                tag = "issuewild";
        for (size_t i = 0; i < n; i++) {
                if (!tag_is(&rrs[i], tag))
                        continue;
                any = true;
                if (value_permits(rrs[i].value, issuer)) {
                        if (ret_reason)
                                *ret_reason = xasprintf("%s \"%s\" permits %s", tag, rrs[i].value, issuer);
                        return true;
                }
        }
        if (!any) {
                /* 4.2: no issue (or issuewild) property restricts no one. */
                if (ret_reason)
                        *ret_reason = xasprintf("no %s%s property restricts issuance", wildcard ? "issuewild or " : "",
                                                "issue");
                return true;
        }
        if (ret_reason)
                *ret_reason = xasprintf("no %s property names %s (or every one of them rules out DNS-01)", tag, issuer);
        return false;
}

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        const struct dns_obs *d = &ctx->obs->dns;
        _cleanup_free_ char *reason = NULL;

        /* In the other modes the policy is only shown in the report. */
        if (ctx->platform->tls_mode != TLS_MODE_LETSENCRYPT || !d->gathered)
                return 0;
        if (d->caa_status != DNS_STATUS_OK) {
                /* SERVFAIL comes from the zone's side (lame or broken
                 * servers, DNSSEC), so Let's Encrypt's resolvers meet it
                 * too and refuse to issue. A timeout or REFUSED may be our
                 * own resolver's doing: the report shows it, no verdict. */
                if (d->caa_status == DNS_STATUS_SERVFAIL)
                        finding_emit(out, FORBIDS, NULL, NULL,
                                     "the CAA lookup for %s failed (%s); Let's Encrypt does not issue when it cannot "
                                     "read the CAA policy: make the zone's servers answer CAA queries",
                                     ctx->plan->wildcard, d->caa_error ? d->caa_error : dns_status_to_string(d->caa_status));
                return 0;
        }
        if (!d->caa_name || caa_permits(d->caa, d->n_caa, LE_ISSUER, true, &reason))
                return 0;
        finding_emit(out, FORBIDS, d->caa_name, NULL,
                     "the CAA records at %s govern %s and forbid Let's Encrypt: %s; add the record "
                     "%s. CAA 0 issuewild \"letsencrypt.org\" (or remove the restriction)",
                     d->caa_name, ctx->plan->wildcard, reason, d->caa_name);
        return 0;
}

const struct check check_caa = {
        .name = "caa",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
};
