/* tls.expiry.* and tls.cert.not-yet-valid over fixture observations, with
 * the clock injected: one row per case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "checks.h"
#include "util.h"

#define DAY 86400
#define NOW ((time_t)1795702927) /* 2026-11-26T14:22:07Z */

static const struct {
        const char *what;
        time_t not_before;     /* relative to NOW */
        time_t not_after;
        int warn_days, critical_days;
        const char *expect;    /* finding id, or NULL */
        const char *severity;
} rows[] = {
        { "healthy 80 days", -10 * DAY, 80 * DAY, 21, 7, NULL, NULL },
        { "just above warn", -10 * DAY, 21 * DAY + 60, 21, 7, NULL, NULL },
        { "just below warn", -10 * DAY, 21 * DAY - 60, 21, 7, "tls.expiry.warning", "warning" },
        { "15 days", -10 * DAY, 15 * DAY, 21, 7, "tls.expiry.warning", "warning" },
        { "just above critical", -10 * DAY, 7 * DAY + 60, 21, 7, "tls.expiry.warning", "warning" },
        { "just below critical", -10 * DAY, 7 * DAY - 60, 21, 7, "tls.expiry.critical", "critical" },
        { "5 days", -10 * DAY, 5 * DAY, 21, 7, "tls.expiry.critical", "critical" },
        { "one second left", -10 * DAY, 1, 21, 7, "tls.expiry.critical", "critical" },
        { "expires exactly now", -10 * DAY, 0, 21, 7, "tls.expiry.expired", "critical" },
        { "expired 3 days ago", -90 * DAY, -3 * DAY, 21, 7, "tls.expiry.expired", "critical" },
        { "not yet valid", 10 * DAY, 100 * DAY, 21, 7, "tls.cert.not-yet-valid", "critical" },
        { "valid from now on", 0, 80 * DAY, 21, 7, NULL, NULL },
        { "custom thresholds, warn", -10 * DAY, 40 * DAY, 45, 10, "tls.expiry.warning", "warning" },
        { "custom thresholds, none", -10 * DAY, 40 * DAY, 30, 10, NULL, NULL },
        { "thresholds off", -10 * DAY, 2 * DAY, 0, 0, NULL, NULL },
};

static void run_row(size_t i) {
        struct cert_obs leaf = {
                .not_before = NOW + rows[i].not_before,
                .not_after = NOW + rows[i].not_after,
        };
        struct endpoint_obs ep = {
                .name = (char *)"api.ok.example.test",
                .address = (char *)"127.0.0.1",
                .port = 443,
                .status = ENDPOINT_OK,
                .chain = &leaf,
                .n_chain = 1,
                .verified = true,
        };
        struct platform_obs obs = { .endpoints = &ep, .n_endpoints = 1 };
        struct platform p = { .name = (char *)"t", .warn_days = rows[i].warn_days,
                              .critical_days = rows[i].critical_days };
        struct plan plan = { .wildcard = (char *)"*.ok.example.test" };
        struct check_ctx ctx = { .platform = &p, .plan = &plan, .obs = &obs, .now = NOW };
        struct finding_list out = { 0 };

        assert_int_equal(check_tls_expiry.run(&ctx, &out), 0);
        if (!rows[i].expect) {
                if (out.n != 0)
                        fail_msg("%s: expected no finding, got %s", rows[i].what, out.items[0].def->id);
        } else {
                if (out.n != 1)
                        fail_msg("%s: expected one %s, got %zu findings", rows[i].what, rows[i].expect, out.n);
                if (strcmp(out.items[0].def->id, rows[i].expect) != 0)
                        fail_msg("%s: expected %s, got %s", rows[i].what, rows[i].expect, out.items[0].def->id);
                assert_string_equal(severity_to_string(out.items[0].severity), rows[i].severity);
                assert_string_equal(out.items[0].name, "api.ok.example.test");
                assert_string_equal(out.items[0].address, "127.0.0.1");
        }
        finding_list_clear(&out);
}

static void test_table(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                run_row(i);
}

static void test_days_until(void **state) {
        assert_true(days_until(NOW + DAY / 2, NOW) == 0.5);
        assert_true(days_until(NOW - 3 * DAY, NOW) == -3.0);
        assert_true(days_until(NOW, NOW) == 0.0);
}

/* Endpoints that did not complete a handshake carry no certificate and are
 * left to tls.connect.*: the expiry check must skip them, not crash. */
static void test_skips_failed_endpoints(void **state) {
        struct endpoint_obs ep[] = {
                { .name = (char *)"a", .address = (char *)"127.0.0.1", .status = ENDPOINT_CONNECT_FAILED },
                { .name = (char *)"b", .address = (char *)"127.0.0.1", .status = ENDPOINT_OK, .n_chain = 0 },
                { .name = (char *)"c", .address = (char *)"127.0.0.1", .status = ENDPOINT_NOT_RUN },
        };
        struct platform_obs obs = { .endpoints = ep, .n_endpoints = ELEMENTSOF(ep) };
        struct platform p = { .warn_days = 21, .critical_days = 7 };
        struct check_ctx ctx = { .platform = &p, .obs = &obs, .now = NOW };
        struct finding_list out = { 0 };
        assert_int_equal(check_tls_expiry.run(&ctx, &out), 0);
        assert_int_equal(out.n, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table),
                cmocka_unit_test(test_days_until),
                cmocka_unit_test(test_skips_failed_endpoints),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
