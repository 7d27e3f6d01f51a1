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
        size_t groups = 0;

        for (size_t i = 0; i < o->n_endpoints; i++)
                if (endpoint_is_first_with_leaf(o, i))
                        groups++;
        if (groups < 2)
                return 0;

        /* In the plan's order, so the message reads the same every run. */
        _cleanup_free_ size_t *order = xcalloc(o->n_endpoints, sizeof(size_t));
        for (size_t i = 0; i < o->n_endpoints; i++) {
                size_t k = i;
                for (; k > 0 && endpoint_before(o, i, order[k - 1]); k--)
                        order[k] = order[k - 1];
                order[k] = i;
        }

        size_t shown = 0;
        for (size_t oi = 0; oi < o->n_endpoints && shown < GROUPS_SHOWN; oi++) {
                size_t i = order[oi];
                const char *sha;
                char when[RFC3339_MAX];
                _cleanup_strv_free_ char **addresses = NULL, **names = NULL;

                if (!endpoint_is_first_with_leaf(o, i))
                        continue;
                sha = o->endpoints[i].chain[0].sha256;
                for (size_t oj = 0; oj < o->n_endpoints; oj++) {
                        const struct endpoint_obs *e = &o->endpoints[order[oj]];
                        if (e->status != ENDPOINT_OK || e->n_chain == 0 || strcmp(e->chain[0].sha256, sha) != 0)
                                continue;
                        if (!strv_contains(addresses, e->address))
                                strv_push(&addresses, xstrdup(e->address));
                        if (!strv_contains(names, e->name))
                                strv_push(&names, xstrdup(e->name));
                }
                _cleanup_free_ char *al = group_list_text(addresses, strv_length(addresses));
                _cleanup_free_ char *nl = group_list_text(names, strv_length(names));
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
