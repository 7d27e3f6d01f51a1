/* What audits running together share: one cap on jobs in flight across all
 * of them (the largest `concurrency` of its platforms), so a config with
 * many platforms does not start thousands of handshakes at once and time
 * them out in its own queue; the trust anchors per `trust` setting, loaded
 * once, with their cache of verified chains; the DNS channels, the
 * validating resolvers (dnssec-hub.h) and the HTTP client; and the engine's
 * data file, read once per pool. */
#pragma once

#include <stdbool.h>

#include <systemd/sd-event.h>

#include "config.h"
#include "dns.h"
#include "http.h"
#include "x509.h"

struct audit_pool;
struct dnssec_hub;

int audit_pool_new(sd_event *event, unsigned max_in_flight, struct audit_pool **ret);

/* The cap for a pool running these platforms: the config's max_inflight,
 * else the largest concurrency any of them asks for, within what nofile descriptors allow once the ones
 * the process needs besides probes are set aside (AUDIT_FD_RESERVE). Jobs
 * beyond it wait in the queue instead of failing with EMFILE. */
#define AUDIT_FD_RESERVE 128u
unsigned audit_pool_cap(const struct config *c, unsigned long nofile);
/* Every audit of the pool must have been freed first. */
struct audit_pool *audit_pool_free(struct audit_pool *pool);

/* For the engine (audit.c). The pool keeps these; callers borrow them. */
sd_event *audit_pool_event(const struct audit_pool *pool);
struct dns_hub *audit_pool_dns(const struct audit_pool *pool);
struct dnssec_hub *audit_pool_dnssec(const struct audit_pool *pool);
struct http_client *audit_pool_http(const struct audit_pool *pool);

/* The trust anchors for a `trust` setting, loaded on first use. */
int audit_pool_trust(struct audit_pool *pool, const char *spec, const struct x509_trust **ret, char **ret_error);

/* An ingress placeholder subject file: one entry per line; '#' starts a
 * comment line; blank lines skipped; surrounding blanks trimmed. 0 with
 * *ret (NULL-terminated, NULL when empty; caller frees), or a negative
 * errno with *ret_error naming the file and line. */
int audit_pool_ingress_read(const char *path, char ***ret, char **ret_error);

/* The ingress controllers' default certificate subjects (the data file),
 * read on first use; NULL-terminated, the pool's. */
int audit_pool_ingress(struct audit_pool *pool, char ***ret, char **ret_error);

/* Jobs in flight across the pool's audits: a job takes a slot when it
 * starts and gives it back when it ends. */
bool audit_pool_full(const struct audit_pool *pool);
void audit_pool_job_started(struct audit_pool *pool);
void audit_pool_jobs_ended(struct audit_pool *pool, size_t n);

/* An audit with queued jobs that found the pool full waits for a slot, in
 * turn: resume(userdata) runs from audit_pool_kick() when one is free,
 * after the waiter was taken off the queue. audit_pool_unwait() takes it
 * off before then (an audit cancelled or freed). The waiter is the
 * caller's (inside its audit) and must stay in place while queued: the
 * pool links it in and out in constant time, however many audits wait. */
typedef void (*audit_pool_resume_cb)(void *userdata);
struct audit_pool_waiter {
        struct audit_pool_waiter *prev, *next; /* the pool's */
        audit_pool_resume_cb resume;
        void *userdata;
        bool queued;
};
/* w must not be queued already. */
void audit_pool_wait(struct audit_pool *pool, struct audit_pool_waiter *w, audit_pool_resume_cb resume,
                     void *userdata);
/* Nothing when w is not queued. */
void audit_pool_unwait(struct audit_pool *pool, struct audit_pool_waiter *w);
/* Hands free slots to waiting audits, oldest first. */
void audit_pool_kick(struct audit_pool *pool);
