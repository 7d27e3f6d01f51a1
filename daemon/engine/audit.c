/* The audit engine for one platform: its lifecycle (new, start, cancel,
 * finish, free) and its queue. Jobs are DNS lookups (one per name), TLS
 * probes (one per address of each name), the DNS facts gatherer and the
 * follow-ups (followups.c). Names are queued first; each answer queues its
 * endpoints; each finished endpoint queues its follow-ups. A single pump
 * starts queued jobs (endpoints, then names, then follow-ups) while fewer
 * than `concurrency` are in flight for the platform and the pool
 * (audit-pool.c) has a free slot, so memory, descriptors and per-job timers
 * stay bounded however many names and platforms a config has, and the
 * `deadline` bounds them all. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audit-pool.h"
#include "audit.h"
#include "checks.h"
#include "dns.h"
#include "http.h"
#include "dnsaudit.h"
#include "followups.h"
#include "providers.h"
#include "tls.h"
#include "util.h"
#include "x509.h"

struct endpoint_job {
        struct audit *audit;
        size_t index;              /* into obs->endpoints */
        struct tls_probe *probe;
        uint64_t started_usec;     /* monotonic, when the probe started */
};

struct name_job {
        struct audit *audit;
        size_t index;              /* into obs->names */
};

struct audit {
        sd_event *event;
        struct audit_pool *pool;
        struct audit_pool *own_pool;          /* set when not shared */
        struct audit_pool_waiter waiter;      /* a place in the pool's queue for a slot */
        const struct platform *platform;
        struct plan *plan;
        const struct x509_trust *trust;       /* the pool's */
        struct tls_chain_memo *memo;
        struct dns_resolver *dns;
        struct http_client *http;             /* the pool's */
        struct http_cache *cache;             /* borrowed, may be NULL */
        char **ingress_subjects;              /* the pool's */
        struct dnsaudit *dnsaudit;        /* the DNS facts gatherer: one job */
        struct providers *providers;      /* NULL unless dns01.provider is set and the table loaded */
        char *providers_error;            /* why the table did not load (names the file); owned */
        struct platform_obs *obs;
        struct finding_list findings;

        const struct audit_ops *ops;          /* borrowed: audit_ops_default unless set */
        void *ops_ctx;
        struct name_job *name_jobs;           /* parallel to obs->names, allocated once */
        /* Parallel to obs->endpoints. Each job is its own allocation: a
         * probe in flight holds its job as userdata while later answers
         * grow this array. */
        struct endpoint_job **endpoint_jobs;
        size_t endpoints_allocated;
        size_t next_name;                     /* first name not started */
        size_t next_endpoint;                 /* first endpoint not started */
        struct followups *followups;          /* created by audit_start() */
        size_t in_flight;
        bool dns_facts_started;               /* the gatherer holds a job slot */
        bool dns_facts_done;
        uint64_t started_usec;

        sd_event_source *deadline;
        sd_event_source *finish;
        bool cancelled;
        bool done;
        audit_done_cb cb;
        void *userdata;
};

static void audit_pump(struct audit *a);

/* The real probes behind the seam. */
static int real_probe_start(void *ctx, sd_event *event, const struct tls_probe_params *params, tls_probe_done_cb cb,
                            void *userdata, struct tls_probe **ret) {
        return tls_probe_start(event, params, cb, userdata, ret);
}
static void real_probe_abort(void *ctx, struct tls_probe *p, const char *why) {
        tls_probe_abort(p, why);
}
static struct tls_probe *real_probe_free(void *ctx, struct tls_probe *p) {
        return tls_probe_free(p);
}
static int real_resolve(void *ctx, struct dns_resolver *r, const char *name, dns_addresses_cb cb, void *userdata) {
        return dns_resolve_addresses(r, name, cb, userdata);
}
static void real_resolve_cancel(void *ctx, struct dns_resolver *r) {
        dns_resolver_cancel(r);
}
static void real_facts_start(void *ctx, struct dnsaudit *d, dnsaudit_done_cb cb, void *userdata) {
        dnsaudit_start(d, cb, userdata);
}
static void real_facts_cancel(void *ctx, struct dnsaudit *d) {
        dnsaudit_cancel(d);
}
static void real_facts_drop(void *ctx, struct dnsaudit *d) {
        /* dnsaudit_free() never calls back. */
}
static int real_fetch_start(void *ctx, struct http_client *c, const struct http_fetch_params *p, http_done_cb cb,
                            void *userdata, struct http_fetch **ret) {
        return http_fetch_start(c, p, cb, userdata, ret);
}
static void real_fetch_cancel(void *ctx, struct http_fetch *f) {
        http_fetch_cancel(f);
}

const struct audit_ops audit_ops_default = {
        .probe_start = real_probe_start,
        .probe_abort = real_probe_abort,
        .probe_free = real_probe_free,
        .resolve = real_resolve,
        .resolve_cancel = real_resolve_cancel,
        .facts_start = real_facts_start,
        .facts_cancel = real_facts_cancel,
        .facts_drop = real_facts_drop,
        .fetch_start = real_fetch_start,
        .fetch_cancel = real_fetch_cancel,
};

static void job_started(struct audit *a) {
        a->in_flight++;
        audit_pool_job_started(a->pool);
}

static void job_ended(struct audit *a) {
        a->in_flight--;
        audit_pool_jobs_ended(a->pool, 1);
}

/* All of the audit's jobs are over: their slots are free for the others. */
static void jobs_drop(struct audit *a) {
        audit_pool_unwait(a->pool, &a->waiter);
        audit_pool_jobs_ended(a->pool, a->in_flight);
        a->in_flight = 0;
}

/* The pool has a slot for this audit, which waited for one. */
static void on_pool_slot(void *userdata) {
        struct audit *a = userdata;
        audit_pump(a);
}

int audit_new_pooled(struct audit_pool *pool, const struct platform *p, struct audit **ret, char **ret_error) {
        struct audit *a = xcalloc(1, sizeof(*a));
        int r;

        a->event = sd_event_ref(audit_pool_event(pool));
        a->pool = pool;
        a->ops = &audit_ops_default;
        a->platform = p;
        r = plan_derive(p, &a->plan, ret_error);
        if (r < 0)
                goto fail;
        r = audit_pool_trust(pool, p->trust ? p->trust : "system", &a->trust, ret_error);
        if (r < 0) {
                /* Say where the path came from: the config's line or --trust. */
                if (p->trust_origin && *ret_error) {
                        char *m = xasprintf("%s (%s)", *ret_error, p->trust_origin);
                        free(*ret_error);
                        *ret_error = m;
                }
                goto fail;
        }
        r = dns_resolver_new(audit_pool_dns(pool), p->resolvers, p->timeout_usec, &a->dns, ret_error);
        if (r < 0)
                goto fail;
        a->http = audit_pool_http(pool);
        r = audit_pool_ingress(pool, &a->ingress_subjects, ret_error);
        if (r < 0)
                goto fail;
        a->memo = tls_chain_memo_new();
        a->obs = xcalloc(1, sizeof(*a->obs));
        /* A host has no platform DNS to gather facts about: the gatherer
         * counts as done before it starts, and dns.gathered stays false. */
        a->dns_facts_started = a->dns_facts_done = p->kind == PLATFORM_HOST;
        if (p->kind != PLATFORM_HOST) {
                r = dnsaudit_new(a->event, audit_pool_dns(pool), audit_pool_dnssec(pool), p, a->plan, &a->obs->dns,
                                 &a->dnsaudit, ret_error);
                if (r < 0)
                        goto fail;
        }
        if (p->tls_mode == TLS_MODE_LETSENCRYPT && p->dns01_provider) {
                _cleanup_free_ char *path = providers_default_path();
                /* Without the table the provider check reports that it
                 * could not run, naming the file; the rest of the audit is
                 * unaffected. */
                (void)providers_load(path, &a->providers, &a->providers_error);
        }
        *ret = a;
        return 0;
fail:
        audit_free(a);
        return r;
}

int audit_new(sd_event *event, const struct platform *p, struct audit **ret, char **ret_error) {
        struct audit_pool *pool;
        struct audit *a;
        int r;

        r = audit_pool_new(event, p->concurrency, &pool);
        if (r < 0) {
                *ret_error = xasprintf("cannot set up the audit: %s", strerror(-r));
                return r;
        }
        r = audit_new_pooled(pool, p, &a, ret_error);
        if (r < 0) {
                audit_pool_free(pool);
                return r;
        }
        a->own_pool = pool;
        *ret = a;
        return 0;
}

struct audit *audit_free(struct audit *a) {
        if (!a)
                return NULL;
        for (size_t i = 0; a->obs && i < a->obs->n_endpoints; i++)
                if (a->endpoint_jobs[i]->probe) {
                        a->endpoint_jobs[i]->probe = a->ops->probe_free(a->ops_ctx, a->endpoint_jobs[i]->probe);
                        job_ended(a);
                }
        /* The slots its jobs held are given back below. */
        a->followups = followups_free(a->followups);
        a->http = NULL; /* the pool's; this audit's fetches were cancelled above */
        /* Destroying the channel runs pending DNS callbacks: mark the audit
         * as cancelled so they only record, never queue. */
        a->cancelled = true;
        if (a->dns)
                a->ops->resolve_cancel(a->ops_ctx, a->dns);
        a->dns = dns_resolver_free(a->dns);
        /* Never calls back; its slot, if it held one, is in a->in_flight. */
        if (a->dnsaudit && a->dns_facts_started && !a->dns_facts_done)
                a->ops->facts_drop(a->ops_ctx, a->dnsaudit);
        a->dnsaudit = dnsaudit_free(a->dnsaudit);
        /* Jobs this audit held are free for the others now. */
        jobs_drop(a);
        if (!a->own_pool)
                audit_pool_kick(a->pool);
        sd_event_source_disable_unref(a->deadline);
        sd_event_source_disable_unref(a->finish);
        free(a->name_jobs);
        for (size_t i = 0; a->obs && i < a->obs->n_endpoints; i++)
                free(a->endpoint_jobs[i]);
        free(a->endpoint_jobs);
        finding_list_clear(&a->findings);
        platform_obs_free(a->obs);
        tls_chain_memo_free(a->memo);
        providers_free(a->providers);
        free(a->providers_error);
        audit_pool_free(a->own_pool);
        plan_free(a->plan);
        sd_event_unref(a->event);
        free(a);
        return NULL;
}

static void audit_add_endpoint(struct audit *a, const struct name_obs *n, const char *address) {
        struct platform_obs *o = a->obs;
        if (o->n_endpoints == a->endpoints_allocated) {
                a->endpoints_allocated = a->endpoints_allocated ? a->endpoints_allocated * 2 : 16;
                o->endpoints = xrealloc(o->endpoints, a->endpoints_allocated * sizeof(*o->endpoints));
                a->endpoint_jobs = xrealloc(a->endpoint_jobs, a->endpoints_allocated * sizeof(*a->endpoint_jobs));
        }
        o->endpoints[o->n_endpoints] = (struct endpoint_obs){
                .name = xstrdup(n->name),
                .service = n->service,
                .address = xstrdup(address),
                .port = a->platform->port,
                .status = ENDPOINT_NOT_RUN,
                .connected_to = a->platform->connect_to ? xstrdup(a->platform->connect_to) : NULL,
                .connected_port = a->platform->connect_port ? a->platform->connect_port : a->platform->port,
        };
        a->endpoint_jobs[o->n_endpoints] = xcalloc(1, sizeof(**a->endpoint_jobs));
        *a->endpoint_jobs[o->n_endpoints] = (struct endpoint_job){ .audit = a, .index = o->n_endpoints };
        o->n_endpoints++;
}

static void on_name(void *userdata, enum dns_status status, char **error, char ***addresses) {
        struct name_job *job = userdata;
        struct audit *a = job->audit;
        struct name_obs *n = &a->obs->names[job->index];

        job_ended(a);
        n->status = status;
        n->error = TAKE_PTR(*error);
        n->addresses = TAKE_PTR(*addresses);
        for (size_t i = 0; n->addresses && n->addresses[i]; i++)
                audit_add_endpoint(a, n, n->addresses[i]);
        if (!a->cancelled)
                audit_pump(a);
        audit_pool_kick(a->pool);
}

/* An address literal (certvigil check 192.0.2.1) is its own answer and
 * sends no query; a name goes to the resolver. Either may answer before
 * this returns. */
static void audit_resolve(struct audit *a, size_t i) {
        const char *name = a->obs->names[i].name;

        if (address_is_literal(name)) {
                char *error = NULL, **addresses = NULL;
                strv_push(&addresses, xstrdup(name));
                on_name(&a->name_jobs[i], DNS_STATUS_OK, &error, &addresses);
                return;
        }
        (void)a->ops->resolve(a->ops_ctx, a->dns, name, on_name, &a->name_jobs[i]);
}

/* A probe of endpoint e, the full one (a follow-up sets .legacy for the
 * restricted TLS 1.0/1.1 one). The strings are e's, which outlive the
 * probe. */
static struct tls_probe_params probe_params(const struct audit *a, const struct endpoint_obs *e) {
        return (struct tls_probe_params){
                .name = e->name,
                .service = e->service,
                .address = e->address,
                .port = e->port,
                .timeout_usec = a->platform->timeout_usec,
                .trust = a->trust,
                .memo = a->memo,
                .connect_address = e->connected_to,
                .connect_port = e->connected_port,
        };
}

static struct tls_probe_params followup_probe_params(void *userdata, const struct endpoint_obs *e) {
        return probe_params(userdata, e);
}

static void on_followup_started(void *userdata) {
        job_started(userdata);
}

static void on_followup_ended(void *userdata) {
        struct audit *a = userdata;
        job_ended(a);
        audit_pump(a);
        audit_pool_kick(a->pool);
}

static void on_probe(struct tls_probe *p, struct endpoint_obs *obs, void *userdata) {
        struct endpoint_job *job = userdata;
        struct audit *a = job->audit;
        struct endpoint_obs *dst = &a->obs->endpoints[job->index];

        char *connected_to = TAKE_PTR(dst->connected_to);
        uint16_t connected_port = dst->connected_port;

        endpoint_obs_done(dst);
        *dst = *obs;
        *obs = (struct endpoint_obs){ 0 };
        dst->connected_to = connected_to;
        dst->connected_port = connected_port;
        job->probe = a->ops->probe_free(a->ops_ctx, p);
        job_ended(a);
        if (dst->status == ENDPOINT_OK && !a->cancelled)
                followups_endpoint_done(a->followups, job->index);
        audit_pump(a);
        audit_pool_kick(a->pool);
}

static void on_dns_facts(void *userdata) {
        struct audit *a = userdata;

        /* A gatherer cancelled before it got a slot ends without one. */
        if (a->dns_facts_started)
                job_ended(a);
        a->dns_facts_done = true;
        if (!a->cancelled)
                audit_pump(a);
        audit_pool_kick(a->pool);
}

static void audit_finish(struct audit *a) {
        if (a->done)
                return;
        a->done = true;
        a->deadline = sd_event_source_disable_unref(a->deadline);
        a->obs->duration_usec = now_monotonic_usec() - a->started_usec;
        followups_finish(a->followups);

        struct check_ctx ctx = {
                .ingress_subjects = a->ingress_subjects,
                .platform = a->platform,
                .plan = a->plan,
                .obs = a->obs,
                .now = a->obs->started + (time_t)(a->obs->duration_usec / USEC_PER_SEC),
                .providers = a->providers,
                .data_error = a->providers_error,
        };
        checks_run(&ctx, &a->findings);
        if (a->cb)
                a->cb(a, a->userdata);
}

static int on_finish(sd_event_source *s, void *userdata) {
        struct audit *a = userdata;
        a->finish = sd_event_source_disable_unref(a->finish);
        audit_finish(a);
        return 0;
}

static void audit_pump(struct audit *a) {
        struct platform_obs *o = a->obs;
        unsigned limit = a->platform->concurrency ? a->platform->concurrency : 1;

        while (!a->cancelled && a->in_flight < limit) {
                bool queued = !a->dns_facts_started || a->next_endpoint < o->n_endpoints ||
                              a->next_name < o->n_names || followups_queued(a->followups);
                if (queued && audit_pool_full(a->pool)) {
                        /* The pool is full: wait for a slot, in turn. */
                        if (!a->waiter.queued)
                                audit_pool_wait(a->pool, &a->waiter, on_pool_slot, a);
                        break;
                }
                if (!a->dns_facts_started) {
                        /* The DNS facts gatherer is one job: its own
                         * questions are bounded (see dnsaudit.c) and
                         * mostly sequential per line. It may end
                         * synchronously and re-enter the pump. */
                        a->dns_facts_started = true;
                        job_started(a);
                        a->ops->facts_start(a->ops_ctx, a->dnsaudit, on_dns_facts, a);
                } else if (a->next_endpoint < o->n_endpoints) {
                        /* Endpoints before names: finishing work already
                         * discovered keeps memory flat on large platforms. */
                        size_t i = a->next_endpoint++;
                        struct endpoint_obs *e = &o->endpoints[i];
                        struct tls_probe_params params = probe_params(a, e);
                        struct endpoint_job *job = a->endpoint_jobs[i];
                        job->started_usec = now_monotonic_usec();
                        if (a->ops->probe_start(a->ops_ctx, a->event, &params, on_probe, job, &job->probe) < 0) {
                                free(e->error);
                                e->error = xstrdup("could not start the probe (out of resources)");
                                e->status = ENDPOINT_CONNECT_FAILED;
                                continue;
                        }
                        job_started(a);
                } else if (a->next_name < o->n_names) {
                        size_t i = a->next_name++;
                        job_started(a);
                        /* May answer synchronously (and re-enter the pump). */
                        audit_resolve(a, i);
                } else if (followups_queued(a->followups))
                        followups_start_next(a->followups);
                else
                        break;
        }
        if (a->in_flight == 0 && a->dns_facts_done && a->next_name == o->n_names && a->next_endpoint == o->n_endpoints &&
            !followups_queued(a->followups) &&
            !a->finish && !a->done)
                /* Finish from the loop, so the done callback never runs
                 * inside audit_start() or a probe's callback. */
                (void)sd_event_add_defer(a->event, &a->finish, on_finish, a);
}

void audit_cancel(struct audit *a) {
        char dl[DURATION_MAX];
        _cleanup_free_ char *why = NULL;

        if (a->done || a->cancelled)
                return;
        a->cancelled = true;
        why = xasprintf("the audit deadline (%s) was reached first", format_duration(a->platform->deadline_usec, dl));
        a->ops->resolve_cancel(a->ops_ctx, a->dns); /* callbacks run now, and only record */
        if (a->dnsaudit)
                a->ops->facts_cancel(a->ops_ctx, a->dnsaudit);
        for (size_t i = 0; i < a->obs->n_names; i++) {
                struct name_obs *n = &a->obs->names[i];
                if (n->status != DNS_STATUS_NOT_RUN)
                        continue;
                free(n->error);
                n->error = xstrdup(why);
        }
        /* Probes in flight report how far they got (connected or not), so
         * a stalled handshake still reads as one. */
        a->obs->deadline_reached = true;
        for (size_t i = 0; i < a->obs->n_endpoints; i++) {
                struct endpoint_obs *e = &a->obs->endpoints[i];
                bool cut = a->endpoint_jobs[i]->probe || e->status == ENDPOINT_NOT_RUN;
                if (a->endpoint_jobs[i]->probe)
                        a->ops->probe_abort(a->ops_ctx, a->endpoint_jobs[i]->probe, why);
                /* After the abort: its callback replaces the observation. */
                e->cut_short = cut;
                if (e->status == ENDPOINT_NOT_RUN && !e->error)
                        e->error = xstrdup(why);
        }
        /* Follow-ups in flight are dropped; what they would have told is
         * recorded as not known (see followups_finish). */
        followups_cancel(a->followups, why);
        a->next_name = a->obs->n_names;
        a->next_endpoint = a->obs->n_endpoints;
        jobs_drop(a);
        audit_finish(a);
        audit_pool_kick(a->pool);
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        audit_cancel(userdata);
        return 0;
}

int audit_start(struct audit *a, audit_done_cb cb, void *userdata) {
        struct platform_obs *o = a->obs;
        int r;

        a->cb = cb;
        a->userdata = userdata;
        a->started_usec = now_monotonic_usec();
        o->started = (time_t)(now_realtime_usec() / USEC_PER_SEC);
        a->followups = followups_new(&(struct followups_env){
                .event = a->event,
                .ops = a->ops,
                .ops_ctx = a->ops_ctx,
                .platform = a->platform,
                .obs = o,
                .trust = a->trust,
                .http = a->http,
                .cache = a->cache,
                .probe_params = followup_probe_params,
                .job_started = on_followup_started,
                .job_ended = on_followup_ended,
                .userdata = a,
        });

        r = sd_event_add_time_relative(a->event, &a->deadline, CLOCK_MONOTONIC, a->platform->deadline_usec,
                                       10 * USEC_PER_MSEC, on_deadline, a);
        if (r < 0)
                return r;

        o->names = xcalloc(a->plan->n_names ? a->plan->n_names : 1, sizeof(*o->names));
        a->name_jobs = xcalloc(a->plan->n_names ? a->plan->n_names : 1, sizeof(*a->name_jobs));
        for (size_t i = 0; i < a->plan->n_names; i++) {
                o->names[i] = (struct name_obs){
                        .service = a->plan->names[i].service,
                        .name = xstrdup(a->plan->names[i].name),
                        .status = DNS_STATUS_NOT_RUN,
                };
                a->name_jobs[i] = (struct name_job){ .audit = a, .index = i };
        }
        o->n_names = a->plan->n_names;
        audit_pump(a);
        return 0;
}

void audit_set_ops(struct audit *a, const struct audit_ops *ops, void *ctx) {
        assert(!a->started_usec);
        a->ops = ops;
        a->ops_ctx = ctx;
}

void audit_set_cache(struct audit *a, struct http_cache *cache) {
        assert(!a->started_usec);
        a->cache = cache;
}

const struct platform *audit_platform(const struct audit *a) {
        return a->platform;
}
const struct plan *audit_plan(const struct audit *a) {
        return a->plan;
}
const struct platform_obs *audit_observations(const struct audit *a) {
        return a->obs;
}
const struct finding_list *audit_findings(const struct audit *a) {
        return &a->findings;
}
bool audit_slowest_in_flight(const struct audit *a, size_t *ret_index, uint64_t *ret_started_usec) {
        const struct endpoint_job *slowest = NULL;

        for (size_t i = 0; a->obs && i < a->obs->n_endpoints; i++) {
                const struct endpoint_job *job = a->endpoint_jobs[i];
                if (job->probe && (!slowest || job->started_usec < slowest->started_usec))
                        slowest = job;
        }
        if (!slowest)
                return false;
        *ret_index = slowest->index;
        *ret_started_usec = slowest->started_usec;
        return true;
}

bool audit_is_done(const struct audit *a) {
        return a->done;
}
