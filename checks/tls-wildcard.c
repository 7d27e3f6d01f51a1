/* tls.wildcard.shape: the certificate must be the wildcard the platform's
 * separator calls for (*.BASE for ".", *.PARENT for "-"), not merely cover
 * today's names: a certificate listing api., console. ... breaks the day mcp
 * is enabled or a label is renamed. */
#include <string.h>
#include <strings.h>

#include "checks.h"
#include "util.h"

static const struct finding_def findings[] = {
#define WILDCARD_SHAPE (&findings[0])
        { "tls.wildcard.shape", SEVERITY_WARNING, "73ff4e9d1e0d4617b2fdf00e2a5dfd8b",
          "the certificate is not the wildcard the platform's subdomain separator needs" },
};

static bool name_equal(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        if (la > 0 && a[la - 1] == '.')
                la--;
        if (lb > 0 && b[lb - 1] == '.')
                lb--;
        return la == lb && strncasecmp(a, b, la) == 0;
}

static bool sans_contain(char *const *san, const char *name) {
        for (size_t i = 0; name && san && san[i]; i++)
                if (name_equal(san[i], name))
                        return true;
        return false;
}

/* The wildcard the other separator would need: "*.BASE" when the platform
 * uses "-", "*.PARENT" when it uses "."; NULL when BASE has no parent that
 * could hold a wildcard. */
static char *other_wildcard(const struct platform *p) {
        const char *dot;
        if (p->separator == '-')
                return xasprintf("*.%s", p->base_domain);
        dot = strchr(p->base_domain, '.');
        if (!dot || !strchr(dot + 1, '.'))
                return NULL;
        return xasprintf("*%s", dot);
}

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        bool host = ctx->platform->kind == PLATFORM_HOST;

        /* A host is held to a wildcard only when --wildcard names one, and
         * has no separator that another wildcard would suit. */
        if (!ctx->plan->wildcard)
                return 0;
        _cleanup_free_ char *other = host ? NULL : other_wildcard(ctx->platform);

        _cleanup_free_ bool *first = endpoints_first_with_leaf(ctx->obs);

        for (size_t i = 0; i < ctx->obs->n_endpoints; i++) {
                const struct endpoint_obs *e = &ctx->obs->endpoints[i];
                const struct cert_obs *leaf;
                bool covers_all = true;

                if (!first[i])
                        continue;
                leaf = &e->chain[0];
                if (sans_contain(leaf->san, ctx->plan->wildcard))
                        continue;
                for (size_t k = 0; k < ctx->plan->n_names && covers_all; k++) {
                        bool c = false;
                        for (size_t j = 0; leaf->san && leaf->san[j] && !c; j++)
                                c = dns_name_pattern_matches(leaf->san[j], ctx->plan->names[k].name);
                        covers_all = c;
                }
                if (host) {
                        if (covers_all)
                                finding_emit(out, WILDCARD_SHAPE, e->name, e->address,
                                             "the certificate served by %s for %s covers it but is not %s "
                                             "(--wildcard): reissue it for %s",
                                             e->address, e->name, ctx->plan->wildcard, ctx->plan->wildcard);
                        continue;
                }
                if (!covers_all && sans_contain(leaf->san, other))
                        finding_emit_severity(out, WILDCARD_SHAPE, SEVERITY_CRITICAL, e->name, e->address,
                                              "the certificate served by %s for %s is %s, the "
                                              "wildcard separator \"%c\" would need; with separator \"%c\" the "
                                              "names need %s: reissue the certificate for %s, or set "
                                              "subdomainSeparator if it was meant to be \"%c\"",
                                              e->address, e->name, other,
                                              ctx->platform->separator == '.' ? '-' : '.', ctx->platform->separator,
                                              ctx->plan->wildcard, ctx->plan->wildcard,
                                              ctx->platform->separator == '.' ? '-' : '.');
                else if (covers_all)
                        finding_emit(out, WILDCARD_SHAPE, e->name, e->address,
                                     "the certificate served by %s for %s covers today's names "
                                     "but is not %s, the wildcard separator \"%c\" needs: enabling mcp or renaming a "
                                     "label will break; reissue it for %s",
                                     e->address, e->name, ctx->plan->wildcard,
                                     ctx->platform->separator, ctx->plan->wildcard);
        }
        return 0;
}

const struct check check_tls_wildcard = {
        .name = "tls.wildcard",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
        .single_name = true,
};
