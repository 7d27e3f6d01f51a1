/* The text report over fixture observations: the verdict first, findings
 * worst first, lines within 100 columns, the RESULT word per endpoint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checks.h"
#include "config.h"
#include "report.h"
#include "util.h"

static const struct finding_def warn_def = { "tls.expiry.warning", SEVERITY_WARNING,
                                             "00000000000000000000000000000001", "test" };
static const struct finding_def crit_def = { "tls.san.mismatch", SEVERITY_CRITICAL,
                                             "00000000000000000000000000000002", "test" };

static void test_text_verdict_order_width(void **state) {
        struct platform p = { .name = (char *)"lab", .base_domain = (char *)"ai.example.test", .separator = '.' };
        struct plan plan = { .wildcard = (char *)"*.ai.example.test", .challenge_name = (char *)"_acme-challenge.ai.example.test" };
        struct name_obs names[2] = {
                { .name = (char *)"api.ai.example.test", .status = DNS_STATUS_OK },
                { .name = (char *)"console.ai.example.test", .status = DNS_STATUS_OK },
        };
        struct cert_obs leaf = { .not_after = 1000000 + 10 * 86400 };
        struct endpoint_obs eps[2] = {
                { .name = (char *)"api.ai.example.test", .address = (char *)"192.0.2.1", .status = ENDPOINT_OK,
                  .verified = true, .chain = &leaf, .n_chain = 1 },
                { .name = (char *)"console.ai.example.test", .address = (char *)"192.0.2.1", .status = ENDPOINT_OK,
                  .verified = true, .chain = &leaf, .n_chain = 1 },
        };
        struct platform_obs obs = { .names = names, .n_names = 2, .endpoints = eps, .n_endpoints = 2 };
        struct finding_list fl = { 0 };
        char *text = NULL, *line, *next;
        size_t len;
        int n = 0, first_crit = 0, first_warn = 0;

        /* Emitted warning first: the report must still lead with the critical. */
        finding_emit(&fl, &warn_def, "api.ai.example.test", "192.0.2.1",
                     "a long message that goes on and on to make sure that the report wraps it within one "
                     "hundred columns, as people read it in a terminal of ordinary width, word after word");
        finding_emit(&fl, &crit_def, "console.ai.example.test", "192.0.2.1", "the certificate does not cover it");
        struct report_platform rp = { .platform = &p, .plan = &plan, .obs = &obs, .findings = &fl };
        struct report r = { .started = 1000000, .now = 1000000, .platforms = &rp, .n_platforms = 1 };

        assert_int_equal(report_render(&r, REPORT_TEXT, false, &text, &len), 0);
        for (line = text; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                n++;
                assert_true(strlen(line) <= 100);
                if (n == 2)
                        assert_true(strncmp(line, "Status: critical (1 critical, 1 warning, 0 info)", 48) == 0);
                if (strncmp(line, "  CRITICAL", 10) == 0 && !first_crit)
                        first_crit = n;
                if (strncmp(line, "  WARNING", 9) == 0 && !first_warn)
                        first_warn = n;
                if (strstr(line, "api.ai.example.test ") == line + 2)
                        assert_non_null(strstr(line, "EXPIRES 10d"));
                if (strstr(line, "console.ai.example.test ") == line + 2)
                        assert_non_null(strstr(line, "SAN MISMATCH"));
        }
        assert_true(first_crit > 0 && first_warn > first_crit);
        free(text);
        finding_list_clear(&fl);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_text_verdict_order_width),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
