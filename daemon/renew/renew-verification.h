/* Renewal's verification: after a trigger, re-audit the platform every
 * renew.verify_every until every address serves a new certificate
 * (renew.succeeded) or renew.verify_timeout has passed (renew.failed), as
 * checks/renew.c's renew_verify() judges. The re-audits run on the
 * caller's loop and pool; the store and its lock are the caller's. */
#pragma once

#include <stdint.h>
#include <time.h>

#include <systemd/sd-event.h>

#include "audit.h"
#include "config.h"
#include "finding.h"
#include "renew.h"

struct renew_verification;

/* A re-audit has finished (a), or could not start (a NULL, error says
 * why). The verification may be freed from inside it. */
typedef void (*renew_verification_cb)(struct renew_verification *v, const struct audit *a, const char *error,
                                      void *userdata);

/* p must outlive it; so must pool, which may be NULL (then each re-audit
 * gets a pool of its own). */
int renew_verification_new(sd_event *event, struct audit_pool *pool, const struct platform *p,
                           struct renew_verification **ret);
/* Cancels a re-audit waiting or in flight without calling back. */
struct renew_verification *renew_verification_free(struct renew_verification *v);

/* Re-audits the platform after usec; cb runs from the loop with it. */
int renew_verification_schedule(struct renew_verification *v, uint64_t usec, renew_verification_cb cb,
                                void *userdata);
/* The newest finished re-audit, NULL when none (or after _forget()). */
const struct audit *renew_verification_last_audit(const struct renew_verification *v);
/* A new run: what the last one re-audited is history. */
void renew_verification_forget(struct renew_verification *v);

enum renew_verification_verdict {
        RENEW_VERIFICATION_PENDING,     /* look again after *ret_wait */
        RENEW_VERIFICATION_SUCCEEDED,   /* renew.succeeded emitted, st updated */
        RENEW_VERIFICATION_FAILED,      /* renew.failed emitted, st updated */
};

/* Judges what a re-audit (or an audit) observed against the renewal in st
 * (verifying): emits into findings and updates st when it is over; else
 * says when to look again, never past st's deadline. */
enum renew_verification_verdict renew_verification_judge(const struct platform *p, struct renew_state *st,
                                                         const struct platform_obs *obs, time_t now,
                                                         struct finding_list *findings, uint64_t *ret_wait);
