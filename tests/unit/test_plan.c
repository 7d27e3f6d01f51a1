/* Unit tests for plan_derive(): the names, wildcard and challenge name a
 * platform's settings imply, one table row per case. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "checks.h"
#include "config.h"
#include "plan.h"
#include "util.h"

struct plan_case {
        const char *base;
        char sep;
        const char *labels[_SERVICE_MAX];   /* NULL = the service's name */
        bool mcp;
        enum tls_mode mode;
        const char *zone;
        /* Expected: the names in order, space separated, or the error. */
        const char *names;
        const char *wildcard, *wildcard_base, *challenge;
        const char *error;
};

static const struct plan_case cases[] = {
        { .base = "ai-gateway.example.com", .sep = '.', .zone = "example.com",
          .names = "api.ai-gateway.example.com console.ai-gateway.example.com grafana.ai-gateway.example.com "
                   "auth.ai-gateway.example.com",
          .wildcard = "*.ai-gateway.example.com", .wildcard_base = "ai-gateway.example.com",
          .challenge = "_acme-challenge.ai-gateway.example.com" },
        { .base = "ai-gateway.example.com", .sep = '-', .zone = "example.com",
          .names = "api-ai-gateway.example.com console-ai-gateway.example.com grafana-ai-gateway.example.com "
                   "auth-ai-gateway.example.com",
          .wildcard = "*.example.com", .wildcard_base = "example.com", .challenge = "_acme-challenge.example.com" },
        { .base = "ai-gateway.example.com", .sep = '.', .mcp = true,
          .names = "api.ai-gateway.example.com console.ai-gateway.example.com grafana.ai-gateway.example.com "
                   "auth.ai-gateway.example.com mcp.ai-gateway.example.com",
          .wildcard = "*.ai-gateway.example.com", .wildcard_base = "ai-gateway.example.com",
          .challenge = "_acme-challenge.ai-gateway.example.com" },
        { .base = "ai-gateway.example.com", .sep = '-', .mcp = true,
          .labels = { "llm", "ui", "metrics", "sso", "tools" },
          .names = "llm-ai-gateway.example.com ui-ai-gateway.example.com metrics-ai-gateway.example.com "
                   "sso-ai-gateway.example.com tools-ai-gateway.example.com",
          .wildcard = "*.example.com", .wildcard_base = "example.com", .challenge = "_acme-challenge.example.com" },
        /* A custom mcp label is unused while mcp is off. */
        { .base = "gw.lab.test", .sep = '.', .labels = { [SERVICE_MCP] = "tools" }, .mode = TLS_MODE_SELFSIGNED,
          .names = "api.gw.lab.test console.gw.lab.test grafana.gw.lab.test auth.gw.lab.test",
          .wildcard = "*.gw.lab.test", .wildcard_base = "gw.lab.test", .challenge = "_acme-challenge.gw.lab.test" },
        /* Two labels are fine with '.', since *.example.com is a normal wildcard. */
        { .base = "example.com", .sep = '.',
          .names = "api.example.com console.example.com grafana.example.com auth.example.com",
          .wildcard = "*.example.com", .wildcard_base = "example.com", .challenge = "_acme-challenge.example.com" },
        /* With '-' only the first label is folded into the names. */
        { .base = "gw.team.corp.example", .sep = '-', .mode = TLS_MODE_PROVIDED,
          .names = "api-gw.team.corp.example console-gw.team.corp.example grafana-gw.team.corp.example "
                   "auth-gw.team.corp.example",
          .wildcard = "*.team.corp.example", .wildcard_base = "team.corp.example",
          .challenge = "_acme-challenge.team.corp.example" },
        /* ... and needs a parent that can hold a wildcard. */
        { .base = "example.com", .sep = '-',
          .error = "separator '-' needs a baseDomain with a parent domain to hold the wildcard (got 'example.com')" },
        { .base = "localhost", .sep = '-',
          .error = "separator '-' needs a baseDomain with a parent domain to hold the wildcard (got 'localhost')" },
        /* Settings no loaded config can have, but a hand-built platform might. */
        { .base = NULL, .sep = '.', .error = "platform has no base domain" },
        { .base = "", .sep = '.', .error = "platform has no base domain" },
        { .base = "example.com", .sep = '_', .error = "global.subdomainSeparator must be \".\" or \"-\"" },
        { .base = "example.com", .sep = '.',
          .labels = { [SERVICE_AUTH] = "a123456789012345678901234567890123456789012345678901234567890123" },
          .error = "label 'a123456789012345678901234567890123456789012345678901234567890123' is longer than 63 "
                   "characters" },
};

static char *join_names(const struct plan *p) {
        char *r = xstrdup("");

        for (size_t i = 0; i < p->n_names; i++) {
                char *n = xasprintf("%s%s%s", r, i ? " " : "", p->names[i].name);
                free(r);
                r = n;
        }
        return r;
}

static void platform_init(struct platform *p, const char *base, char sep, const char *const labels[_SERVICE_MAX],
                          bool mcp, enum tls_mode mode, const char *zone) {
        *p = (struct platform){
                .name = (char *)"t", .base_domain = (char *)base, .separator = sep, .mcp_enabled = mcp,
                .tls_mode = mode, .dns01_zone = (char *)zone,
        };
        for (enum service s = 0; s < _SERVICE_MAX; s++)
                p->labels[s] = (char *)(labels && labels[s] ? labels[s] : service_to_string(s));
}

static void test_cases(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const struct plan_case *t = &cases[i];
                _cleanup_free_ char *error = NULL, *names = NULL;
                struct platform p;
                struct plan *plan = NULL;
                int r;

                platform_init(&p, t->base, t->sep, t->labels, t->mcp, t->mode, t->zone);
                r = plan_derive(&p, &plan, &error);
                if (t->error) {
                        if (r != -EINVAL || !error || strcmp(error, t->error) != 0)
                                fail_msg("case %zu: expected error '%s', got %d '%s'", i, t->error, r,
                                         error ? error : "(null)");
                        assert_null(plan);
                        continue;
                }
                if (r < 0)
                        fail_msg("case %zu: %s", i, error);
                names = join_names(plan);
                assert_string_equal(names, t->names);
                for (size_t j = 0; j < plan->n_names; j++)
                        assert_int_equal(plan->names[j].service, j);
                assert_string_equal(plan->wildcard, t->wildcard);
                assert_string_equal(plan->wildcard_base, t->wildcard_base);
                assert_string_equal(plan->challenge_name, t->challenge);
                if (t->zone)
                        assert_string_equal(plan->dns01_zone, t->zone);
                else
                        assert_null(plan->dns01_zone);
                assert_null(plan_free(plan));
        }
        assert_null(plan_free(NULL));
}

/* A base domain of exactly `total` characters whose first label has `first`. */
static char *make_base(size_t first, size_t total) {
        char *s = xmalloc(total + 1);
        size_t len = first;

        memset(s, 'a', first);
        while (len < total) {
                size_t chunk = total - len < 64 ? total - len : 64;   /* dot + up to 63 */
                if (total - len - chunk == 1)
                        chunk--;
                s[len] = '.';
                memset(s + len + 1, 'b', chunk - 1);
                len += chunk;
        }
        s[total] = 0;
        return s;
}

/* The RFC 1035 limits, at the boundary and one past it. */
static void test_lengths(void **state) {
        static const struct {
                char sep;
                size_t first, total;
                enum tls_mode mode;
                const char *error;        /* start of the message, or NULL for success */
        } rows[] = {
                /* '-': "console-" + first label must fit in 63. */
                { '-', 55, 120, TLS_MODE_PROVIDED, NULL },
                { '-', 56, 120, TLS_MODE_PROVIDED, "label 'console-aaaa" },
                /* '.': "console." + base must fit in 253. */
                { '.', 20, 245, TLS_MODE_SELFSIGNED, NULL },
                { '.', 20, 246, TLS_MODE_SELFSIGNED, "name 'console.aaaa" },
                /* "_acme-challenge." + base, only where Let's Encrypt looks. */
                { '.', 20, 237, TLS_MODE_LETSENCRYPT, NULL },
                { '.', 20, 238, TLS_MODE_LETSENCRYPT, "DNS-01 challenge name '_acme-challenge.aaaa" },
                { '.', 20, 238, TLS_MODE_PROVIDED, NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_free_ char *base = make_base(rows[i].first, rows[i].total), *error = NULL;
                struct platform p;
                struct plan *plan = NULL;
                int r;

                assert_int_equal(strlen(base), rows[i].total);
                assert_int_equal(strcspn(base, "."), rows[i].first);
                assert_true(dns_name_is_valid(base));
                platform_init(&p, base, rows[i].sep, NULL, false, rows[i].mode, NULL);
                r = plan_derive(&p, &plan, &error);
                if (!rows[i].error) {
                        if (r < 0)
                                fail_msg("row %zu: %s", i, error);
                        plan_free(plan);
                        continue;
                }
                assert_int_equal(r, -EINVAL);
                assert_null(plan);
                if (!error || strncmp(error, rows[i].error, strlen(rows[i].error)) != 0)
                        fail_msg("row %zu: expected '%s...', got '%s'", i, rows[i].error, error ? error : "(null)");
        }
}

/* The plan is derived from a loaded config the way the audit does it. */
static void test_from_config(void **state) {
        _cleanup_free_ char *error = NULL, *names = NULL;
        struct config *c = NULL;
        struct plan *plan = NULL;

        assert_int_equal(config_load_string("platforms:\n"
                                            "  - name: lab\n"
                                            "    global:\n"
                                            "      baseDomain: AI-Gateway.Lab.Test.\n"
                                            "      subdomainSeparator: \"-\"\n"
                                            "      subdomains: { api: llm }\n"
                                            "    mcp: { enabled: true }\n"
                                            "    tls: { letsencrypt: { dns01: { dnsZone: lab.test } } }\n",
                                            "t.yaml", checks_find_def, &c, &error), 0);
        assert_int_equal(plan_derive(c->platforms[0], &plan, &error), 0);
        names = join_names(plan);
        assert_string_equal(names, "llm-ai-gateway.lab.test console-ai-gateway.lab.test grafana-ai-gateway.lab.test "
                                   "auth-ai-gateway.lab.test mcp-ai-gateway.lab.test");
        assert_int_equal(plan->names[4].service, SERVICE_MCP);
        assert_string_equal(plan->wildcard, "*.lab.test");
        assert_string_equal(plan->challenge_name, "_acme-challenge.lab.test");
        assert_string_equal(plan->dns01_zone, "lab.test");
        plan_free(plan);
        config_free(c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cases),
                cmocka_unit_test(test_lengths),
                cmocka_unit_test(test_from_config),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
