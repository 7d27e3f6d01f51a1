/* The validating resolvers (libunbound contexts) the DNSSEC probes of one
 * audit pool share. A context costs a worker process (forked at its first
 * question), its pipes and a validator cache that must learn the anchor
 * zone's keys before it can judge anything: one per platform made an audit
 * of N platforms fork N processes at once. Contexts are keyed by what
 * configures them (forwarders, trust anchor, the top-level domain made
 * transparent), made when a probe first needs one, shared by every probe
 * with the same key, and at most `max` exist at once: beyond that a probe
 * waits for one to go.
 *
 * Freshness: a probe joins a context only if the context was made after the
 * probe's audit was (born_usec), so no answer it reads was cached before
 * its audit began. A probe of a later audit retires the context instead
 * (it takes no new users) and gets a fresh one; a context goes once no
 * probe uses it. A oneshot's platforms, made together, share; the daemon's
 * platforms share with the audits made in the same round. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

struct ub_ctx;
struct ub_result;
struct dnssec_hub;
struct dnssec_lease;

/* What configures a context; borrowed by dnssec_hub_lease(), which copies it. */
struct dnssec_setup {
        char *const *resolvers;        /* "ADDR[:PORT]", "[ADDR6][:PORT]"; NULL: /etc/resolv.conf */
        const char *trust_anchor;      /* a file of DS or DNSKEY lines */
        const char *transparent_tld;   /* answered by the resolvers even if special-use (RFC 6761) */
};

#define DNSSEC_HUB_MAX 16u

int dnssec_hub_new(sd_event *event, unsigned max, struct dnssec_hub **ret);
/* Every lease must have been freed first. Deletes the contexts (and so
 * stops their worker processes). Accepts NULL, returns NULL. */
struct dnssec_hub *dnssec_hub_free(struct dnssec_hub *h);

/* Contexts alive now, and made since the hub was (for tests and logs). */
unsigned dnssec_hub_contexts(const struct dnssec_hub *h);
unsigned long dnssec_hub_made(const struct dnssec_hub *h);

/* r == 0: dnssec_lease_ub() is ready for questions. r < 0: no context
 * could be set up; why (borrowed for the call) says so, naming the
 * resolver or the trust anchor file. Runs from the loop, never from
 * dnssec_hub_lease(). */
typedef void (*dnssec_lease_ready_cb)(struct dnssec_lease *l, int r, const char *why, void *userdata);
/* The context's worker stopped: the questions asked through this lease
 * will not be answered. Runs from the loop. */
typedef void (*dnssec_lease_lost_cb)(struct dnssec_lease *l, void *userdata);

/* Asks for a context configured by setup for a probe whose audit was made
 * at born_usec (CLOCK_MONOTONIC). ready runs once, later. */
struct dnssec_lease *dnssec_hub_lease(struct dnssec_hub *h, const struct dnssec_setup *setup, uint64_t born_usec,
                                      dnssec_lease_ready_cb ready, dnssec_lease_lost_cb lost, void *userdata);

/* Asks a question on the ready lease's context (ub_resolve_async): cb
 * runs from the loop with the answer, as libunbound gives it, unless the
 * question is cancelled first. 0, or a negative errno with *ret_why
 * (static text: unbound's error) when it could not be asked. The first
 * question forks the context's worker (again at the next if the fork
 * failed): stdio is flushed before each question until one has. */
typedef void (*dnssec_answer_cb)(void *userdata, int err, struct ub_result *result);
int dnssec_lease_ask(struct dnssec_lease *l, const char *name, int type, dnssec_answer_cb cb, void *userdata,
                     int *ret_id, const char **ret_why);
/* Drops a question asked through l; its callback will not run. */
void dnssec_lease_cancel(struct dnssec_lease *l, int id);

/* The context, once ready (NULL before, after a failure or once its worker
 * stopped): to tell contexts apart; ask through dnssec_lease_ask(). */
struct ub_ctx *dnssec_lease_ub(const struct dnssec_lease *l);

/* Gives the lease back; every question asked through it must have been
 * answered or cancelled (ub_cancel) first. Never calls back. Safe from
 * within a question's callback. Accepts NULL, returns NULL. */
struct dnssec_lease *dnssec_lease_free(struct dnssec_lease *l);
