/* The audit pool: the cap on jobs in flight shared by the audits of one
 * config, the queue of audits waiting for a slot, and what those audits
 * load once between them (trust anchors, the data file, the DNS channels,
 * the validating resolvers, the HTTP client). */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "audit-pool.h"
#include "dnssec-hub.h"
#include "util.h"

/* The ingress placeholder list is ours; these bound a damaged file. */
#define DATA_LINES_MAX 1000
#define DATA_LINE_MAX 1024
#define INGRESS_FILE "ingress-default-certs.txt"

struct pool_trust {
        char *spec;
        struct x509_trust *trust;
};

struct audit_pool {
        sd_event *event;
        struct dns_hub *dns;                  /* the DNS channels every audit shares */
        struct dnssec_hub *dnssec;            /* likewise the validating resolvers */
        struct http_client *http;             /* likewise the fetches (one multi handle) */
        char **ingress_subjects;              /* the data file, read once */
        bool ingress_loaded;
        unsigned limit;
        unsigned in_flight;
        /* Audits with queued jobs that found the pool full, oldest
         * first: a list through their waiters, so that handing out a slot
         * or dropping a cancelled audit costs the same at any length. */
        struct audit_pool_waiter *head, *tail;
        bool kicking;
        struct pool_trust *trusts;
        size_t n_trusts;
};

int audit_pool_ingress_read(const char *path, char ***ret, char **ret_error) {
        _cleanup_strv_free_ char **lines = NULL;
        char buf[DATA_LINE_MAX + 2];
        size_t n = 0, lineno = 0;
        FILE *f = file_fopen_regular(path);

        if (!f) {
                int r = -errno;
                *ret_error = xasprintf("%s: cannot read: %s (set CERTVIGIL_DATA_DIR to the directory holding %s)",
                                       path, file_strerror(r), INGRESS_FILE);
                return r;
        }
        while (fgets(buf, sizeof(buf), f)) {
                size_t len = strlen(buf);
                char *s = buf;
                lineno++;
                if (len > DATA_LINE_MAX || ++n > DATA_LINES_MAX) {
                        *ret_error = xasprintf("%s:%zu: line too long or too many lines", path, lineno);
                        fclose(f);
                        return -EINVAL;
                }
                while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' ' || buf[len - 1] == '\t' ||
                                   buf[len - 1] == '\r'))
                        buf[--len] = 0;
                while (*s == ' ' || *s == '\t')
                        s++;
                if (*s == 0 || *s == '#')
                        continue;
                strv_push(&lines, xstrdup(s));
        }
        fclose(f);
        *ret = TAKE_PTR(lines);
        return 0;
}

int audit_pool_new(sd_event *event, unsigned max_in_flight, struct audit_pool **ret) {
        struct audit_pool *pool = xcalloc(1, sizeof(*pool));
        int r;

        pool->event = sd_event_ref(event);
        pool->limit = max_in_flight ? max_in_flight : 1;
        /* Each may fail (a loop that has finished takes no more sources):
         * the first failure is the pool's. */
        if ((r = dns_hub_new(event, &pool->dns)) < 0 ||
            (r = dnssec_hub_new(event, DNSSEC_HUB_MAX, &pool->dnssec)) < 0 ||
            (r = http_client_new(event, &pool->http)) < 0) {
                audit_pool_free(pool);
                return r;
        }
        *ret = pool;
        return 0;
}

unsigned audit_pool_cap(const struct config *c, unsigned long nofile) {
        unsigned cap = 1;
        unsigned long budget;

        /* max_inflight when set, else the largest concurrency any platform
         * asks for. */
        for (size_t i = 0; !c->max_inflight && i < c->n_platforms; i++)
                if (c->platforms[i]->concurrency > cap)
                        cap = c->platforms[i]->concurrency;
        if (c->max_inflight)
                cap = c->max_inflight;
        /* A TLS probe holds one socket; a fetch may hold two (the
         * connection and libcurl's resolver): count two per job. The
         * reserve covers the loop, signals, timers, the journal, state and
         * report files, the shared DNS channels' sockets and the validating
         * resolvers' pipes (two per context, DNSSEC_HUB_MAX contexts). */
        budget = nofile > 2 * AUDIT_FD_RESERVE ? (nofile - AUDIT_FD_RESERVE) / 2 : AUDIT_FD_RESERVE / 2;
        if (cap > budget)
                cap = (unsigned)budget;
        return cap;
}

struct audit_pool *audit_pool_free(struct audit_pool *pool) {
        if (!pool)
                return NULL;
        for (size_t i = 0; i < pool->n_trusts; i++) {
                free(pool->trusts[i].spec);
                x509_trust_free(pool->trusts[i].trust);
        }
        free(pool->trusts);
        assert(!pool->head);
        strv_free(pool->ingress_subjects);
        http_client_free(pool->http);
        dns_hub_free(pool->dns);
        dnssec_hub_free(pool->dnssec);
        sd_event_unref(pool->event);
        free(pool);
        return NULL;
}

sd_event *audit_pool_event(const struct audit_pool *pool) {
        return pool->event;
}

struct dns_hub *audit_pool_dns(const struct audit_pool *pool) {
        return pool->dns;
}

struct dnssec_hub *audit_pool_dnssec(const struct audit_pool *pool) {
        return pool->dnssec;
}

struct http_client *audit_pool_http(const struct audit_pool *pool) {
        return pool->http;
}

int audit_pool_trust(struct audit_pool *pool, const char *spec, const struct x509_trust **ret, char **ret_error) {
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

int audit_pool_ingress(struct audit_pool *pool, char ***ret, char **ret_error) {
        if (!pool->ingress_loaded) {
                _cleanup_free_ char *path = data_path(INGRESS_FILE);
                int r = audit_pool_ingress_read(path, &pool->ingress_subjects, ret_error);
                if (r < 0)
                        return r;
                pool->ingress_loaded = true;
        }
        *ret = pool->ingress_subjects;
        return 0;
}

bool audit_pool_full(const struct audit_pool *pool) {
        return pool->in_flight >= pool->limit;
}

void audit_pool_job_started(struct audit_pool *pool) {
        pool->in_flight++;
}

void audit_pool_jobs_ended(struct audit_pool *pool, size_t n) {
        assert(n <= pool->in_flight);
        pool->in_flight -= n;
}

void audit_pool_wait(struct audit_pool *pool, struct audit_pool_waiter *w, audit_pool_resume_cb resume,
                     void *userdata) {
        assert(!w->queued);
        *w = (struct audit_pool_waiter){ .prev = pool->tail, .resume = resume, .userdata = userdata, .queued = true };
        if (pool->tail)
                pool->tail->next = w;
        else
                pool->head = w;
        pool->tail = w;
}

void audit_pool_unwait(struct audit_pool *pool, struct audit_pool_waiter *w) {
        if (!w->queued)
                return;
        if (w->prev)
                w->prev->next = w->next;
        else
                pool->head = w->next;
        if (w->next)
                w->next->prev = w->prev;
        else
                pool->tail = w->prev;
        w->prev = w->next = NULL;
        w->queued = false;
}

/* Not re-entered: a resumed audit that frees a slot synchronously is
 * picked up by the loop below. */
void audit_pool_kick(struct audit_pool *pool) {
        if (pool->kicking)
                return;
        pool->kicking = true;
        while (pool->in_flight < pool->limit && pool->head) {
                struct audit_pool_waiter *w = pool->head;
                audit_pool_unwait(pool, w);
                w->resume(w->userdata); /* may queue w again */
        }
        pool->kicking = false;
}
