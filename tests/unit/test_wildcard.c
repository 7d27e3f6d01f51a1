/* RFC 6125 name matching against SAN dNSName entries: one row per case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dnsname.h"
#include "util.h"

static const struct {
        const char *pattern;
        const char *host;
        bool match;
} cases[] = {
        { "*.ai-gateway.example.com", "api.ai-gateway.example.com", true },
        { "*.ai-gateway.example.com", "API.AI-Gateway.Example.COM", true },
        { "*.ai-gateway.example.com", "api.ai-gateway.example.com.", true },
        { "*.ai-gateway.example.com.", "api.ai-gateway.example.com", true },
        /* The wildcard never covers the apex. */
        { "*.ai-gateway.example.com", "ai-gateway.example.com", false },
        /* Exactly one label. */
        { "*.ai-gateway.example.com", "a.b.ai-gateway.example.com", false },
        /* '-' separator: the parent wildcard covers the dashed names ... */
        { "*.example.com", "api-ai-gateway.example.com", true },
        /* ... and the '.' names need the deeper wildcard. */
        { "*.example.com", "api.ai-gateway.example.com", false },
        { "*.ai-gateway.example.com", "api-ai-gateway.example.com", false },
        /* Partial-label wildcards are not honoured. */
        { "a*.example.com", "api.example.com", false },
        { "*pi.example.com", "api.example.com", false },
        { "api.*.example.com", "api.x.example.com", false },
        { "**.example.com", "api.example.com", false },
        /* Too broad: no wildcard directly under a TLD. */
        { "*.com", "example.com", false },
        { "*", "localhost", false },
        { "*.", "a.", false },
        /* Exact names. */
        { "api.example.com", "api.example.com", true },
        { "api.example.com", "API.EXAMPLE.COM", true },
        { "api.example.com", "www.example.com", false },
        { "api.example.com", "api.example.co", false },
        { "pi.example.com", "api.example.com", false },
        /* An escaped embedded NUL (how the X.509 helper reports it) never
         * matches the real name. */
        { "api.example.com\\x00.evil.test", "api.example.com", false },
        /* Empty and odd input. */
        { "", "api.example.com", false },
        { "*.example.com", "", false },
        { "*.example.com", ".example.com", false },
        { "*.example.com", "a..example.com", false },
        { "*..example.com", "a..example.com", false },
};

static void test_table(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                bool got = dns_name_pattern_matches(cases[i].pattern, cases[i].host);
                if (got != cases[i].match)
                        fail_msg("row %zu: '%s' vs '%s': expected %s, got %s", i, cases[i].pattern, cases[i].host,
                                 cases[i].match ? "match" : "no match", got ? "match" : "no match");
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
