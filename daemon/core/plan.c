/* Derives the plan from a platform: the host names the chart creates, the
 * wildcard its certificate must carry and where the DNS-01 challenge record
 * lives. Pure string work, so every rule here is unit-testable. */
#include "plan.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

/* RFC 1035 2.3.4: 63 octets per label, and 253 characters for a name written
 * without its trailing dot (255 octets on the wire). */
#define LABEL_MAX 63
#define NAME_MAX_LEN 253

static void plan_freep(struct plan **p) {
        plan_free(*p);
}

static int plan_fail(char **ret_error, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int plan_fail(char **ret_error, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        if (ret_error)
                *ret_error = xvasprintf(fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static size_t count_labels(const char *name) {
        size_t n = 1;

        for (const char *c = name; *c; c++)
                if (*c == '.')
                        n++;
        return n;
}

/* One host: its name alone, and the wildcard only when one was asked for.
 * No DNS-01 challenge: nothing here is issued by the platform's chart. */
static int plan_derive_host(const struct platform *p, struct plan **ret, char **ret_error) {
        _cleanup_(plan_freep) struct plan *plan = xcalloc(1, sizeof(*plan));

        if (strlen(p->base_domain) > NAME_MAX_LEN)
                return plan_fail(ret_error, "name '%s' is longer than %d characters", p->base_domain, NAME_MAX_LEN);
        plan->names = xcalloc(1, sizeof(struct plan_name));
        plan->names[0] = (struct plan_name){ .service = SERVICE_HOST, .name = xstrdup(p->base_domain) };
        plan->n_names = 1;
        if (p->host_wildcard) {
                if (strncmp(p->host_wildcard, "*.", 2) != 0 || strlen(p->host_wildcard) > NAME_MAX_LEN)
                        return plan_fail(ret_error, "wildcard '%s' is not *.NAME within %d characters",
                                         p->host_wildcard, NAME_MAX_LEN);
                plan->wildcard = xstrdup(p->host_wildcard);
                plan->wildcard_base = xstrdup(p->host_wildcard + 2);
        }
        *ret = TAKE_PTR(plan);
        return 0;
}

int plan_derive(const struct platform *p, struct plan **ret, char **ret_error) {
        _cleanup_(plan_freep) struct plan *plan = NULL;
        size_t first_label;
        const char *base;

        if (!p || !p->base_domain || !*p->base_domain)
                return plan_fail(ret_error, "platform has no base domain");
        if (p->kind == PLATFORM_HOST)
                return plan_derive_host(p, ret, ret_error);
        if (p->separator != '.' && p->separator != '-')
                return plan_fail(ret_error, "global.subdomainSeparator must be \".\" or \"-\"");
        base = p->base_domain;
        first_label = strcspn(base, ".");

        plan = xcalloc(1, sizeof(*plan));
        plan->names = xcalloc(_SERVICE_MAX, sizeof(struct plan_name));
        for (enum service s = 0; s < _SERVICE_MAX; s++) {
                const char *label = p->labels[s] ? p->labels[s] : service_to_string(s);
                size_t label_len = strlen(label);
                char *name;

                if (s == SERVICE_MCP && !p->mcp_enabled)
                        continue;
                /* With '-' the label is glued onto the base domain's first
                 * label, and the two together must still be one DNS label. */
                if (p->separator == '-' && label_len + 1 + first_label > LABEL_MAX)
                        return plan_fail(ret_error, "label '%s-%.*s' is longer than %d characters",
                                         label, (int)first_label, base, LABEL_MAX);
                if (label_len > LABEL_MAX)
                        return plan_fail(ret_error, "label '%s' is longer than %d characters", label, LABEL_MAX);
                name = xasprintf("%s%c%s", label, p->separator, base);
                plan->names[plan->n_names++] = (struct plan_name){ .service = s, .name = name };
                if (strlen(name) > NAME_MAX_LEN)
                        return plan_fail(ret_error, "name '%s' is longer than %d characters", name, NAME_MAX_LEN);
        }

        if (p->separator == '.')
                plan->wildcard_base = xstrdup(base);
        else {
                /* RFC 6125 6.4.3: a wildcard covers exactly one label, so
                 * api-ai-gateway.example.com needs *.example.com. A base of
                 * two labels would need *.com, which no CA will issue. */
                if (count_labels(base) < 3)
                        return plan_fail(ret_error,
                                         "separator '-' needs a baseDomain with a parent domain to hold "
                                         "the wildcard (got '%s')", base);
                plan->wildcard_base = xstrdup(base + first_label + 1);
        }
        plan->wildcard = xasprintf("*.%s", plan->wildcard_base);
        if (strlen(plan->wildcard) > NAME_MAX_LEN)
                return plan_fail(ret_error, "wildcard '%s' is longer than %d characters", plan->wildcard,
                                 NAME_MAX_LEN);
        plan->challenge_name = xasprintf("_acme-challenge.%s", plan->wildcard_base);
        /* Only Let's Encrypt ever looks the challenge name up; in the other
         * modes an overlong one is harmless. */
        if (p->tls_mode == TLS_MODE_LETSENCRYPT && strlen(plan->challenge_name) > NAME_MAX_LEN)
                return plan_fail(ret_error, "DNS-01 challenge name '%s' is longer than %d characters",
                                 plan->challenge_name, NAME_MAX_LEN);
        plan->dns01_zone = xstrdup(p->dns01_zone);

        *ret = TAKE_PTR(plan);
        return 0;
}

struct plan *plan_free(struct plan *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_names; i++)
                free(p->names[i].name);
        free(p->names);
        free(p->wildcard);
        free(p->wildcard_base);
        free(p->challenge_name);
        free(p->dns01_zone);
        free(p);
        return NULL;
}
