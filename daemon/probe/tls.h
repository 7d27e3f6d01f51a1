/* The TLS probe: one non-blocking TCP connect and GnuTLS handshake per
 * endpoint on the sd-event loop, stopping as soon as the server's
 * certificates are in. It records what was served; checks judge it. */
#pragma once

#include <systemd/sd-event.h>

#include "observe.h"
#include "x509.h"

struct tls_probe;

/* What served chains parsed and verified to, keyed by their exact bytes:
 * the names and addresses of a platform mostly serve one chain, and parsing
 * a hostile one (thousands of SANs) is the costly part of a probe, done on
 * the loop. One per audit; bounded in entries. */
struct tls_chain_memo;
struct tls_chain_memo *tls_chain_memo_new(void);
struct tls_chain_memo *tls_chain_memo_free(struct tls_chain_memo *m);

/* Sets obs->chain, n_chain, verified and verify_error from the served
 * certificates (DER, leaf first, n of them). Each distinct certificate is
 * parsed once per memo and each distinct chain verified once; while the
 * memo has room, the chain is the memo's, lent to obs (chain_borrowed), so
 * the endpoints that serve one chain share one parsed copy, freed with the
 * memo. m may be NULL: obs then owns a chain of its own. */
void tls_chain_memo_fill(struct tls_chain_memo *m, const struct x509_trust *trust, const unsigned char *const *der,
                         const size_t *len, size_t n, struct endpoint_obs *obs);
/* How many certificates the memo has parsed (for tests and the benchmark). */
unsigned tls_chain_memo_parses(const struct tls_chain_memo *m);

/* Called once when the probe ends, with its socket already closed. obs is
 * the probe's, filled in: the callee takes it by struct copy and then zeroes
 * *obs. The callee may free the probe (tls_probe_free) inside the callback. */
typedef void (*tls_probe_done_cb)(struct tls_probe *p, struct endpoint_obs *obs, void *userdata);

struct tls_probe_params {
        const char *name;                 /* SNI and obs name */
        enum service service;
        const char *address;              /* IPv4 or IPv6 literal */
        uint16_t port;
        uint64_t timeout_usec;            /* connect + handshake */
        const struct x509_trust *trust;   /* borrowed; must outlive the probe */
        struct tls_chain_memo *memo;      /* borrowed, may be NULL; must outlive the probe */
        const char *connect_address;      /* connect here instead of address (connect_to), or NULL */
        uint16_t connect_port;
        /* Offer only TLS 1.0 and 1.1 and skip everything after the
         * handshake: obs says whether it completed, and with which version. */
        bool legacy;
};

/* Starts the probe. The callback never runs from inside this call. */
int tls_probe_start(sd_event *event, const struct tls_probe_params *params,
                    tls_probe_done_cb cb, void *userdata, struct tls_probe **ret);

/* Ends a running probe now, as a timeout would: the callback runs before
 * this returns, with "connect" or "handshake" failed depending on how far
 * it got, and why as the reason. */
void tls_probe_abort(struct tls_probe *p, const char *why);

/* Stops a probe that is still running without calling its callback. */
struct tls_probe *tls_probe_free(struct tls_probe *p);

/* One-time process setup and teardown of the TLS library. */
int tls_global_init(void);
void tls_global_done(void);
