/* The checks other than expiry, over fixture observations, and the
 * invariants of the finding catalog. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "checks.h"
#include "util.h"

#define NOW ((time_t)1795702927)

static char *sans_ok[] = { (char *)"*.ok.example.test", NULL };
static char *sans_other[] = { (char *)"www.ok.example.test", (char *)"*.other.example.test", NULL };
static char *addrs[] = { (char *)"127.0.0.1", NULL };

static struct platform platform = {
        .name = (char *)"t",
        .trust = (char *)"system",
        .warn_days = 21,
        .critical_days = 7,
        .resolvers = NULL,
};
static struct plan plan = { .wildcard = (char *)"*.ok.example.test" };

/* Runs one check and returns its findings as "id name address" lines. */
static char *run_check(const struct check *c, struct platform_obs *obs) {
        struct check_ctx ctx = { .platform = &platform, .plan = &plan, .obs = obs, .now = NOW };
        struct finding_list out = { 0 };
        char *s = xstrdup("");

        assert_int_equal(c->run(&ctx, &out), 0);
        for (size_t i = 0; i < out.n; i++) {
                char *n = xasprintf("%s%s %s %s %s\n", s, out.items[i].def->id,
                                    severity_to_string(out.items[i].severity),
                                    out.items[i].name ? out.items[i].name : "-",
                                    out.items[i].address ? out.items[i].address : "-");
                assert_non_null(out.items[i].message);
                assert_true(strlen(out.items[i].message) > 10);
                free(s);
                s = n;
        }
        finding_list_clear(&out);
        return s;
}

static void test_resolve(void **state) {
        struct name_obs names[] = {
                { .service = SERVICE_API, .name = (char *)"api.ok.example.test", .status = DNS_STATUS_OK,
                  .addresses = addrs },
                { .service = SERVICE_CONSOLE, .name = (char *)"console.ok.example.test",
                  .status = DNS_STATUS_NXDOMAIN, .error = (char *)"NXDOMAIN: the name does not exist" },
                { .service = SERVICE_AUTH, .name = (char *)"auth.ok.example.test", .status = DNS_STATUS_TIMEOUT },
                { .service = SERVICE_MCP, .name = (char *)"mcp.ok.example.test", .status = DNS_STATUS_NOT_RUN },
        };
        struct platform_obs obs = { .names = names, .n_names = ELEMENTSOF(names) };
        char *got = run_check(&check_dns_resolve, &obs);
        assert_string_equal(got, "dns.resolve.failed critical console.ok.example.test -\n"
                                 "dns.resolve.failed critical auth.ok.example.test -\n"
                                 "dns.resolve.failed critical mcp.ok.example.test -\n");
        free(got);
}

static void test_connect(void **state) {
        struct endpoint_obs eps[] = {
                { .name = (char *)"a.ok.example.test", .address = (char *)"127.0.0.1", .status = ENDPOINT_OK },
                { .name = (char *)"b.ok.example.test", .address = (char *)"127.0.0.3",
                  .status = ENDPOINT_CONNECT_FAILED, .error = (char *)"connect: Connection refused" },
                { .name = (char *)"c.ok.example.test", .address = (char *)"127.0.0.4",
                  .status = ENDPOINT_HANDSHAKE_FAILED, .error = (char *)"timeout" },
                { .name = (char *)"d.ok.example.test", .address = (char *)"::1", .status = ENDPOINT_NOT_RUN },
        };
        struct platform_obs obs = { .endpoints = eps, .n_endpoints = ELEMENTSOF(eps) };
        char *got = run_check(&check_tls_connect, &obs);
        assert_string_equal(got, "tls.connect.failed critical b.ok.example.test 127.0.0.3\n"
                                 "tls.handshake.failed critical c.ok.example.test 127.0.0.4\n"
                                 "tls.connect.failed critical d.ok.example.test ::1\n");
        free(got);
}

static void test_chain_and_san(void **state) {
        struct cert_obs ok = { .subject = (char *)"CN=ok", .issuer = (char *)"CN=inter", .san = sans_ok,
                               .not_before = NOW - 86400, .not_after = NOW + 80 * 86400 };
        struct cert_obs other = { .subject = (char *)"CN=other", .issuer = (char *)"CN=inter", .san = sans_other,
                                  .not_before = NOW - 86400, .not_after = NOW + 80 * 86400 };
        struct cert_obs nosan = { .subject = (char *)"CN=api.ok.example.test", .issuer = (char *)"CN=x",
                                  .not_before = NOW - 86400, .not_after = NOW + 80 * 86400 };
        struct endpoint_obs eps[] = {
                { .name = (char *)"api.ok.example.test", .address = (char *)"127.0.0.1", .status = ENDPOINT_OK,
                  .chain = &ok, .n_chain = 1, .verified = true },
                { .name = (char *)"api.ok.example.test", .address = (char *)"127.0.0.2", .status = ENDPOINT_OK,
                  .chain = &other, .n_chain = 1, .verified = false, .verify_error = (char *)"issuer unknown" },
                /* The CN matches but there is no SAN: not covered. */
                { .name = (char *)"api.ok.example.test", .address = (char *)"127.0.0.3", .status = ENDPOINT_OK,
                  .chain = &nosan, .n_chain = 1, .verified = true },
                /* Apex is not covered by the wildcard. */
                { .name = (char *)"ok.example.test", .address = (char *)"127.0.0.1", .status = ENDPOINT_OK,
                  .chain = &ok, .n_chain = 1, .verified = true },
                /* Failed endpoints are left to tls.connect. */
                { .name = (char *)"api.ok.example.test", .address = (char *)"127.0.0.5",
                  .status = ENDPOINT_HANDSHAKE_FAILED },
        };
        struct platform_obs obs = { .endpoints = eps, .n_endpoints = ELEMENTSOF(eps) };

        char *got = run_check(&check_tls_chain, &obs);
        assert_string_equal(got, "tls.chain.untrusted critical api.ok.example.test 127.0.0.2\n");
        free(got);

        got = run_check(&check_tls_san, &obs);
        assert_string_equal(got, "tls.san.mismatch critical api.ok.example.test 127.0.0.2\n"
                                 "tls.san.mismatch critical api.ok.example.test 127.0.0.3\n"
                                 "tls.san.mismatch critical ok.example.test 127.0.0.1\n");
        free(got);
}

static void check_def(const struct finding_def *def, const struct check *c, void *userdata) {
        size_t *n = userdata;
        (*n)++;
        assert_non_null(def->id);
        assert_non_null(def->summary);
        assert_int_equal(strlen(def->message_id), 32);
        for (size_t i = 0; i < 32; i++)
                assert_true(isxdigit((unsigned char)def->message_id[i]) && !isupper((unsigned char)def->message_id[i]));
        /* One definition per id, and per MESSAGE_ID. */
        assert_ptr_equal(checks_find_def(def->id), def);
}

static void collect_ids(const struct finding_def *def, const struct check *c, void *userdata) {
        char ***v = userdata;
        assert_false(strv_contains(*v, def->message_id));
        strv_push(v, xstrdup(def->message_id));
}

static void test_catalog(void **state) {
        size_t n = 0, n_checks;
        char **ids = NULL;
        checks_foreach_def(check_def, &n);
        assert_true(n >= 10);
        checks_foreach_def(collect_ids, &ids);
        assert_int_equal(strv_length(ids), n);
        strv_free(ids);

        const struct check *const *all = checks_all(&n_checks);
        for (size_t i = 0; i < n_checks; i++) {
                assert_non_null(all[i]->run);
                /* A check's findings share its family prefix or are documented
                 * exceptions, so the id leads to the file. */
                assert_true(all[i]->n_findings > 0);
        }
        assert_null(checks_find_def("no.such.finding"));
        assert_non_null(checks_find_def("tls.expiry.critical"));
}

#include "tls-secret.h"

static void test_secret(void **state) {
        struct cert_obs a = { .sha256 = (char *)"aa" }, b = { .sha256 = (char *)"bb" };
        struct endpoint_obs eps[3] = {
                { .name = (char *)"api.x.test", .address = (char *)"127.0.0.1", .status = ENDPOINT_OK, .chain = &a, .n_chain = 1 },
                { .name = (char *)"api.x.test", .address = (char *)"127.0.0.2", .status = ENDPOINT_OK, .chain = &b, .n_chain = 1 },
                { .name = (char *)"api.x.test", .address = (char *)"127.0.0.3", .status = ENDPOINT_CONNECT_FAILED },
        };
        struct platform_obs obs = { .endpoints = eps, .n_endpoints = 3 };
        struct finding_list l = { 0 };

        secret_judge(&(struct secret_facts){ .what = "ns/wc", .sha256 = "aa", .key_matches = true }, &obs, &l);
        assert_int_equal(l.n, 1);
        assert_string_equal(l.items[0].def->id, "tls.secret.mismatch");
        assert_string_equal(l.items[0].address, "127.0.0.2");
        assert_string_equal(l.items[0].message, "127.0.0.2 serves for api.x.test the certificate sha256 bb, but "
                                                 "Secret ns/wc holds aa: reload the pods or ingress that serve it");
        finding_list_clear(&l);
        secret_judge(&(struct secret_facts){ .what = "ns/wc", .sha256 = "bb", .key_matches = false }, &obs, &l);
        assert_int_equal(l.n, 2);
        assert_string_equal(l.items[0].def->id, "tls.secret.key-mismatch");
        assert_int_equal(l.items[0].severity, SEVERITY_CRITICAL);
        assert_string_equal(l.items[1].address, "127.0.0.1");
        finding_list_clear(&l);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_resolve),
                cmocka_unit_test(test_connect),
                cmocka_unit_test(test_chain_and_san),
                cmocka_unit_test(test_catalog),
                cmocka_unit_test(test_secret),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
