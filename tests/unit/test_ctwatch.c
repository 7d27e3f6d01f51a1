/* The CT issuance watch, the pure part (checks/ct-watch.c): reading
 * crt.sh's JSON and the judgement; and renewal's CT guardrail. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "checks.h"
#include "ct-watch.h"
#include "renew.h"
#include "util.h"

#define NOW ((time_t)1795702927) /* 2026-11-26T14:22:07Z */
#define DAY 86400

static void test_parse(void **state) {
        static const char *body =
                "[{\"issuer_name\": \"C=US, O=Let's Encrypt, CN=R11\", \"name_value\": \"B.example.com\\n*.example.com\\nb.example.com\","
                "  \"serial_number\": \"00AB\", \"not_before\": \"2026-11-26T14:22:07\"},"
                " {\"issuer_name\": \"x\", \"name_value\": \"a.example.com\", \"serial_number\": \"ab\","
                "  \"not_before\": \"2026-11-26T14:22:07\"},"
                " {\"issuer_name\": \"x\", \"name_value\": \"a.example.com\", \"serial_number\": \"cd\"},"
                " {\"issuer_name\": \"x\", \"name_value\": \"c.example.com\", \"serial_number\": \"ef\","
                "  \"not_before\": \"2026-11-26T14:22:07Z\"}, 42]";
        struct ct_entry *e = NULL;
        size_t n = 0;
        _cleanup_free_ char *error = NULL;

        assert_int_equal(ct_entries_parse(body, strlen(body), 10, &e, &n, &error), 0);
        assert_int_equal(n, 2); /* the duplicate serial and the entry without a date dropped */
        assert_string_equal(e[0].serial, "AB"); /* as openssl x509 -serial prints it */
        assert_int_equal(e[0].not_before, NOW);
        assert_int_equal(strv_length(e[0].names), 2);
        assert_string_equal(e[0].names[0], "*.example.com");
        assert_string_equal(e[0].names[1], "b.example.com");
        assert_string_equal(e[1].serial, "EF");
        ct_entries_free(e, n);

        assert_int_equal(ct_entries_parse(body, strlen(body), 1, &e, &n, &error), 0);
        assert_int_equal(n, 1);
        ct_entries_free(e, n);

        assert_int_equal(ct_entries_parse("{}", 2, 10, &e, &n, &error), -EINVAL);
        assert_non_null(error);
}

static char *sans[] = { (char *)"*.ok.example.test", NULL };

static char *judge(enum tls_mode mode, const char *expect_issuer, size_t n_le, bool with_other, bool other_served) {
        struct platform p = { .name = (char *)"t", .tls_mode = mode, .expect_issuer = (char *)expect_issuer };
        struct plan_name names[] = { { SERVICE_API, (char *)"api.ok.example.test" } };
        struct plan plan = { .wildcard = (char *)"*.ok.example.test", .names = names, .n_names = 1 };
        struct cert_obs leaf = { .serial = (char *)"00bb" };
        struct endpoint_obs ep = { .status = ENDPOINT_OK, .chain = &leaf, .n_chain = 1 };
        struct platform_obs obs = { .endpoints = &ep, .n_endpoints = 1 };
        struct check_ctx ctx = { .platform = &p, .plan = &plan, .obs = &obs, .now = NOW };
        struct ct_entry e[8];
        char serials[8][24];
        size_t n = 0;
        struct finding_list out = { 0 };
        char *s = xstrdup("");

        for (size_t i = 0; i < n_le; i++) {
                snprintf(serials[n], sizeof(serials[n]), "a%zu", i);
                e[n] = (struct ct_entry){ .issuer = (char *)"O=Let's Encrypt", .names = sans, .serial = serials[n],
                                          .not_before = NOW - (time_t)i * DAY };
                n++;
        }
        /* Older than 7 days: never counted. */
        e[n++] = (struct ct_entry){ .issuer = (char *)"O=Let's Encrypt", .names = sans, .serial = (char *)"f0",
                                    .not_before = NOW - 8 * DAY };
        if (with_other)
                e[n++] = (struct ct_entry){ .issuer = (char *)"O=Other", .names = sans,
                                            .serial = (char *)(other_served ? "bb" : "cc"), .not_before = NOW - DAY };
        ct_watch_judge(&ctx, e, n, &out, NULL);
        for (size_t i = 0; i < out.n; i++) {
                char *t = xasprintf("%s%s %s\n", s, out.items[i].def->id, severity_to_string(out.items[i].severity));
                free(s);
                s = t;
        }
        finding_list_clear(&out);
        return s;
}

static void test_judge(void **state) {
        static const struct {
                enum tls_mode mode;
                const char *expect_issuer;
                size_t le;
                bool other, other_served;
                const char *expect;
        } rows[] = {
                { TLS_MODE_LETSENCRYPT, NULL, 3, false, false, "" },
                { TLS_MODE_LETSENCRYPT, NULL, 4, false, false, "ct.rate-limit.near warning\n" },
                { TLS_MODE_LETSENCRYPT, NULL, 5, false, false, "ct.rate-limit.near critical\n" },
                { TLS_MODE_LETSENCRYPT, NULL, 3, true, false, "ct.unexpected warning\n" },
                { TLS_MODE_LETSENCRYPT, NULL, 3, true, true, "" },
                { TLS_MODE_PROVIDED, NULL, 5, true, false, "" },
                { TLS_MODE_PROVIDED, "O=Mine", 1, false, false, "ct.unexpected warning\n" },
                { TLS_MODE_SELFSIGNED, NULL, 0, true, false, "ct.unexpected warning\n" },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                char *got = judge(rows[i].mode, rows[i].expect_issuer, rows[i].le, rows[i].other, rows[i].other_served);
                if (strcmp(got, rows[i].expect) != 0)
                        fail_msg("row %zu: got '%s', expected '%s'", i, got, rows[i].expect);
                free(got);
        }
}

static void test_guardrail(void **state) {
        struct finding_list l = { 0 };
        const struct finding_def *rate = checks_find_def("ct.rate-limit.near");

        assert_non_null(rate);
        assert_false(renew_ct_limit_reached(&l));
        finding_emit_severity(&l, rate, SEVERITY_WARNING, NULL, NULL, "4");
        assert_false(renew_ct_limit_reached(&l));
        finding_emit_severity(&l, rate, SEVERITY_CRITICAL, NULL, NULL, "5");
        assert_true(renew_ct_limit_reached(&l));
        assert_string_equal(renew_verdict_to_string(RENEW_HOLD_CT_LIMIT), "ct-rate-limit");
        finding_list_clear(&l);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_judge),
                cmocka_unit_test(test_guardrail),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
