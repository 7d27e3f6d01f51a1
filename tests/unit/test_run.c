/* run: the state directory the oneshot and the daemon both use, from
 * --state-dir, systemd's $STATE_DIRECTORY (possibly several, joined with
 * ':') or the default. One row per case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "run.h"
#include "util.h"

static void test_state_dir(void **state) {
        static const struct {
                const char *given, *env;   /* env NULL: unset */
                const char *want;
        } rows[] = {
                { "/given", "/var/lib/certvigil", "/given" },
                { NULL, NULL, "/default" },
                { NULL, "", "/default" },
                { NULL, "/var/lib/certvigil", "/var/lib/certvigil" },
                { NULL, "/var/lib/certvigil:/var/lib/other", "/var/lib/certvigil" },
                { NULL, "/a:/b:/c", "/a" },
                { NULL, ":/b", "/default" },
                { NULL, "/a:", "/a" },
        };

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_free_ char *got = NULL;

                if (rows[i].env)
                        assert_int_equal(setenv("STATE_DIRECTORY", rows[i].env, 1), 0);
                else
                        assert_int_equal(unsetenv("STATE_DIRECTORY"), 0);
                got = run_state_dir(rows[i].given, "/default");
                if (strcmp(got, rows[i].want) != 0)
                        fail_msg("row %zu: got %s, want %s", i, got, rows[i].want);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_state_dir),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
