/* The HTTP module's body cache (CRLs kept until their nextUpdate). The
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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cache),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
