/* The audit engine for one platform. Jobs are DNS lookups (one per name)
 * and TLS probes (one per address of each name). Names are queued first;
 * each answer queues its endpoints. A single pump starts queued jobs while
 * fewer than `concurrency` are in flight for the platform and the pool has
 * a free slot, so memory, descriptors and per-job timers stay bounded
 * however many names and platforms a config has. */
#include <errno.h>
#include <string.h>

#include "audit.h"
#include "checks.h"
#include "dns.h"
#include "dnsaudit.h"
#include "providers.h"
#include "tls.h"
#include "util.h"
#include "x509.h"

struct endpoint_job {
        struct audit *audit;
        size_t index;              /* into obs->endpoints */
        struct tls_probe *probe;
};

struct name_job {
        struct audit *audit;
        size_t index;              /* into obs->names */
};

struct pool_trust {
        char *spec;
        struct x509_trust *trust;
};

struct audit_pool {
        sd_event *event;
        unsigned limit;
        unsigned in_flight;
        /* Audits with queued jobs that found the pool full, oldest first. */
        struct audit **waiting;
        size_t n_waiting;
        bool kicking;
        struct pool_trust *trusts;
        size_t n_trusts;
};

struct audit {
        sd_event *event;
        struct audit_pool *pool;
        struct audit_pool *own_pool;          /* set when not shared */
        bool waiting;                         /* in pool->waiting */
        const struct platform *platform;
        struct plan *plan;
        const struct x509_trust *trust;       /* the pool's */
        struct dns_resolver *dns;
        struct dnsaudit *dnsaudit;        /* the DNS facts gatherer: one job */
        struct providers *providers;      /* NULL unless dns01.provider is set and the table loaded */
        struct platform_obs *obs;
        struct finding_list findings;

        struct name_job *name_jobs;
        struct endpoint_job *endpoint_jobs;   /* parallel to obs->endpoints */
        size_t endpoints_allocated;
        size_t next_name;                     /* first name not started */
        size_t next_endpoint;                 /* first endpoint not started */
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

int audit_pool_new(sd_event *event, unsigned max_in_flight, struct audit_pool **ret) {
        struct audit_pool *pool = xcalloc(1, sizeof(*pool));
        pool->event = sd_event_ref(event);
        pool->limit = max_in_flight ? max_in_flight : 1;
        *ret = pool;
        return 0;
}

struct audit_pool *audit_pool_free(struct audit_pool *pool) {
        if (!pool)
                return NULL;
        for (size_t i = 0; i < pool->n_trusts; i++) {
                free(pool->trusts[i].spec);
                x509_trust_free(pool->trusts[i].trust);
        }
        free(pool->trusts);
        free(pool->waiting);
        sd_event_unref(pool->event);
        free(pool);
        return NULL;
}

static int pool_trust(struct audit_pool *pool, const char *spec, const struct x509_trust **ret, char **ret_error) {
        struct x509_trust *t;
        int r;

        for (size_t i = 0; i < pool->n_trusts; i++)
                if (strcmp(pool->trusts[i].spec, spec) == 0) {
                        *ret = pool->trusts[i].trust;
                        return 0;
                }
        r = x509_trust_load(spec, &t, ret_error);
        if (r < 0)
                return r;
        pool->trusts = xrealloc(pool->trusts, (pool->n_trusts + 1) * sizeof(*pool->trusts));
        pool->trusts[pool->n_trusts++] = (struct pool_trust){ .spec = xstrdup(spec), .trust = t };
        *ret = t;
        return 0;
}

static void pool_unwait(struct audit_pool *pool, struct audit *a) {
        for (size_t i = 0; i < pool->n_waiting; i++)
                if (pool->waiting[i] == a) {
                        memmove(&pool->waiting[i], &pool->waiting[i + 1],
                                (pool->n_waiting - i - 1) * sizeof(*pool->waiting));
                        pool->n_waiting--;
                        break;
                }
        a->waiting = false;
}

/* Hands free slots to waiting audits, oldest first. Not re-entered: a pump
 * that frees a slot synchronously is picked up by the loop below. */
static void pool_kick(struct audit_pool *pool) {
        if (pool->kicking)
                return;
        pool->kicking = true;
        while (pool->in_flight < pool->limit && pool->n_waiting > 0) {
                struct audit *a = pool->waiting[0];
                pool_unwait(pool, a);
                audit_pump(a);
        }
        pool->kicking = false;
}

static void job_started(struct audit *a) {
        a->in_flight++;
        a->pool->in_flight++;
}

static void job_ended(struct audit *a) {
        a->in_flight--;
        a->pool->in_flight--;
}

int audit_new_pooled(struct audit_pool *pool, const struct platform *p, struct audit **ret, char **ret_error) {
        struct audit *a = xcalloc(1, sizeof(*a));
        int r;

        a->event = sd_event_ref(pool->event);
        a->pool = pool;
        a->platform = p;
        r = plan_derive(p, &a->plan, ret_error);
        if (r < 0)
                goto fail;
        r = pool_trust(pool, p->trust ? p->trust : "system", &a->trust, ret_error);
        if (r < 0)
                goto fail;
        r = dns_resolver_new(a->event, p->resolvers, p->timeout_usec, &a->dns, ret_error);
        if (r < 0)
                goto fail;
        a->obs = xcalloc(1, sizeof(*a->obs));
        r = dnsaudit_new(a->event, p, a->plan, &a->obs->dns, &a->dnsaudit, ret_error);
        if (r < 0)
                goto fail;
        if (p->tls_mode == TLS_MODE_LETSENCRYPT && p->dns01_provider) {
                _cleanup_free_ char *path = providers_default_path(), *error = NULL;
                /* Without the table the provider check reports that it
                 * could not run; the rest of the audit is unaffected. */
                if (providers_load(path, &a->providers, &error) < 0)
                        free(TAKE_PTR(error)); /* ignoring: surfaced as check.error */
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

        (void)audit_pool_new(event, p->concurrency, &pool);
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
                if (a->endpoint_jobs[i].probe) {
                        a->endpoint_jobs[i].probe = tls_probe_free(a->endpoint_jobs[i].probe);
                        job_ended(a);
                }
        /* Destroying the channel runs pending DNS callbacks: mark the audit
         * as cancelled so they only record, never queue. */
        a->cancelled = true;
        a->dns = dns_resolver_free(a->dns);
        /* Never calls back; its slot, if it held one, is in a->in_flight. */
        a->dnsaudit = dnsaudit_free(a->dnsaudit);
        if (a->waiting)
                pool_unwait(a->pool, a);
        /* Jobs this audit held are free for the others now. */
        a->pool->in_flight -= a->in_flight;
        a->in_flight = 0;
        if (!a->own_pool)
                pool_kick(a->pool);
        sd_event_source_disable_unref(a->deadline);
        sd_event_source_disable_unref(a->finish);
        free(a->name_jobs);
        free(a->endpoint_jobs);
        finding_list_clear(&a->findings);
        platform_obs_free(a->obs);
        providers_free(a->providers);
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
        };
        a->endpoint_jobs[o->n_endpoints] = (struct endpoint_job){ .audit = a, .index = o->n_endpoints };
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
        pool_kick(a->pool);
}

static void on_probe(struct tls_probe *p, struct endpoint_obs *obs, void *userdata) {
        struct endpoint_job *job = userdata;
        struct audit *a = job->audit;
        struct endpoint_obs *dst = &a->obs->endpoints[job->index];

        endpoint_obs_done(dst);
        *dst = *obs;
        *obs = (struct endpoint_obs){ 0 };
        job->probe = tls_probe_free(p);
        job_ended(a);
        audit_pump(a);
        pool_kick(a->pool);
}

static void on_dns_facts(void *userdata) {
        struct audit *a = userdata;

        /* A gatherer cancelled before it got a slot ends without one. */
        if (a->dns_facts_started)
                job_ended(a);
        a->dns_facts_done = true;
        if (!a->cancelled)
                audit_pump(a);
        pool_kick(a->pool);
}

static void audit_finish(struct audit *a) {
        if (a->done)
                return;
        a->done = true;
        a->deadline = sd_event_source_disable_unref(a->deadline);
        a->obs->duration_usec = now_monotonic_usec() - a->started_usec;

        struct check_ctx ctx = {
                .platform = a->platform,
                .plan = a->plan,
                .obs = a->obs,
                .now = a->obs->started + (time_t)(a->obs->duration_usec / USEC_PER_SEC),
                .providers = a->providers,
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
                              a->next_name < o->n_names;
                if (queued && a->pool->in_flight >= a->pool->limit) {
                        /* The pool is full: wait for a slot, in turn. */
                        if (!a->waiting) {
                                a->pool->waiting = xrealloc(a->pool->waiting,
                                                            (a->pool->n_waiting + 1) * sizeof(*a->pool->waiting));
                                a->pool->waiting[a->pool->n_waiting++] = a;
                                a->waiting = true;
                        }
                        break;
                }
                if (!a->dns_facts_started) {
                        /* The DNS facts gatherer is one job: its own
                         * questions are bounded (see dnsaudit.c) and
                         * mostly sequential per line. It may end
                         * synchronously and re-enter the pump. */
                        a->dns_facts_started = true;
                        job_started(a);
                        dnsaudit_start(a->dnsaudit, on_dns_facts, a);
                } else if (a->next_endpoint < o->n_endpoints) {
                        /* Endpoints before names: finishing work already
                         * discovered keeps memory flat on large platforms. */
                        size_t i = a->next_endpoint++;
                        struct endpoint_obs *e = &o->endpoints[i];
                        struct tls_probe_params params = {
                                .name = e->name,
                                .service = e->service,
                                .address = e->address,
                                .port = e->port,
                                .timeout_usec = a->platform->timeout_usec,
                                .trust = a->trust,
                        };
                        if (tls_probe_start(a->event, &params, on_probe, &a->endpoint_jobs[i],
                                            &a->endpoint_jobs[i].probe) < 0) {
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
                        dns_resolve_addresses(a->dns, o->names[i].name, on_name, &a->name_jobs[i]);
                } else
                        break;
        }
        if (a->in_flight == 0 && a->dns_facts_done && a->next_name == o->n_names && a->next_endpoint == o->n_endpoints &&
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
        dns_resolver_cancel(a->dns); /* callbacks run now, and only record */
        dnsaudit_cancel(a->dnsaudit);
        for (size_t i = 0; i < a->obs->n_names; i++) {
                struct name_obs *n = &a->obs->names[i];
                if (n->status != DNS_STATUS_NOT_RUN)
                        continue;
                free(n->error);
                n->error = xstrdup(why);
        }
        /* Probes in flight report how far they got (connected or not), so
         * a stalled handshake still reads as one. */
        for (size_t i = 0; i < a->obs->n_endpoints; i++) {
                struct endpoint_obs *e = &a->obs->endpoints[i];
                if (a->endpoint_jobs[i].probe)
                        tls_probe_abort(a->endpoint_jobs[i].probe, why);
                if (e->status == ENDPOINT_NOT_RUN && !e->error)
                        e->error = xstrdup(why);
        }
        a->next_name = a->obs->n_names;
        a->next_endpoint = a->obs->n_endpoints;
        if (a->waiting)
                pool_unwait(a->pool, a);
        a->pool->in_flight -= a->in_flight;
        a->in_flight = 0;
        audit_finish(a);
        pool_kick(a->pool);
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
bool audit_is_done(const struct audit *a) {
        return a->done;
}
