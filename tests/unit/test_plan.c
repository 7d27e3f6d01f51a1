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


/* certvigil check HOST[:PORT] [--wildcard *.NAME]: the one-host platform
 * config_for_host() builds, and its plan of exactly one name. */
struct host_case {
        const char *target, *wildcard;
        /* Expected: the name and port, the plan's wildcard, or the error. */
        const char *name;
        unsigned port;
        const char *plan_wildcard, *plan_wildcard_base;
        const char *error;
};

#define NOT_A_NAME "not a DNS name (labels of a-z, 0-9 and '-', at least two) nor an IP address"
#define BAD_PORT "the port is not a number from 1 to 65535"
#define NOT_COVERED "(a wildcard stands for exactly one label)"
#define BAD_WILDCARD "expected *.NAME with NAME a DNS name of at least two labels"

static const struct host_case host_cases[] = {
        { "api.example.com", NULL, .name = "api.example.com", .port = 443 },
        { "API.Example.COM.:8443", NULL, .name = "api.example.com", .port = 8443 },
        { "api.example.com:443", "*.example.com", .name = "api.example.com", .port = 443,
          .plan_wildcard = "*.example.com", .plan_wildcard_base = "example.com" },
        { "API.example.com", "*.Example.COM", .name = "api.example.com", .port = 443,
          .plan_wildcard = "*.example.com", .plan_wildcard_base = "example.com" },
        { "127.0.0.1:8443", NULL, .name = "127.0.0.1", .port = 8443 },
        { "[::1]:8443", NULL, .name = "::1", .port = 8443 },
        { "[0:0::0001]", NULL, .name = "::1", .port = 443 },
        { "::1", NULL, .name = "::1", .port = 443 },
        { "", NULL, .error = "HOST is empty (expected NAME[:PORT] or an address)" },
        { "api.example.com:", NULL, .error = "HOST 'api.example.com:': " BAD_PORT },
        { "api.example.com:0", NULL, .error = "HOST 'api.example.com:0': " BAD_PORT },
        { "api.example.com:65536", NULL, .error = "HOST 'api.example.com:65536': " BAD_PORT },
        { "api.example.com:+443", NULL, .error = "HOST 'api.example.com:+443': " BAD_PORT },
        { "api example.com", NULL, .error = "HOST 'api example.com': " NOT_A_NAME },
        { "localhost", NULL, .error = "HOST 'localhost': " NOT_A_NAME },
        { "-api.example.com", NULL, .error = "HOST '-api.example.com': " NOT_A_NAME },
        { "api.example.com\n", NULL, .error = "HOST 'api.example.com\\x0a': " NOT_A_NAME },
        { "[::1", NULL, .error = "HOST '[::1': expected [IPv6] or [IPv6]:PORT" },
        { "[127.0.0.1]:443", NULL, .error = "HOST '[127.0.0.1]:443': not an IPv6 address in brackets" },
        { "127.0.0.1", "*.example.com", .error = "--wildcard needs a host name; '127.0.0.1' is an address" },
        { "api.example.com", "example.com", .error = "--wildcard 'example.com': " BAD_WILDCARD },
        { "api.example.com", "*.com", .error = "--wildcard '*.com': " BAD_WILDCARD },
        /* A wildcard covers exactly one label: never another domain, a
         * deeper name or the apex. */
        { "api.example.com", "*.other.org", .error = "--wildcard '*.other.org' does not cover 'api.example.com' " NOT_COVERED },
        { "api.ok.example.com", "*.example.com",
          .error = "--wildcard '*.example.com' does not cover 'api.ok.example.com' " NOT_COVERED },
        { "example.com", "*.example.com", .error = "--wildcard '*.example.com' does not cover 'example.com' " NOT_COVERED },
        { "api.example.com", "*.api.example.com",
          .error = "--wildcard '*.api.example.com' does not cover 'api.example.com' " NOT_COVERED },
};

static void test_host(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(host_cases); i++) {
                const struct host_case *t = &host_cases[i];
                _cleanup_free_ char *error = NULL;
                struct config *c = NULL;
                struct plan *plan = NULL;
                int r = config_for_host(t->target, t->wildcard, &c, &error);

                if (t->error) {
                        if (r != -EINVAL || !error || strcmp(error, t->error) != 0)
                                fail_msg("case %zu: expected error '%s', got %d '%s'", i, t->error, r,
                                         error ? error : "(null)");
                        continue;
                }
                if (r < 0)
                        fail_msg("case %zu: %s", i, error);
                assert_int_equal(c->n_platforms, 1);
                const struct platform *p = c->platforms[0];
                assert_int_equal(p->kind, PLATFORM_HOST);
                assert_string_equal(p->name, t->name);
                assert_int_equal(p->port, t->port);
                /* Nothing after the audit may act: no renewal, ARI (not
                 * letsencrypt), Secret, RDAP or CT watch. */
                assert_int_equal(p->tls_mode, TLS_MODE_PROVIDED);
                assert_false(p->renew.enabled);
                assert_false(p->rdap_enabled);
                assert_null(p->ct_url);
                assert_null(p->acme_directory);
                assert_null(p->kube_namespace);
                /* Public addresses only, whatever --trust says. */
                assert_false(platform_fetch_private(p));
                free(c->platforms[0]->trust);
                c->platforms[0]->trust = xstrdup("/etc/private-ca.pem");
                assert_false(platform_fetch_private(p));
                assert_int_equal(plan_derive(p, &plan, &error), 0);
                assert_int_equal(plan->n_names, 1);
                assert_string_equal(plan->names[0].name, t->name);
                assert_int_equal(plan->names[0].service, SERVICE_HOST);
                assert_string_equal(service_to_string(SERVICE_HOST), "host");
                if (t->plan_wildcard) {
                        assert_string_equal(plan->wildcard, t->plan_wildcard);
                        assert_string_equal(plan->wildcard_base, t->plan_wildcard_base);
                } else {
                        assert_null(plan->wildcard);
                        assert_null(plan->wildcard_base);
                }
                assert_null(plan->challenge_name);
                assert_null(plan->dns01_zone);
                plan_free(plan);
                config_free(c);
        }
}

/* 253 characters is a name; 254 is not, and says so. */
static void test_host_length(void **state) {
        _cleanup_free_ char *ok = make_base(20, 253), *bad = make_base(20, 254), *error = NULL;
        struct config *c = NULL;

        assert_int_equal(config_for_host(ok, NULL, &c, &error), 0);
        config_free(c);
        assert_int_equal(config_for_host(bad, NULL, &c, &error), -EINVAL);
        assert_non_null(strstr(error, "longer than 253 characters"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cases),
                cmocka_unit_test(test_lengths),
                cmocka_unit_test(test_from_config),
                cmocka_unit_test(test_host),
                cmocka_unit_test(test_host_length),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
