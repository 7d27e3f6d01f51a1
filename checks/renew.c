/* renew.*: the renewal decision, its guardrails and its proof, as pure
 * functions of the settings, the remembered state, the observations and an
 * injected now (see renew.h). The findings are emitted by the renewal
 * engine (daemon/renew/renewal.c) after an audit, not by checks_run(). */
#include <errno.h>
#include <string.h>

#include "checks.h"
#include "renew.h"
#include "util.h"

static const struct finding_def findings[] = {
#define TRIGGERED (&findings[0])
        { "renew.triggered", SEVERITY_INFO, "9e88edbaae7a47979ffe88c49ed80546",
          "certvigil set the platform's certificate renewal in motion (method, reason, outcome)" },
#define SUPPRESSED (&findings[1])
        { "renew.suppressed", SEVERITY_INFO, "86fa69954c7b407d9d59a589a091f0ff",
          "renewal is due but a guardrail holds it back until the time given" },
#define SUCCEEDED (&findings[2])
        { "renew.succeeded", SEVERITY_INFO, "a666df57470947ffb631f96fa274bdb6",
          "a new certificate (new serial, later notAfter) is served on every address after a renewal" },
#define FAILED (&findings[3])
        { "renew.failed", SEVERITY_CRITICAL, "0f6b99215f044408be12ab9eecf14293",
          "a renewal failed: the method reported an error or no new certificate was served in time" },
};

/* Not run by checks_run(): listed in the catalog only. */
const struct check check_renew = {
        .name = "renew",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = NULL,
};

void renew_state_done(struct renew_state *st) {
        free(st->method);
        free(st->reason);
        strv_free(st->old_serials);
        free(st->old_serial);
        free(st->ari_cert_id);
        free(st->rdap_domain);
        *st = (struct renew_state){ 0 };
}

bool renew_due(const struct renew_settings *rs, const struct finding_list *open, char **ret_reason) {
        _cleanup_strv_free_ char **ids = NULL;

        for (size_t i = 0; rs->on && rs->on[i]; i++) {
                bool hit = false;
                for (size_t j = 0; j < open->n && !hit; j++) {
                        const struct finding *f = &open->items[j];
                        if (strcmp(f->def->id, rs->on[i]) != 0)
                                continue;
                        if (strcmp(f->def->id, "tls.wildcard.shape") == 0 && f->severity != SEVERITY_CRITICAL)
                                continue;
                        hit = true;
                }
                if (hit && !strv_contains(ids, rs->on[i]))
                        strv_push(&ids, xstrdup(rs->on[i]));
        }
        if (!ids)
                return false;
        *ret_reason = strv_join(ids, ",", 0);
        return true;
}

const char *renew_verdict_to_string(enum renew_verdict v) {
        switch (v) {
        case RENEW_GO:
                return "go";
        case RENEW_HOLD_IN_FLIGHT:
                return "in-flight";
        case RENEW_HOLD_INTERVAL:
                return "min-interval";
        case RENEW_HOLD_BACKOFF:
                return "backoff";
        case RENEW_HOLD_CAP:
                return "weekly-cap";
        case RENEW_HOLD_CT_LIMIT:
                return "ct-rate-limit";
        }
        return "unknown";
}

bool renew_ct_limit_reached(const struct finding_list *found) {
        for (size_t i = 0; i < found->n; i++)
                if (strcmp(found->items[i].def->id, "ct.rate-limit.near") == 0 &&
                    found->items[i].severity == SEVERITY_CRITICAL)
                        return true;
        return false;
}

/* Triggers within the week before now, oldest first. */
static size_t first_in_week(const struct renew_state *st, time_t now) {
        size_t i = 0;
        while (i < st->n_triggers && st->triggers[i] <= now - RENEW_WEEK)
                i++;
        return i;
}

static time_t backoff_wait(const struct renew_settings *rs, unsigned failures) {
        time_t base = (time_t)(rs->min_interval_usec / USEC_PER_SEC), cap = RENEW_BACKOFF_MAX, wait = base;
        if (base > cap)
                cap = base;
        for (unsigned i = 0; i < failures && wait < cap; i++)
                wait = wait > cap / 2 ? cap : wait * 2;
        return wait < cap ? wait : cap;
}

enum renew_verdict renew_decide(const struct renew_settings *rs, const struct renew_state *st, time_t now,
                                time_t *ret_next) {
        size_t first = first_in_week(st, now), in_week = st->n_triggers - first;
        time_t last = st->n_triggers ? st->triggers[st->n_triggers - 1] : 0;
        time_t next = now, t;
        enum renew_verdict v = RENEW_GO;

        if (st->verifying) {
                *ret_next = st->verify_deadline > now ? st->verify_deadline : now;
                return RENEW_HOLD_IN_FLIGHT;
        }
        /* Of several holds, the one that ends last is the one to report. */
        if (last && st->failures == 0 && (t = last + (time_t)(rs->min_interval_usec / USEC_PER_SEC)) > next) {
                next = t;
                v = RENEW_HOLD_INTERVAL;
        }
        if (last && st->failures > 0 && (t = last + backoff_wait(rs, st->failures)) > next) {
                next = t;
                v = RENEW_HOLD_BACKOFF;
        }
        /* The cap counts triggers, failed or not: each may have cost the CA
         * an order, and Let's Encrypt counts issued certificates per week. */
        if (in_week >= rs->max_per_week && (t = st->triggers[st->n_triggers - rs->max_per_week] + RENEW_WEEK) > next) {
                next = t;
                v = RENEW_HOLD_CAP;
        }
        *ret_next = next;
        return v;
}

static bool leaf_of(const struct endpoint_obs *e, const struct cert_obs **ret) {
        if (e->status != ENDPOINT_OK || e->n_chain == 0 || !e->chain[0].serial)
                return false;
        *ret = &e->chain[0];
        return true;
}

void renew_state_triggered(struct renew_state *st, const struct renew_settings *rs, const struct platform_obs *obs,
                           time_t now, const char *method, const char *reason) {
        size_t first = first_in_week(st, now);
        time_t earliest = 0;

        memmove(st->triggers, st->triggers + first, (st->n_triggers - first) * sizeof(st->triggers[0]));
        st->n_triggers -= first;
        if (st->n_triggers == RENEW_HISTORY_MAX) {
                memmove(st->triggers, st->triggers + 1, (RENEW_HISTORY_MAX - 1) * sizeof(st->triggers[0]));
                st->n_triggers--;
        }
        st->triggers[st->n_triggers++] = now;

        st->verifying = true;
        st->verify_deadline = now + (time_t)(rs->verify_timeout_usec / USEC_PER_SEC);
        free(st->method);
        st->method = xstrdup(method);
        free(st->reason);
        st->reason = xstrdup(reason);
        st->old_serials = strv_free(st->old_serials);
        st->old_serial = (free(st->old_serial), NULL);
        st->old_not_after = 0;
        for (size_t i = 0; obs && i < obs->n_endpoints; i++) {
                const struct cert_obs *leaf;
                if (!leaf_of(&obs->endpoints[i], &leaf))
                        continue;
                if (!serial_in(st->old_serials, leaf->serial))
                        strv_push(&st->old_serials, xstrdup(leaf->serial));
                if (leaf->not_after > st->old_not_after)
                        st->old_not_after = leaf->not_after;
                if (!st->old_serial || leaf->not_after < earliest) {
                        free(st->old_serial);
                        st->old_serial = xstrdup(leaf->serial);
                        earliest = leaf->not_after;
                }
        }
}

void renew_state_failed(struct renew_state *st, time_t now) {
        st->verifying = false;
        st->verify_deadline = 0;
        st->failures++;
        st->last_failure = now;
}

void renew_state_succeeded(struct renew_state *st) {
        st->verifying = false;
        st->verify_deadline = 0;
        st->failures = 0;
}

enum renew_proof renew_verify(const struct renew_state *st, const struct platform_obs *obs, time_t now,
                              const struct cert_obs **ret_new) {
        const struct cert_obs *found = NULL;
        bool all = obs && obs->n_endpoints > 0;

        for (size_t i = 0; all && i < obs->n_endpoints; i++) {
                const struct cert_obs *leaf;
                if (!leaf_of(&obs->endpoints[i], &leaf) || serial_in(st->old_serials, leaf->serial) ||
                    leaf->not_after <= st->old_not_after) {
                        all = false;
                        break;
                }
                if (!found || leaf->not_after < found->not_after)
                        found = leaf;
        }
        /* Names that did not resolve leave no endpoint to prove anything. */
        for (size_t i = 0; all && i < obs->n_names; i++)
                if (obs->names[i].status != DNS_STATUS_OK)
                        all = false;
        if (all) {
                *ret_new = found;
                return RENEW_PROOF_SUCCEEDED;
        }
        return now >= st->verify_deadline ? RENEW_PROOF_TIMED_OUT : RENEW_PROOF_PENDING;
}

/* ------------------------------------------------------------------------ */

void renew_emit_triggered(struct finding_list *out, const struct renew_state *st, const char *detail) {
        finding_emit(out, TRIGGERED, NULL, NULL, "renewal triggered by %s because of %s: %s",
                     st->method ? st->method : "?", st->reason ? st->reason : "?", detail);
}

void renew_emit_suppressed(struct finding_list *out, enum renew_verdict v, time_t next, const char *reason) {
        char when[RFC3339_MAX];
        const char *why = "";

        switch (v) {
        case RENEW_HOLD_IN_FLIGHT:
                why = "the previous renewal is still being verified (until";
                break;
        case RENEW_HOLD_INTERVAL:
                why = "renew.min_interval has not passed since the last trigger (next attempt";
                break;
        case RENEW_HOLD_BACKOFF:
                why = "backing off after failed renewals (next attempt";
                break;
        case RENEW_HOLD_CAP:
                why = "renew.max_per_week triggers in the last 7 days (next attempt";
                break;
        case RENEW_HOLD_CT_LIMIT:
                why = "CT logs show Let's Encrypt's duplicate certificate limit reached for these names "
                      "(ct.rate-limit.near; next attempt";
                break;
        case RENEW_GO:
                break;
        }
        finding_emit(out, SUPPRESSED, NULL, NULL, "renewal due because of %s held back: %s %s)", reason, why,
                     format_rfc3339(next, when));
}

void renew_emit_already_issuing(struct finding_list *out, const char *reason, const char *observed) {
        finding_emit(out, SUPPRESSED, NULL, NULL,
                     "renewal due because of %s held back: cert-manager is already issuing the Certificate (%s)",
                     reason, observed);
}

void renew_emit_succeeded(struct finding_list *out, const struct renew_state *st, const struct cert_obs *new_leaf) {
        char o[RFC3339_MAX], n[RFC3339_MAX];

        finding_emit(out, SUCCEEDED, NULL, NULL,
                     "new certificate served on every address: serial %s (notAfter %s) replaces %s (notAfter %s)",
                     new_leaf->serial, format_rfc3339(new_leaf->not_after, n),
                     st->old_serial ? st->old_serial : "(none served)", format_rfc3339(st->old_not_after, o));
}

void renew_emit_failed(struct finding_list *out, const struct renew_state *st, const char *why) {
        finding_emit(out, FAILED, NULL, NULL, "renewal by %s (because of %s) failed: %s", st->method ? st->method : "?",
                     st->reason ? st->reason : "?", why);
}

/* ------------------------------------------------------------------------ */
/* The state as JSON: {"triggers": [t...], "failures": n, "last_failure": t,
 * "verifying": {"deadline": t, "method": s, "reason": s, "old_serials": [s],
 * "old_serial": s, "old_not_after": t}} with times in seconds since the
 * epoch. */

json_t *renew_state_to_json(const struct renew_state *st) {
        json_t *o = json_object(), *t = json_array();

        for (size_t i = 0; i < st->n_triggers; i++)
                json_array_append_new(t, json_integer((json_int_t)st->triggers[i]));
        json_object_set_new(o, "triggers", t);
        json_object_set_new(o, "failures", json_integer(st->failures));
        json_object_set_new(o, "last_failure", json_integer((json_int_t)st->last_failure));
        if (st->verifying) {
                json_t *v = json_object(), *s = json_array();
                for (size_t i = 0; st->old_serials && st->old_serials[i]; i++)
                        json_array_append_new(s, json_string(st->old_serials[i]));
                json_object_set_new(v, "deadline", json_integer((json_int_t)st->verify_deadline));
                json_object_set_new(v, "method", json_string(st->method ? st->method : ""));
                json_object_set_new(v, "reason", json_string(st->reason ? st->reason : ""));
                json_object_set_new(v, "old_serials", s);
                json_object_set_new(v, "old_serial", st->old_serial ? json_string(st->old_serial) : json_null());
                json_object_set_new(v, "old_not_after", json_integer((json_int_t)st->old_not_after));
                json_object_set_new(o, "verifying", v);
        }
        if (st->ari_cert_id)
                json_object_set_new(o, "ari", json_pack("{s:s, s:I, s:I, s:I}", "cert_id", st->ari_cert_id, "start",
                                                        (json_int_t)st->ari_start, "end", (json_int_t)st->ari_end,
                                                        "next_poll", (json_int_t)st->ari_next_poll));
        if (st->rdap_domain)
                json_object_set_new(o, "rdap", json_pack("{s:s, s:I, s:I}", "domain", st->rdap_domain, "expires",
                                                         (json_int_t)st->rdap_expires, "next_check",
                                                         (json_int_t)st->rdap_next_check));
        return o;
}

static int get_time(const json_t *o, const char *key, time_t *ret) {
        const json_t *v = json_object_get(o, key);
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return -EINVAL;
        *ret = (time_t)json_integer_value(v);
        return 0;
}

static int get_str(const json_t *o, const char *key, char **ret) {
        const json_t *v = json_object_get(o, key);
        if (!json_is_string(v))
                return -EINVAL;
        *ret = str_escape(json_string_value(v), json_string_length(v));
        return 0;
}

static char *serial_from_json(const json_t *v) {
        _cleanup_free_ char *e = str_escape(json_string_value(v), json_string_length(v));
        return serial_normalize(e);
}

int renew_state_from_json(const json_t *o, struct renew_state *ret) {
        struct renew_state st = { 0 };
        const json_t *t, *v, *item;
        time_t x;
        size_t i;
        int r = -EINVAL;

        if (!json_is_object(o))
                return -EINVAL;
        t = json_object_get(o, "triggers");
        if (!json_is_array(t))
                goto fail;
        json_array_foreach(t, i, item) {
                if (!json_is_integer(item) || json_integer_value(item) < 0)
                        goto fail;
                x = (time_t)json_integer_value(item);
                if (st.n_triggers > 0 && x < st.triggers[st.n_triggers - 1])
                        goto fail;
                if (st.n_triggers == RENEW_HISTORY_MAX) {
                        memmove(st.triggers, st.triggers + 1, (RENEW_HISTORY_MAX - 1) * sizeof(x));
                        st.n_triggers--;
                }
                st.triggers[st.n_triggers++] = x;
        }
        v = json_object_get(o, "failures");
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000)
                goto fail;
        st.failures = (unsigned)json_integer_value(v);
        if (get_time(o, "last_failure", &st.last_failure) < 0)
                goto fail;
        v = json_object_get(o, "verifying");
        if (v && !json_is_null(v)) {
                const json_t *s = json_object_get(v, "old_serials"), *os = json_object_get(v, "old_serial");
                st.verifying = true;
                if (get_time(v, "deadline", &st.verify_deadline) < 0 || get_str(v, "method", &st.method) < 0 ||
                    get_str(v, "reason", &st.reason) < 0 || get_time(v, "old_not_after", &st.old_not_after) < 0 ||
                    !json_is_array(s) || (os && !json_is_null(os) && !json_is_string(os)))
                        goto fail;
                /* Serials written before they were printed as openssl does
                 * (lower case, with DER's 00) are brought to today's form,
                 * so a verification spanning an upgrade still recognises
                 * the old certificate. */
                if (json_is_string(os))
                        st.old_serial = serial_from_json(os);
                json_array_foreach(s, i, item) {
                        if (!json_is_string(item))
                                goto fail;
                        strv_push(&st.old_serials, serial_from_json(item));
                }
        }
        v = json_object_get(o, "ari");
        if (v && !json_is_null(v)) {
                if (get_str(v, "cert_id", &st.ari_cert_id) < 0 || get_time(v, "start", &st.ari_start) < 0 ||
                    get_time(v, "end", &st.ari_end) < 0 || get_time(v, "next_poll", &st.ari_next_poll) < 0)
                        goto fail;
        }
        v = json_object_get(o, "rdap");
        if (v && !json_is_null(v)) {
                if (get_str(v, "domain", &st.rdap_domain) < 0 || get_time(v, "expires", &st.rdap_expires) < 0 ||
                    get_time(v, "next_check", &st.rdap_next_check) < 0)
                        goto fail;
        }
        *ret = st;
        return 0;
fail:
        renew_state_done(&st);
        return r;
}
