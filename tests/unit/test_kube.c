/* Unit tests for the Kubernetes API URLs: every path segment is
 * percent-encoded, so no namespace or object name (from a values file, say)
 * can reach another path with certvigil's bearer token. One row per case.
 * And a Certificate's status, read once into the report's fields and the
 * line renewal's messages quote. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kube.h"
#include "util.h"

#define SERVER "https://k8s.test:6443"

struct url_case {
        const char *ns, *name;
        const char *secret;        /* expected kube_secret_url() after SERVER */
        const char *certificate;   /* expected kube_certificate_url(..., false) after SERVER */
};

static const struct url_case cases[] = {
        { "ai-gateway", "ai-gateway-wildcard", "/api/v1/namespaces/ai-gateway/secrets/ai-gateway-wildcard",
          "/apis/cert-manager.io/v1/namespaces/ai-gateway/certificates/ai-gateway-wildcard" },
        { "gw", "wc.example.com", "/api/v1/namespaces/gw/secrets/wc.example.com",
          "/apis/cert-manager.io/v1/namespaces/gw/certificates/wc.example.com" },
        /* The injection of issue 9: it stays one segment. */
        { "gw", "../../../../../api/v1/namespaces/kube-system/secrets/x?y#",
          "/api/v1/namespaces/gw/secrets/..%2F..%2F..%2F..%2F..%2Fapi%2Fv1%2Fnamespaces%2Fkube-system%2Fsecrets%2Fx%3Fy%23",
          "/apis/cert-manager.io/v1/namespaces/gw/certificates/"
          "..%2F..%2F..%2F..%2F..%2Fapi%2Fv1%2Fnamespaces%2Fkube-system%2Fsecrets%2Fx%3Fy%23" },
        /* Dot segments would be resolved away by the client. */
        { "..", ".", "/api/v1/namespaces/%2E%2E/secrets/%2E",
          "/apis/cert-manager.io/v1/namespaces/%2E%2E/certificates/%2E" },
        { "a/b", "x y%\xff", "/api/v1/namespaces/a%2Fb/secrets/x%20y%25%FF",
          "/apis/cert-manager.io/v1/namespaces/a%2Fb/certificates/x%20y%25%FF" },
};

static struct kube *open_fake(void) {
        char path[] = "/tmp/test_kube.XXXXXX";
        const char *text = "apiVersion: v1\ncurrent-context: c\n"
                           "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
                           "clusters: [{name: k, cluster: {server: \"" SERVER "/\"}}]\n"
                           "users: [{name: u, user: {token: not-a-secret}}]\n";
        _cleanup_free_ char *error = NULL;
        struct kube *k = NULL;
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        if (kube_open(path, false, &k, &error) < 0)
                fail_msg("kube_open: %s", error);
        unlink(path);
        return k;
}

static void test_urls(void **state) {
        struct kube *k = open_fake();

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const struct url_case *t = &cases[i];
                _cleanup_free_ char *secret = kube_secret_url(k, t->ns, t->name);
                _cleanup_free_ char *cert = kube_certificate_url(k, t->ns, t->name, false);
                _cleanup_free_ char *status = kube_certificate_url(k, t->ns, t->name, true);
                _cleanup_free_ char *want_secret = xasprintf(SERVER "%s", t->secret);
                _cleanup_free_ char *want_cert = xasprintf(SERVER "%s", t->certificate);
                _cleanup_free_ char *want_status = xasprintf(SERVER "%s/status?fieldManager=certvigil", t->certificate);

                if (strcmp(secret, want_secret) != 0 || strcmp(cert, want_cert) != 0 ||
                    strcmp(status, want_status) != 0)
                        fail_msg("case %zu:\n  got  %s\n       %s\n       %s\n  want %s\n       %s\n       %s", i,
                                 secret, cert, status, want_secret, want_cert, want_status);
        }
        kube_free(k);
}

/* s with every "DIR" replaced by dir. Caller frees. */
static char *with_dir(const char *s, const char *dir) {
        char *out = xstrdup(""), *t;
        const char *m;

        while ((m = strstr(s, "DIR"))) {
                t = xasprintf("%s%.*s%s", out, (int)(m - s), s, dir);
                free(out);
                out = t;
                s = m + 3;
        }
        t = xasprintf("%s%s", out, s);
        free(out);
        return t;
}

/* kube_open() on a kubeconfig file: what it accepts and the error each
 * mistake gets. "DIR" in a row stands for the folder the file is in. */
static void test_kubeconfig(void **state) {
#define CTX "current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n"
        static const struct {
                const char *text;
                const char *error;      /* NULL: accepted */
                const char *server;     /* kube_secret_url(k, "n", "s") when accepted */
        } rows[] = {
                { CTX "clusters: [{name: k, cluster: {server: \"https://k8s.test:6443/\"}}]\n"
                      "users: [{name: u, user: {token: abc}}]\n",
                  NULL, "https://k8s.test:6443/api/v1/namespaces/n/secrets/s" },
                { CTX "clusters: [{name: k, cluster: {server: https://k8s.test, certificate-authority: ca.pem}}]\n"
                      "users: [{name: u, user: {tokenFile: token}}]\n",
                  NULL, "https://k8s.test/api/v1/namespaces/n/secrets/s" },
                { CTX "clusters: [{name: k, cluster: {server: https://k8s.test, certificate-authority-data: "
                      "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==}}]\n"
                      "users: [{name: u, user: {token: \"abc \\r\\n\"}}]\n",
                  NULL, "https://k8s.test/api/v1/namespaces/n/secrets/s" },
                { "a: [", "DIR/kubeconfig:2:1: kubeconfig is not valid YAML: did not find expected node content",
                  NULL },
                { "", "kubeconfig DIR/kubeconfig: current-context does not name a cluster and a user", NULL },
                { CTX "clusters: [{name: k, cluster: {server: https://k8s.test}}]\n",
                  "kubeconfig DIR/kubeconfig: current-context does not name a cluster and a user", NULL },
                { CTX "clusters: [{name: k, cluster: {server: http://k8s.test}}]\n"
                      "users: [{name: u, user: {token: a}}]\n",
                  "kubeconfig DIR/kubeconfig: the cluster's server must be an https:// URL", NULL },
                /* No host: nothing to connect to. */
                { CTX "clusters: [{name: k, cluster: {server: \"https://\"}}]\n"
                      "users: [{name: u, user: {token: a}}]\n",
                  "kubeconfig DIR/kubeconfig: the cluster's server must be an https:// URL", NULL },
                { CTX "clusters: [{name: k, cluster: {server: \"https:///api\"}}]\n"
                      "users: [{name: u, user: {token: a}}]\n",
                  "kubeconfig DIR/kubeconfig: the cluster's server must be an https:// URL", NULL },
                { CTX "clusters: [{name: k, cluster: {server: https://k8s.test, certificate-authority-data: \"*\"}}]\n"
                      "users: [{name: u, user: {token: a}}]\n",
                  "kubeconfig DIR/kubeconfig: certificate-authority-data is not base64", NULL },
                { CTX "clusters: [{name: k, cluster: {server: https://k8s.test}}]\nusers: [{name: u, user: {}}]\n",
                  "kubeconfig DIR/kubeconfig: the user needs a bearer token (token or tokenFile); client certificates "
                  "are not supported",
                  NULL },
                { CTX "clusters: [{name: k, cluster: {server: https://k8s.test}}]\n"
                      "users: [{name: u, user: {token: \"a\\nInjected: b\"}}]\n",
                  "kubeconfig DIR/kubeconfig: the user needs a bearer token (token or tokenFile); client certificates "
                  "are not supported",
                  NULL },
                { CTX "clusters: [{name: k, cluster: {server: https://k8s.test}}]\n"
                      "users: [{name: u, user: {tokenFile: missing}}]\n",
                  "kubeconfig DIR/kubeconfig: cannot read tokenFile DIR/missing: No such file or directory", NULL },
                { CTX "clusters: [{name: k, cluster: {server: https://k8s.test, certificate-authority: missing.pem}}]\n"
                      "users: [{name: u, user: {token: a}}]\n",
                  "kubeconfig DIR/kubeconfig: cannot read certificate-authority DIR/missing.pem: No such file or "
                  "directory",
                  NULL },
        };
#undef CTX
        char dir[] = "/tmp/test_kube.XXXXXX";
        _cleanup_free_ char *path = NULL, *token = NULL, *ca = NULL;

        assert_non_null(mkdtemp(dir));
        path = xasprintf("%s/kubeconfig", dir);
        token = xasprintf("%s/token", dir);
        ca = xasprintf("%s/ca.pem", dir);
        assert_int_equal(write_file_atomic(token, "from-a-file\n", 12), 0);
        assert_int_equal(write_file_atomic(ca, "not read here\n", 14), 0);
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_free_ char *error = NULL, *want = NULL, *url = NULL;
                struct kube *k = NULL;
                int r;

                assert_int_equal(write_file_atomic(path, rows[i].text, strlen(rows[i].text)), 0);
                r = kube_open(path, false, &k, &error);
                if (!rows[i].error) {
                        if (r < 0)
                                fail_msg("row %zu: %s", i, error);
                        url = kube_secret_url(k, "n", "s");
                        if (strcmp(url, rows[i].server) != 0)
                                fail_msg("row %zu: %s", i, url);
                        kube_free(k);
                        continue;
                }
                want = with_dir(rows[i].error, dir);
                if (r >= 0 || !error || strcmp(error, want) != 0)
                        fail_msg("row %zu: r=%d\n  got  %s\n  want %s", i, r, error ? error : "(none)", want);
        }
        assert_int_equal(unlink(path), 0);
        assert_int_equal(unlink(token), 0);
        assert_int_equal(unlink(ca), 0);
        assert_int_equal(rmdir(dir), 0);
}

struct status_case {
        const char *json;
        bool issuing;
        const char *line;
};

static void test_certificate_status(void **state) {
        static const struct status_case status_cases[] = {
                { "{\"status\": {\"conditions\": [{\"type\": \"Ready\", \"status\": \"False\", \"reason\": \"Expired\","
                  " \"message\": \"renewal failed\"}], \"renewalTime\": \"2026-11-20T00:00:00Z\","
                  " \"failedIssuanceAttempts\": 2, \"lastFailureTime\": \"2026-11-25T10:00:00Z\"}}",
                  false,
                  "Ready=False (Expired: renewal failed), renewalTime 2026-11-20T00:00:00Z, failedIssuanceAttempts 2, "
                  "lastFailureTime 2026-11-25T10:00:00Z" },
                { "{\"status\": {\"conditions\": [{\"type\": \"Issuing\", \"status\": \"True\"},"
                  " {\"type\": \"Ready\", \"status\": \"True\"}]}}",
                  true, "Ready=True, renewalTime -, failedIssuanceAttempts 0, lastFailureTime -, Issuing=True" },
                { "{}", false, "Ready unknown, renewalTime -, failedIssuanceAttempts 0, lastFailureTime -" },
                /* Not a string: ignored, never printed as garbage. */
                { "{\"status\": {\"conditions\": [{\"type\": \"Ready\", \"status\": 1}], \"renewalTime\": 5}}",
                  false, "Ready unknown, renewalTime -, failedIssuanceAttempts 0, lastFailureTime -" },
                /* Control bytes are escaped. */
                { "{\"status\": {\"renewalTime\": \"x\\u001b[2Jy\"}}", false,
                  "Ready unknown, renewalTime x\\x1b[2Jy, failedIssuanceAttempts 0, lastFailureTime -" },
        };

        for (size_t i = 0; i < ELEMENTSOF(status_cases); i++) {
                json_t *cert = json_loads(status_cases[i].json, 0, NULL);
                struct certmanager_obs o = { 0 };
                _cleanup_free_ char *line = NULL;

                assert_non_null(cert);
                certmanager_fill_obs(cert, &o);
                line = certmanager_describe(&o);
                if (o.issuing != status_cases[i].issuing || strcmp(line, status_cases[i].line) != 0)
                        fail_msg("case %zu:\n  got  %d %s\n  want %d %s", i, o.issuing, line, status_cases[i].issuing,
                                 status_cases[i].line);
                certmanager_obs_done(&o);
                json_decref(cert);
        }
}

/* The message a refusal from the API server is quoted with. */
static void test_status_message(void **state) {
        static const struct {
                const char *body;       /* NULL: no body */
                const char *message;
        } rows[] = {
                { "{\"kind\": \"Status\", \"message\": \"certificates \\\"w\\\" is forbidden\", \"code\": 403}",
                  "certificates \"w\" is forbidden" },
                { "{\"message\": \"a\\u001b[2Jb\"}", "a\\x1b[2Jb" },
                { "{\"message\": 5}", "no message" },
                { "<html>", "no message" },
                { NULL, "no message" },
        };
        _cleanup_free_ char *long_body = NULL, *cut = NULL;

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                const char *b = rows[i].body;
                _cleanup_free_ char *m =
                        kube_status_message((const unsigned char *)b, b ? strlen(b) : 0);
                if (strcmp(m, rows[i].message) != 0)
                        fail_msg("row %zu: '%s', expected '%s'", i, m, rows[i].message);
        }
        long_body = xasprintf("{\"message\": \"%0300d\"}", 0);
        cut = kube_status_message((const unsigned char *)long_body, strlen(long_body));
        assert_int_equal(strlen(cut), 200);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_urls),
                cmocka_unit_test(test_kubeconfig),
                cmocka_unit_test(test_certificate_status),
                cmocka_unit_test(test_status_message),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
