/* The checks, the grouping pass and the reports over a platform with
 * thousands of endpoints (a name with hundreds of addresses, `certvigil
 * check HOST` of a large pool): their CPU must grow with the endpoints,
 * not with their square, and the verdicts must not depend on the order the
 * DNS answers came in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cpu-bound.h"

#include "checks.h"
#include "group.h"
#include "report.h"
#include "util.h"

#define NOW ((time_t)1795702927)
#define DAY 86400

static char *sans[] = { (char *)"*.many.example.test", NULL };

static struct platform platform = {
        .name = (char *)"many",
        .base_domain = (char *)"many.example.test",
        .separator = '.',
        .tls_mode = TLS_MODE_PROVIDED,
        .le_issuer = (char *)"letsencrypt-prod",
        .trust = (char *)"system",
        .warn_days = 21,
        .critical_days = 7,
        .warn_share = 1.0 / 3.0,
        .critical_share = 0.1,
        .renew_at = 0.67,
};

static const char *const labels[] = { "api", "console", "grafana", "auth", "mcp" };
#define N_NAMES ELEMENTSOF(labels)

static struct cert_obs cert(const char *sha, time_t not_before, time_t not_after) {
        return (struct cert_obs){ .subject = (char *)"CN=many", .issuer = (char *)"CN=inter", .san = sans,
                                  .sha256 = (char *)sha, .serial = (char *)"01", .key = (char *)"ECDSA P-256",
                                  .key_kind = CERT_KEY_EC, .key_bits = 256, .sig_algo = (char *)"ECDSA-SHA256",
                                  .sig_hash = (char *)"SHA256", .not_before = not_before,
                                  .not_after = not_after };
}

/* A platform of n endpoints over five names, in the order DNS answers
 * might come (a fixed shuffle): one address in 100 still serves an old
 * certificate that expires in 5 days (past its renewal point), one in 50
 * refuses connections. */
enum shape {
        SHAPE_PLAIN,
        SHAPE_ALL_REFUSE,          /* every endpoint refuses */
        SHAPE_PLACEHOLDER,         /* the old certificates are the placeholders of 16 ingress pods (one
                                    * each); half the endpoints refuse */
};

static char *placeholder_subjects[] = { (char *)"Kubernetes Ingress Controller Fake Certificate", NULL };

struct fixture {
        struct plan_name plan_names[N_NAMES];
        struct plan plan;
        struct name_obs names[N_NAMES];
        struct cert_obs current, old, fakes[16];
        struct endpoint_obs *eps;
        struct platform_obs obs;
        char **strings;            /* every name and address made here, n_strings of them */
        size_t n_strings;
};

static void fixture_make(struct fixture *f, size_t n, enum shape shape) {
        *f = (struct fixture){ .strings = xcalloc(N_NAMES + n, sizeof(char *)) };
        f->current = cert("aaaa", NOW - 10 * DAY, NOW + 80 * DAY);
        f->old = cert("bbbb", NOW - 85 * DAY, NOW + 5 * DAY);
        for (size_t k = 0; k < ELEMENTSOF(f->fakes); k++) {
                static const char *const shas[] = { "fake0", "fake1", "fake2", "fake3", "fake4", "fake5",
                                                    "fake6", "fake7", "fake8", "fake9", "fakea", "fakeb",
                                                    "fakec", "faked", "fakee", "fakef" };
                f->fakes[k] = f->old;
                f->fakes[k].sha256 = (char *)shas[k];
                f->fakes[k].subject = (char *)"O=Acme Co,CN=Kubernetes Ingress Controller Fake Certificate";
        }
        for (size_t k = 0; k < N_NAMES; k++) {
                char *name = xasprintf("%s.many.example.test", labels[k]);
                f->strings[f->n_strings++] = name;
                f->plan_names[k] = (struct plan_name){ (enum service)k, name };
                f->names[k] = (struct name_obs){ .service = (enum service)k, .name = name, .status = DNS_STATUS_OK };
        }
        f->plan = (struct plan){ .wildcard = (char *)"*.many.example.test", .names = f->plan_names,
                                 .n_names = N_NAMES };
        f->eps = xcalloc(n, sizeof(*f->eps));
        for (size_t i = 0; i < n; i++) {
                /* 7919 is prime and does not divide n: a permutation. */
                size_t j = (i * 7919) % n, k = j % N_NAMES;
                char *address = xasprintf("10.%zu.%zu.%zu", j >> 16 & 255, j >> 8 & 255, j & 255);
                f->strings[f->n_strings++] = address;
                f->eps[i] = (struct endpoint_obs){ .name = f->names[k].name, .service = (enum service)k,
                                                   .address = address, .port = 443, .status = ENDPOINT_OK,
                                                   .chain = j % 100 != 7            ? &f->current
                                                            : shape == SHAPE_PLACEHOLDER ? &f->fakes[j / 100 % 16]
                                                                                         : &f->old,
                                                   .n_chain = 1,
                                                   .n_served = 1, .served_bytes = 1000, .verified = true,
                                                   .tls_version = (char *)"TLS1.3", .kx_kind = KX_ECDHE,
                                                   .kx_group = (char *)"X25519", .kx_bits = 256 };
                if (shape == SHAPE_ALL_REFUSE || (shape == SHAPE_PLACEHOLDER ? j % 2 == 0 : j % 50 == 3))
                        f->eps[i] = (struct endpoint_obs){ .name = f->names[k].name, .service = (enum service)k,
                                                           .address = address, .port = 443,
                                                           .status = ENDPOINT_CONNECT_FAILED,
                                                           .error = (char *)"connect: Connection refused" };
        }
        f->obs = (struct platform_obs){ .names = f->names, .n_names = N_NAMES, .endpoints = f->eps,
                                        .n_endpoints = n };
}

static void fixture_done(struct fixture *f) {
        free(f->eps);
        for (size_t i = 0; i < f->n_strings; i++)
                free(f->strings[i]);
        free(f->strings);
}

static const struct finding *find(const struct finding_list *l, const char *id) {
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->items[i].def->id, id) == 0)
                        return &l->items[i];
        return NULL;
}

/* checks_run() over n endpoints, within bound_ms of CPU (not measured
 * when 0). */
static void run_checks(const struct fixture *f, struct finding_list *l, uint64_t bound_ms) {
        struct check_ctx ctx = { .platform = &platform, .plan = &f->plan, .obs = &f->obs, .now = NOW,
                                 .ingress_subjects = placeholder_subjects };
        uint64_t t0 = test_cpu_usec();
        char what[64];

        checks_run(&ctx, l);
        snprintf(what, sizeof(what), "checks over %zu endpoints", f->obs.n_endpoints);
        if (bound_ms)
                test_cpu_within(what, test_cpu_usec() - t0, bound_ms * USEC_PER_MSEC);
}

/* The certificate-level findings name the first endpoint in the plan's
 * order: the old certificate is served by grafana only, 10.0.0.107 first
 * as text. */
static void checks_many(size_t n, uint64_t bound_ms) {
        struct fixture f;
        struct finding_list l = { 0 };

        fixture_make(&f, n, SHAPE_PLAIN);
        run_checks(&f, &l, bound_ms);
        const struct finding *inc = find(&l, "tls.cert.inconsistent");
        assert_non_null(inc);
        _cleanup_free_ char *want = xasprintf(
                "platform many serves 2 different certificates: aaaa (notAfter 2027-02-14T14:22:07Z) served by "
                "10.0.0.0, 10.0.0.10 and %zu more for api.many.example.test, console.many.example.test and 3 more; "
                "bbbb (notAfter 2026-12-01T14:22:07Z) served by 10.0.0.107, 10.0.0.207 and %zu more for "
                "grafana.many.example.test; one address or pod still serves an old certificate: reload or replace it",
                n - n / 100 - n / 50 - 2, n / 100 - 2);
        assert_string_equal(inc->message, want);
        const struct finding *overdue = find(&l, "tls.renewal.overdue");
        assert_non_null(overdue);
        assert_string_equal(overdue->name, "grafana.many.example.test");
        assert_string_equal(overdue->address, "10.0.0.107");
        finding_list_clear(&l);
        fixture_done(&f);
}

/* group_findings() over f's findings in l, within bound_ms of CPU; the
 * format names the case in a failure. */
__attribute__((format(printf, 4, 5))) static void group_timed(const struct fixture *f, struct finding_list *l,
                                                              uint64_t bound_ms, const char *format, ...) {
        uint64_t t0 = test_cpu_usec();
        char what[96];
        va_list ap;

        group_findings(&platform, &f->obs, l);
        va_start(ap, format);
        vsnprintf(what, sizeof(what), format, ap);
        va_end(ap);
        test_cpu_within(what, test_cpu_usec() - t0, bound_ms * USEC_PER_MSEC);
}

/* group_findings() over the findings of n endpoints, within bound_ms of
 * CPU: one finding per problem, naming its endpoints in the plan's order. */
static void grouping_many(size_t n, uint64_t bound_ms) {
        struct fixture f;
        struct finding_list l = { 0 };

        fixture_make(&f, n, SHAPE_PLAIN);
        run_checks(&f, &l, 0);
        group_timed(&f, &l, bound_ms, "grouping over %zu endpoints", n);

        const struct finding *exp = find(&l, "tls.expiry.critical");
        assert_non_null(exp);
        assert_int_equal(exp->n_affected, n / 100);
        assert_string_equal(exp->name, "grafana.many.example.test");
        assert_string_equal(exp->address, "10.0.0.107");
        assert_string_equal(exp->affected[1].address, "10.0.0.207");
        assert_non_null(strstr(exp->message, "served by 10.0.0.107, 10.0.0.207 and "));
        assert_ptr_equal(find(&l, "tls.renewal.overdue")->caused_by, exp->def);
        /* A refused connection is about its address: one finding each. */
        size_t refused = 0;
        for (size_t i = 0; i < l.n; i++)
                refused += strcmp(l.items[i].def->id, "tls.connect.failed") == 0;
        assert_int_equal(refused, n / 50);
        finding_list_clear(&l);
        fixture_done(&f);
}

/* Every endpoint refused: a finding each, every one its own problem (its
 * address), each looked up among the endpoints. */
static void grouping_refused(size_t n, uint64_t bound_ms) {
        struct fixture f;
        struct finding_list l = { 0 };

        fixture_make(&f, n, SHAPE_ALL_REFUSE);
        run_checks(&f, &l, 0);
        assert_int_equal(l.n, n);
        group_timed(&f, &l, bound_ms, "grouping %zu refused endpoints", n);
        assert_int_equal(l.n, n);
        for (size_t i = 0; i < l.n; i++) {
                assert_string_equal(l.items[i].def->id, "tls.connect.failed");
                assert_int_equal(l.items[i].n_affected, 1);
                assert_string_equal(l.items[i].address, f.eps[i].address);
                assert_true(strncmp(l.items[i].subject, "address ", 8) == 0);
        }
        finding_list_clear(&l);
        fixture_done(&f);
}

/* Placeholder certificates among thousands of findings: what they
 * explain (the inconsistency: without them every endpoint serves one
 * certificate) is found without walking every finding for every endpoint
 * and placeholder. */
static void grouping_placeholder(size_t n, uint64_t bound_ms) {
        struct fixture f;
        struct finding_list l = { 0 };
        const struct finding_def *ingress = checks_find_def("tls.cert.ingress-default");
        size_t placeholders = 0, refused = 0, expiring = 0;

        fixture_make(&f, n, SHAPE_PLACEHOLDER);
        run_checks(&f, &l, 0);
        group_timed(&f, &l, bound_ms, "grouping %zu endpoints behind placeholders", n);
        for (size_t i = 0; i < l.n; i++) {
                const struct finding *g = &l.items[i];
                placeholders += g->def == ingress;
                refused += strcmp(g->def->id, "tls.connect.failed") == 0;
                if (strcmp(g->def->id, "tls.expiry.critical") == 0) {
                        assert_ptr_equal(g->caused_by, ingress);
                        expiring++;
                }
        }
        assert_int_equal(placeholders, 16);
        assert_int_equal(expiring, 16);
        assert_int_equal(refused, n / 2);
        assert_ptr_equal(find(&l, "tls.cert.inconsistent")->caused_by, ingress);
        finding_list_clear(&l);
        fixture_done(&f);
}

/* How often what occurs in text. */
/* Found by its first character, then compared: strstr() from each match
 * on is linear under glibc, but AddressSanitizer's strstr() measures the
 * rest of the text on every call, which made this test run for hours
 * (a JUnit report of 5,000 endpoints is megabytes). */
static size_t count(const char *text, const char *what) {
        size_t n = 0, len = strlen(what);

        for (const char *p = strchr(text, what[0]); p; p = strchr(p + 1, what[0]))
                if (strncmp(p, what, len) == 0)
                        n++;
        return n;
}

/* The text report and the JUnit report over n endpoints, each within
 * bound_ms of CPU: a row (text) or a case per check (JUnit) for every
 * endpoint, each with the worst finding about it. */
static void reports_many(size_t n, enum shape shape, enum report_format format, uint64_t bound_ms) {
        struct fixture f;
        struct finding_list l = { 0 };
        char *text = NULL, what[64];
        size_t len, n_checks;
        uint64_t t0;

        fixture_make(&f, n, shape);
        run_checks(&f, &l, 0);
        group_findings(&platform, &f.obs, &l);
        struct report_platform rp = { .platform = &platform, .plan = &f.plan, .obs = &f.obs, .findings = &l };
        struct report r = { .started = NOW, .now = NOW, .platforms = &rp, .n_platforms = 1 };
        t0 = test_cpu_usec();
        assert_int_equal(report_render(&r, format, false, &text, &len), 0);
        snprintf(what, sizeof(what), "%s report of %zu endpoints", format == REPORT_TEXT ? "text" : "JUnit", n);
        test_cpu_within(what, test_cpu_usec() - t0, bound_ms * USEC_PER_MSEC);
        (void)checks_all(&n_checks);
        if (format == REPORT_TEXT) {
                assert_int_equal(count(text, " REFUSED\n"), shape == SHAPE_ALL_REFUSE ? n : n / 50);
                assert_int_equal(count(text, ".many.example.test  "), n);
                if (shape == SHAPE_PLAIN)
                        assert_int_equal(count(text, " EXPIRES 5d\n"), n / 100);
        } else {
                assert_int_equal(count(text, "<testcase "), n_checks * n + (shape == SHAPE_PLAIN));
                if (shape == SHAPE_ALL_REFUSE)
                        assert_int_equal(count(text, "<failure "), n);
                else /* the old certificate's expiry and missing CT, in its other endpoints' cases */
                        assert_int_equal(count(text, "reported once, on grafana.many.example.test 10.0.0.107\n"),
                                         2 * (n / 100 - 1));
        }
        free(text);
        finding_list_clear(&l);
        fixture_done(&f);
}

/* Generous bounds: linear runs take a tenth of them or less (a half
 * under AddressSanitizer); quadratic ones took 2 s (checks), 1.5 s
 * (grouping), 3.5 s (grouping every endpoint refused) and 2.3 s (grouping
 * behind 16 placeholders) at 20,000. */
static void test_checks_2000(void **state) {
        checks_many(2000, 500);
}

static void test_checks_20000(void **state) {
        checks_many(20000, 500);
}

static void test_grouping_2000(void **state) {
        grouping_many(2000, 500);
}

static void test_grouping_20000(void **state) {
        grouping_many(20000, 500);
}

static void test_grouping_refused_20000(void **state) {
        grouping_refused(20000, 1000);
}

static void test_grouping_placeholder_20000(void **state) {
        grouping_placeholder(20000, 1000);
}

static void test_text_20000(void **state) {
        reports_many(20000, SHAPE_PLAIN, REPORT_TEXT, 500);
        reports_many(20000, SHAPE_ALL_REFUSE, REPORT_TEXT, 500);
}

static void test_junit_5000(void **state) {
        reports_many(5000, SHAPE_PLAIN, REPORT_JUNIT, 2000);
        reports_many(5000, SHAPE_ALL_REFUSE, REPORT_JUNIT, 2000);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_checks_2000),
                cmocka_unit_test(test_checks_20000),
                cmocka_unit_test(test_grouping_2000),
                cmocka_unit_test(test_grouping_20000),
                cmocka_unit_test(test_grouping_refused_20000),
                cmocka_unit_test(test_grouping_placeholder_20000),
                cmocka_unit_test(test_text_20000),
                cmocka_unit_test(test_junit_5000),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
