/* The HTTP module's body cache (CRLs kept until their nextUpdate) and its
 * reading of the Retry-After header. The
 * client itself runs against nginx in the integration tests (AIA, CRL). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"
#include "util.h"

#define NOW ((time_t)1795702927)

static void test_cache(void **state) {
        struct http_cache *c = http_cache_new();
        const unsigned char *b;
        size_t n = 0;

        assert_null(http_cache_get(c, "http://a/crl", NOW, &n));
        http_cache_put(c, "http://a/crl", (const unsigned char *)"one", 3, NOW + 60);
        b = http_cache_get(c, "http://a/crl", NOW, &n);
        assert_non_null(b);
        assert_int_equal(n, 3);
        assert_memory_equal(b, "one", 3);
        /* Expired at nextUpdate, not after. */
        assert_null(http_cache_get(c, "http://a/crl", NOW + 60, &n));
        assert_null(http_cache_get(c, "http://b/crl", NOW, &n));
        /* A newer body replaces the old one. */
        http_cache_put(c, "http://a/crl", (const unsigned char *)"second", 6, NOW + 120);
        b = http_cache_get(c, "http://a/crl", NOW + 60, &n);
        assert_int_equal(n, 6);
        assert_memory_equal(b, "second", 6);
        /* Empty bodies are kept as such. */
        http_cache_put(c, "http://e/", (const unsigned char *)"", 0, NOW + 1);
        assert_non_null(http_cache_get(c, "http://e/", NOW, &n));
        assert_int_equal(n, 0);
        /* A NULL cache caches nothing. */
        http_cache_put(NULL, "http://a/crl", (const unsigned char *)"x", 1, NOW + 60);
        assert_null(http_cache_get(NULL, "http://a/crl", NOW, &n));
        assert_null(http_cache_free(c));
        assert_null(http_cache_free(NULL));
}

/* Retry-After from a header line as libcurl hands it over. */
static void test_retry_after(void **state) {
        static const struct {
                const char *line;
                const char *value;      /* NULL: not kept */
        } rows[] = {
                { "Retry-After: 21600\r\n", "21600" },
                { "retry-after:\t Thu, 26 Nov 2026 20:00:00 GMT \r\n", "Thu, 26 Nov 2026 20:00:00 GMT" },
                { "RETRY-AFTER:60", "60" },
                { "Retry-After: \r\n", "" },
                { "Retry-After: 1\x1b[2J\r\n", "1\\x1b[2J" },
                { "Retry-After:", NULL },
                { "Retry-Afte: 5\r\n", NULL },
                { "Content-Type: text/plain\r\n", NULL },
                { "", NULL },
        };
        char long_line[300];

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_free_ char *v = http_header_retry_after(rows[i].line, strlen(rows[i].line));
                if (!streq_ptr(v, rows[i].value))
                        fail_msg("row %zu: '%s', expected '%s'", i, v ? v : "(none)",
                                 rows[i].value ? rows[i].value : "(none)");
        }
        memset(long_line, '1', sizeof(long_line));
        memcpy(long_line, "Retry-After: ", 13);
        assert_null(http_header_retry_after(long_line, 255 + 1));
        _cleanup_free_ char *v = http_header_retry_after(long_line, 255);
        assert_int_equal(strlen(v), 255 - 13);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cache),
                cmocka_unit_test(test_retry_after),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
