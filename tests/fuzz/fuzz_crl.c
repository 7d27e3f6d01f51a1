/* Fuzz target: a CRL as fetched from the leaf's distribution point
 * (daemon/probe/x509.c x509_crl_check), judged against the corpus' test
 * leaf with its issuer given (served or fetched from AIA) and looked up
 * among the trust anchors (x509_crl_parse, x509_crl_judge). A mutated CRL no longer verifies, so most runs
 * stop at the signature; the seeds (signed by the test CA) reach the
 * revocation list itself. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "observe.h"
#include "util.h"
#include "x509.h"

static struct x509_trust *trust;
static struct cert_obs leaf, issuer;

static void load(const char *name, struct cert_obs *c) {
        _cleanup_free_ char *error = NULL;
        _cleanup_free_ unsigned char *der = NULL;
        size_t n;

        der = fuzz_pki_read(name, &n);
        if (x509_cert_parse_any(der, n, c, &error) < 0) {
                fprintf(stderr, "fuzz: %s: %s\n", fuzz_pki_path(name), error);
                abort();
        }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        _cleanup_free_ char *error = NULL;

        if (x509_trust_load(fuzz_pki_path("ca.pem"), &trust, &error) < 0) {
                fprintf(stderr, "fuzz: %s\n", error);
                abort();
        }
        load("leaf.der", &leaf);
        load("ca.pem", &issuer);
        return 0;
}

/* 2026-11-26T00:00:00Z: fixed, so a crash reproduces. */
#define NOW ((time_t)1795651200)

static void judge(struct x509_crl *crl, const struct cert_obs *with) {
        _cleanup_free_ char *detail = NULL;
        enum crl_status st;

        if (x509_crl_judge(trust, crl, &leaf, with, NOW, &st, &detail) < 0)
                return;
        assert(st == CRL_UNKNOWN || st == CRL_GOOD || st == CRL_REVOKED || st == CRL_STALE);
        assert(st == CRL_GOOD || detail);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *error = NULL, *detail = NULL;
        struct x509_crl *crl = NULL;
        enum crl_status st;
        time_t next;

        /* Parsed once, judged for two issuers and again from the memo, as
         * an audit does for endpoints that share the CRL. */
        if (x509_crl_parse(data, size, &crl, &error) == 0) {
                (void)x509_crl_next_update(crl);
                judge(crl, &issuer);
                judge(crl, NULL);
                judge(crl, &issuer);
                x509_crl_free(crl);
        } else
                assert(error);
        /* And the one-call form. */
        if (x509_crl_check(trust, &leaf, &issuer, data, size, NOW, &st, &next, &detail) == 0)
                assert(st == CRL_GOOD || detail);
        return 0;
}
