/* Unit tests for the JUnit reporter's testcases: one per check and target,
 * whatever the names are (several services may share one name), each row a
 * platform's names and endpoints with the testcases expected per target.
 * Run under ASan too: the target array once overflowed here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "checks.h"
#include "report.h"
#include "util.h"

struct junit_case {
        const char *names[6];      /* the plan's names, in order */
        const char *endpoints[8];  /* "NAME ADDRESS" of each probed endpoint */
        const char *targets[8];    /* "NAME ADDRESS" or "NAME (not resolved)": one testcase per check each */
};

static const struct junit_case cases[] = {
        /* Four services, one name each, one unresolved. */
        { { "api.a.test", "console.a.test", "grafana.a.test", "auth.a.test" },
          { "api.a.test 127.0.0.1", "console.a.test 127.0.0.1", "grafana.a.test 127.0.0.2" },
          { "api.a.test 127.0.0.1", "console.a.test 127.0.0.1", "grafana.a.test 127.0.0.2",
            "auth.a.test (not resolved)" } },
        /* subdomains: {api: x, console: x, grafana: x}: one name three times,
         * four addresses; each endpoint is one target, not three. */
        { { "x.a.test", "x.a.test", "x.a.test", "auth.a.test" },
          { "x.a.test 127.0.0.1", "x.a.test 127.0.0.2", "x.a.test ::1", "x.a.test 127.0.0.3",
            "auth.a.test 127.0.0.1" },
          { "x.a.test 127.0.0.1", "x.a.test 127.0.0.2", "x.a.test ::1", "x.a.test 127.0.0.3",
            "auth.a.test 127.0.0.1" } },
        /* The same, unresolved. */
        { { "x.a.test", "x.a.test", "x.a.test" }, {}, { "x.a.test (not resolved)" } },
};

static size_t count(const char *haystack, const char *needle) {
        size_t n = 0;

        for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

static void check_case(size_t index, const struct junit_case *t, size_t n_checks) {
        struct name_obs names[6] = {};
        struct endpoint_obs endpoints[8] = {};
        char addresses[8][64];
        struct platform_obs o = { .names = names, .endpoints = endpoints };
        struct platform p = { .name = (char *)"lab" };
        struct finding_list fl = {};
        struct report_platform rp = { .platform = &p, .obs = &o, .findings = &fl };
        struct report r = { .platforms = &rp, .n_platforms = 1 };
        _cleanup_free_ char *out = NULL;
        size_t len = 0, n_targets = 0;

        for (; o.n_names < ELEMENTSOF(t->names) && t->names[o.n_names]; o.n_names++)
                names[o.n_names].name = (char *)t->names[o.n_names];
        for (; o.n_endpoints < ELEMENTSOF(t->endpoints) && t->endpoints[o.n_endpoints]; o.n_endpoints++) {
                const char *e = t->endpoints[o.n_endpoints], *space = strchr(e, ' ');
                char *a = addresses[o.n_endpoints];

                snprintf(a, sizeof(addresses[0]), "%.*s", (int)(space - e), e);
                endpoints[o.n_endpoints].name = a;
                endpoints[o.n_endpoints].address = (char *)space + 1;
        }
        assert_int_equal(report_render(&r, REPORT_JUNIT, false, &out, &len), 0);
        for (size_t i = 0; i < ELEMENTSOF(t->targets) && t->targets[i]; i++, n_targets++) {
                _cleanup_free_ char *needle = xasprintf("name=\"%s\"", t->targets[i]);
                size_t n = count(out, needle);
                if (n != n_checks)
                        fail_msg("case %zu: %zu testcases for '%s', expected %zu", index, n, t->targets[i],
                                 n_checks);
        }
        /* No other target, and the totals agree. */
        _cleanup_free_ char *tests = xasprintf("tests=\"%zu\"", n_checks * n_targets);
        if (count(out, "<testcase ") != n_checks * n_targets || !strstr(out, tests))
                fail_msg("case %zu: %zu testcases, expected %zu:\n%s", index, count(out, "<testcase "),
                         n_checks * n_targets, out);
}

static void test_targets(void **state) {
        size_t n_checks;

        checks_all(&n_checks);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                check_case(i, &cases[i], n_checks);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_targets),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
