/* tls.san.*: the certificate must cover the name it is served for, judged
 * on the SAN dNSName entries alone. The Common Name is never consulted:
 * RFC 6125 deprecates it and Let's Encrypt certificates may omit it. */
#include <string.h>
#include <strings.h>

#include "checks.h"
#include "util.h"

static const struct finding_def findings[] = {
#define SAN_MISMATCH (&findings[0])
        { "tls.san.mismatch", SEVERITY_CRITICAL, "d7afacbf486945f3a5b5817707f8e042",
          "the served certificate does not cover the name (SAN dNSName entries)" },
};

/* Length without one trailing dot; names are compared as absolute. */
static size_t name_len(const char *s) {
        size_t n = strlen(s);
        return n > 0 && s[n - 1] == '.' ? n - 1 : n;
}

bool san_pattern_matches(const char *pattern, const char *host) {
        size_t lp = name_len(pattern), lh = name_len(host);

        if (lp == 0 || lh == 0 || memchr(pattern, '\0', lp) != NULL)
                return false;
        /* Empty labels make no valid name on either side. */
        if (pattern[0] == '.' || host[0] == '.' || strstr(host, "..") || strstr(pattern, ".."))
                return false;

        if (pattern[0] != '*')
                return !memchr(pattern, '*', lp) && lp == lh && strncasecmp(pattern, host, lp) == 0;

        /* The wildcard must be the whole left-most label ("*.", not "f*."),
         * with no other '*' and at least two labels after it, so that "*.com"
         * never matches. */
        if (lp < 3 || pattern[1] != '.' || memchr(pattern + 1, '*', lp - 1))
                return false;
        const char *suffix = pattern + 1; /* ".example.com" */
        size_t ls = lp - 1;
        if (!memchr(suffix + 1, '.', ls - 1))
                return false;
        /* Exactly one label for the '*': the host is label + suffix, the
         * label non-empty and without dots. The apex itself (host == suffix
         * without its dot) has no label and is not covered. */
        if (lh <= ls)
                return false;
        const char *host_suffix = host + (lh - ls);
        if (strncasecmp(host_suffix, suffix, ls) != 0)
                return false;
        return memchr(host, '.', lh - ls) == NULL;
}

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        for (size_t i = 0; i < ctx->obs->n_endpoints; i++) {
                const struct endpoint_obs *e = &ctx->obs->endpoints[i];
                if (e->status != ENDPOINT_OK || e->n_chain == 0)
                        continue;
                const struct cert_obs *leaf = &e->chain[0];
                bool covered = false;
                for (size_t j = 0; leaf->san && leaf->san[j] && !covered; j++)
                        covered = san_pattern_matches(leaf->san[j], e->name);
                if (covered)
                        continue;

                _cleanup_free_ char *sans = strv_join(leaf->san, ", ", 8);
                finding_emit(out, SAN_MISMATCH, e->name, e->address,
                             "the certificate served by %s does not cover %s: its SAN dNSNames are [%s]; "
                             "the platform needs %s",
                             e->address, e->name, sans ? sans : "none", ctx->plan->wildcard);
        }
        return 0;
}

const struct check check_tls_san = {
        .name = "tls.san",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
};
