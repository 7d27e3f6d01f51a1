/* An audit's follow-ups (followups.h): queued as endpoints finish, started
 * by the audit's pump when it has a free slot, judged where they end. */
#include <assert.h>
#include <errno.h>
#include <search.h>
#include <stdint.h>
#include <string.h>

#include "audit.h"
#include "checks.h"
#include "followups.h"
#include "util.h"

/* Response bounds for the follow-up fetches: a CA certificate is a few KiB;
 * the largest public CRLs are a few MiB. */
#define AIA_MAX_BYTES (64u * 1024u)
#define CRL_MAX_BYTES (8u * 1024u * 1024u)

enum followup_kind {
        FOLLOWUP_LEGACY,           /* restricted handshake for one endpoint's address */
        FOLLOWUP_FETCH,            /* one URL */
};

struct followup {
        struct followups *owner;
        enum followup_kind kind;
        size_t endpoint;           /* FOLLOWUP_LEGACY */
        char *address;             /* FOLLOWUP_LEGACY: what it probes */
        size_t first;              /* FOLLOWUP_LEGACY: set by followups_finish() */
        char *url;                 /* FOLLOWUP_FETCH */
        size_t max_bytes;
        bool started, done;
        struct tls_probe *probe;
        struct http_fetch *fetch;
        long http_status;          /* FOLLOWUP_FETCH */
        enum legacy_status legacy; /* FOLLOWUP_LEGACY */
        unsigned char *body;
        size_t size;
        char *error;
        /* A CRL is parsed once, when its fetch ends (within the audit and
         * its deadline), whatever the number of endpoints naming it. */
        bool is_crl;
        struct x509_crl *crl;
        char *crl_error;           /* why a fetched CRL could not be read */
        bool cached;               /* the body is in the process's cache already */
        /* An AIA caIssuers body, parsed once likewise; each endpoint that
         * needs it gets its own copy (a CA certificate: small). */
        struct cert_obs *aia_cert;
        char *aia_error;
};

struct followups {
        struct followups_env env;
        struct followup **jobs;
        size_t n_jobs, n_allocated;
        size_t next;                          /* first follow-up not started */
        /* The legacy jobs by address and the fetches by URL (tsearch
         * trees of jobs, which the jobs array owns): an audit may have
         * tens of thousands of addresses, and a list walked for each of
         * them makes it quadratic. */
        void *legacy_by_address;
        void *fetch_by_url;
};

static int legacy_compare(const void *a, const void *b) {
        return strcmp(((const struct followup *)a)->address, ((const struct followup *)b)->address);
}

static int fetch_compare(const void *a, const void *b) {
        return strcmp(((const struct followup *)a)->url, ((const struct followup *)b)->url);
}

static void node_keep(void *job) {
        /* The jobs array owns the jobs. */
}

static void fetch_apply(struct followups *f, const struct followup *x);

struct followups *followups_new(const struct followups_env *env) {
        struct followups *f = xcalloc(1, sizeof(*f));
        f->env = *env;
        return f;
}

struct followups *followups_free(struct followups *f) {
        if (!f)
                return NULL;
        for (size_t i = 0; i < f->n_jobs; i++) {
                struct followup *x = f->jobs[i];
                if (x->probe)
                        f->env.ops->probe_free(f->env.ops_ctx, x->probe);
                if (x->fetch)
                        f->env.ops->fetch_cancel(f->env.ops_ctx, x->fetch);
                free(x->address);
                free(x->url);
                free(x->body);
                free(x->error);
                x509_crl_free(x->crl);
                free(x->crl_error);
                if (x->aia_cert) {
                        cert_obs_done(x->aia_cert);
                        free(x->aia_cert);
                }
                free(x->aia_error);
                free(x);
        }
        tdestroy(f->legacy_by_address, node_keep);
        tdestroy(f->fetch_by_url, node_keep);
        free(f->jobs);
        free(f);
        return NULL;
}

static struct followup *followup_add(struct followups *f, enum followup_kind kind) {
        struct followup *x = xcalloc(1, sizeof(*x));
        x->owner = f;
        x->kind = kind;
        if (f->n_jobs == f->n_allocated) {
                f->n_allocated = f->n_allocated ? 2 * f->n_allocated : 16;
                f->jobs = xrealloc(f->jobs, f->n_allocated * sizeof(*f->jobs));
        }
        f->jobs[f->n_jobs++] = x;
        return x;
}

static struct followup *fetch_find(struct followups *f, const char *url) {
        const struct followup key = { .url = (char *)url };
        struct followup *const *node = tfind(&key, &f->fetch_by_url, fetch_compare);
        return node ? *node : NULL;
}

static struct followup *legacy_find(struct followups *f, const char *address) {
        const struct followup key = { .address = (char *)address };
        struct followup *const *node = tfind(&key, &f->legacy_by_address, legacy_compare);
        return node ? *node : NULL;
}

/* A finished CRL fetch: parsed now, so that the work is bounded by the
 * audit's deadline and done once. */
static void fetch_parse_crl(struct followup *x) {
        if (x->error || !x->body)
                return;
        if (!x->is_crl) {
                struct cert_obs *c = xcalloc(1, sizeof(*c));
                if (x509_cert_parse_any(x->body, x->size, c, &x->aia_error) < 0) {
                        cert_obs_done(c);
                        free(c);
                } else
                        x->aia_cert = c;
                return;
        }
        if (x509_crl_parse(x->body, x->size, &x->crl, &x->crl_error) < 0 && !x->crl_error)
                x->crl_error = xstrdup("the CRL could not be read (out of resources)");
}

static void fetch_queue(struct followups *f, const char *url, size_t max_bytes, bool is_crl) {
        struct followup *x;
        const unsigned char *cached;
        size_t size;

        if (fetch_find(f, url))
                return;
        x = followup_add(f, FOLLOWUP_FETCH);
        x->url = xstrdup(url);
        if (!tsearch(x, &f->fetch_by_url, fetch_compare))
                oom();
        x->max_bytes = max_bytes;
        x->is_crl = is_crl;
        cached = http_cache_get(f->env.cache, url, (time_t)(now_realtime_usec() / USEC_PER_SEC), &size);
        if (cached) {
                x->started = x->done = true;
                x->http_status = 200;
                x->body = xmalloc(size ? size : 1);
                memcpy(x->body, cached, size);
                x->size = size;
                x->cached = true;
                fetch_parse_crl(x);
        }
}

/* What a finished endpoint needs next: the legacy probe for its address
 * (once per address), its missing issuer from AIA, its CRL. */
static void followups_queue(struct followups *f, size_t index) {
        const struct endpoint_obs *e = &f->env.obs->endpoints[index];
        const char *addr = e->connected_to ? e->connected_to : e->address;
        struct chain_walk w;

        if (!legacy_find(f, addr)) {
                struct followup *x = followup_add(f, FOLLOWUP_LEGACY);
                x->endpoint = index;
                x->address = xstrdup(addr);
                if (!tsearch(x, &f->legacy_by_address, legacy_compare))
                        oom();
        }
        if (e->n_chain == 0)
                return;
        chain_walk(e, &w);
        if (w.leaf_issuer_missing && !e->verified && e->chain[0].aia_ca_issuers)
                fetch_queue(f, e->chain[0].aia_ca_issuers, AIA_MAX_BYTES, false);
        /* A CRL tells something only about a chain that verifies; an
         * untrusted certificate's URLs are the server's to choose. */
        if (e->chain[0].crl_url && e->verified)
                fetch_queue(f, e->chain[0].crl_url, CRL_MAX_BYTES, true);
}

static void on_legacy(struct tls_probe *p, struct endpoint_obs *obs, void *userdata) {
        struct followup *x = userdata;
        struct followups *f = x->owner;

        /* Kept on the job: followups_finish() puts it on the address's
         * first endpoint in plan order, whichever probe of that address
         * happened to finish first. */
        if (obs->status == ENDPOINT_OK) {
                x->legacy = LEGACY_ACCEPTED;
                x->error = TAKE_PTR(obs->tls_version);
        } else {
                x->legacy = LEGACY_REFUSED;
                x->error = TAKE_PTR(obs->error);
        }
        endpoint_obs_done(obs);
        x->probe = f->env.ops->probe_free(f->env.ops_ctx, p);
        x->done = true;
        f->env.job_ended(f->env.userdata);
}

static void on_fetch(struct http_fetch *hf, struct http_result *res, void *userdata) {
        struct followup *x = userdata;
        struct followups *f = x->owner;

        x->fetch = NULL; /* the client frees it */
        x->http_status = res->status;
        x->error = TAKE_PTR(res->error);
        if (!x->error && res->status != 200)
                x->error = xasprintf("HTTP status %ld", res->status);
        x->body = TAKE_PTR(res->body);
        x->size = res->size;
        x->done = true;
        fetch_parse_crl(x);
        fetch_apply(f, x);
        f->env.job_ended(f->env.userdata);
}

static void followup_start(struct followups *f, struct followup *x) {
        x->started = true;
        if (x->kind == FOLLOWUP_LEGACY) {
                const struct endpoint_obs *e = &f->env.obs->endpoints[x->endpoint];
                struct tls_probe_params params = f->env.probe_params(f->env.userdata, e);
                params.legacy = true;
                if (f->env.ops->probe_start(f->env.ops_ctx, f->env.event, &params, on_legacy, x, &x->probe) < 0) {
                        x->done = true;
                        return;
                }
        } else {
                struct http_fetch_params params = {
                        .url = x->url,
                        .max_bytes = x->max_bytes,
                        .timeout_usec = f->env.platform->timeout_usec,
                        /* The URL comes from a served certificate, which
                         * anyone controlling an endpoint chooses. */
                        .public_only = !platform_fetch_private(f->env.platform),
                };
                if (f->env.ops->fetch_start(f->env.ops_ctx, f->env.http, &params, on_fetch, x, &x->fetch) < 0) {
                        x->error = xstrdup("could not start the fetch");
                        x->done = true;
                        return;
                }
        }
        f->env.job_started(f->env.userdata);
}

bool followups_queued(const struct followups *f) {
        return f->next < f->n_jobs;
}

void followups_start_next(struct followups *f) {
        struct followup *x;

        assert(followups_queued(f));
        x = f->jobs[f->next++];
        if (!x->started)
                followup_start(f, x);
}

/* The missing issuer fetched from the leaf's AIA URL, once fetched (or,
 * when final, as far as it got). */
static void endpoint_apply_aia(struct followups *f, struct endpoint_obs *e, const struct chain_walk *w, bool final) {
        const char *aia = w->leaf_issuer_missing && !e->verified ? e->chain[0].aia_ca_issuers : NULL;
        struct followup *x;

        if (!aia || e->aia.url || !(x = fetch_find(f, aia)) || !(x->done || final))
                return;
        e->aia.url = xstrdup(aia);
        e->aia.http_status = x->http_status;
        e->aia.size = x->size;
        if (!x->done)
                e->aia.error = xstrdup("not fetched: the audit deadline was reached first");
        else if (x->error)
                e->aia.error = xstrdup(x->error);
        else if (!x->aia_cert)
                e->aia.error = xstrdup(x->aia_error ? x->aia_error : "the certificate could not be read");
        else {
                e->aia_cert = xcalloc(1, sizeof(*e->aia_cert));
                cert_obs_copy(e->aia_cert, x->aia_cert);
        }
}

/* The leaf judged against its fetched CRL. The CRL's signer is the leaf's
 * issuer: served or a trust anchor (NULL). The verdict per issuer is kept
 * in the CRL, so each (CRL, issuer) is verified once; each leaf is then a
 * lookup. Only a current CRL whose signature verified is worth caching,
 * once per fetch. */
static void endpoint_judge_crl(struct followups *f, struct endpoint_obs *e, struct followup *x, const char *crl) {
        time_t now = (time_t)(now_realtime_usec() / USEC_PER_SEC), next_update;
        const struct cert_obs *issuer = NULL;
        enum crl_status st;
        char *detail = NULL;

        for (size_t k = 1; k < e->n_chain && !issuer; k++)
                if (strcmp(e->chain[k].subject, e->chain[0].issuer) == 0)
                        issuer = &e->chain[k];
        if (x509_crl_judge(f->env.trust, x->crl, &e->chain[0], issuer, now, &st, &detail) < 0)
                return;
        e->crl_status = st;
        e->crl_detail = detail;
        next_update = x509_crl_next_update(x->crl);
        if (!x->cached && (st == CRL_GOOD || st == CRL_REVOKED) && next_update > now) {
                http_cache_put(f->env.cache, crl, x->body, x->size, next_update);
                x->cached = true;
        }
}

static void endpoint_apply_crl(struct followups *f, struct endpoint_obs *e, bool final) {
        const char *crl = e->chain[0].crl_url;
        struct followup *x;

        if (!crl || !e->verified || e->crl.url || !(x = fetch_find(f, crl)) || !(x->done || final))
                return;
        e->crl.url = xstrdup(crl);
        e->crl.http_status = x->http_status;
        e->crl.size = x->size;
        e->crl_status = CRL_UNKNOWN;
        if (!x->done) {
                e->crl.error = xstrdup("not fetched: the audit deadline was reached first");
                e->crl_detail = xstrdup(e->crl.error);
        } else if (x->error) {
                e->crl.error = xstrdup(x->error);
                e->crl_detail = xasprintf("the CRL could not be fetched: %s", x->error);
        } else if (!x->crl)
                e->crl_detail = xstrdup(x->crl_error ? x->crl_error : "the CRL could not be read");
        else
                endpoint_judge_crl(f, e, x, crl);
}

/* Puts what the endpoint's fetches found on it, each once: the AIA
 * certificate, the CRL verdict. Runs when the endpoint finishes and when
 * each of its fetches does, so a CRL is judged on the loop within the
 * deadline, not copied back at the end; at the end (final) a fetch still
 * missing is recorded as cut by the deadline. The fetch job owns the body,
 * the parsed CRL and the AIA certificate; the endpoint owns its copies. */
static void endpoint_apply_fetches(struct followups *f, size_t i, bool final) {
        struct endpoint_obs *e = &f->env.obs->endpoints[i];
        struct chain_walk w;

        if (e->status != ENDPOINT_OK || e->n_chain == 0)
                return;
        chain_walk(e, &w);
        endpoint_apply_aia(f, e, &w, final);
        endpoint_apply_crl(f, e, final);
}

/* A fetch ended: the endpoints already probed that named its URL take
 * its result now. */
static void fetch_apply(struct followups *f, const struct followup *x) {
        for (size_t i = 0; i < f->env.obs->n_endpoints; i++) {
                const struct endpoint_obs *e = &f->env.obs->endpoints[i];
                if (e->status == ENDPOINT_OK && e->n_chain > 0 &&
                    (streq_ptr(e->chain[0].crl_url, x->url) || streq_ptr(e->chain[0].aia_ca_issuers, x->url)))
                        endpoint_apply_fetches(f, i, false);
        }
}

void followups_endpoint_done(struct followups *f, size_t index) {
        followups_queue(f, index);
        /* Fetches already done (by another endpoint, or cached). */
        endpoint_apply_fetches(f, index, false);
}

void followups_cancel(struct followups *f, const char *why) {
        if (!f)
                return;
        for (size_t i = 0; i < f->n_jobs; i++) {
                struct followup *x = f->jobs[i];
                if (x->probe) {
                        x->probe = f->env.ops->probe_free(f->env.ops_ctx, x->probe);
                        x->error = xasprintf("not completed: %s", why);
                }
                if (x->fetch) {
                        f->env.ops->fetch_cancel(f->env.ops_ctx, x->fetch);
                        x->fetch = NULL;
                }
        }
        f->next = f->n_jobs;
}

void followups_finish(struct followups *f) {
        struct platform_obs *o;

        if (!f)
                return;
        o = f->env.obs;
        /* One pass: each endpoint probed is a candidate for the legacy
         * result of its address. */
        for (size_t k = 0; k < f->n_jobs; k++)
                f->jobs[k]->first = SIZE_MAX;
        for (size_t i = 0; i < o->n_endpoints; i++) {
                const struct endpoint_obs *e = &o->endpoints[i];
                struct followup *x;

                if (e->status != ENDPOINT_OK)
                        continue;
                x = legacy_find(f, e->connected_to ? e->connected_to : e->address);
                if (x && (x->first == SIZE_MAX || endpoint_before(o, i, x->first)))
                        x->first = i;
        }
        for (size_t k = 0; k < f->n_jobs; k++) {
                const struct followup *x = f->jobs[k];

                if (x->kind != FOLLOWUP_LEGACY || (!x->done && !x->error))
                        continue;
                struct endpoint_obs *e = &o->endpoints[x->first != SIZE_MAX ? x->first : x->endpoint];
                e->legacy = x->done ? x->legacy : LEGACY_NOT_PROBED;
                free(e->legacy_detail);
                e->legacy_detail = x->error ? xstrdup(x->error) : NULL;
        }

        for (size_t i = 0; i < o->n_endpoints; i++)
                endpoint_apply_fetches(f, i, true);
}
