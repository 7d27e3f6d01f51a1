/* Fuzz target: a Certificate Transparency search service's answer (the
 * crt.sh JSON that daemon/renew/ctwatch.c fetches for ct.url):
 * checks/ct-watch.c ct_entries_parse with the daemon's bound, then the
 * entries judged by ct_watch_judge against a platform in each tls.mode,
 * one of whose endpoints serves serial BB. */
#include <assert.h>
#include <string.h>

#include "checks.h"
#include "ct-watch.h"
#include "fuzz.h"
#include "util.h"

/* 2026-11-26T00:00:00Z: fixed, so a crash reproduces. */
#define NOW ((time_t)1795651200)
/* CT_ENTRIES_MAX in daemon/renew/ctwatch.c. */
#define ENTRIES_MAX 2000

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        return 0;
}

/* What the parser promises the judge and the report: escaped issuers,
 * names lower-case, sorted and each once, serials distinct. */
static void check_entries(const struct ct_entry *e, size_t n) {
        for (size_t i = 0; i < n; i++) {
                assert(e[i].issuer && e[i].serial);
                for (const char *c = e[i].issuer; *c; c++)
                        assert((unsigned char)*c >= 0x20 && *c != 0x7f);
                for (size_t k = 0; e[i].names && e[i].names[k]; k++) {
                        for (const char *c = e[i].names[k]; *c; c++)
                                assert((unsigned char)*c >= 0x20 && !(*c >= 'A' && *c <= 'Z'));
                        assert(k == 0 || strcmp(e[i].names[k - 1], e[i].names[k]) < 0);
                }
                for (size_t j = 0; j < i; j++)
                        assert(strcmp(e[i].serial, e[j].serial) != 0);
        }
}

static void judge(const struct ct_entry *e, size_t n, enum tls_mode mode, const char *expect_issuer) {
        struct platform p = { .name = (char *)"fuzz", .tls_mode = mode, .expect_issuer = (char *)expect_issuer };
        struct plan_name names[] = { { SERVICE_API, (char *)"api.ai-gateway.example.test" },
                                     { SERVICE_CONSOLE, (char *)"console.ai-gateway.example.test" } };
        struct plan plan = { .wildcard = (char *)"*.ai-gateway.example.test",
                             .wildcard_base = (char *)"ai-gateway.example.test",
                             .names = names,
                             .n_names = ELEMENTSOF(names) };
        struct cert_obs leaf = { .serial = (char *)"00bb" };
        struct endpoint_obs ep = { .status = ENDPOINT_OK, .chain = &leaf, .n_chain = 1 };
        struct platform_obs obs = { .endpoints = &ep, .n_endpoints = 1 };
        struct check_ctx ctx = { .platform = &p, .plan = &plan, .obs = &obs, .now = NOW };
        struct finding_list out = { 0 };
        struct ct_summary sum;
        size_t rate = 0;

        ct_watch_judge(&ctx, e, n, &out, &sum);
        assert(sum.recent <= n && sum.same_names_max <= sum.recent);
        for (size_t i = 0; i < out.n; i++) {
                assert(out.items[i].message);
                if (strcmp(out.items[i].def->id, "ct.rate-limit.near") == 0)
                        rate++;
                else
                        assert(strcmp(out.items[i].def->id, "ct.unexpected") == 0);
        }
        assert(rate <= 1 && out.n <= n + 1);
        finding_list_clear(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *error = NULL;
        struct ct_entry *e = NULL;
        size_t n = 0;

        if (ct_entries_parse((const char *)data, size, ENTRIES_MAX, &e, &n, &error) < 0) {
                assert(error && !e);
                return 0;
        }
        assert(!error && n <= ENTRIES_MAX);
        check_entries(e, n);
        judge(e, n, TLS_MODE_LETSENCRYPT, NULL);
        judge(e, n, TLS_MODE_PROVIDED, "O=Example");
        judge(e, n, TLS_MODE_SELFSIGNED, NULL);
        ct_entries_free(e, n);
        return 0;
}
