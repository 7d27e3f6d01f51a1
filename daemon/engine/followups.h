/* An audit's follow-ups: what a finished endpoint needs next. A restricted
 * TLS 1.0/1.1 handshake per address (legacy), and HTTP fetches, each URL
 * once: the AIA caIssuers certificate of an incomplete chain, the leaf's
 * CRL. A fetch is judged when it completes, on every endpoint that names
 * its URL, within the audit's deadline; the legacy result goes on its
 * address's first endpoint in plan order once every endpoint is known. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <systemd/sd-event.h>

#include "config.h"
#include "http.h"
#include "observe.h"
#include "tls.h"
#include "x509.h"

struct audit_ops;
struct followups;

/* What the follow-ups borrow from their audit, which outlives them. The
 * observations are written: each endpoint gets its follow-ups' results. */
struct followups_env {
        sd_event *event;
        const struct audit_ops *ops;
        void *ops_ctx;
        const struct platform *platform;
        struct platform_obs *obs;
        const struct x509_trust *trust;
        struct http_client *http;
        struct http_cache *cache;          /* may be NULL */
        /* How the audit probes endpoint e (the follow-up sets .legacy). */
        struct tls_probe_params (*probe_params)(void *userdata, const struct endpoint_obs *e);
        /* A follow-up took one of the audit's job slots; one ended and
         * gave its slot back (the audit then starts what is queued). */
        void (*job_started)(void *userdata);
        void (*job_ended)(void *userdata);
        void *userdata;
};

struct followups *followups_new(const struct followups_env *env);
/* Drops what is in flight without calling back; the slots held are the
 * audit's to give back. */
struct followups *followups_free(struct followups *f);

/* Endpoint index has been probed successfully: queues its follow-ups and
 * puts on it what fetches already done (by another endpoint, or cached)
 * found. */
void followups_endpoint_done(struct followups *f, size_t index);

/* Whether a follow-up is queued, not started yet. */
bool followups_queued(const struct followups *f);
/* Starts the next queued follow-up; one that cannot start ends at once. */
void followups_start_next(struct followups *f);

/* The deadline: those in flight are dropped, those queued never start;
 * what they would have told is recorded as not known. */
void followups_cancel(struct followups *f, const char *why);

/* Runs once, before the checks: puts each address's TLS 1.0/1.1 result on
 * its first endpoint in plan order, and records the fetches the deadline
 * cut short. */
void followups_finish(struct followups *f);
