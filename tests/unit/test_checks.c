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
#include "silence.h"
#include "util.h"

#define NOW ((time_t)1795702927)

static char *sans_ok[] = { (char *)"*.ok.example.test", NULL };
static char *sans_other[] = { (char *)"www.ok.example.test", (char *)"*.other.example.test", NULL };
static char *addrs[] = { (char *)"127.0.0.1", NULL };

static struct platform platform = {
        .name = (char *)"t",
        .base_domain = (char *)"ok.example.test",
        .separator = '.',
        .tls_mode = TLS_MODE_PROVIDED,
        .le_issuer = (char *)"letsencrypt-prod",
        .trust = (char *)"system",
        .warn_days = 21,
        .critical_days = 7,
        .warn_share = 1.0 / 3.0,
        .critical_share = 0.1,
        .renew_at = 0.67,
        .resolvers = NULL,
};
static struct plan_name plan_names[] = {
        { SERVICE_API, (char *)"api.ok.example.test" },
        { SERVICE_CONSOLE, (char *)"console.ok.example.test" },
};
static struct plan plan = { .wildcard = (char *)"*.ok.example.test", .names = plan_names, .n_names = 2 };

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
        /* 127.0.0.2 serves its leaf alone, and the issuer is no anchor. */
        assert_string_equal(got, "tls.chain.incomplete critical api.ok.example.test 127.0.0.2\n");
        free(got);

        got = run_check(&check_tls_san, &obs);
        assert_string_equal(got, "tls.san.mismatch critical api.ok.example.test 127.0.0.2\n"
                                 "tls.san.mismatch critical api.ok.example.test 127.0.0.3\n"
                                 "tls.san.mismatch critical ok.example.test 127.0.0.1\n");
        free(got);
}

#define DAY 86400

static struct cert_obs mk(const char *subject, const char *issuer) {
        return (struct cert_obs){ .subject = (char *)subject, .issuer = (char *)issuer, .san = sans_ok,
                                  .sha256 = (char *)subject, .serial = (char *)"01", .key = (char *)"ECDSA",
                                  .key_kind = CERT_KEY_EC, .key_bits = 256, .sig_algo = (char *)"ECDSA-SHA256",
                                  .sig_hash = (char *)"SHA256", .self_issued = strcmp(subject, issuer) == 0,
                                  .not_before = NOW - 10 * DAY, .not_after = NOW + 80 * DAY };
}

static char *run_one(const struct check *c, struct cert_obs *chain, size_t n, bool verified) {
        struct endpoint_obs ep = { .name = (char *)"api.ok.example.test", .address = (char *)"127.0.0.1",
                                   .status = ENDPOINT_OK, .chain = chain, .n_chain = n, .n_served = n,
                                   .served_bytes = n * 1000, .verified = verified,
                                   .verify_error = verified ? NULL : (char *)"not verified" };
        struct platform_obs obs = { .endpoints = &ep, .n_endpoints = 1 };
        return run_check(c, &obs);
}

/* The path through the served chain: one row per shape. */
static void test_chain_shapes(void **state) {
        struct cert_obs leaf = mk("CN=leaf", "CN=inter"), inter = mk("CN=inter", "CN=root"),
                        root = mk("CN=root", "CN=root"), stray = mk("CN=stray", "CN=elsewhere"),
                        inter_anchor = inter;
        inter_anchor.issuer_is_anchor = true;
        struct {
                const char *what;
                struct cert_obs chain[4];
                size_t n;
                bool verified;
                const char *expect;
        } rows[] = {
                { "leaf + inter (anchor)", { leaf, inter_anchor }, 2, true, "" },
                { "leaf + inter + root", { leaf, inter, root }, 3, true, "" },
                { "leaf alone", { leaf }, 1, false, "tls.chain.incomplete critical api.ok.example.test 127.0.0.1\n" },
                { "inter before leaf's issuer order", { leaf, root, inter }, 3, true,
                  "tls.chain.order warning api.ok.example.test 127.0.0.1\n" },
                { "extra certificate", { leaf, inter_anchor, stray }, 3, true,
                  "tls.chain.order warning api.ok.example.test 127.0.0.1\n" },
                /* The leaf's issuer is served: an unknown root, not a
                 * missing intermediate. */
                { "leaf + inter, root unknown", { leaf, inter }, 2, false,
                  "tls.chain.untrusted critical api.ok.example.test 127.0.0.1\n" },
                { "complete but unknown root", { leaf, inter, root }, 3, false,
                  "tls.chain.untrusted critical api.ok.example.test 127.0.0.1\n" },
                { "self-signed leaf, not trusted", { mk("CN=self", "CN=self") }, 1, false,
                  "tls.chain.untrusted critical api.ok.example.test 127.0.0.1\n" },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                char *got = run_one(&check_tls_chain, rows[i].chain, rows[i].n, rows[i].verified);
                if (strcmp(got, rows[i].expect) != 0)
                        fail_msg("%s: got '%s'", rows[i].what, got);
                free(got);
        }

        /* Oversized: 12 certificates served (only the first are kept). */
        struct cert_obs big[2] = { leaf, inter_anchor };
        struct endpoint_obs ep = { .name = (char *)"api.ok.example.test", .address = (char *)"127.0.0.1",
                                   .status = ENDPOINT_OK, .chain = big, .n_chain = 2, .n_served = 12,
                                   .served_bytes = 9000, .verified = true };
        struct platform_obs obs = { .endpoints = &ep, .n_endpoints = 1 };
        char *got = run_check(&check_tls_chain, &obs);
        assert_string_equal(got, "tls.chain.oversized warning api.ok.example.test 127.0.0.1\n");
        free(got);
        ep.n_served = 2;
        ep.served_bytes = 70000;
        got = run_check(&check_tls_chain, &obs);
        assert_string_equal(got, "tls.chain.oversized warning api.ok.example.test 127.0.0.1\n");
        free(got);
}

/* tls.renewal.overdue at 60%, 70% and 80% of 90-day, 45-day and 6-day
 * lifetimes, renewal due at 67% plus the margin. */
static void test_renewal(void **state) {
        static const struct {
                double lifetime_days, elapsed_share;
                bool overdue;
        } rows[] = {
                { 90, 0.60, false }, { 90, 0.68, false }, { 90, 0.70, true }, { 90, 0.80, true },
                { 45, 0.60, false }, { 45, 0.70, true }, { 45, 0.80, true },
                { 6, 0.60, false }, { 6, 0.67, false }, { 6, 0.70, true }, { 6, 0.80, true },
                { 90, 0.11, false },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct cert_obs leaf = mk("CN=leaf", "CN=inter");
                time_t lifetime = (time_t)(rows[i].lifetime_days * DAY);
                leaf.not_before = NOW - (time_t)(lifetime * rows[i].elapsed_share);
                leaf.not_after = leaf.not_before + lifetime;
                char *got = run_one(&check_tls_renewal, &leaf, 1, true);
                const char *expect = rows[i].overdue ? "tls.renewal.overdue warning api.ok.example.test 127.0.0.1\n" : "";
                if (strcmp(got, expect) != 0)
                        fail_msg("%.0f-day lifetime at %.0f%%: got '%s'", rows[i].lifetime_days,
                                 rows[i].elapsed_share * 100, got);
                free(got);
        }
        /* 90 days: due after 60.3 + 1.8 days, so it fires with 27.9 days
         * left, weeks before tls.expiry.critical's 7. */
        assert_true(renewal_due_after(90.0 * DAY, 0.67) / DAY > 62.0);
        assert_true(renewal_due_after(90.0 * DAY, 0.67) / DAY < 62.2);
        /* 6 days: 2% of the lifetime (2.9 h) is above the one-hour floor. */
        assert_true(renewal_due_after(6.0 * DAY, 0.67) > 0.67 * 6 * DAY + 3600);
}

static void test_wildcard(void **state) {
        static char *exact[] = { (char *)"api.ok.example.test", (char *)"console.ok.example.test", NULL };
        static char *parent[] = { (char *)"*.example.test", NULL };
        static char *some[] = { (char *)"api.ok.example.test", NULL };
        struct cert_obs leaf = mk("CN=leaf", "CN=inter");
        char *got;

        got = run_one(&check_tls_wildcard, &leaf, 1, true);
        assert_string_equal(got, "");
        free(got);
        leaf.san = exact;
        got = run_one(&check_tls_wildcard, &leaf, 1, true);
        assert_string_equal(got, "tls.wildcard.shape warning api.ok.example.test 127.0.0.1\n");
        free(got);
        /* Not all names covered and not the other separator's: san.mismatch's. */
        leaf.san = some;
        got = run_one(&check_tls_wildcard, &leaf, 1, true);
        assert_string_equal(got, "");
        free(got);
        /* *.example.test is the wildcard for "-": the separator changed. */
        leaf.san = parent;
        got = run_one(&check_tls_wildcard, &leaf, 1, true);
        assert_string_equal(got, "tls.wildcard.shape critical api.ok.example.test 127.0.0.1\n");
        free(got);
}

static void test_consistency(void **state) {
        struct cert_obs a = mk("CN=a", "CN=inter"), b = mk("CN=b", "CN=inter");
        struct endpoint_obs eps[] = {
                { .name = (char *)"api.ok.example.test", .address = (char *)"127.0.0.1", .status = ENDPOINT_OK,
                  .chain = &a, .n_chain = 1, .verified = true },
                { .name = (char *)"api.ok.example.test", .address = (char *)"127.0.0.2", .status = ENDPOINT_OK,
                  .chain = &a, .n_chain = 1, .verified = true },
                { .name = (char *)"api.ok.example.test", .address = (char *)"127.0.0.3",
                  .status = ENDPOINT_CONNECT_FAILED },
        };
        struct platform_obs obs = { .endpoints = eps, .n_endpoints = ELEMENTSOF(eps) };
        char *got = run_check(&check_tls_consistency, &obs);
        assert_string_equal(got, "");
        free(got);
        eps[1].chain = &b;
        got = run_check(&check_tls_consistency, &obs);
        assert_string_equal(got, "tls.cert.inconsistent warning - -\n");
        free(got);
}

static void test_issuer(void **state) {
        struct cert_obs le = mk("CN=leaf", "CN=R3,O=Let's Encrypt,C=US"),
                        staging = mk("CN=leaf", "CN=(STAGING) Ersatz Edamame E1,O=(STAGING) Let's Encrypt,C=US"),
                        corp = mk("CN=leaf", "CN=Corp CA,O=Example Corp");
        struct { enum tls_mode mode; const char *le_issuer, *expect_issuer; struct cert_obs *leaf; bool verified;
                 const char *expect; } rows[] = {
                { TLS_MODE_LETSENCRYPT, "letsencrypt-prod", NULL, &le, true, "" },
                { TLS_MODE_LETSENCRYPT, "letsencrypt-prod", NULL, &staging, false,
                  "tls.issuer.staging critical api.ok.example.test 127.0.0.1\n" },
                { TLS_MODE_LETSENCRYPT, "letsencrypt-staging", NULL, &staging, false,
                  "tls.issuer.staging-configured info - -\n" },
                { TLS_MODE_LETSENCRYPT, "letsencrypt-prod", NULL, &corp, true,
                  "tls.issuer.mode-mismatch critical api.ok.example.test 127.0.0.1\n" },
                { TLS_MODE_LETSENCRYPT, "letsencrypt-prod", "Example Corp", &corp, true, "" },
                /* A private trust bundle names the CA (row below sets it). */
                { TLS_MODE_LETSENCRYPT, "letsencrypt-private", NULL, &corp, true, "" },
                { TLS_MODE_PROVIDED, "letsencrypt-prod", NULL, &corp, true, "" },
                { TLS_MODE_PROVIDED, "letsencrypt-prod", "O=Other", &corp, true,
                  "tls.issuer.mode-mismatch critical api.ok.example.test 127.0.0.1\n" },
                { TLS_MODE_SELFSIGNED, "letsencrypt-prod", NULL, &corp, true, "" },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                platform.tls_mode = rows[i].mode;
                platform.le_issuer = (char *)rows[i].le_issuer;
                platform.expect_issuer = (char *)rows[i].expect_issuer;
                platform.trust = (char *)(strcmp(rows[i].le_issuer, "letsencrypt-private") == 0 ? "/etc/ca.pem" : "system");
                char *got = run_one(&check_tls_issuer, rows[i].leaf, 1, rows[i].verified);
                if (strcmp(got, rows[i].expect) != 0)
                        fail_msg("row %zu: got '%s'", i, got);
                free(got);
        }
        /* selfsigned, complete path, not verified against trust. */
        struct cert_obs self = mk("CN=self", "CN=self");
        platform.tls_mode = TLS_MODE_SELFSIGNED;
        char *got = run_one(&check_tls_issuer, &self, 1, false);
        assert_string_equal(got, "tls.issuer.mode-mismatch critical api.ok.example.test 127.0.0.1\n");
        free(got);
        platform.tls_mode = TLS_MODE_PROVIDED;
        platform.le_issuer = (char *)"letsencrypt-prod";
        platform.expect_issuer = NULL;
        platform.trust = (char *)"system";
}

static void test_ingress_key_protocol_revoked(void **state) {
        static char *subjects[] = { (char *)"CN=Kubernetes Ingress Controller Fake Certificate",
                                    (char *)"CN=TRAEFIK DEFAULT CERT", NULL };
        struct cert_obs fake = mk("O=Acme Co,CN=Kubernetes Ingress Controller Fake Certificate", "CN=x");
        struct endpoint_obs ep = { .name = (char *)"api.ok.example.test", .address = (char *)"127.0.0.1",
                                   .status = ENDPOINT_OK, .chain = &fake, .n_chain = 1, .verified = false };
        struct platform_obs obs = { .endpoints = &ep, .n_endpoints = 1 };
        struct check_ctx ctx = { .platform = &platform, .plan = &plan, .obs = &obs, .now = NOW,
                                 .ingress_subjects = subjects };
        struct finding_list out = { 0 };
        assert_int_equal(check_tls_ingress.run(&ctx, &out), 0);
        assert_int_equal(out.n, 1);
        assert_string_equal(out.items[0].def->id, "tls.cert.ingress-default");
        finding_list_clear(&out);

        struct cert_obs weak[3] = { mk("CN=leaf", "CN=inter"), mk("CN=inter", "CN=root"), mk("CN=root", "CN=root") };
        weak[0].key_kind = CERT_KEY_RSA;
        weak[0].key_bits = 1024;
        weak[1].sig_hash = (char *)"SHA1";
        weak[2].sig_hash = (char *)"SHA1"; /* the root's own signature does not count */
        char *got = run_one(&check_tls_key, weak, 3, true);
        assert_string_equal(got, "tls.key.weak warning api.ok.example.test 127.0.0.1\n"
                                 "tls.signature.weak warning api.ok.example.test 127.0.0.1\n");
        free(got);
        weak[0].key_kind = CERT_KEY_EC;
        weak[0].key_bits = 224;
        weak[1].sig_hash = (char *)"SHA256";
        got = run_one(&check_tls_key, weak, 3, true);
        assert_string_equal(got, "tls.key.weak warning api.ok.example.test 127.0.0.1\n");
        free(got);

        struct cert_obs leaf = mk("CN=leaf", "CN=inter");
        struct endpoint_obs eps[] = {
                { .name = (char *)"api.ok.example.test", .address = (char *)"127.0.0.1", .status = ENDPOINT_OK,
                  .chain = &leaf, .n_chain = 1, .verified = true, .legacy = LEGACY_ACCEPTED,
                  .legacy_detail = (char *)"TLS1.0", .crl_status = CRL_REVOKED },
                { .name = (char *)"api.ok.example.test", .address = (char *)"127.0.0.2", .status = ENDPOINT_OK,
                  .chain = &leaf, .n_chain = 1, .verified = true, .legacy = LEGACY_REFUSED,
                  .crl_status = CRL_REVOKED },
        };
        struct platform_obs obs2 = { .endpoints = eps, .n_endpoints = 2 };
        got = run_check(&check_tls_protocol, &obs2);
        assert_string_equal(got, "tls.protocol.legacy warning api.ok.example.test 127.0.0.1\n");
        free(got);
        got = run_check(&check_tls_revoked, &obs2);
        assert_string_equal(got, "tls.revoked critical api.ok.example.test 127.0.0.1\n");
        free(got);
        eps[0].crl_status = eps[1].crl_status = CRL_UNKNOWN;
        got = run_check(&check_tls_revoked, &obs2);
        assert_string_equal(got, "");
        free(got);
}

/* tls.kx.weak, one row per key exchange: only RSA key transport and
 * finite-field DH under 2048 bits are weak; a DHE size not learnt is not. */
static void test_kx(void **state) {
        static const struct {
                enum endpoint_status status;
                enum kx_kind kind;
                unsigned bits;
                bool weak;
        } rows[] = {
                { ENDPOINT_OK, KX_ECDHE, 256, false },
                { ENDPOINT_OK, KX_ECDHE, 0, false },
                { ENDPOINT_OK, KX_DHE, 1024, true },
                { ENDPOINT_OK, KX_DHE, 2047, true },
                { ENDPOINT_OK, KX_DHE, 2048, false },
                { ENDPOINT_OK, KX_DHE, 0, false },
                { ENDPOINT_OK, KX_RSA, 0, true },
                { ENDPOINT_OK, KX_OTHER, 0, false },
                { ENDPOINT_HANDSHAKE_FAILED, KX_RSA, 0, false },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct endpoint_obs e = { .name = (char *)"api.ok.example.test", .address = (char *)"127.0.0.1",
                                          .port = 443, .status = rows[i].status, .kx_kind = rows[i].kind,
                                          .kx_bits = rows[i].bits, .cipher_suite = (char *)"TLS_X" };
                struct platform_obs obs = { .endpoints = &e, .n_endpoints = 1 };
                char *got = run_check(&check_tls_kx, &obs);
                assert_string_equal(got, rows[i].weak ? "tls.kx.weak warning api.ok.example.test 127.0.0.1\n" : "");
                free(got);
        }
}

/* The DNSSEC verdicts: bogus names and DNS-01 answers, signatures expiring
 * within dnssec_warn_days (one finding per signing zone), and nothing at all
 * when the resolvers do not serve the anchor zone. */
static void test_dnssec(void **state) {
        struct dnssec_answer_obs answers[] = {
                { .name = (char *)"api.ok.example.test", .type = 1, .purpose = DNSSEC_FOR_NAME,
                  .state = DNSSEC_BOGUS, .why_bogus = (char *)"validation failure: signature expired" },
                { .name = (char *)"console.ok.example.test", .type = 1, .purpose = DNSSEC_FOR_NAME,
                  .state = DNSSEC_SECURE, .rrsig_expires = NOW + 86400, .rrsig_signer = (char *)"example.test",
                  .rrsig_over = (char *)"console.ok.example.test A" },
                { .name = (char *)"_acme-challenge.ok.example.test", .type = 16, .purpose = DNSSEC_FOR_CHALLENGE,
                  .state = DNSSEC_SECURE, .rrsig_expires = NOW + 3600, .rrsig_signer = (char *)"example.test" },
                { .name = (char *)"ok.example.test", .type = 257, .purpose = DNSSEC_FOR_CAA, .state = DNSSEC_BOGUS },
                { .name = (char *)"example.test", .type = 257, .purpose = DNSSEC_FOR_CAA,
                  .state = DNSSEC_INSECURE, .rrsig_expires = NOW + 60, .rrsig_signer = (char *)"other.test" },
                { .name = (char *)"x.example.test", .type = 1, .purpose = DNSSEC_FOR_NAME, .state = DNSSEC_SECURE,
                  .rrsig_expires = NOW + 30 * 86400, .rrsig_signer = (char *)"x.test" },
        };
        struct platform_obs obs = { 0 };
        obs.dns.dnssec = (struct dnssec_obs){ .enabled = true, .ran = true, .anchor_usable = true,
                                               .trust_anchor = (char *)"ta.key", .answers = answers,
                                               .n_answers = ELEMENTSOF(answers) };
        platform.dnssec_warn_days = 3;
        char *got = run_check(&check_dnssec, &obs);
        assert_string_equal(got, "dns.dnssec.bogus critical api.ok.example.test -\n"
                                 "dns01.dnssec.bogus critical - -\n"
                                 "dns.dnssec.expiring warning - -\n");
        free(got);
        platform.dnssec_warn_days = 0;
        got = run_check(&check_dnssec, &obs);
        assert_string_equal(got, "dns.dnssec.bogus critical api.ok.example.test -\n"
                                 "dns01.dnssec.bogus critical - -\n");
        free(got);
        /* No verdict (the worker could not fork, a validator timeout): one
         * warning; none when the audit deadline cut them short. */
        struct dnssec_answer_obs blind[] = {
                { .name = (char *)"api.ok.example.test", .type = 1, .purpose = DNSSEC_FOR_NAME,
                  .state = DNSSEC_SECURE },
                { .name = (char *)"console.ok.example.test", .type = 1, .purpose = DNSSEC_FOR_NAME,
                  .state = DNSSEC_FAILED, .error = (char *)"validating resolver: could not fork" },
                { .name = (char *)"auth.ok.example.test", .type = 1, .purpose = DNSSEC_FOR_NAME,
                  .state = DNSSEC_NOT_RUN, .error = (char *)"no verdict within the time allowed (timeout)" },
                { .name = (char *)"grafana.ok.example.test", .type = 1, .purpose = DNSSEC_FOR_NAME,
                  .state = DNSSEC_NOT_RUN },
        };
        obs.dns.dnssec.answers = blind;
        obs.dns.dnssec.n_answers = ELEMENTSOF(blind);
        got = run_check(&check_dnssec, &obs);
        assert_string_equal(got, "dns.dnssec.unchecked warning - -\n");
        free(got);
        obs.deadline_reached = true;
        got = run_check(&check_dnssec, &obs);
        assert_string_equal(got, "");
        free(got);
        obs.deadline_reached = false;
        blind[1].state = DNSSEC_INSECURE;
        blind[2].error = NULL;
        got = run_check(&check_dnssec, &obs);
        assert_string_equal(got, "");
        free(got);
        obs.dns.dnssec.anchor_usable = false;
        got = run_check(&check_dnssec, &obs);
        assert_string_equal(got, "");
        free(got);
        platform.dnssec_warn_days = 3;
}

/* tls.ct.missing: two SCTs from distinct logs pass; the same log twice or
 * none fail; with private trust only when ct.required. */
static void test_ct(void **state) {
        struct sct_obs two[] = { { (char *)"qq==", 1 }, { (char *)"uw==", 2 } };
        struct sct_obs same[] = { { (char *)"qq==", 1 }, { (char *)"qq==", 2 } };
        static const struct {
                const char *trust;
                bool required, verified;
                int which;            /* 0 none, 1 two logs, 2 same log */
                bool missing;
        } rows[] = {
                { "system", false, true, 1, false },  { "system", false, true, 2, true },
                { "system", false, true, 0, true },   { "system", false, false, 0, false },
                { "/root.pem", false, true, 0, false }, { "/root.pem", true, true, 0, true },
                { "/root.pem", true, false, 2, true }, { "/root.pem", true, true, 1, false },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct cert_obs leaf = mk("CN=leaf", "CN=inter");
                leaf.has_scts = rows[i].which != 0;
                leaf.scts = rows[i].which == 1 ? two : rows[i].which == 2 ? same : NULL;
                leaf.n_scts = rows[i].which ? 2 : 0;
                char *saved = platform.trust;
                platform.trust = (char *)rows[i].trust;
                platform.ct_required = rows[i].required;
                char *got = run_one(&check_tls_ct, &leaf, 1, rows[i].verified);
                assert_string_equal(got, rows[i].missing ? "tls.ct.missing critical api.ok.example.test 127.0.0.1\n" : "");
                free(got);
                platform.trust = saved;
                platform.ct_required = false;
        }
}

/* Certificate-level findings name the first endpoint in plan order,
 * whatever order the DNS answers came in. */
static void test_plan_order(void **state) {
        struct cert_obs leaf = mk("CN=leaf", "CN=inter");
        struct name_obs names[] = {
                { .service = SERVICE_API, .name = (char *)"api.ok.example.test", .status = DNS_STATUS_OK },
                { .service = SERVICE_CONSOLE, .name = (char *)"console.ok.example.test", .status = DNS_STATUS_OK },
        };
        struct endpoint_obs eps[] = {
                { .name = (char *)"console.ok.example.test", .address = (char *)"127.0.0.1", .status = ENDPOINT_OK,
                  .chain = &leaf, .n_chain = 1, .verified = true },
                { .name = (char *)"api.ok.example.test", .address = (char *)"127.0.0.2", .status = ENDPOINT_OK,
                  .chain = &leaf, .n_chain = 1, .verified = true },
                { .name = (char *)"api.ok.example.test", .address = (char *)"127.0.0.1", .status = ENDPOINT_OK,
                  .chain = &leaf, .n_chain = 1, .verified = true },
        };
        struct platform_obs obs = { .names = names, .n_names = 2, .endpoints = eps, .n_endpoints = 3 };
        assert_false(endpoint_is_first_with_leaf(&obs, 0));
        assert_false(endpoint_is_first_with_leaf(&obs, 1));
        assert_true(endpoint_is_first_with_leaf(&obs, 2));
        assert_int_equal(endpoints_with_leaf(&obs, 0), 3);
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

/* ignore: silences, as a table: which findings a silence marks, and the
 * warning an ended one adds instead. */
static void test_silences(void **state) {
        static const struct finding_def exp_warn = { "tls.expiry.warning", SEVERITY_WARNING,
                                                     "00000000000000000000000000000001", "t" };
        static const struct finding_def overdue = { "tls.renewal.overdue", SEVERITY_WARNING,
                                                    "00000000000000000000000000000002", "t" };
        const time_t now = 1800000000;
        static const struct {
                const char *id, *glob;
                long until_from_now;
                const char *silenced;   /* one char per finding: s = silenced, - = not */
                size_t added;           /* finding.silence.expired added */
        } rows[] = {
                { "tls.expiry.warning", NULL, 86400, "ss-", 0 },
                { "tls.expiry.warning", "API.*", 86400, "s--", 0 },
                { "tls.expiry.warning", "*.example.test", 86400, "ss-", 0 },
                { "tls.expiry.warning", "grafana.*", 86400, "---", 0 },
                { "tls.renewal.overdue", NULL, 86400, "--s", 0 },
                /* A glob never matches a finding without a name. */
                { "tls.renewal.overdue", "*", 86400, "---", 0 },
                { "tls.expiry.warning", NULL, 0, "---", 1 },
                { "tls.expiry.warning", NULL, -86400, "---", 1 },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct silence s = { .id = (char *)rows[i].id, .name = (char *)rows[i].glob,
                                     .until = now + rows[i].until_from_now, .reason = (char *)"because" };
                struct platform p = { .name = (char *)"lab", .silences = &s, .n_silences = 1 };
                struct finding_list l = { 0 };
                size_t counts[3];

                finding_emit(&l, &exp_warn, "api.example.test", "192.0.2.1", "a");
                finding_emit(&l, &exp_warn, "console.example.test", "192.0.2.1", "b");
                finding_emit(&l, &overdue, NULL, NULL, "c");
                silence_apply(&p, now, &l);
                assert_int_equal(l.n, 3 + rows[i].added);
                for (size_t k = 0; k < 3; k++) {
                        bool want = rows[i].silenced[k] == 's';
                        if ((l.items[k].silenced != NULL) != want)
                                fail_msg("row %zu finding %zu: silenced %d, want %d", i, k,
                                         l.items[k].silenced != NULL, want);
                        if (want)
                                assert_int_equal(l.items[k].silenced_until, s.until);
                }
                if (rows[i].added)
                        assert_string_equal(l.items[3].def->id, "finding.silence.expired");
                /* Silenced findings count nowhere. */
                size_t n_silenced = 0;
                for (size_t k = 0; k < 3; k++)
                        n_silenced += rows[i].silenced[k] == 's';
                finding_list_count(&l, counts);
                assert_int_equal(counts[SEVERITY_WARNING], 3 + rows[i].added - n_silenced);
                finding_list_clear(&l);
        }
}


/* certvigil check: a PLATFORM_HOST runs only the single-name checks. */
static char *run_all(const struct platform *p, const struct plan *pl, struct platform_obs *obs) {
        struct check_ctx ctx = { .platform = p, .plan = pl, .obs = obs, .now = NOW };
        struct finding_list out = { 0 };
        char *s = xstrdup("");

        checks_run(&ctx, &out);
        for (size_t i = 0; i < out.n; i++) {
                char *n = xasprintf("%s%s %s\n", s, out.items[i].def->id, severity_to_string(out.items[i].severity));
                free(s);
                s = n;
        }
        finding_list_clear(&out);
        return s;
}

static void test_host(void **state) {
        static char *sans_a[] = { (char *)"a.example.test", NULL };
        static char *sans_b[] = { (char *)"b.example.test", NULL };
        static char *sans_wild[] = { (char *)"*.example.test", NULL };
        static char *text_ip[] = { (char *)"127.0.0.1", NULL };
        static char *ip_1[] = { (char *)"127.0.0.1", NULL };
        static char *ip_2[] = { (char *)"127.0.0.2", NULL };
        struct platform host = platform;
        struct plan_name names[] = { { SERVICE_HOST, (char *)"a.example.test" } };
        struct plan pl = { .names = names, .n_names = 1 };
        /* 80% of a 100-day lifetime gone, 20 days left: an expiry warning
         * for both kinds, renewal overdue for the gateway alone. */
        struct cert_obs leaf = mk("CN=a", "CN=inter");
        struct endpoint_obs ep = { .name = (char *)"a.example.test", .address = (char *)"127.0.0.1",
                                   .port = 443, .status = ENDPOINT_OK, .chain = &leaf, .n_chain = 1,
                                   .verified = true, .legacy = LEGACY_REFUSED };
        struct name_obs n = { .service = SERVICE_HOST, .name = (char *)"a.example.test", .status = DNS_STATUS_OK,
                              .addresses = addrs };
        struct platform_obs obs = { .names = &n, .n_names = 1, .endpoints = &ep, .n_endpoints = 1 };
        char *got;

        host.kind = PLATFORM_HOST;
        host.trust = (char *)"/ca.pem";
        leaf.san = sans_a;
        leaf.not_before = NOW - 80 * 86400;
        leaf.not_after = NOW + 20 * 86400;
        got = run_all(&host, &pl, &obs);
        assert_string_equal(got, "tls.expiry.warning warning\n");
        free(got);
        /* The positive control: the same observations as a gateway. */
        host.kind = PLATFORM_GATEWAY;
        got = run_all(&host, &pl, &obs);
        assert_non_null(strstr(got, "tls.renewal.overdue warning\n"));
        free(got);
        host.kind = PLATFORM_HOST;

        /* Without --wildcard the certificate must cover the host alone. */
        leaf.not_after = NOW + 80 * 86400;
        leaf.san = sans_b;
        got = run_all(&host, &pl, &obs);
        assert_string_equal(got, "tls.san.mismatch critical\n");
        free(got);
        /* With it, the certificate must also carry the wildcard. */
        pl.wildcard = (char *)"*.example.test";
        pl.wildcard_base = (char *)"example.test";
        leaf.san = sans_a;
        got = run_all(&host, &pl, &obs);
        assert_string_equal(got, "tls.wildcard.shape warning\n");
        free(got);
        leaf.san = sans_wild;
        got = run_all(&host, &pl, &obs);
        assert_string_equal(got, "");
        free(got);

        /* An address literal is covered by an iPAddress entry only; a
         * dNSName spelling the address does not count. */
        pl.wildcard = pl.wildcard_base = NULL;
        names[0].name = n.name = ep.name = (char *)"127.0.0.1";
        leaf.san = text_ip;
        leaf.ip_san = ip_2;
        got = run_all(&host, &pl, &obs);
        assert_string_equal(got, "tls.san.mismatch critical\n");
        free(got);
        leaf.ip_san = ip_1;
        got = run_all(&host, &pl, &obs);
        assert_string_equal(got, "");
        free(got);
}

/* Which checks a host gets, so adding a check means deciding. */
static void test_single_name_checks(void **state) {
        static const char *const expected =
                "dns.resolve tls.connect tls.chain tls.san tls.expiry tls.wildcard tls.cert.inconsistent "
                "tls.issuer tls.cert.ingress-default tls.key tls.protocol tls.kx tls.ct tls.revoked dns.address ";
        size_t n;
        const struct check *const *all = checks_all(&n);
        _cleanup_free_ char *got = xstrdup("");

        for (size_t i = 0; i < n; i++) {
                if (!all[i]->single_name)
                        continue;
                char *s = xasprintf("%s%s ", got, all[i]->name);
                free(got);
                got = s;
        }
        assert_string_equal(got, expected);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_silences),
                cmocka_unit_test(test_resolve),
                cmocka_unit_test(test_connect),
                cmocka_unit_test(test_chain_and_san),
                cmocka_unit_test(test_chain_shapes),
                cmocka_unit_test(test_renewal),
                cmocka_unit_test(test_wildcard),
                cmocka_unit_test(test_consistency),
                cmocka_unit_test(test_issuer),
                cmocka_unit_test(test_ingress_key_protocol_revoked),
                cmocka_unit_test(test_kx),
                cmocka_unit_test(test_ct),
                cmocka_unit_test(test_dnssec),
                cmocka_unit_test(test_plan_order),
                cmocka_unit_test(test_catalog),
                cmocka_unit_test(test_secret),
                cmocka_unit_test(test_host),
                cmocka_unit_test(test_single_name_checks),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
