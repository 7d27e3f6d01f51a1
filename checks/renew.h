/* Renewal, the pure part: when a platform's renewal is due, whether the
 * guardrails let it happen now, and whether a triggered renewal has been
 * proven by the certificates served. No clock, no network, no files: now
 * and the observations are injected, so every rule is unit-tested with
 * fixtures (tests/unit/test_renew.c). The side effects (running the
 * command, re-auditing, keeping the state on disk) are daemon/renew/renewal.c's.
 * The renew.* finding ids are defined in checks/renew.c. */
#pragma once

#include <stdbool.h>
#include <time.h>

#include <jansson.h>

#include "config.h"
#include "finding.h"
#include "observe.h"

#define RENEW_WEEK ((time_t)7 * 86400)
/* Failures double the wait between triggers up to this (or min_interval,
 * when that is longer). */
#define RENEW_BACKOFF_MAX ((time_t)48 * 3600)
/* More triggers than any sane max_per_week; older ones are dropped first. */
#define RENEW_HISTORY_MAX 128

/* What the guardrails remember of one platform across runs. Owns its
 * strings; renew_state_done() releases them. */
struct renew_state {
        time_t triggers[RENEW_HISTORY_MAX];  /* trigger times, oldest first */
        size_t n_triggers;
        unsigned failures;         /* consecutive failed renewals */
        time_t last_failure;       /* 0 when none */
        /* A trigger awaiting proof: set when triggered, cleared by success
         * or failure. */
        bool verifying;
        time_t verify_deadline;
        char *method;              /* "command" or "cert_manager" */
        char *reason;              /* the finding ids that made it due */
        char **old_serials;        /* every leaf served when it was triggered */
        char *old_serial;          /* the one with the earliest notAfter, for messages */
        time_t old_not_after;      /* the latest notAfter among them */
        /* The last ACME renewalInfo poll (daemon/renew/ari.c); ari_cert_id NULL
         * when none. Kept here so one file holds a platform's renewal
         * memory. */
        char *ari_cert_id;
        time_t ari_start, ari_end, ari_next_poll;
        /* The last RDAP look-up (daemon/renew/rdap.c): the domain asked
         * about, its expiry (0 unknown) and when to ask again. */
        char *rdap_domain;
        time_t rdap_expires, rdap_next_check;
};

void renew_state_done(struct renew_state *st);

/* JSON for the state file: one object per platform. from_json fails with
 * -EINVAL on anything malformed (the caller then starts afresh). */
json_t *renew_state_to_json(const struct renew_state *st);
int renew_state_from_json(const json_t *o, struct renew_state *ret);

/* Due when the open findings include one of renew.on; tls.wildcard.shape
 * counts only when critical (the names are no longer covered: a warning
 * means the next change will break, which a renewal does not fix).
 * Returns true and *ret_reason (the matching ids, comma separated, each
 * once, in renew.on order; caller frees) or false. */
bool renew_due(const struct renew_settings *rs, const struct finding_list *open, char **ret_reason);

enum renew_verdict {
        RENEW_GO,
        RENEW_HOLD_IN_FLIGHT,      /* a trigger is still being verified */
        RENEW_HOLD_INTERVAL,       /* min_interval since the last trigger */
        RENEW_HOLD_BACKOFF,        /* the doubled wait after failures */
        RENEW_HOLD_CAP,            /* max_per_week within the last 7 days */
        RENEW_HOLD_CT_LIMIT,       /* CT logs show the CA's duplicate limit reached (ct.rate-limit.near, critical) */
};
const char *renew_verdict_to_string(enum renew_verdict v);

/* The guardrails. *ret_next is the earliest time a trigger may happen
 * (the verification deadline while in flight); now when RENEW_GO. */
enum renew_verdict renew_decide(const struct renew_settings *rs, const struct renew_state *st, time_t now,
                                time_t *ret_next);

/* One more guardrail, from the CT issuance watch: the found findings hold
 * ct.rate-limit.near at critical, so a renewal now would only fail and
 * prolong the block. */
bool renew_ct_limit_reached(const struct finding_list *found);

/* Records a trigger at now: its time (dropping those older than a week),
 * the certificates served now (what a new one must differ from), and the
 * verification deadline. */
void renew_state_triggered(struct renew_state *st, const struct renew_settings *rs, const struct platform_obs *obs,
                           time_t now, const char *method, const char *reason);
/* The renewal failed (command error, timeout, no new certificate). */
void renew_state_failed(struct renew_state *st, time_t now);
/* The new certificate is served everywhere. */
void renew_state_succeeded(struct renew_state *st);

enum renew_proof {
        RENEW_PROOF_PENDING,       /* not every address serves a new certificate yet */
        RENEW_PROOF_SUCCEEDED,
        RENEW_PROOF_TIMED_OUT,     /* verify_deadline passed without proof */
};

/* A new certificate is one whose serial was not served when the renewal
 * was triggered and whose notAfter is later than any served then; proof
 * needs it on every address of every name (an address that could not be
 * reached proves nothing). On success *ret_new is the new leaf (borrowed
 * from obs). */
enum renew_proof renew_verify(const struct renew_state *st, const struct platform_obs *obs, time_t now,
                              const struct cert_obs **ret_new);

/* The findings, with their messages. */
void renew_emit_triggered(struct finding_list *out, const struct renew_state *st, const char *detail);
void renew_emit_suppressed(struct finding_list *out, enum renew_verdict v, time_t next, const char *reason);
/* cert-manager already issues the Certificate: nothing to trigger. */
void renew_emit_already_issuing(struct finding_list *out, const char *reason, const char *observed);
void renew_emit_succeeded(struct finding_list *out, const struct renew_state *st, const struct cert_obs *new_leaf);
void renew_emit_failed(struct finding_list *out, const struct renew_state *st, const char *why);
