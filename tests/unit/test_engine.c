/* The audit engine (daemon/engine/: the audit, its pool, its follow-ups)
 * under a fake probe layer: the engine's seam (struct audit_ops) is given a
 * fake that answers lookups, TLS probes, the DNS facts gatherer and fetches
 * from a table, with random delays, some synchronously, some never (so the
 * deadline cuts them), and the test checks what the engine made of it:
 * every endpoint observed exactly once, on its own slot, whatever the
 * order. No network. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cpu-bound.h"
#include <ares.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/x509-ext.h>

#include "audit-pool.h"
#include "audit.h"
#include "checks.h"
#include "config.h"
#include "followups.h"
#include "util.h"
#include "x509.h"

/* ------------------------------------------------------------------------
 * A certificate made here: self-signed, ECDSA P-256, n_san dNSName SANs
 * (the first *.fake.example.test) and a CRL distribution point. */

/* With ret_crl, also a CRL signed by the certificate's key that lists the
 * certificate's own serial (so a leaf judged against it reads revoked). */
static int cert_make(size_t n_san, const char *crl_url, gnutls_datum_t *ret_der, gnutls_datum_t *ret_pem,
                     gnutls_datum_t *ret_crl) {
        gnutls_x509_privkey_t key = NULL;
        gnutls_x509_crt_t crt = NULL;
        gnutls_subject_alt_names_t sans = NULL;
        gnutls_x509_crl_t crl = NULL;
        gnutls_datum_t ext = { 0 };
        unsigned char serial[] = { 0x01, 0x42 };
        time_t now = time(NULL);
        int r;

        if ((r = gnutls_x509_privkey_init(&key)) < 0 ||
            (r = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
                                              0)) < 0 ||
            (r = gnutls_x509_crt_init(&crt)) < 0)
                goto out;
        gnutls_x509_crt_set_version(crt, 3);
        gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
        gnutls_x509_crt_set_activation_time(crt, now - 86400);
        gnutls_x509_crt_set_expiration_time(crt, now + 80 * 86400);
        gnutls_x509_crt_set_dn(crt, "CN=fake,O=certvigil test", NULL);
        gnutls_x509_crt_set_key(crt, key);
        /* The extension built at once: appending to the certificate one
         * SAN at a time re-encodes it every time (quadratic). */
        if ((r = gnutls_subject_alt_names_init(&sans)) < 0)
                goto out;
        for (size_t i = 0; i < n_san; i++) {
                char name[64];
                int len = i ? snprintf(name, sizeof(name), "host%zu.many.example.test", i)
                            : snprintf(name, sizeof(name), "*.fake.example.test");
                gnutls_datum_t d = { .data = (unsigned char *)name, .size = (unsigned)len };
                if ((r = gnutls_subject_alt_names_set(sans, GNUTLS_SAN_DNSNAME, &d, NULL)) < 0)
                        goto out;
        }
        if ((r = gnutls_x509_ext_export_subject_alt_names(sans, &ext)) < 0 ||
            (r = gnutls_x509_crt_set_extension_by_oid(crt, "2.5.29.17", ext.data, ext.size, 0)) < 0)
                goto out;
        if (crl_url)
                gnutls_x509_crt_set_crl_dist_points(crt, GNUTLS_SAN_URI, crl_url, 0);
        /* Its own CRL signer, as a trust anchor that issued itself. */
        gnutls_x509_crt_set_basic_constraints(crt, 1, -1);
        gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_CERT_SIGN |
                                                   GNUTLS_KEY_CRL_SIGN);
        if ((r = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0 ||
            (r = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, ret_der)) < 0 ||
            (r = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, ret_pem)) < 0)
                goto out;
        if (ret_crl) {
                if ((r = gnutls_x509_crl_init(&crl)) < 0)
                        goto out;
                gnutls_x509_crl_set_version(crl, 2);
                gnutls_x509_crl_set_this_update(crl, now - 3600);
                gnutls_x509_crl_set_next_update(crl, now + 7 * 86400);
                if ((r = gnutls_x509_crl_set_crt_serial(crl, serial, sizeof(serial), now - 1800)) < 0 ||
                    (r = gnutls_x509_crl_sign2(crl, crt, key, GNUTLS_DIG_SHA256, 0)) < 0 ||
                    (r = gnutls_x509_crl_export2(crl, GNUTLS_X509_FMT_DER, ret_crl)) < 0)
                        goto out;
        }
out:
        if (sans)
                gnutls_subject_alt_names_deinit(sans);
        gnutls_free(ext.data);
        if (crl)
                gnutls_x509_crl_deinit(crl);
        gnutls_x509_crt_deinit(crt);
        gnutls_x509_privkey_deinit(key);
        return r;
}

/* ------------------------------------------------------------------------
 * The fake. Every pending answer is an op with a timer (or none, when it
 * stalls until cancelled). Handles given to the engine are ops. */

enum op_kind { OP_PROBE, OP_RESOLVE, OP_FACTS, OP_FETCH };

struct fake;

struct op {
        struct fake *f;
        enum op_kind kind;
        struct op *next;            /* pending list */
        bool pending;
        sd_event_source *timer;
        void *userdata;
        /* OP_PROBE */
        tls_probe_done_cb probe_cb;
        struct endpoint_obs obs;
        bool legacy;
        /* OP_RESOLVE */
        dns_addresses_cb resolve_cb;
        struct dns_resolver *r;
        char *name;
        /* OP_FACTS */
        dnsaudit_done_cb facts_cb;
        struct dnsaudit *d;
        /* OP_FETCH */
        http_done_cb fetch_cb;
};

struct seen {
        char *key;                  /* name/address */
        unsigned n;
};

struct fake {
        unsigned seed;
        size_t n_addresses;          /* per name */
        unsigned stall_permille;     /* probes that never answer */
        unsigned sync_permille;      /* lookups answered inside the call */
        const char *stall_name;      /* a name whose lookup never answers, or NULL */
        const struct cert_obs *leaf; /* served by every probe, or NULL */
        const gnutls_datum_t *crl;   /* what its CRL URL serves */
        struct audit *audit;
        unsigned crl_judged_late;    /* endpoints probed but not judged when the CRL came */
        struct op *pending;
        struct seen *seen;
        size_t n_seen;
        unsigned probes, legacy, fetches, resolves, facts;
};

static unsigned fake_rand(struct fake *f) {
        f->seed = f->seed * 1103515245u + 12345u;
        return (f->seed >> 8) & 0xffffff;
}

static void op_unlink(struct op *o) {
        for (struct op **p = &o->f->pending; *p; p = &(*p)->next)
                if (*p == o) {
                        *p = o->next;
                        break;
                }
        o->pending = false;
        o->timer = sd_event_source_disable_unref(o->timer);
}

static void op_free(struct op *o) {
        if (o->pending)
                op_unlink(o);
        endpoint_obs_done(&o->obs);
        free(o->name);
        free(o);
}

static void seen_count(struct fake *f, const char *name, const char *address) {
        _cleanup_free_ char *key = xasprintf("%s/%s", name, address);
        for (size_t i = 0; i < f->n_seen; i++)
                if (strcmp(f->seen[i].key, key) == 0) {
                        f->seen[i].n++;
                        return;
                }
        f->seen = xrealloc(f->seen, (f->n_seen + 1) * sizeof(*f->seen));
        f->seen[f->n_seen++] = (struct seen){ .key = TAKE_PTR(key), .n = 1 };
}

static void op_complete(struct op *o, const char *aborted) {
        struct fake *f = o->f;

        op_unlink(o);
        switch (o->kind) {
        case OP_PROBE:
                if (aborted) {
                        o->obs.status = ENDPOINT_HANDSHAKE_FAILED;
                        o->obs.error = xasprintf("handshake did not complete: %s", aborted);
                } else if (o->legacy) {
                        o->obs.status = ENDPOINT_HANDSHAKE_FAILED;
                        o->obs.error = xstrdup("server sent alert: Protocol version");
                } else {
                        o->obs.status = ENDPOINT_OK;
                        o->obs.tls_version = xstrdup("TLS1.3");
                        o->obs.cipher_suite = xstrdup("TLS_AES_128_GCM_SHA256");
                        if (f->leaf) {
                                o->obs.chain = xcalloc(1, sizeof(struct cert_obs));
                                cert_obs_copy(&o->obs.chain[0], f->leaf);
                                o->obs.n_chain = o->obs.n_served = 1;
                                o->obs.verified = true;
                        }
                }
                if (!o->legacy)
                        seen_count(f, o->obs.name, o->obs.address);
                /* The engine takes obs and frees the op (probe_free). */
                o->probe_cb((struct tls_probe *)o, &o->obs, o->userdata);
                return;
        case OP_RESOLVE: {
                char **addresses = NULL, *error = NULL;
                enum dns_status st = aborted ? DNS_STATUS_NOT_RUN : DNS_STATUS_OK;
                if (!aborted)
                        for (size_t i = 0; i < f->n_addresses; i++)
                                strv_push(&addresses, i % 4 == 3 ? xasprintf("2001:db8::%zx", i + 1)
                                                                 : xasprintf("192.0.2.%zu", i + 1));
                o->resolve_cb(o->userdata, st, &error, &addresses);
                strv_free(addresses);
                free(error);
                op_free(o);
                return;
        }
        case OP_FACTS:
                o->facts_cb(o->userdata);
                op_free(o);
                return;
        case OP_FETCH: {
                struct http_result res = { .status = 404, .body = xcalloc(1, 1) };
                if (aborted)
                        fail_msg("a fetch is cancelled, never aborted");
                if (f->crl) {
                        res.status = 200;
                        res.body = xrealloc(res.body, f->crl->size + 1);
                        memcpy(res.body, f->crl->data, f->crl->size);
                        res.size = f->crl->size;
                }
                o->fetch_cb((struct http_fetch *)o, &res, o->userdata);
                /* Judged where the fetch completes (issue 10): every
                 * endpoint probed so far has its verdict now. */
                const struct platform_obs *po = audit_observations(f->audit);
                for (size_t i = 0; f->crl && i < po->n_endpoints; i++)
                        if (po->endpoints[i].status == ENDPOINT_OK && po->endpoints[i].crl_status != CRL_REVOKED)
                                f->crl_judged_late++;
                free(res.body);
                free(res.error);
                op_free(o);
                return;
        }
        }
}

static int on_op_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        op_complete(userdata, NULL);
        return 0;
}

static struct op *op_new(struct fake *f, enum op_kind kind, void *userdata) {
        struct op *o = xcalloc(1, sizeof(*o));
        o->f = f;
        o->kind = kind;
        o->userdata = userdata;
        o->pending = true;
        o->next = f->pending;
        f->pending = o;
        return o;
}

static sd_event *fake_event;

/* 0-3 ms, in steps of 100 us: many complete in the same loop turn. */
static void op_schedule(struct op *o) {
        uint64_t delay = (uint64_t)(fake_rand(o->f) % 30) * 100;
        assert_true(sd_event_add_time_relative(fake_event, &o->timer, CLOCK_MONOTONIC, delay, 1, on_op_timer, o) >= 0);
}

static int fake_probe_start(void *ctx, sd_event *event, const struct tls_probe_params *params, tls_probe_done_cb cb,
                            void *userdata, struct tls_probe **ret) {
        struct fake *f = ctx;
        struct op *o = op_new(f, OP_PROBE, userdata);

        o->probe_cb = cb;
        o->legacy = params->legacy;
        o->obs = (struct endpoint_obs){
                .name = xstrdup(params->name),
                .service = params->service,
                .address = xstrdup(params->address),
                .port = params->port,
        };
        if (params->legacy)
                f->legacy++;
        else
                f->probes++;
        /* Never from inside start (tls.h); a stalled one waits for abort. */
        if (params->legacy || fake_rand(f) % 1000 >= f->stall_permille)
                op_schedule(o);
        *ret = (struct tls_probe *)o;
        return 0;
}

static void fake_probe_abort(void *ctx, struct tls_probe *p, const char *why) {
        struct op *o = (struct op *)p;
        if (o->pending)
                op_complete(o, why);
}

static struct tls_probe *fake_probe_free(void *ctx, struct tls_probe *p) {
        op_free((struct op *)p);
        return NULL;
}

static int fake_resolve(void *ctx, struct dns_resolver *r, const char *name, dns_addresses_cb cb, void *userdata) {
        struct fake *f = ctx;
        struct op *o = op_new(f, OP_RESOLVE, userdata);

        o->resolve_cb = cb;
        o->r = r;
        o->name = xstrdup(name);
        f->resolves++;
        if (f->stall_name && strcmp(name, f->stall_name) == 0)
                return 0;
        /* dns.h allows an answer before the call returns. */
        if (fake_rand(f) % 1000 < f->sync_permille)
                op_complete(o, NULL);
        else
                op_schedule(o);
        return 0;
}

/* Completes every pending op of one kind (and resolver), as cancellation
 * does: callbacks run before this returns. */
static void fake_cancel_all(struct fake *f, enum op_kind kind, const void *owner) {
        bool again = true;
        while (again) {
                again = false;
                for (struct op *o = f->pending; o; o = o->next)
                        if (o->kind == kind && (kind != OP_RESOLVE || o->r == owner) &&
                            (kind != OP_FACTS || o->d == owner)) {
                                op_complete(o, "cancelled");
                                again = true;
                                break;
                        }
        }
}

static void fake_resolve_cancel(void *ctx, struct dns_resolver *r) {
        fake_cancel_all(ctx, OP_RESOLVE, r);
}

static void fake_facts_start(void *ctx, struct dnsaudit *d, dnsaudit_done_cb cb, void *userdata) {
        struct fake *f = ctx;
        struct op *o = op_new(f, OP_FACTS, userdata);
        o->facts_cb = cb;
        o->d = d;
        f->facts++;
        op_schedule(o);
}

static void fake_facts_cancel(void *ctx, struct dnsaudit *d) {
        fake_cancel_all(ctx, OP_FACTS, d);
}

static void fake_facts_drop(void *ctx, struct dnsaudit *d) {
        struct fake *f = ctx;
        for (struct op *o = f->pending; o; o = o->next)
                if (o->kind == OP_FACTS && o->d == d) {
                        op_free(o);
                        return;
                }
}

static int fake_fetch_start(void *ctx, struct http_client *c, const struct http_fetch_params *p, http_done_cb cb,
                            void *userdata, struct http_fetch **ret) {
        struct fake *f = ctx;
        struct op *o = op_new(f, OP_FETCH, userdata);
        o->fetch_cb = cb;
        f->fetches++;
        op_schedule(o);
        *ret = (struct http_fetch *)o;
        return 0;
}

static void fake_fetch_cancel(void *ctx, struct http_fetch *fh) {
        op_free((struct op *)fh);
}

static const struct audit_ops fake_ops = {
        .probe_start = fake_probe_start,
        .probe_abort = fake_probe_abort,
        .probe_free = fake_probe_free,
        .resolve = fake_resolve,
        .resolve_cancel = fake_resolve_cancel,
        .facts_start = fake_facts_start,
        .facts_cancel = fake_facts_cancel,
        .facts_drop = fake_facts_drop,
        .fetch_start = fake_fetch_start,
        .fetch_cancel = fake_fetch_cancel,
};

/* ------------------------------------------------------------------------ */

struct engine_case {
        const char *what;
        unsigned seed;
        size_t n_addresses;
        unsigned concurrency;
        unsigned stall_permille;
        unsigned sync_permille;
        const char *stall_name;
        const char *deadline;
        bool with_leaf;              /* serve a certificate with a CRL URL (one fetch) */
};

static const struct engine_case cases[] = {
        { "300 endpoints, 16 at a time", 1, 60, 16, 0, 300, NULL, "30s", false },
        { "300 endpoints, all at once", 2, 60, 1000, 0, 300, NULL, "30s", false },
        { "200 endpoints, one at a time", 3, 40, 1, 0, 1000, NULL, "30s", true },
        { "500 endpoints, every lookup synchronous", 4, 100, 64, 0, 1000, NULL, "30s", true },
        { "200 endpoints, 10% stall until the deadline", 5, 40, 256, 100, 300, NULL, "300ms", true },
        { "one name never resolves: the deadline", 6, 40, 32, 0, 0, "console.fake.example.test", "300ms", false },
};

static char *trust_path;
static gnutls_datum_t leaf_der, leaf_pem, leaf_crl;
static struct cert_obs leaf_obs;

static void on_done(struct audit *a, void *userdata) {
        *(bool *)userdata = true;
        sd_event_exit(fake_event, 0);
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
        fail_msg("the audit did not end within 20 s");
        return 0;
}

static struct config *config_for(const struct engine_case *t) {
        _cleanup_free_ char *yaml = xasprintf(
                "platforms:\n"
                "  - name: fake\n"
                "    global: { baseDomain: fake.example.test }\n"
                "    tls: { mode: provided }\n"
                "    mcp: { enabled: true }\n"
                "    resolvers: [\"127.0.0.1:9\"]\n"
                "    trust: %s\n"
                "    concurrency: %u\n"
                "    timeout: 1s\n"
                "    deadline: %s\n",
                trust_path, t->concurrency, t->deadline);
        struct config *c = NULL;
        char *error = NULL;
        if (config_load_string(yaml, "engine.yaml", checks_find_def, &c, &error) < 0)
                fail_msg("config: %s", error);
        return c;
}

static void run_case(const struct engine_case *t) {
        struct fake f = {
                .seed = t->seed,
                .n_addresses = t->n_addresses,
                .stall_permille = t->stall_permille,
                .sync_permille = t->sync_permille,
                .stall_name = t->stall_name,
                .leaf = t->with_leaf ? &leaf_obs : NULL,
                .crl = t->with_leaf ? &leaf_crl : NULL,
        };
        struct config *c = config_for(t);
        struct audit *a = NULL;
        sd_event_source *watchdog = NULL;
        char *error = NULL;
        bool done = false;
        size_t names = 5, expected, observed = 0, cut = 0;

        /* A loop per run: one that has exited cannot run again. */
        assert_int_equal(sd_event_new(&fake_event), 0);
        assert_int_equal(audit_new(fake_event, c->platforms[0], &a, &error), 0);
        audit_set_ops(a, &fake_ops, &f);
        f.audit = a;
        assert_true(sd_event_add_time_relative(fake_event, &watchdog, CLOCK_MONOTONIC, 20 * USEC_PER_SEC, 0,
                                               on_watchdog, NULL) >= 0);
        assert_int_equal(audit_start(a, on_done, &done), 0);
        assert_int_equal(sd_event_loop(fake_event), 0);
        assert_true(done);

        const struct platform_obs *o = audit_observations(a);
        expected = t->stall_name ? (names - 1) * t->n_addresses : names * t->n_addresses;
        if (o->n_endpoints != expected)
                fail_msg("%s: %zu endpoints, expected %zu", t->what, o->n_endpoints, expected);
        /* Each endpoint once, with its own observation: a result landing on
         * another slot leaves a duplicate and an unprobed one. */
        for (size_t i = 0; i < o->n_endpoints; i++) {
                const struct endpoint_obs *e = &o->endpoints[i];
                for (size_t j = 0; j < i; j++)
                        if (strcmp(o->endpoints[j].name, e->name) == 0 && strcmp(o->endpoints[j].address, e->address) == 0)
                                fail_msg("%s: %s/%s twice", t->what, e->name, e->address);
                if (e->status == ENDPOINT_NOT_RUN) {
                        /* Only the deadline leaves one unprobed, and says so. */
                        if (!t->stall_permille || !e->error || !strstr(e->error, "deadline"))
                                fail_msg("%s: %s/%s not probed (%s)", t->what, e->name, e->address,
                                         e->error ? e->error : "no reason");
                        cut++;
                        continue;
                }
                if (e->status != ENDPOINT_OK) {
                        if (!t->stall_permille || !e->error || !strstr(e->error, "deadline"))
                                fail_msg("%s: %s/%s failed: %s", t->what, e->name, e->address,
                                         e->error ? e->error : "?");
                        cut++;
                }
                observed++;
        }
        for (size_t i = 0; i < f.n_seen; i++)
                if (f.seen[i].n != 1)
                        fail_msg("%s: %s probed %u times", t->what, f.seen[i].key, f.seen[i].n);
        if (f.n_seen != observed)
                fail_msg("%s: %zu probes delivered, %zu endpoints observed", t->what, f.n_seen, observed);
        if (t->stall_permille && cut == 0)
                fail_msg("%s: no probe was cut by the deadline", t->what);
        if (!t->stall_permille && !t->stall_name && observed != expected)
                fail_msg("%s: %zu of %zu observed", t->what, observed, expected);
        if (t->stall_name)
                for (size_t i = 0; i < o->n_names; i++)
                        if (strcmp(o->names[i].name, t->stall_name) == 0 &&
                            (o->names[i].status != DNS_STATUS_NOT_RUN || !o->names[i].error ||
                             !strstr(o->names[i].error, "deadline")))
                                fail_msg("%s: the stalled name reads %s", t->what,
                                         o->names[i].error ? o->names[i].error : "(no error)");
        /* One legacy probe per address, one fetch per CRL URL at most. */
        if (f.legacy > t->n_addresses)
                fail_msg("%s: %u legacy probes for %zu addresses", t->what, f.legacy, t->n_addresses);
        if (f.fetches > 1)
                fail_msg("%s: %u fetches of one CRL URL", t->what, f.fetches);
        if (t->with_leaf && !t->stall_permille && f.fetches != 1)
                fail_msg("%s: the CRL was not fetched", t->what);
        if (f.crl_judged_late)
                fail_msg("%s: %u endpoints were not judged when their CRL arrived", t->what, f.crl_judged_late);
        /* Every endpoint probed is judged against the CRL, which lists it. */
        for (size_t i = 0; t->with_leaf && i < o->n_endpoints; i++)
                if (o->endpoints[i].status == ENDPOINT_OK && o->endpoints[i].crl_status != CRL_REVOKED)
                        fail_msg("%s: %s/%s: CRL status %d (%s)", t->what, o->endpoints[i].name,
                                 o->endpoints[i].address, o->endpoints[i].crl_status,
                                 o->endpoints[i].crl_detail ? o->endpoints[i].crl_detail : "");
        assert_int_equal(f.facts, 1);
        print_message("%s: %zu endpoints, %zu observed, %zu cut, %u legacy, %u fetches\n", t->what, o->n_endpoints,
                      observed, cut, f.legacy, f.fetches);

        audit_free(a);
        /* Nothing of the engine's may be left pending in the fake. */
        assert_null(f.pending);
        for (size_t i = 0; i < f.n_seen; i++)
                free(f.seen[i].key);
        free(f.seen);
        sd_event_source_disable_unref(watchdog);
        fake_event = sd_event_unref(fake_event);
        config_free(c);
}

static void test_engine_cases(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                run_case(&cases[i]);
}

/* Freed in the middle of an audit, the engine leaves nothing behind. */
static void test_engine_free_midway(void **state) {
        static const struct engine_case t = { "freed midway", 7, 40, 8, 0, 300, NULL, "30s", true };
        struct fake f = { .seed = t.seed, .n_addresses = t.n_addresses, .sync_permille = t.sync_permille,
                          .leaf = &leaf_obs, .crl = &leaf_crl };
        struct config *c = config_for(&t);
        struct audit *a = NULL;
        char *error = NULL;
        bool done = false;

        assert_int_equal(sd_event_new(&fake_event), 0);
        assert_int_equal(audit_new(fake_event, c->platforms[0], &a, &error), 0);
        audit_set_ops(a, &fake_ops, &f);
        f.audit = a;
        assert_int_equal(audit_start(a, on_done, &done), 0);
        for (int i = 0; i < 20; i++)
                assert_true(sd_event_run(fake_event, 1000) >= 0);
        assert_false(done);
        audit_free(a);
        assert_null(f.pending);
        for (size_t i = 0; i < f.n_seen; i++)
                free(f.seen[i].key);
        free(f.seen);
        fake_event = sd_event_unref(fake_event);
        config_free(c);
}


/* certvigil check: a host's audit starts no DNS facts gatherer, sends no
 * lookup for an address literal, and ends (also by its deadline) as any. */
static void test_engine_host(void **state) {
        static const struct {
                const char *target;
                unsigned stall_permille;
                const char *deadline;
                unsigned resolves;
                size_t endpoints;
        } rows[] = {
                { "host.fake.example.test", 0, "30s", 1, 3 },
                { "127.0.0.1:8443", 0, "30s", 0, 1 },
                { "[::1]:8443", 1000, "200ms", 0, 1 },
        };

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct fake f = { .seed = 9, .n_addresses = 3, .sync_permille = 500,
                                  .stall_permille = rows[i].stall_permille };
                struct config *c = NULL;
                struct audit *a = NULL;
                char *error = NULL;
                bool done = false;

                assert_int_equal(config_for_host(rows[i].target, NULL, &c, &error), 0);
                struct platform *p = c->platforms[0];
                free(p->trust);
                p->trust = xstrdup(trust_path);
                strv_push(&p->resolvers, xstrdup("127.0.0.1:9"));
                assert_int_equal(parse_duration(rows[i].deadline, &p->deadline_usec), 0);
                assert_int_equal(sd_event_new(&fake_event), 0);
                assert_int_equal(audit_new(fake_event, p, &a, &error), 0);
                audit_set_ops(a, &fake_ops, &f);
                f.audit = a;
                assert_int_equal(audit_start(a, on_done, &done), 0);
                assert_int_equal(sd_event_loop(fake_event), 0);
                assert_true(done);

                const struct platform_obs *o = audit_observations(a);
                assert_int_equal(f.facts, 0);
                assert_int_equal(f.resolves, rows[i].resolves);
                assert_false(o->dns.gathered);
                assert_int_equal(o->n_names, 1);
                assert_int_equal(o->names[0].status, DNS_STATUS_OK);
                assert_int_equal(o->n_endpoints, rows[i].endpoints);
                assert_int_equal(o->endpoints[0].port, p->port);
                if (rows[i].resolves == 0)
                        assert_string_equal(o->endpoints[0].address, p->name);
                assert_int_equal(o->deadline_reached, rows[i].stall_permille > 0);
                audit_free(a);
                assert_null(f.pending);
                for (size_t k = 0; k < f.n_seen; k++)
                        free(f.seen[k].key);
                free(f.seen);
                fake_event = sd_event_unref(fake_event);
                config_free(c);
        }
}

/* ------------------------------------------------------------------------
 * The certificate memo (tls.h): 200 endpoints serving one certificate with
 * 10,000 SANs share one parsed copy; the certificate is parsed once, also
 * when it comes in another chain. */

static double cpu_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void test_memo_shares_certificates(void **state) {
        enum { ENDPOINTS = 200, SANS = 10000 };
        gnutls_datum_t big = { 0 }, big_pem = { 0 };
        struct tls_chain_memo *m = tls_chain_memo_new();
        struct x509_trust *trust = NULL;
        struct endpoint_obs obs[ENDPOINTS] = { { 0 } };
        char *error = NULL;
        double t0, first_ms, shared_ms, copy_ms;

        assert_int_equal(cert_make(SANS, NULL, &big, &big_pem, NULL), 0);
        assert_int_equal(x509_trust_load(trust_path, &trust, &error), 0);
        const unsigned char *der[2] = { big.data, leaf_der.data };
        size_t len[2] = { big.size, leaf_der.size };

        t0 = cpu_ms();
        tls_chain_memo_fill(m, trust, der, len, 1, &obs[0]);
        first_ms = cpu_ms() - t0;
        t0 = cpu_ms();
        for (size_t i = 1; i < ENDPOINTS; i++)
                tls_chain_memo_fill(m, trust, der, len, 1, &obs[i]);
        shared_ms = cpu_ms() - t0;
        assert_int_equal(tls_chain_memo_parses(m), 1);
        for (size_t i = 0; i < ENDPOINTS; i++) {
                assert_int_equal(obs[i].n_chain, 1);
                assert_true(obs[i].chain_borrowed);
                assert_ptr_equal(obs[i].chain, obs[0].chain);
                assert_false(obs[i].verified); /* self-signed, not an anchor */
                assert_non_null(obs[i].verify_error);
        }
        assert_int_equal(strv_length(obs[0].chain[0].san), SANS);
        assert_string_equal(obs[0].chain[0].san[SANS - 1], "host9999.many.example.test");

        /* What each endpoint cost before: a copy of its own. */
        t0 = cpu_ms();
        for (size_t i = 0; i < ENDPOINTS; i++) {
                struct cert_obs c;
                cert_obs_copy(&c, &obs[0].chain[0]);
                cert_obs_done(&c);
        }
        copy_ms = cpu_ms() - t0;
        print_message("%d endpoints, one certificate with %d SANs: the first %.2f ms CPU (parse, verify), "
                      "each other %.4f ms (shared; a copy of its own would cost %.3f ms)\n",
                      ENDPOINTS, SANS, first_ms, shared_ms / (ENDPOINTS - 1), copy_ms / ENDPOINTS);

        /* The same leaf in another chain: a chain of its own, no new parse
         * of the leaf. */
        struct endpoint_obs other = { 0 };
        tls_chain_memo_fill(m, trust, der, len, 2, &other);
        assert_int_equal(other.n_chain, 2);
        assert_ptr_not_equal(other.chain, obs[0].chain);
        assert_int_equal(tls_chain_memo_parses(m), 2);
        assert_string_equal(other.chain[0].sha256, obs[0].chain[0].sha256);

        /* Endpoints let go of borrowed chains; the memo frees them. */
        for (size_t i = 0; i < ENDPOINTS; i++)
                endpoint_obs_done(&obs[i]);
        endpoint_obs_done(&other);
        tls_chain_memo_free(m);

        /* Without a memo, the endpoint owns its chain. */
        struct endpoint_obs own = { 0 };
        tls_chain_memo_fill(NULL, trust, der, len, 1, &own);
        assert_false(own.chain_borrowed);
        assert_int_equal(own.n_chain, 1);
        endpoint_obs_done(&own);

        x509_trust_free(trust);
        gnutls_free(big.data);
        gnutls_free(big_pem.data);
}

static int setup(void **state) {
        char path[] = "/tmp/certvigil-test-engine-XXXXXX";
        int fd;
        char *error = NULL;

        assert_int_equal(tls_global_init(), 0);
        assert_int_equal(http_global_init(), 0);
        assert_int_equal(ares_library_init(ARES_LIB_INIT_ALL), ARES_SUCCESS);
        assert_int_equal(cert_make(3, "http://crl.fake.example.test/ca.crl", &leaf_der, &leaf_pem, &leaf_crl), 0);
        assert_int_equal(x509_cert_parse(leaf_der.data, leaf_der.size, &leaf_obs, &error), 0);
        fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, leaf_pem.data, leaf_pem.size), (ssize_t)leaf_pem.size);
        close(fd);
        trust_path = xstrdup(path);
        return 0;
}

/* The pool's cap: max_inflight or the largest concurrency, within what
 * the descriptor limit allows once AUDIT_FD_RESERVE is set aside (two
 * descriptors per job). */
static void test_pool_cap(void **state) {
        static const struct {
                unsigned concurrency[2], max_inflight;
                unsigned long nofile;
                unsigned expect;
        } rows[] = {
                { { 256, 16 }, 0, 1024, 256 },
                { { 16, 8 }, 0, 1024, 16 },
                { { 256, 16 }, 0, 512, 192 },
                { { 256, 16 }, 50, 1024, 50 },
                { { 4, 4 }, 300, 1024, 300 },
                { { 256, 16 }, 1000, 1024, 448 },
                { { 256, 16 }, 0, 200, 64 },
                { { 256, 16 }, 0, 1048576, 256 },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct platform a = { .concurrency = rows[i].concurrency[0] };
                struct platform b = { .concurrency = rows[i].concurrency[1] };
                struct platform *ps[] = { &a, &b };
                struct config c = { .platforms = ps, .n_platforms = 2, .max_inflight = rows[i].max_inflight };
                unsigned got = audit_pool_cap(&c, rows[i].nofile);

                if (got != rows[i].expect)
                        fail_msg("row %zu: expected %u, got %u", i, rows[i].expect, got);
        }
}

/* The queue of audits waiting for a slot, at the size of a large config:
 * served oldest first, and taking a waiter off it (an audit cancelled or
 * freed) or off its head (a slot handed out) costs the same however long
 * it is. It was an array searched and shifted on each: quadratic, 200,000
 * waiters took over a minute of CPU; now well under the bound. */
#define QUEUE_WAITERS 200000
#define QUEUE_CPU_BOUND_USEC (1 * USEC_PER_SEC)

struct queued {
        struct audit_pool *pool;
        struct audit_pool_waiter waiter;
        size_t index;
        size_t *order;          /* the indices resumed, in turn */
        size_t *n_order;
};

static void on_queue_slot(void *userdata) {
        struct queued *q = userdata;
        /* As an audit does: it takes the slot it was given. */
        audit_pool_job_started(q->pool);
        q->order[(*q->n_order)++] = q->index;
}

/* A pool that cannot be set up fails audit_new() with an error, not an
 * audit on an uninitialised pool: a loop that has finished takes no more
 * event sources, as the validating resolvers' hub needs one. */
static void test_pool_new_fails(void **state) {
        static const struct engine_case t = { .what = "pool", .concurrency = 2, .deadline = "30s" };
        struct config *c = config_for(&t);
        struct audit_pool *pool = NULL;
        struct audit *a = NULL;
        sd_event *event = NULL;
        char *error = NULL;

        assert_int_equal(sd_event_new(&event), 0);
        assert_int_equal(sd_event_exit(event, 0), 0);
        assert_int_equal(sd_event_loop(event), 0);
        assert_true(audit_pool_new(event, 2, &pool) < 0);
        assert_null(pool);
        assert_true(audit_new(event, c->platforms[0], &a, &error) < 0);
        assert_null(a);
        assert_non_null(error);
        assert_non_null(strstr(error, "cannot set up the audit"));
        free(error);
        sd_event_unref(event);
        config_free(c);
}

static void test_pool_queue(void **state) {
        struct queued *qs = xcalloc(QUEUE_WAITERS, sizeof(*qs));
        size_t *order = xcalloc(QUEUE_WAITERS, sizeof(*order));
        size_t n_order = 0, expect = 0;
        struct audit_pool *pool = NULL;
        sd_event *event = NULL;
        uint64_t t0;

        assert_int_equal(sd_event_new(&event), 0);
        assert_int_equal(audit_pool_new(event, 1, &pool), 0);
        audit_pool_job_started(pool); /* the one slot is taken: all wait */
        assert_true(audit_pool_full(pool));
        t0 = test_cpu_usec();
        for (size_t i = 0; i < QUEUE_WAITERS; i++) {
                qs[i] = (struct queued){ .pool = pool, .index = i, .order = order, .n_order = &n_order };
                audit_pool_wait(pool, &qs[i].waiter, on_queue_slot, &qs[i]);
        }
        /* Every third leaves the queue before its turn, from anywhere in it. */
        for (size_t i = 0; i < QUEUE_WAITERS; i += 3)
                audit_pool_unwait(pool, &qs[i].waiter);
        /* One slot at a time: each job that ends hands its slot on. */
        for (size_t i = 0; i < QUEUE_WAITERS - (QUEUE_WAITERS + 2) / 3; i++) {
                audit_pool_jobs_ended(pool, 1);
                audit_pool_kick(pool);
        }
        uint64_t spent = test_cpu_usec() - t0;
        for (size_t i = 0; i < QUEUE_WAITERS; i++)
                if (i % 3 != 0) {
                        if (expect >= n_order || order[expect] != i)
                                fail_msg("waiter %zu was not served in turn", i);
                        expect++;
                }
        assert_int_equal(n_order, expect);
        test_cpu_within("serving the waiters", spent, QUEUE_CPU_BOUND_USEC);
        audit_pool_jobs_ended(pool, 1);
        audit_pool_free(pool);
        sd_event_unref(event);
        free(order);
        free(qs);
}

/* ------------------------------------------------------------------------
 * The follow-ups alone, at scale: one legacy probe per address however many
 * endpoints share it, its result on the address's first endpoint in plan
 * order, and the work linear in the endpoints. 40,000 endpoints on 20,000
 * addresses take milliseconds when it is; with a list of addresses walked
 * per endpoint and the endpoints walked per address (as they were) they
 * take seconds. The bound is generous either way. */

struct legacy_fake {
        tls_probe_done_cb cb;
        void *userdata;
};

struct legacy_world {
        struct legacy_fake *probes;
        size_t n_probes, n_allocated, in_flight;
};

static int legacy_probe_start(void *ctx, sd_event *event, const struct tls_probe_params *params,
                              tls_probe_done_cb cb, void *userdata, struct tls_probe **ret) {
        struct legacy_world *w = ctx;

        assert_true(params->legacy);
        assert_true(w->n_probes < w->n_allocated);
        w->probes[w->n_probes] = (struct legacy_fake){ .cb = cb, .userdata = userdata };
        /* The handle is the probe's number, plus one (never NULL). */
        *ret = (struct tls_probe *)(uintptr_t)++w->n_probes;
        return 0;
}

static struct tls_probe *legacy_probe_free(void *ctx, struct tls_probe *p) {
        return NULL;
}

static struct tls_probe_params legacy_params(void *userdata, const struct endpoint_obs *e) {
        return (struct tls_probe_params){ .name = e->name, .address = e->address, .port = e->port };
}

static void legacy_started(void *userdata) {
        ((struct legacy_world *)userdata)->in_flight++;
}

static void legacy_ended(void *userdata) {
        ((struct legacy_world *)userdata)->in_flight--;
}

static void test_followups_linear(void **state) {
        enum { ADDRESSES = 20000 };
        static const struct audit_ops ops = {
                .probe_start = legacy_probe_start,
                .probe_free = legacy_probe_free,
        };
        struct legacy_world w = { .probes = xcalloc(ADDRESSES, sizeof(*w.probes)), .n_allocated = ADDRESSES };
        struct platform p = { .timeout_usec = USEC_PER_SEC };
        struct platform_obs *o = xcalloc(1, sizeof(*o));
        struct followups *f;
        uint64_t t0, spent;

        /* Two names on every address; each address answers for the name
         * later in the plan first, so the probe is queued for it. */
        o->names = xcalloc(2, sizeof(*o->names));
        o->names[0] = (struct name_obs){ .name = xstrdup("a.fake.example.test"), .status = DNS_STATUS_OK };
        o->names[1] = (struct name_obs){ .name = xstrdup("b.fake.example.test"), .status = DNS_STATUS_OK };
        o->n_names = 2;
        o->endpoints = xcalloc(2 * ADDRESSES, sizeof(*o->endpoints));
        for (size_t i = 0; i < 2 * ADDRESSES; i++)
                o->endpoints[i] = (struct endpoint_obs){
                        .name = xstrdup(o->names[i % 2 ? 0 : 1].name),
                        .address = xasprintf("10.%zu.%zu.%zu", i / 2 >> 16, (i / 2 >> 8) & 255, i / 2 & 255),
                        .port = 443,
                        .status = ENDPOINT_OK,
                };
        o->n_endpoints = 2 * ADDRESSES;
        f = followups_new(&(struct followups_env){
                .ops = &ops,
                .ops_ctx = &w,
                .platform = &p,
                .obs = o,
                .probe_params = legacy_params,
                .job_started = legacy_started,
                .job_ended = legacy_ended,
                .userdata = &w,
        });

        t0 = test_cpu_usec();
        for (size_t i = 0; i < o->n_endpoints; i++)
                followups_endpoint_done(f, i);
        while (followups_queued(f))
                followups_start_next(f);
        assert_int_equal(w.n_probes, ADDRESSES);
        assert_int_equal(w.in_flight, ADDRESSES);
        for (size_t i = 0; i < w.n_probes; i++) {
                struct endpoint_obs result = { .status = ENDPOINT_OK, .tls_version = xstrdup("TLS1.1") };
                w.probes[i].cb((struct tls_probe *)(uintptr_t)(i + 1), &result, w.probes[i].userdata);
        }
        assert_int_equal(w.in_flight, 0);
        followups_finish(f);
        spent = test_cpu_usec() - t0;

        for (size_t i = 0; i < o->n_endpoints; i++) {
                const struct endpoint_obs *e = &o->endpoints[i];
                bool first = i % 2 == 1; /* a.fake.example.test */
                if (first && (e->legacy != LEGACY_ACCEPTED || !streq_ptr(e->legacy_detail, "TLS1.1")))
                        fail_msg("%s/%s: legacy %d (%s), expected accepted", e->name, e->address, e->legacy,
                                 e->legacy_detail ? e->legacy_detail : "");
                if (!first && (e->legacy != LEGACY_NOT_PROBED || e->legacy_detail))
                        fail_msg("%s/%s: carries the legacy result of its address", e->name, e->address);
        }
        test_cpu_within("40,000 endpoints' follow-ups", spent, USEC_PER_SEC);
        followups_free(f);
        free(w.probes);
        platform_obs_free(o);
}

static int teardown(void **state) {
        unlink(trust_path);
        free(trust_path);
        cert_obs_done(&leaf_obs);
        gnutls_free(leaf_der.data);
        gnutls_free(leaf_pem.data);
        gnutls_free(leaf_crl.data);
        ares_library_cleanup();
        http_global_done();
        tls_global_done();
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_engine_cases),
                cmocka_unit_test(test_engine_free_midway),
                cmocka_unit_test(test_engine_host),
                cmocka_unit_test(test_memo_shares_certificates),
                cmocka_unit_test(test_pool_cap),
                cmocka_unit_test(test_pool_queue),
                cmocka_unit_test(test_pool_new_fails),
                cmocka_unit_test(test_followups_linear),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
