/* Renewal, the side effects: after an audit, ask checks/renew.c whether
 * the platform's renewal is due and allowed, run the configured method on
 * the caller's sd-event loop, then re-audit every renew.verify_every until
 * the new certificate is served everywhere or renew.verify_timeout passes.
 * The guardrails' memory lives in a renewal store (one JSON object per
 * platform), saved atomically after every change so that a restart or the
 * next oneshot run keeps them.
 *
 * The daemon and `certvigil audit` use it the same way: renewal_new() once
 * per platform and run, renewal_start() with the audit that just ended,
 * and read renewal_findings() (and renewal_last_audit(), the newest
 * observations) when the done callback runs. */
#pragma once

#include <stdbool.h>

#include <systemd/sd-event.h>

#include "audit.h"
#include "config.h"
#include "finding.h"
#include "renew.h"

/* ------------------------------------------------------------------------ */
/* The store: the "renewal" key of STATE_DIR/state.json, {"format": 1,
 * "platforms": {NAME: renew_state}}, beside the alert state. Every change
 * is made under the state directory's lock (state.h state_lock()):
 * renew_store_lock() takes it and re-reads every platform from the file,
 * so the change applies to what another certvigil saved last; the caller
 * then decides, changes and renew_store_save()s (which writes the file
 * back atomically, replacing only that key, and unlocks) or
 * renew_store_unlock()s. state_save() carries the key over, so the two
 * never erase each other. */

struct renew_store;

/* A missing file is an empty store; a corrupt one is reported in
 * *ret_warning (caller frees) and replaced by an empty store, since the
 * guardrails must not stop monitoring. read_only: renew_store_save() does
 * nothing (--dry-run). */
int renew_store_open(const char *dir, bool read_only, struct renew_store **ret, char **ret_warning);
struct renew_store *renew_store_free(struct renew_store *s);
/* The platform's state, created empty; owned by the store. */
struct renew_state *renew_store_get(struct renew_store *s, const char *platform);
/* Locks and re-reads (0), or says on stderr why not and returns a negative
 * errno (-ETIMEDOUT when another certvigil held the lock too long): then
 * change nothing. A read-only store neither locks nor re-reads. */
int renew_store_lock(struct renew_store *s);
void renew_store_unlock(struct renew_store *s);
/* Atomically, then unlocks; 0 or a negative errno. Platforms unknown to
 * this run are kept as the last renew_store_lock() read them. */
int renew_store_save(struct renew_store *s);
/* Whether a renew_store_lock() failed in this run (exit status 3). */
bool renew_store_lock_failed(const struct renew_store *s);
const char *renew_store_path(const struct renew_store *s);

/* ------------------------------------------------------------------------ */

struct renewal;

/* Lines the method printed, already escaped. stream is "stdout" or
 * "stderr". Without one, lines go to stderr prefixed with the platform. */
typedef void (*renewal_line_cb)(const char *platform, const char *stream, const char *line, void *userdata);

struct renewal_options {
        bool dry_run;              /* decide and report, run nothing, change no state */
        renewal_line_cb on_line;
        void *userdata;
};

typedef void (*renewal_done_cb)(struct renewal *r, void *userdata);

/* p, store and pool must outlive the renewal; pool may be NULL (re-audits
 * then get a pool of their own). */
int renewal_new(sd_event *event, struct audit_pool *pool, const struct platform *p, struct renew_store *store,
                const struct renewal_options *opts, struct renewal **ret);
struct renewal *renewal_free(struct renewal *r);   /* kills a running command */

/* Judges the finished audit a (borrowed; only read during the call) with
 * found, everything its run found so far (the audit's findings and those
 * made after it, such as tls.ari.renew-now; only read during the call),
 * and does what is due. cb always runs, from the loop, when nothing more
 * will happen. */
void renewal_start(struct renewal *r, const struct audit *a, const struct finding_list *found, renewal_done_cb cb,
                   void *userdata);

/* The method is at work: the command runs, or the Certificate is being
 * read or updated. False for NULL. */
bool renewal_method_in_flight(const struct renewal *r);
/* While the method is in flight: let it end and record its outcome, then
 * call back without re-auditing. A verification due stays in the store,
 * for the platform's next renewal_start(). For a reload, which must not
 * kill a command half way. */
void renewal_wind_down(struct renewal *r);

/* renew.* findings of this run. */
const struct finding_list *renewal_findings(const struct renewal *r);
/* The newest re-audit made to verify a renewal, NULL when none ran. */
const struct audit *renewal_last_audit(const struct renewal *r);

/* cert-manager's Certificate as the cert_manager method read it in this
 * run; NULL when it was not read. Borrowed. */
const struct certmanager_obs *renewal_certmanager_observation(const struct renewal *r);
