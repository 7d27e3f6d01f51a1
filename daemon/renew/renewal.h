/* Renewal: after an audit, ask checks/renew.c whether the platform's
 * renewal is due and allowed, run the configured method on the caller's
 * sd-event loop, then re-audit every renew.verify_every until the new
 * certificate is served everywhere or renew.verify_timeout passes. The
 * pieces are modules of their own: the store (renew-store.h), the command
 * runner (renew-command.h), the cert_manager method (renew-certmanager.h)
 * and the verification (renew-verification.h); this one orders them.
 *
 * The daemon and `certvigil audit` use it the same way (daemon/run.c):
 * renewal_new() once per platform and run, renewal_start() with the audit
 * that just ended, and read renewal_findings() (and renewal_last_audit(),
 * the newest observations) when the done callback runs. */
#pragma once

#include <stdbool.h>

#include <systemd/sd-event.h>

#include "audit.h"
#include "config.h"
#include "finding.h"
#include "renew-store.h"
#include "renew.h"

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
