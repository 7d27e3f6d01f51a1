/* The alert discipline over the state's open findings; see alert.h. */
#include <string.h>

#include "alert.h"
#include "util.h"

const char *alert_kind_to_string(enum alert_kind k) {
        switch (k) {
        case ALERT_NEW:
                return "new";
        case ALERT_CHANGED:
                return "changed";
        case ALERT_REMINDER:
                return "reminder";
        case ALERT_RESOLVED:
                return "resolved";
        }
        return "unknown";
}

void alert_list_clear(struct alert_list *l) {
        for (size_t i = 0; i < l->n; i++)
                state_finding_done(&l->items[i].f);
        free(l->items);
        *l = (struct alert_list){ 0 };
}

static void alert_push(struct alert_list *l, enum alert_kind kind, const struct state_finding *f,
                       enum severity previous) {
        l->items = xrealloc(l->items, (l->n + 1) * sizeof(*l->items));
        l->items[l->n] = (struct alert){ .kind = kind, .previous = previous };
        state_finding_copy(&l->items[l->n].f, f);
        l->n++;
}

/* The finding is about this endpoint (or name): one of those it affects. */
static bool finding_affects(const struct finding *f, const char *name, const char *address) {
        if (f->n_affected == 0)
                return streq_ptr(name, f->name) && streq_ptr(address, f->address);
        for (size_t i = 0; i < f->n_affected; i++)
                if (streq_ptr(name, f->affected[i].name) && streq_ptr(address, f->affected[i].address))
                        return true;
        return false;
}

/* The same problem: the same id about the same subject (certificate,
 * address, name). A finding kept from a format 1 state has no subject but
 * the endpoint it was about: it is the grouped finding that affects that
 * endpoint, so upgrading does not alert every open problem again. */
static bool same_problem(const struct state_finding *old, const struct finding *f) {
        if (strcmp(old->id, f->def->id) != 0)
                return false;
        if (old->subject || f->subject)
                return old->subject && f->subject ? strcmp(old->subject, f->subject) == 0
                                                  : !old->subject && old->name && finding_affects(f, old->name, old->address);
        return streq_ptr(old->name, f->name) && streq_ptr(old->address, f->address);
}

/* "tls.expiry.warning" and "tls.expiry.critical" share "tls.expiry". */
static bool same_family(const char *a, const char *b) {
        const char *da = strrchr(a, '.'), *db = strrchr(b, '.');
        return da && db && da - a == db - b && strncmp(a, b, (size_t)(da - a)) == 0;
}

static bool superseded(const struct state_finding *old, const struct finding_list *findings) {
        for (size_t i = 0; i < findings->n; i++) {
                const struct finding *f = &findings->items[i];
                bool same = old->subject && f->subject ? strcmp(old->subject, f->subject) == 0
                                                        : finding_affects(f, old->name, old->address);
                if (same && same_family(old->id, f->def->id))
                        return true;
        }
        return false;
}

/* Did this audit look closely enough at what the old finding was about to
 * say it is gone? */
static bool judged(const struct state_finding *old, const struct platform_obs *obs) {
        bool name_resolved = false, address_listed = false;

        if (!obs || !old->name)
                return true;
        for (size_t i = 0; i < obs->n_names; i++)
                if (strcmp(obs->names[i].name, old->name) == 0) {
                        if (obs->names[i].status == DNS_STATUS_NOT_RUN)
                                return false;
                        name_resolved = obs->names[i].status == DNS_STATUS_OK;
                }
        if (!old->address)
                return true;
        for (size_t i = 0; i < obs->n_endpoints; i++) {
                const struct endpoint_obs *e = &obs->endpoints[i];
                if (strcmp(e->name, old->name) != 0 || strcmp(e->address, old->address) != 0)
                        continue;
                address_listed = true;
                if (e->status == ENDPOINT_OK)
                        return true;
        }
        /* The name now resolves without that address: the finding about
         * it went with it. */
        return name_resolved && !address_listed;
}

void alert_compute(struct state_platform *sp, const struct finding_list *findings, const struct platform_obs *obs,
                   time_t now, uint64_t remind_usec, struct alert_list *out) {
        struct state_finding *next = xcalloc(findings->n + sp->n_findings + 1, sizeof(*next));
        bool *kept = xcalloc(sp->n_findings + 1, sizeof(*kept));
        time_t remind = (time_t)(remind_usec / USEC_PER_SEC);
        size_t n = 0;

        for (size_t i = 0; i < findings->n; i++) {
                const struct finding *f = &findings->items[i];
                struct state_finding *old = NULL;
                bool dup = false;

                /* Silenced (ignore:) or folded under its cause: no alert,
                 * and not open in the state; an earlier alert about it is
                 * not "resolved" either. Once the silence ends, or the
                 * cause is gone, it is new again. */
                if (!finding_counts(f)) {
                        for (size_t j = 0; j < sp->n_findings; j++)
                                if (same_problem(&sp->findings[j], f))
                                        kept[j] = true;
                        continue;
                }
                /* The same problem twice in one audit is one finding. */
                for (size_t j = 0; j < n && !dup; j++)
                        dup = same_problem(&next[j], f);
                if (dup)
                        continue;
                /* Every open entry it matches is this problem (a format 1
                 * state had one per endpoint); the first keeps its times. */
                for (size_t j = 0; j < sp->n_findings; j++)
                        if (!kept[j] && same_problem(&sp->findings[j], f)) {
                                if (!old)
                                        old = &sp->findings[j];
                                kept[j] = true;
                        }

                struct state_finding *s = &next[n++];
                *s = (struct state_finding){
                        .id = xstrdup(f->def->id),
                        .severity = f->severity,
                        .name = xstrdup(f->name),
                        .address = xstrdup(f->address),
                        .subject = xstrdup(f->subject),
                        .message = xstrdup(f->message),
                        .first_seen = old ? old->first_seen : now,
                        .last_alerted = old ? old->last_alerted : now,
                };
                if (!old)
                        alert_push(out, ALERT_NEW, s, f->severity);
                else if (old->severity != f->severity) {
                        s->last_alerted = now;
                        alert_push(out, ALERT_CHANGED, s, old->severity);
                } else if (f->severity != SEVERITY_INFO && remind > 0 && now - s->last_alerted >= remind) {
                        s->last_alerted = now;
                        alert_push(out, ALERT_REMINDER, s, f->severity);
                }
        }

        for (size_t j = 0; j < sp->n_findings; j++) {
                struct state_finding *old = &sp->findings[j];
                if (kept[j])
                        continue;
                if (!judged(old, obs)) {
                        /* Carried over unchanged, reminders included. */
                        struct state_finding *s = &next[n++];
                        *s = *old;
                        *old = (struct state_finding){ 0 };
                        if (s->severity != SEVERITY_INFO && remind > 0 && now - s->last_alerted >= remind) {
                                s->last_alerted = now;
                                alert_push(out, ALERT_REMINDER, s, s->severity);
                        }
                        continue;
                }
                /* An info finding going away is not news. */
                if (old->severity != SEVERITY_INFO && !superseded(old, findings))
                        alert_push(out, ALERT_RESOLVED, old, old->severity);
        }

        for (size_t j = 0; j < sp->n_findings; j++)
                state_finding_done(&sp->findings[j]);
        free(sp->findings);
        free(kept);
        sp->findings = next;
        sp->n_findings = n;
}
