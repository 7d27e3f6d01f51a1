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

/* The first rows have lifetimes of 80 days or more, where the default
 * lifetime shares (a third, a tenth) exceed 21 and 7 days: the day
 * thresholds alone decide, as before shares existed. */
static const struct {
        const char *what;
        time_t not_before;     /* relative to NOW */
        time_t not_after;
        int warn_days, critical_days;
        const char *expect;    /* finding id, or NULL */
        const char *severity;
        double warn_share, critical_share; /* 0: the defaults, a third and a tenth */
} rows[] = {
        { "healthy 80 days", -80 * DAY, 80 * DAY, 21, 7, NULL, NULL, 0, 0 },
        { "just above warn", -80 * DAY, 21 * DAY + 60, 21, 7, NULL, NULL, 0, 0 },
        { "just below warn", -80 * DAY, 21 * DAY - 60, 21, 7, "tls.expiry.warning", "warning", 0, 0 },
        { "15 days", -80 * DAY, 15 * DAY, 21, 7, "tls.expiry.warning", "warning", 0, 0 },
        { "just above critical", -80 * DAY, 7 * DAY + 60, 21, 7, "tls.expiry.warning", "warning", 0, 0 },
        { "just below critical", -80 * DAY, 7 * DAY - 60, 21, 7, "tls.expiry.critical", "critical", 0, 0 },
        { "5 days", -80 * DAY, 5 * DAY, 21, 7, "tls.expiry.critical", "critical", 0, 0 },
        { "one second left", -80 * DAY, 1, 21, 7, "tls.expiry.critical", "critical", 0, 0 },
        { "expires exactly now", -80 * DAY, 0, 21, 7, "tls.expiry.expired", "critical", 0, 0 },
        { "expired 3 days ago", -90 * DAY, -3 * DAY, 21, 7, "tls.expiry.expired", "critical", 0, 0 },
        { "not yet valid", 10 * DAY, 100 * DAY, 21, 7, "tls.cert.not-yet-valid", "critical", 0, 0 },
        { "valid from now on", 0, 80 * DAY, 21, 7, NULL, NULL, 0, 0 },
        /* 180-day lifetime: a third is 60 days, so the 45 configured win. */
        { "custom thresholds, warn", -140 * DAY, 40 * DAY, 45, 10, "tls.expiry.warning", "warning", 0, 0 },
        /* Short-lived certificates: the lifetime shares win over the days. */
        { "6-day cert, 5 days left", -1 * DAY, 5 * DAY, 21, 7, NULL, NULL, 0, 0 },
        { "6-day cert, 2.1 days left", -DAY * 39 / 10, DAY * 21 / 10, 21, 7, NULL, NULL, 0, 0 },
        { "6-day cert, 1.5 days left", -DAY * 45 / 10, DAY * 15 / 10, 21, 7, "tls.expiry.warning", "warning", 0, 0 },
        { "6-day cert, 0.5 days left", -DAY * 55 / 10, DAY / 2, 21, 7, "tls.expiry.critical", "critical", 0, 0 },
        { "45-day cert, 20 days left", -25 * DAY, 20 * DAY, 21, 7, NULL, NULL, 0, 0 },
        { "45-day cert, 14 days left", -31 * DAY, 14 * DAY, 21, 7, "tls.expiry.warning", "warning", 0, 0 },
        { "45-day cert, 4 days left", -41 * DAY, 4 * DAY, 21, 7, "tls.expiry.critical", "critical", 0, 0 },
        { "90-day cert, 20 days left", -70 * DAY, 20 * DAY, 21, 7, "tls.expiry.warning", "warning", 0, 0 },
        { "90-day cert, 8 days left", -82 * DAY, 8 * DAY, 21, 7, "tls.expiry.warning", "warning", 0, 0 },
        { "90-day cert, 6 days left", -84 * DAY, 6 * DAY, 21, 7, "tls.expiry.critical", "critical", 0, 0 },
        /* warn: 33% alone (days -1): 29.7 days of 90. */
        { "warn 33%, 29 days left", -61 * DAY, 29 * DAY, -1, 7, "tls.expiry.warning", "warning", 0.33, 0 },
        { "warn 33%, 31 days left", -59 * DAY, 31 * DAY, -1, 7, NULL, NULL, 0.33, 0 },
        { "critical 20%, 17 days left", -73 * DAY, 17 * DAY, 21, -1, "tls.expiry.critical", "critical", 0, 0.2 },
        { "custom thresholds, none", -10 * DAY, 40 * DAY, 30, 10, NULL, NULL, 0, 0 },
        { "thresholds off", -10 * DAY, 2 * DAY, 0, 0, NULL, NULL, 0, 0 },
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
                              .critical_days = rows[i].critical_days,
                              .warn_share = rows[i].warn_share ? rows[i].warn_share : 1.0 / 3.0,
                              .critical_share = rows[i].critical_share ? rows[i].critical_share : 0.1 };
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
