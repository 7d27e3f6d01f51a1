/* Renewal, the orchestration: after an audit, checks/renew.c decides
 * whether renewal is due and allowed; the configured method runs
 * (renew-command.c or renew-certmanager.c), the guardrails record it in
 * the store (renew-store.c), and the verification (renew-verification.c)
 * proves it. This file holds only the order of those steps and what each
 * outcome means for the findings and the guardrails. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "renew-certmanager.h"
#include "renew-command.h"
#include "renew-verification.h"
#include "renewal.h"
#include "util.h"

struct renewal {
        sd_event *event;
        const struct platform *p;
        struct renew_store *store;
        struct renew_state *st;    /* the store's */
        struct renewal_options opts;
        struct finding_list findings;

        struct renew_command *command;         /* the command method, while it runs */
        struct renew_certmanager *certmanager; /* the cert_manager method; NULL for the command */
        struct renew_verification *verification;
        char *reason;              /* the findings that made it due, for cert_manager's messages */
        struct renew_state before; /* what was served when due; copied into st on trigger */
        time_t trigger_at;         /* the trigger whose verification this renewal follows */

        bool winding_down;         /* renewal_wind_down(): no re-audit after the method */
        sd_event_source *done_defer;
        renewal_done_cb cb;
        void *userdata;
};

static time_t now_s(void) {
        return (time_t)(now_realtime_usec() / USEC_PER_SEC);
}

/* A state that cannot be written weakens the guardrails of the next run:
 * say so, and carry on with this one. Unlocks. */
static void store_save(struct renewal *r) {
        int e = renew_store_save(r->store);
        if (e < 0)
                fprintf(stderr, "certvigil: cannot write %s: %s\n", renew_store_path(r->store), strerror(-e));
}

/* Locks the store and re-reads it, and keeps the lock when the
 * verification this renewal follows is still open there: another certvigil
 * following it too (a oneshot beside the daemon) may have concluded it,
 * and a conclusion must count once. false: unlocked, change nothing. */
static bool conclude_begin(struct renewal *r) {
        const struct renew_state *st = r->st;

        if (renew_store_lock(r->store) < 0)
                return false;
        if (st->verifying && st->n_triggers > 0 && st->triggers[st->n_triggers - 1] == r->trigger_at)
                return true;
        renew_store_unlock(r->store);
        return false;
}

/* Locks the store, re-reads it and asks the guardrails about r->reason on
 * what it says now: two certvigils at once (the timer's oneshot and a
 * person's run, or the daemon) then trigger once. true: go, with the lock
 * held until the trigger is saved. false: held back (renew.suppressed
 * emitted) or no lock, unlocked. ct_limit: the run found the CT logs'
 * limit reached (renew_ct_limit_reached()), which holds too. */
static bool decide_locked(struct renewal *r, time_t now, bool ct_limit) {
        enum renew_verdict v;
        time_t next;

        if (renew_store_lock(r->store) < 0)
                return false;
        v = renew_decide(&r->p->renew, r->st, now, &next);
        if (v == RENEW_GO && ct_limit) {
                v = RENEW_HOLD_CT_LIMIT;
                next = now + 86400;
        }
        if (v == RENEW_GO)
                return true;
        renew_store_unlock(r->store);
        renew_emit_suppressed(&r->findings, v, next, r->reason);
        return false;
}

static int on_done(sd_event_source *s, void *userdata) {
        struct renewal *r = userdata;
        r->done_defer = sd_event_source_disable_unref(r->done_defer);
        if (r->cb)
                r->cb(r, r->userdata);
        return 0;
}

/* Nothing more will happen in this run: call back from the loop. */
static void renewal_finish(struct renewal *r) {
        if (!r->done_defer && sd_event_add_defer(r->event, &r->done_defer, on_done, r) < 0 && r->cb)
                r->cb(r, r->userdata);
}

/* A trigger that failed: reported, and counted against the guardrails
 * once, under the lock. */
static void renewal_failed(struct renewal *r, const char *why) {
        renew_emit_failed(&r->findings, r->st, why);
        if (conclude_begin(r)) {
                renew_state_failed(r->st, now_s());
                store_save(r);
        }
        renewal_finish(r);
}

/* ------------------------------------------------------------------------ */
/* The verification */

static void verify_schedule(struct renewal *r, uint64_t usec);

static void verify_judge(struct renewal *r, const struct platform_obs *obs) {
        uint64_t wait = 0;

        /* Judged on the file's word: concluded elsewhere, it is over here. */
        if (!conclude_begin(r)) {
                renewal_finish(r);
                return;
        }
        switch (renew_verification_judge(r->p, r->st, obs, now_s(), &r->findings, &wait)) {
        case RENEW_VERIFICATION_SUCCEEDED:
        case RENEW_VERIFICATION_FAILED:
                store_save(r);
                renewal_finish(r);
                return;
        case RENEW_VERIFICATION_PENDING:
                renew_store_unlock(r->store);
                break;
        }
        if (r->opts.dry_run) {
                renewal_finish(r);
                return;
        }
        verify_schedule(r, wait);
}

static void on_reaudit(struct renew_verification *v, const struct audit *a, const char *error, void *userdata) {
        struct renewal *r = userdata;

        if (!a) {
                renewal_failed(r, error);
                return;
        }
        verify_judge(r, audit_observations(a));
}

static void verify_schedule(struct renewal *r, uint64_t usec) {
        /* The store says a verification is due: the platform's next run
         * takes it up. */
        if (r->winding_down) {
                renewal_finish(r);
                return;
        }
        if (renew_verification_schedule(r->verification, usec, on_reaudit, r) < 0) {
                renew_emit_failed(&r->findings, r->st, "cannot schedule the verification");
                renewal_finish(r);
        }
}

/* ------------------------------------------------------------------------ */
/* The command method */

static void on_command_line(const char *stream, const char *line, void *userdata) {
        struct renewal *r = userdata;

        if (r->opts.on_line)
                r->opts.on_line(r->p->name, stream, line, r->opts.userdata);
        else
                fprintf(stderr, "certvigil: platform '%s': renew.command %s: %s\n", r->p->name, stream, line);
}

static void on_command_done(struct renew_command *c, const struct renew_command_result *res, void *userdata) {
        struct renewal *r = userdata;

        r->command = renew_command_free(r->command);
        renew_emit_triggered(&r->findings, r->st, res->detail);
        if (!res->ok) {
                _cleanup_free_ char *why = xasprintf("%s; %s", res->detail, res->tail);
                renewal_failed(r, why);
                return;
        }
        verify_schedule(r, r->p->renew.verify_every_usec);
}

/* With the lock decide_locked() took. */
static void command_trigger(struct renewal *r, const struct audit *a, time_t now) {
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *error = NULL;

        /* Recorded and saved before the command runs, so a crash while it
         * runs still counts against the guardrails; the save releases the
         * lock, so a second certvigil deciding now sees this trigger. */
        renew_state_triggered(r->st, &r->p->renew, audit_observations(a), now, "command", r->reason);
        r->trigger_at = now;
        store_save(r);
        env = renew_command_env(r->p, r->st, audit_plan(a), audit_observations(a));
        if (renew_command_start(r->event, r->p->renew.command, env, r->p->renew.timeout_usec, on_command_line,
                                on_command_done, r, &r->command, &error) < 0) {
                renew_emit_triggered(&r->findings, r->st, error ? error : "could not start");
                renewal_failed(r, error ? error : "could not start the command");
        }
}

/* ------------------------------------------------------------------------ */
/* The cert_manager method */

/* The Certificate was read and is not issuing: the trigger counts from
 * here, saved before the update leaves; the guardrails are asked again on
 * the file's word, as another certvigil may have triggered meanwhile. */
static bool on_certmanager_go(struct renew_certmanager *m, void *userdata) {
        struct renewal *r = userdata;
        time_t now = now_s();

        if (!decide_locked(r, now, false))
                return false;
        renew_state_triggered(r->st, &r->p->renew, NULL, now, "cert_manager", r->reason);
        r->trigger_at = now;
        r->st->old_serials = strv_copy(r->before.old_serials);
        r->st->old_serial = r->before.old_serial ? xstrdup(r->before.old_serial) : NULL;
        r->st->old_not_after = r->before.old_not_after;
        store_save(r);
        return true;
}

static void on_certmanager_done(struct renew_certmanager *m, enum renew_certmanager_outcome outcome,
                                const char *detail, void *userdata) {
        struct renewal *r = userdata;
        struct renew_state would = { .method = (char *)"cert_manager", .reason = r->reason };

        switch (outcome) {
        case RENEW_CERTMANAGER_NOT_READ:
                renew_emit_failed(&r->findings, &would, detail);
                renewal_finish(r);
                return;
        case RENEW_CERTMANAGER_ISSUING:
                renew_emit_already_issuing(&r->findings, r->reason, detail);
                renewal_finish(r);
                return;
        case RENEW_CERTMANAGER_HELD:
                renewal_finish(r);
                return;
        case RENEW_CERTMANAGER_UPDATE_FAILED:
                renew_emit_triggered(&r->findings, r->st, detail);
                renewal_failed(r, detail);
                return;
        case RENEW_CERTMANAGER_MARKED:
                renew_emit_triggered(&r->findings, r->st, detail);
                verify_schedule(r, r->p->renew.verify_every_usec);
                return;
        }
}

static void certmanager_trigger(struct renewal *r, const struct platform_obs *obs, time_t now) {
        /* What is served now is what a new certificate must differ from;
         * kept aside until the trigger really happens (the guardrails are
         * asked again then). */
        renew_state_done(&r->before);
        renew_state_triggered(&r->before, &r->p->renew, obs, now, "cert_manager", r->reason);
        renew_certmanager_start(r->certmanager, on_certmanager_go, on_certmanager_done, r);
}

/* ------------------------------------------------------------------------ */

int renewal_new(sd_event *event, struct audit_pool *pool, const struct platform *p, struct renew_store *store,
                const struct renewal_options *opts, struct renewal **ret) {
        struct renewal *r = xcalloc(1, sizeof(*r));
        int e;

        r->event = sd_event_ref(event);
        r->p = p;
        r->store = store;
        r->st = renew_store_get(store, p->name);
        if (opts)
                r->opts = *opts;
        e = renew_verification_new(event, pool, p, &r->verification);
        if (e >= 0 && !p->renew.command)
                e = renew_certmanager_new(event, &p->renew, &r->certmanager);
        if (e < 0) {
                renewal_free(r);
                return e;
        }
        *ret = r;
        return 0;
}

struct renewal *renewal_free(struct renewal *r) {
        if (!r)
                return NULL;
        renew_command_free(r->command);
        renew_certmanager_free(r->certmanager);
        renew_verification_free(r->verification);
        sd_event_source_disable_unref(r->done_defer);
        free(r->reason);
        renew_state_done(&r->before);
        finding_list_clear(&r->findings);
        sd_event_unref(r->event);
        free(r);
        return NULL;
}

static void renewal_dry_run(struct renewal *r) {
        const char *method = r->p->renew.command ? "command" : "cert_manager";
        struct renew_state would = { .method = (char *)method, .reason = r->reason };
        _cleanup_free_ char *argv = r->p->renew.command ? strv_join(r->p->renew.command, " ", 0) : NULL;
        _cleanup_free_ char *detail = argv ? xasprintf("dry run, would run: %s", argv)
                                           : xasprintf("dry run, would mark Certificate %s/%s for issuance",
                                                       r->p->renew.cm_namespace, r->p->renew.cm_certificate);

        renew_emit_triggered(&r->findings, &would, detail);
        renewal_finish(r);
}

void renewal_start(struct renewal *r, const struct audit *a, const struct finding_list *found, renewal_done_cb cb,
                   void *userdata) {
        const struct platform_obs *obs = audit_observations(a);
        time_t now = now_s();
        _cleanup_free_ char *reason = NULL;

        r->cb = cb;
        r->userdata = userdata;
        r->winding_down = false;
        /* A new audit: what the last run found, read and re-audited is
         * history (the daemon calls this once per audit). */
        finding_list_clear(&r->findings);
        renew_verification_forget(r->verification);
        if (r->certmanager)
                renew_certmanager_forget(r->certmanager);
        if (!r->p->renew.enabled) {
                renewal_finish(r);
                return;
        }
        /* A renewal triggered earlier (by this process or a run before it)
         * is proven or failed before anything new is considered. */
        if (r->st->verifying) {
                r->trigger_at = r->st->n_triggers > 0 ? r->st->triggers[r->st->n_triggers - 1] : 0;
                verify_judge(r, obs);
                return;
        }
        if (!renew_due(&r->p->renew, found, &reason)) {
                renewal_finish(r);
                return;
        }
        free(r->reason);
        r->reason = TAKE_PTR(reason);
        if (!decide_locked(r, now, renew_ct_limit_reached(found))) {
                renewal_finish(r);
                return;
        }
        if (r->opts.dry_run) {
                renew_store_unlock(r->store);
                renewal_dry_run(r);
        } else if (r->p->renew.command)
                command_trigger(r, a, now);
        else {
                renew_store_unlock(r->store);
                certmanager_trigger(r, obs, now);
        }
}

bool renewal_method_in_flight(const struct renewal *r) {
        return r && (renew_command_running(r->command) || renew_certmanager_busy(r->certmanager));
}

void renewal_wind_down(struct renewal *r) {
        assert(renewal_method_in_flight(r));
        r->winding_down = true;
}

const struct finding_list *renewal_findings(const struct renewal *r) {
        return &r->findings;
}

const struct certmanager_obs *renewal_certmanager_observation(const struct renewal *r) {
        return r ? renew_certmanager_observation(r->certmanager) : NULL;
}

const struct audit *renewal_last_audit(const struct renewal *r) {
        return renew_verification_last_audit(r->verification);
}
