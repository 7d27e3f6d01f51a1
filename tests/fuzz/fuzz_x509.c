/* Fuzz target: what certvigil makes of the certificates a server sends
 * (daemon/probe/x509.c): parsing each one into a cert_obs (names, SAN
 * extraction, key, AIA and CRL URLs), the AIA fetch's DER-or-PEM parser,
 * the RFC 9773 certificate id, then annotating and verifying the chain
 * against the corpus' test CA and walking it as the chain checks do.
 * Input: up to CHAIN_MAX chunks of a 2-byte big-endian length and that
 * many bytes, leaf first (tests/fuzz/make-corpus writes served chains so). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "observe.h"
#include "util.h"
#include "x509.h"

#define CHAIN_MAX 4

static struct x509_trust *trust;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        _cleanup_free_ char *error = NULL;

        if (x509_trust_load(fuzz_pki_path("ca.pem"), &trust, &error) < 0) {
                fprintf(stderr, "fuzz: %s\n", error);
                abort();
        }
        return 0;
}

static void check_obs(const struct cert_obs *c) {
        assert(c->subject && c->issuer && c->serial && c->sha256 && c->key && c->sig_algo && c->sig_hash);
        /* SANs are escaped: no control byte reaches a report. */
        for (size_t i = 0; c->san && c->san[i]; i++)
                for (const char *x = c->san[i]; *x; x++)
                        assert((unsigned char)*x >= 0x20);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct endpoint_obs e = { 0 };
        struct cert_obs any = { 0 };
        struct chain_walk w;
        const uint8_t *chunk;
        size_t n;

        e.chain = xcalloc(CHAIN_MAX, sizeof(*e.chain));
        while (e.n_chain < CHAIN_MAX && (n = fuzz_chunk(&data, &size, &chunk)) > 0) {
                _cleanup_free_ char *error = NULL, *id = NULL;
                struct cert_obs *c = &e.chain[e.n_chain];

                if (e.n_chain == 0) {
                        _cleanup_free_ char *err2 = NULL;
                        if (x509_cert_parse_any(chunk, n, &any, &err2) == 0)
                                check_obs(&any);
                        else
                                assert(err2);
                        cert_obs_done(&any);
                }
                if (x509_ari_cert_id(chunk, n, &id) == 0)
                        assert(strchr(id, '.'));
                if (x509_cert_parse(chunk, n, c, &error) < 0) {
                        assert(error);
                        cert_obs_done(c);
                        break;
                }
                check_obs(c);
                e.n_chain++;
        }
        if (e.n_chain > 0) {
                _cleanup_free_ char *reason = NULL;
                bool ok = false;

                x509_chain_annotate(trust, e.chain, e.n_chain);
                if (x509_chain_verify(trust, e.chain, e.n_chain, &ok, &reason) == 0)
                        assert(ok || reason);
                chain_walk(&e, &w);
                assert(w.n_path <= e.n_chain);
        }
        for (size_t i = 0; i < e.n_chain; i++)
                cert_obs_done(&e.chain[i]);
        free(e.chain);
        return 0;
}
