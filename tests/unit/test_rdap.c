/* Registration expiry by RDAP, the pure part (checks/domain-expiry.c): the
 * expiration event, the bootstrap file's longest match, and the verdict,
 * one row per case. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "checks.h"
#include "domain-expiry.h"
#include "rdap.h"
#include "renew-store.h"
#include "state.h"
#include "util.h"

#define NOW ((time_t)1795702927) /* 2026-11-26T14:22:07Z */
#define DAY 86400

static void test_expiration(void **state) {
        static const struct {
                const char *body;
                int r;
                time_t expect;
        } rows[] = {
                { "{\"events\": [{\"eventAction\": \"registration\", \"eventDate\": \"2001-01-01T00:00:00Z\"},"
                  " {\"eventAction\": \"expiration\", \"eventDate\": \"2026-11-26T14:22:07Z\"}]}", 0, NOW },
                { "{\"events\": [{\"eventAction\": \"EXPIRATION\", \"eventDate\": \"2026-11-26T15:22:07+01:00\"}]}", 0,
                  NOW },
                { "{\"events\": [{\"eventAction\": \"registration\", \"eventDate\": \"2001-01-01T00:00:00Z\"}]}",
                  -ENOENT, 0 },
                { "{\"events\": [{\"eventAction\": \"expiration\", \"eventDate\": \"soon\"}]}", -EINVAL, 0 },
                { "{\"events\": [{\"eventAction\": \"expiration\"}]}", -EINVAL, 0 },
                { "{}", -ENOENT, 0 },
                { "[1, 2]", -EINVAL, 0 },
                { "not json", -EINVAL, 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_free_ char *error = NULL;
                time_t t = 0;
                int r = rdap_expiration_parse(rows[i].body, strlen(rows[i].body), &t, &error);
                if (r != rows[i].r)
                        fail_msg("row %zu: %d, expected %d", i, r, rows[i].r);
                if (r == 0)
                        assert_int_equal(t, rows[i].expect);
                else
                        assert_non_null(error);
        }
}

static void test_bootstrap(void **state) {
        static const char *json =
                "{\"services\": [[[\"com\", \"net\"], [\"http://plain.example/\", \"https://a.example/com/\"]],"
                " [[\"uk\"], [\"https://b.example/uk/\"]], [[\"co.uk\"], [\"https://c.example/co.uk/\"]],"
                " [[\"org\"], [\"http://only-plain.example/\"]], [\"garbage\"]]}";
        static const struct {
                const char *domain;
                int r;
                const char *expect;
        } rows[] = {
                { "example.com", 0, "https://a.example/com/" },
                { "EXAMPLE.NET", 0, "https://a.example/com/" },
                { "example.co.uk", 0, "https://c.example/co.uk/" },
                { "example.org.uk", 0, "https://b.example/uk/" },
                { "example.org", -ENOENT, NULL },
                { "examplecom", -ENOENT, NULL },
                { "example.test", -ENOENT, NULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_free_ char *url = NULL, *error = NULL;
                int r = rdap_bootstrap_lookup(json, strlen(json), rows[i].domain, &url, &error);
                if (r != rows[i].r)
                        fail_msg("row %zu (%s): %d, expected %d", i, rows[i].domain, r, rows[i].r);
                if (r == 0)
                        assert_string_equal(url, rows[i].expect);
        }
        _cleanup_free_ char *url = NULL, *error = NULL;
        assert_int_equal(rdap_bootstrap_lookup("{\"x\": 1}", 8, "example.com", &url, &error), -EINVAL);
        assert_non_null(error);
}

static void test_judge(void **state) {
        static const struct {
                time_t expires;
                unsigned warn, critical;
                const char *expect;
        } rows[] = {
                { NOW + 40 * DAY, 30, 7, "" },
                { NOW + 30 * DAY, 30, 7, "" },
                { NOW + 29 * DAY, 30, 7, "domain.expiry.warning" },
                { NOW + 7 * DAY, 30, 7, "domain.expiry.warning" },
                { NOW + 6 * DAY, 30, 7, "domain.expiry.critical" },
                { NOW - DAY, 30, 7, "domain.expiry.critical" },
                { NOW + 29 * DAY, 0, 0, "" },
                { NOW - DAY, 0, 0, "domain.expiry.critical" },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct finding_list out = { 0 };
                domain_expiry_judge("example.com", rows[i].expires, NOW, rows[i].warn, rows[i].critical, &out);
                if (rows[i].expect[0] == 0)
                        assert_int_equal(out.n, 0);
                else {
                        assert_int_equal(out.n, 1);
                        assert_string_equal(out.items[0].def->id, rows[i].expect);
                        assert_non_null(strstr(out.items[0].message, "example.com"));
                }
                finding_list_clear(&out);
        }
}

/* Another certvigil's guardrail for platform g, saved in the file. */
static void other_triggers(const char *dir, time_t when) {
        _cleanup_free_ char *warning = NULL;
        struct renew_store *o = NULL;
        struct renew_state *st;

        assert_int_equal(renew_store_open(dir, false, &o, &warning), 0);
        assert_int_equal(renew_store_lock(o), 0);
        st = renew_store_get(o, "g");
        st->triggers[st->n_triggers++] = when;
        assert_int_equal(renew_store_save(o), 0);
        renew_store_free(o);
}

/* The file's triggers of platform g, and whether p1's and p2's dates are
 * there. */
static size_t file_triggers(const char *dir, bool *ret_p1, bool *ret_p2) {
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, STATE_FILE), *error = NULL;
        json_t *root = NULL, *platforms;
        size_t n;

        assert_int_equal(state_read_json(path, 0, &root, &error), 0);
        platforms = json_object_get(json_object_get(root, STATE_RENEWAL_KEY), "platforms");
        n = json_array_size(json_object_get(json_object_get(platforms, "g"), "triggers"));
        *ret_p1 = json_object_get(platforms, "p1") != NULL;
        *ret_p2 = json_object_get(platforms, "p2") != NULL;
        json_decref(root);
        return n;
}

/* The daemon's store keeps RDAP dates of two platforms, one after the
 * other; between the two saves, a oneshot triggers a renewal of a third
 * and saves its guardrail. Each save re-reads the file under the lock, so
 * the guardrail survives. */
static void test_remember_keeps_others(void **state) {
        char dir[] = "/tmp/certvigil-test-rdap.XXXXXX";
        _cleanup_free_ char *warning = NULL, *path = NULL, *lock = NULL;
        struct renew_store *daemon = NULL;
        bool p1, p2;

        assert_non_null(mkdtemp(dir));
        path = xasprintf("%s/%s", dir, STATE_FILE);
        lock = xasprintf("%s/%s", dir, STATE_LOCK_FILE);
        other_triggers(dir, NOW - DAY);
        assert_int_equal(renew_store_open(dir, false, &daemon, &warning), 0);
        assert_int_equal(rdap_remember(daemon, "p1", "example.test", NOW + 20 * DAY, NOW + DAY), 0);
        assert_int_equal(file_triggers(dir, &p1, &p2), 1);
        assert_true(p1);
        other_triggers(dir, NOW);
        assert_int_equal(file_triggers(dir, &p1, &p2), 2); /* the positive control */
        assert_int_equal(rdap_remember(daemon, "p2", "example.test", NOW + 20 * DAY, NOW + DAY), 0);
        assert_int_equal(file_triggers(dir, &p1, &p2), 2);
        assert_true(p1 && p2);
        renew_store_free(daemon);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(unlink(lock), 0);
        assert_int_equal(rmdir(dir), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_expiration),
                cmocka_unit_test(test_bootstrap),
                cmocka_unit_test(test_judge),
                cmocka_unit_test(test_remember_keeps_others),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
