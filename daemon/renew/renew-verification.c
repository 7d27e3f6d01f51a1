/* Renewal's verification: the re-audits after a trigger, and the proof
 * judged on each. */
#include <stdlib.h>
#include <string.h>

#include "renew-verification.h"
#include "util.h"

struct renew_verification {
        sd_event *event;
        struct audit_pool *pool;
        const struct platform *p;
        sd_event_source *timer;
        struct audit *audit;       /* the re-audit in flight or the newest one */
        renew_verification_cb cb;
        void *userdata;
};

int renew_verification_new(sd_event *event, struct audit_pool *pool, const struct platform *p,
                           struct renew_verification **ret) {
        struct renew_verification *v = xcalloc(1, sizeof(*v));

        v->event = sd_event_ref(event);
        v->pool = pool;
        v->p = p;
        *ret = v;
        return 0;
}

struct renew_verification *renew_verification_free(struct renew_verification *v) {
        if (!v)
                return NULL;
        sd_event_source_disable_unref(v->timer);
        audit_free(v->audit);
        sd_event_unref(v->event);
        free(v);
        return NULL;
}

static void on_audit_done(struct audit *a, void *userdata) {
        struct renew_verification *v = userdata;
        v->cb(v, a, NULL, v->userdata);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct renew_verification *v = userdata;
        _cleanup_free_ char *error = NULL;
        int r;

        v->timer = sd_event_source_disable_unref(v->timer);
        v->audit = audit_free(v->audit);
        r = v->pool ? audit_new_pooled(v->pool, v->p, &v->audit, &error) : audit_new(v->event, v->p, &v->audit, &error);
        if (r >= 0)
                r = audit_start(v->audit, on_audit_done, v);
        if (r < 0) {
                _cleanup_free_ char *why = xasprintf("cannot re-audit the platform: %s", error ? error : strerror(-r));
                v->audit = audit_free(v->audit);
                v->cb(v, NULL, why, v->userdata);
        }
        return 0;
}

int renew_verification_schedule(struct renew_verification *v, uint64_t usec, renew_verification_cb cb,
                                void *userdata) {
        v->cb = cb;
        v->userdata = userdata;
        v->timer = sd_event_source_disable_unref(v->timer);
        return sd_event_add_time_relative(v->event, &v->timer, CLOCK_MONOTONIC, usec, USEC_PER_SEC / 10, on_timer, v);
}

const struct audit *renew_verification_last_audit(const struct renew_verification *v) {
        return v && v->audit && audit_is_done(v->audit) ? v->audit : NULL;
}

void renew_verification_forget(struct renew_verification *v) {
        v->timer = sd_event_source_disable_unref(v->timer);
        v->audit = audit_free(v->audit);
}

enum renew_verification_verdict renew_verification_judge(const struct platform *p, struct renew_state *st,
                                                         const struct platform_obs *obs, time_t now,
                                                         struct finding_list *findings, uint64_t *ret_wait) {
        const struct cert_obs *leaf = NULL;
        char dur[DURATION_MAX];

        switch (renew_verify(st, obs, now, &leaf)) {
        case RENEW_PROOF_SUCCEEDED:
                renew_emit_succeeded(findings, st, leaf);
                renew_state_succeeded(st);
                return RENEW_VERIFICATION_SUCCEEDED;
        case RENEW_PROOF_TIMED_OUT: {
                _cleanup_free_ char *why = xasprintf("no new certificate was served on every address within "
                                                     "renew.verify_timeout (%s)",
                                                     format_duration(p->renew.verify_timeout_usec, dur));
                renew_emit_failed(findings, st, why);
                renew_state_failed(st, now);
                return RENEW_VERIFICATION_FAILED;
        }
        case RENEW_PROOF_PENDING:
                break;
        }
        /* Never sleep past the deadline: the last look happens at it. */
        *ret_wait = p->renew.verify_every_usec;
        if (st->verify_deadline > now && (uint64_t)(st->verify_deadline - now) * USEC_PER_SEC < *ret_wait)
                *ret_wait = (uint64_t)(st->verify_deadline - now) * USEC_PER_SEC;
        return RENEW_VERIFICATION_PENDING;
}
