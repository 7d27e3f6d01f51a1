/* ACME Renewal Information, the pure part (checks/tls-ari.c): times,
 * responses, Retry-After and the judgement, one row per case. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "checks.h"
#include "tls-ari.h"
#include "util.h"

#define NOW ((time_t)1795702927) /* 2026-11-26T14:22:07Z */
#define H 3600
#define DAY 86400
#define BAD INT64_MIN

static void test_rfc3339(void **state) {
        static const struct {
                const char *in;
                int64_t expect;
        } rows[] = {
                { "2026-11-26T14:22:07Z", NOW },
                { "2026-11-26T14:22:07.123456Z", NOW },
                { "2026-11-26T15:22:07+01:00", NOW },
                { "2026-11-26T13:22:07-01:00", NOW },
                { "2026-11-26t14:22:07z", BAD },
                { "2026-11-26T14:22:07", BAD },
                { "2026-11-26 14:22:07Z", BAD },
                { "2026-11-26T14:22:07.Z", BAD },
                { "2026-11-26T14:22:07+0100", BAD },
                { "2026-11-26T14:22:07Z trailing", BAD },
                { "", BAD },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                time_t t = 0;
                int r = rfc3339_parse(rows[i].in, &t);
                if (rows[i].expect == BAD ? r != -EINVAL : (r != 0 || t != rows[i].expect))
                        fail_msg("rfc3339 '%s': r=%d t=%lld", rows[i].in, r, (long long)t);
        }
        time_t t;
        assert_int_equal(rfc3339_parse(NULL, &t), -EINVAL);
}

static void test_retry_after(void **state) {
        static const struct {
                const char *in;
                int64_t wait;
        } rows[] = {
                { NULL, 6 * H },
                { "3600", H },
                { "0", 60 },
                { "59", 60 },
                { "999999", DAY },
                { "Thu, 26 Nov 2026 16:22:07 GMT", 2 * H },
                { "Thu, 26 Nov 2026 14:00:00 GMT", 60 },
                { "soon", 6 * H },
                { "-5", 6 * H },
                { "12abc", 6 * H },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                if (ari_next_poll(rows[i].in, NOW) != NOW + rows[i].wait)
                        fail_msg("retry-after '%s': got %+lld", rows[i].in ? rows[i].in : "(none)",
                                 (long long)(ari_next_poll(rows[i].in, NOW) - NOW));
}

static void test_response(void **state) {
        static const struct {
                const char *body;
                int64_t start, end;     /* relative to NOW; BAD: refused */
                const char *explanation;
                const char *error;
        } rows[] = {
                { "{\"suggestedWindow\":{\"start\":\"2026-11-27T14:22:07Z\",\"end\":\"2026-11-28T14:22:07Z\"}}", DAY,
                  2 * DAY, NULL, NULL },
                { "{\"suggestedWindow\":{\"start\":\"2026-11-25T14:22:07Z\",\"end\":\"2026-11-26T15:22:07Z\"},"
                  "\"explanationURL\":\"https://ca.example/why\"}",
                  -DAY, H, "https://ca.example/why", NULL },
                { "{\"suggestedWindow\":{\"start\":\"2026-11-28T14:22:07Z\",\"end\":\"2026-11-27T14:22:07Z\"}}", BAD,
                  0, NULL, "the renewalInfo response's suggestedWindow ends before it starts" },
                { "{\"suggestedWindow\":{\"start\":\"2026-11-28T14:22:07Z\"}}", BAD, 0, NULL,
                  "the renewalInfo response has no valid suggestedWindow start and end" },
                { "{\"suggestedWindow\":{\"start\":1,\"end\":2}}", BAD, 0, NULL,
                  "the renewalInfo response has no valid suggestedWindow start and end" },
                { "[]", BAD, 0, NULL, "the renewalInfo response has no valid suggestedWindow start and end" },
                { "{\"suggestedWindow\":", BAD, 0, NULL, "the renewalInfo response is not JSON (" },
                { "<html>", BAD, 0, NULL, "the renewalInfo response is not JSON (" },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct ari_window w;
                _cleanup_free_ char *expl = NULL, *error = NULL;
                int r = ari_parse_response(rows[i].body, strlen(rows[i].body), &w, &expl, &error);
                if (rows[i].start == BAD) {
                        if (r != -EINVAL || !error || strncmp(error, rows[i].error, strlen(rows[i].error)) != 0)
                                fail_msg("response %zu: r=%d error=%s", i, r, error ? error : "(none)");
                        continue;
                }
                if (r != 0 || w.start != NOW + rows[i].start || w.end != NOW + rows[i].end ||
                    !streq_ptr(expl, rows[i].explanation))
                        fail_msg("response %zu: r=%d error=%s", i, r, error ? error : "(none)");
        }
}

static void test_directory(void **state) {
        static const struct {
                const char *body;
                const char *expect;     /* NULL: refused */
        } rows[] = {
                { "{\"newNonce\":\"https://ca.example/nonce\",\"renewalInfo\":\"https://ca.example/ari\"}",
                  "https://ca.example/ari/aaaa.bbbb" },
                { "{\"renewalInfo\":\"https://ca.example/ari/\"}", "https://ca.example/ari/aaaa.bbbb" },
                { "{\"renewalInfo\":\"http://ca.example/ari\"}", NULL },
                { "{\"renewalInfo\":\"HTTPS://ca.example/ari\"}", NULL },
                { "{\"renewalInfo\":42}", NULL },
                { "{\"newOrder\":\"https://ca.example/order\"}", NULL },
                { "[\"https://ca.example/ari\"]", NULL },
                { "{\"renewalInfo\":\"https://ca.example/ari\"", NULL },
                { "", NULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_free_ char *url = NULL;
                int r = ari_renewal_info_url(rows[i].body, strlen(rows[i].body), "aaaa.bbbb", &url);
                if (rows[i].expect ? r != 0 || strcmp(url, rows[i].expect) != 0 : r != -EINVAL || url)
                        fail_msg("directory %zu: r=%d url=%s", i, r, url ? url : "(none)");
        }
}

static void test_judge(void **state) {
        static const struct {
                const char *what;
                int64_t start, end, prev_start;   /* prev_start 0: no previous poll */
                const char *severity;             /* NULL: no finding */
                const char *message;
        } rows[] = {
                { "future window", 10 * DAY, 12 * DAY, 0, NULL, NULL },
                { "same window as before", 10 * DAY, 12 * DAY, 10 * DAY, NULL, NULL },
                { "moved later", 20 * DAY, 22 * DAY, 10 * DAY, NULL, NULL },
                { "started", -H, DAY, 0, "warning",
                  "the CA's renewal window for serial 0a started at 2026-11-26T13:22:07Z (until 2026-11-27T14:22:07Z)" },
                { "starts exactly now", 0, DAY, 0, "warning", NULL },
                { "moved earlier, still ahead", 5 * DAY, 6 * DAY, 10 * DAY, "warning",
                  "the CA moved the renewal window for serial 0a earlier, from 2026-12-06T14:22:07Z to "
                  "2026-12-01T14:22:07Z (until 2026-12-02T14:22:07Z): a sign of revocation; renew now" },
                { "ended", -2 * DAY, -DAY, 0, "critical",
                  "the CA's renewal window for serial 0a (2026-11-24T14:22:07Z to 2026-11-25T14:22:07Z) has ended: "
                  "renew now" },
                { "moved earlier and ended", -2 * DAY, -DAY, 10 * DAY, "critical", NULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct finding_list l = { 0 };
                struct ari_window w = { NOW + rows[i].start, NOW + rows[i].end }, prev = { NOW + rows[i].prev_start, 0 };
                ari_judge(&w, rows[i].prev_start ? &prev : NULL, NOW, "serial 0a", NULL, &l);
                if (!rows[i].severity ? l.n != 0
                                      : (l.n != 1 || strcmp(l.items[0].def->id, "tls.ari.renew-now") != 0 ||
                                         strcmp(severity_to_string(l.items[0].severity), rows[i].severity) != 0 ||
                                         (rows[i].message && strcmp(l.items[0].message, rows[i].message) != 0)))
                        fail_msg("judge '%s': %zu findings%s%s", rows[i].what, l.n, l.n ? ": " : "",
                                 l.n ? l.items[0].message : "");
                finding_list_clear(&l);
        }
        assert_non_null(checks_find_def("tls.ari.renew-now"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rfc3339),
                cmocka_unit_test(test_retry_after),
                cmocka_unit_test(test_response),
                cmocka_unit_test(test_directory),
                cmocka_unit_test(test_judge),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
