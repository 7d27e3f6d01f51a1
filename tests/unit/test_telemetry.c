/* telemetry: each platform's counters found by name in logarithmic time
 * (every platform's audit and every scrape look up every platform; a linear
 * search made a daemon's round quadratic), kept across a reload for the
 * platforms the new config still has, and shown by /metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu-bound.h"
#include "state.h"
#include "telemetry.h"
#include "util.h"

#define MANY 30000

static struct config *config_of(size_t n, size_t step) {
        struct config *c = xcalloc(1, sizeof(*c));

        c->platforms = xcalloc(n / step + 1, sizeof(*c->platforms));
        for (size_t i = 0; i < n; i += step) {
                struct platform *p = xcalloc(1, sizeof(*p));
                p->name = xasprintf("p%zu", i);
                c->platforms[c->n_platforms++] = p;
        }
        return c;
}

static void config_done(struct config *c) {
        for (size_t i = 0; i < c->n_platforms; i++) {
                free(c->platforms[i]->name);
                free(c->platforms[i]);
        }
        free(c->platforms);
        free(c);
}

/* The line of /metrics for platform name in family, or NULL. */
static bool metrics_has(const char *text, const char *family, const char *name, unsigned long value) {
        _cleanup_free_ char *line = xasprintf("\n%s{platform=\"%s\"} %lu\n", family, name, value);
        return strstr(text, line) != NULL;
}

static void test_many_platforms(void **state) {
        struct telemetry *t = telemetry_new(0, false);
        struct config *all = config_of(MANY, 1), *half = config_of(MANY, 2);
        struct state *st = state_new();
        char *text = NULL;
        size_t len;
        uint64_t t0 = test_cpu_usec();

        /* Two failures for each platform: one adds it, one finds it. */
        for (int round = 0; round < 2; round++)
                for (size_t i = 0; i < MANY; i++)
                        telemetry_failure(t, all->platforms[i]->name);
        assert_int_equal(telemetry_render(t, all, st, REPORT_PROMETHEUS, &text, &len), 0);
        test_cpu_within("30,000 platforms counted twice and rendered", test_cpu_usec() - t0, USEC_PER_SEC);
        assert_true(metrics_has(text, "certvigil_audit_failures_total", "p0", 2));
        assert_true(metrics_has(text, "certvigil_audit_failures_total", "p29999", 2));
        free(text);

        /* A reload keeps every other platform, with its counters. */
        telemetry_prune(t, half);
        telemetry_failure(t, "p2");
        telemetry_failure(t, "p1"); /* gone: starts again */
        assert_int_equal(telemetry_render(t, all, st, REPORT_PROMETHEUS, &text, &len), 0);
        assert_true(metrics_has(text, "certvigil_audit_failures_total", "p2", 3));
        assert_true(metrics_has(text, "certvigil_audit_failures_total", "p29998", 2));
        assert_true(metrics_has(text, "certvigil_audit_failures_total", "p1", 1));
        assert_true(metrics_has(text, "certvigil_audit_failures_total", "p3", 0));
        free(text);

        state_free(st);
        config_done(all);
        config_done(half);
        telemetry_free(t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_many_platforms),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
