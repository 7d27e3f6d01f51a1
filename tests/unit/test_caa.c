/* RFC 8659 over one CAA RRset (checks/caa.c caa_permits), one row per
 * case: the records, wildcard or not, and the verdict for letsencrypt.org. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "checks.h"
#include "util.h"

#define MAX_RR 4

struct caa_case {
        const char *what;
        struct {
                uint8_t flags;
                const char *tag, *value;
        } rr[MAX_RR];
        bool wildcard;
        bool permitted;
};

static const struct caa_case cases[] = {
        { "no records at all", { { 0 } }, true, true },
        { "issue names LE, wildcard", { { 0, "issue", "letsencrypt.org" } }, true, true },
        { "issue names LE, single name", { { 0, "issue", "letsencrypt.org" } }, false, true },
        { "issue names another CA", { { 0, "issue", "digicert.com" } }, true, false },
        { "issue LE, issuewild another CA: wildcard forbidden",
          { { 0, "issue", "letsencrypt.org" }, { 0, "issuewild", "digicert.com" } }, true, false },
        { "issue LE, issuewild another CA: single name permitted",
          { { 0, "issue", "letsencrypt.org" }, { 0, "issuewild", "digicert.com" } }, false, true },
        { "issue another CA, issuewild LE: wildcard permitted",
          { { 0, "issue", "digicert.com" }, { 0, "issuewild", "letsencrypt.org" } }, true, true },
        { "issue another CA, issuewild LE: single name forbidden",
          { { 0, "issue", "digicert.com" }, { 0, "issuewild", "letsencrypt.org" } }, false, false },
        { "empty issuewild value forbids wildcards", { { 0, "issue", "letsencrypt.org" }, { 0, "issuewild", ";" } },
          true, false },
        { "empty issue value (;) forbids", { { 0, "issue", ";" } }, true, false },
        { "empty issue value (\"\") forbids", { { 0, "issue", "" } }, false, false },
        { "iodef alone restricts no one", { { 0, "iodef", "mailto:sec@example.com" } }, true, true },
        { "critical unknown tag forbids", { { 128, "tbs", "x" }, { 0, "issue", "letsencrypt.org" } }, true, false },
        { "non-critical unknown tag is ignored", { { 0, "tbs", "x" }, { 0, "issue", "letsencrypt.org" } }, true,
          true },
        { "critical known tag is fine", { { 128, "iodef", "mailto:a@b.c" }, { 0, "issue", "letsencrypt.org" } },
          true, true },
        { "issuer compared case-insensitively", { { 0, "ISSUE", "LetsEncrypt.ORG" } }, true, true },
        { "parameters after the issuer", { { 0, "issue", " letsencrypt.org ; accounturi=https://acme/acct/1" } },
          true, true },
        { "validationmethods without dns-01", { { 0, "issue", "letsencrypt.org; validationmethods=http-01" } }, true,
          false },
        { "validationmethods with dns-01", { { 0, "issue", "letsencrypt.org; validationmethods=http-01,dns-01" } },
          true, true },
        { "one of several issue records names LE", { { 0, "issue", "digicert.com" }, { 0, "issue", "letsencrypt.org" } },
          true, true },
        { "a longer name is not LE", { { 0, "issue", "letsencrypt.org.evil.example" } }, true, false },
        { "a suffix is not LE", { { 0, "issue", "notletsencrypt.org" } }, true, false },
};

static void test_caa_table(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct dns_caa_obs rr[MAX_RR];
                size_t n = 0;
                _cleanup_free_ char *reason = NULL;

                for (; n < MAX_RR && cases[i].rr[n].tag; n++)
                        rr[n] = (struct dns_caa_obs){ .flags = cases[i].rr[n].flags, .tag = (char *)cases[i].rr[n].tag,
                                                      .value = (char *)cases[i].rr[n].value };
                bool got = caa_permits(rr, n, "letsencrypt.org", cases[i].wildcard, &reason);
                if (got != cases[i].permitted)
                        fail_msg("%s: expected %s, got %s (%s)", cases[i].what,
                                 cases[i].permitted ? "permitted" : "forbidden", got ? "permitted" : "forbidden",
                                 reason);
                assert_non_null(reason);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_caa_table),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
