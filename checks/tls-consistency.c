/* tls.cert.inconsistent: every name and address of one platform must serve
 * the same certificate. One load-balancer address or pod still serving the
 * old certificate shows up here long before it expires. */
#include <stdarg.h>
#include <string.h>

#include "checks.h"
#include "group.h"
#include "util.h"

#define GROUPS_SHOWN 8

static const struct finding_def findings[] = {
#define CERT_INCONSISTENT (&findings[0])
        { "tls.cert.inconsistent", SEVERITY_WARNING, "7766e0dce750451bb4a4afe8fbf3f975",
          "the names and addresses of one platform do not all serve the same certificate" },
};

static void append(char **s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void append(char **s, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *add = xvasprintf(fmt, ap);
        va_end(ap);
        char *n = xasprintf("%s%s", *s ? *s : "", add);
        free(*s);
        *s = n;
}

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        const struct platform_obs *o = ctx->obs;
        _cleanup_free_ char *list = NULL;
        _cleanup_free_ bool *first = endpoints_first_with_leaf(o);
        size_t groups = 0;

        for (size_t i = 0; i < o->n_endpoints; i++)
                if (first[i])
                        groups++;
        if (groups < 2)
                return 0;

        /* In the plan's order, so the message reads the same every run. */
        _cleanup_free_ size_t *order = endpoints_plan_order(o);
        _cleanup_free_ const char **addresses = xcalloc(o->n_endpoints + 1, sizeof(*addresses));
        _cleanup_free_ const char **names = xcalloc(o->n_endpoints + 1, sizeof(*names));

        size_t shown = 0;
        for (size_t oi = 0; oi < o->n_endpoints && shown < GROUPS_SHOWN; oi++) {
                size_t i = order[oi], n_addresses = 0, n_names = 0;
                const char *sha;
                char when[RFC3339_MAX];

                if (!first[i])
                        continue;
                sha = o->endpoints[i].chain[0].sha256;
                for (size_t oj = 0; oj < o->n_endpoints; oj++) {
                        const struct endpoint_obs *e = &o->endpoints[order[oj]];
                        if (e->status != ENDPOINT_OK || e->n_chain == 0 || strcmp(e->chain[0].sha256, sha) != 0)
                                continue;
                        addresses[n_addresses++] = e->address;
                        names[n_names++] = e->name;
                }
                n_addresses = strs_unique(addresses, n_addresses);
                n_names = strs_unique(names, n_names);
                _cleanup_free_ char *al = group_list_text((char *const *)addresses, n_addresses);
                _cleanup_free_ char *nl = group_list_text((char *const *)names, n_names);
                append(&list, "%s%s (notAfter %s) served by %s for %s", shown ? "; " : "", sha,
                       format_rfc3339(o->endpoints[i].chain[0].not_after, when), al, nl);
                shown++;
        }
        finding_emit(out, CERT_INCONSISTENT, NULL, NULL,
                     "%s %s serves %zu different certificates: %s%s; one address or pod still serves an old "
                     "certificate: reload or replace it",
                     ctx->platform->kind == PLATFORM_HOST ? "host" : "platform", ctx->platform->name, groups, list,
                     groups > shown ? "; ..." : "");
        return 0;
}

const struct check check_tls_consistency = {
        .name = "tls.cert.inconsistent",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
        .single_name = true,
};
