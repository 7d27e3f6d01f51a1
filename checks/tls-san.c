/* tls.san.*: the certificate must cover the name it is served for, judged
 * on the SAN dNSName entries alone (iPAddress entries for an address
 * literal). The Common Name is never consulted: RFC 6125 deprecates it and
 * Let's Encrypt certificates may omit it. */
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

/* An address literal (certvigil check 127.0.0.1) is covered by an iPAddress
 * entry, never by a dNSName (RFC 6125 1.7.2); both sides are canonical text. */
static bool leaf_covers(const struct cert_obs *leaf, const char *name) {
        if (address_is_literal(name))
                return strv_contains(leaf->ip_san, name);
        for (size_t j = 0; leaf->san && leaf->san[j]; j++)
                if (san_pattern_matches(leaf->san[j], name))
                        return true;
        return false;
}

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        for (size_t i = 0; i < ctx->obs->n_endpoints; i++) {
                const struct endpoint_obs *e = &ctx->obs->endpoints[i];
                if (e->status != ENDPOINT_OK || e->n_chain == 0)
                        continue;
                const struct cert_obs *leaf = &e->chain[0];
                if (leaf_covers(leaf, e->name))
                        continue;

                _cleanup_free_ char *sans = strv_join(leaf->san, ", ", 8);
                if (address_is_literal(e->name)) {
                        _cleanup_free_ char *ips = strv_join(leaf->ip_san, ", ", 8);
                        finding_emit(out, SAN_MISMATCH, e->name, e->address,
                                     "the certificate served by %s does not cover the address %s: its SAN "
                                     "iPAddresses are [%s] (dNSNames [%s])",
                                     e->address, e->name, ips ? ips : "none", sans ? sans : "none");
                } else if (!ctx->plan->wildcard)
                        finding_emit(out, SAN_MISMATCH, e->name, e->address,
                                     "the certificate served by %s does not cover %s: its SAN dNSNames are [%s]",
                                     e->address, e->name, sans ? sans : "none");
                else
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
        .single_name = true,
};
