/* The alert discipline over the state's open findings; see alert.h. */
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "keyed.h"
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
        if (l->n == l->allocated) {
                l->allocated = l->allocated ? 2 * l->allocated : 16;
                l->items = xrealloc(l->items, l->allocated * sizeof(*l->items));
        }
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

/* ---- the indexes ---------------------------------------------------------
 * A platform may hold a finding per endpoint, thousands of them: each
 * finding is matched with the open ones, and each open one with this
 * audit's findings and endpoints, through sorted arrays, not by comparing
 * every pair (which took seconds per audit at 20,000 endpoints). What has
 * no subject (a platform-wide finding, one read from a format 1 file) is
 * rare and still compared one by one, as same_problem() says. */

/* An identity (id and subject, or another pair of strings) and where it
 * is: struct keyed (keyed.h). */

/* The open findings: those with a subject by (id, subject), the others in a list. */
struct open_index {
        struct keyed *keyed;
        size_t n_keyed, *plain, n_plain;
};

static void open_index_make(struct open_index *x, const struct state_platform *sp) {
        *x = (struct open_index){ .keyed = xcalloc(sp->n_findings + 1, sizeof(*x->keyed)),
                                  .plain = xcalloc(sp->n_findings + 1, sizeof(*x->plain)) };
        for (size_t j = 0; j < sp->n_findings; j++)
                if (sp->findings[j].subject)
                        x->keyed[x->n_keyed++] = (struct keyed){ sp->findings[j].id, sp->findings[j].subject, j };
                else
                        x->plain[x->n_plain++] = j;
        keyed_sort(x->keyed, x->n_keyed);
}

static void open_index_done(struct open_index *x) {
        free(x->keyed);
        free(x->plain);
}

/* Marks kept every open finding that is f's problem (with skip_kept, only
 * those not kept yet); returns the first of them so marked, SIZE_MAX if none. */
static size_t open_match(const struct state_platform *sp, const struct open_index *x, const struct finding *f,
                         bool *kept, bool skip_kept) {
        size_t first = SIZE_MAX;

        for (size_t k = f->subject ? keyed_find(x->keyed, x->n_keyed, f->def->id, f->subject) : x->n_keyed;
             k < x->n_keyed && keyed_is(&x->keyed[k], f->def->id, f->subject); k++) {
                size_t j = x->keyed[k].at;
                if (skip_kept && kept[j])
                        continue;
                kept[j] = true;
                first = j < first ? j : first;
        }
        for (size_t k = 0; k < x->n_plain; k++) {
                size_t j = x->plain[k];
                if ((skip_kept && kept[j]) || !same_problem(&sp->findings[j], f))
                        continue;
                kept[j] = true;
                first = j < first ? j : first;
        }
        return first;
}

/* Replaced by a finding of the same family about the same thing. by_subject:
 * this audit's findings with a subject as (subject, id); plain: the others. */
static bool superseded(const struct state_finding *old, const struct finding_list *findings,
                       const struct keyed *by_subject, size_t n_by_subject, const size_t *plain, size_t n_plain) {
        if (!old->subject) {
                /* Read from a format 1 file: whatever affects its endpoint. */
                for (size_t i = 0; i < findings->n; i++)
                        if (finding_affects(&findings->items[i], old->name, old->address) &&
                            same_family(old->id, findings->items[i].def->id))
                                return true;
                return false;
        }
        for (size_t k = keyed_find(by_subject, n_by_subject, old->subject, "");
             k < n_by_subject && strcmp(by_subject[k].a, old->subject) == 0; k++)
                if (same_family(old->id, by_subject[k].b))
                        return true;
        for (size_t k = 0; k < n_plain; k++)
                if (finding_affects(&findings->items[plain[k]], old->name, old->address) &&
                    same_family(old->id, findings->items[plain[k]].def->id))
                        return true;
        return false;
}

/* Did this audit look closely enough at what the old finding was about to
 * say it is gone? by_endpoint: the endpoints by name and address. */
static bool judged(const struct state_finding *old, const struct platform_obs *obs, const struct keyed *by_endpoint,
                   size_t n_by_endpoint) {
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
        for (size_t k = keyed_find(by_endpoint, n_by_endpoint, old->name, old->address);
             k < n_by_endpoint && keyed_is(&by_endpoint[k], old->name, old->address); k++) {
                address_listed = true;
                if (obs->endpoints[by_endpoint[k].at].status == ENDPOINT_OK)
                        return true;
        }
        /* The name now resolves without that address: the finding about
         * it went with it. */
        return name_resolved && !address_listed;
}

/* Which of this audit's counted findings with a subject are the same
 * problem: ret_group[i] is the first of i's (id, subject). */
static void counted_groups(const struct finding_list *findings, size_t *ret_group) {
        _cleanup_free_ struct keyed *v = xcalloc(findings->n + 1, sizeof(*v));
        size_t m = 0;

        for (size_t i = 0; i < findings->n; i++) {
                const struct finding *f = &findings->items[i];
                ret_group[i] = i;
                if (finding_counts(f) && f->subject)
                        v[m++] = (struct keyed){ f->def->id, f->subject, i };
        }
        keyed_sort(v, m);
        for (size_t k = 1; k < m; k++)
                if (keyed_is(&v[k - 1], v[k].a, v[k].b))
                        ret_group[v[k].at] = ret_group[v[k - 1].at];
}

/* Opens, keeps and updates the entries for this audit's findings into
 * next (n of them); marks kept the open ones they are. */
static size_t alert_current(struct state_platform *sp, const struct finding_list *findings, time_t now,
                            time_t remind, struct state_finding *next, bool *kept, struct alert_list *out) {
        _cleanup_free_ size_t *group = xcalloc(findings->n + 1, sizeof(*group));
        _cleanup_free_ size_t *plain_next = xcalloc(findings->n + 1, sizeof(*plain_next));
        _cleanup_free_ bool *added = xcalloc(findings->n + 1, sizeof(*added));
        struct open_index x;
        size_t n = 0, n_plain_next = 0;

        open_index_make(&x, sp);
        counted_groups(findings, group);
        for (size_t i = 0; i < findings->n; i++) {
                const struct finding *f = &findings->items[i];
                struct state_finding *old = NULL;
                bool dup;
                size_t j;

                /* Silenced (ignore:) or folded under its cause: no alert,
                 * and not open in the state; an earlier alert about it is
                 * not "resolved" either. Once the silence ends, or the
                 * cause is gone, it is new again. */
                if (!finding_counts(f)) {
                        (void)open_match(sp, &x, f, kept, false);
                        continue;
                }
                /* The same problem twice in one audit is one finding. */
                dup = f->subject && added[group[i]];
                for (size_t k = 0; k < n_plain_next && !dup; k++)
                        dup = same_problem(&next[plain_next[k]], f);
                if (dup)
                        continue;
                /* Every open entry it matches is this problem (a format 1
                 * state had one per endpoint); the first keeps its times. */
                j = open_match(sp, &x, f, kept, true);
                if (j != SIZE_MAX)
                        old = &sp->findings[j];
                if (f->subject)
                        added[group[i]] = true;
                else
                        plain_next[n_plain_next++] = n;

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
        open_index_done(&x);
        return n;
}

void alert_compute(struct state_platform *sp, const struct finding_list *findings, const struct platform_obs *obs,
                   time_t now, uint64_t remind_usec, struct alert_list *out) {
        struct state_finding *next = xcalloc(findings->n + sp->n_findings + 1, sizeof(*next));
        bool *kept = xcalloc(sp->n_findings + 1, sizeof(*kept));
        time_t remind = (time_t)(remind_usec / USEC_PER_SEC);
        size_t n_endpoints = obs ? obs->n_endpoints : 0, n_by_subject = 0;
        _cleanup_free_ struct keyed *by_endpoint = xcalloc(n_endpoints + 1, sizeof(*by_endpoint));
        _cleanup_free_ struct keyed *by_subject = xcalloc(findings->n + 1, sizeof(*by_subject));
        _cleanup_free_ size_t *plain = xcalloc(findings->n + 1, sizeof(*plain));
        size_t n_plain = 0;
        size_t n = alert_current(sp, findings, now, remind, next, kept, out);

        for (size_t i = 0; i < n_endpoints; i++)
                by_endpoint[i] = (struct keyed){ obs->endpoints[i].name, obs->endpoints[i].address, i };
        keyed_sort(by_endpoint, n_endpoints);
        /* Each finding with a subject as (subject, its id); the others listed. */
        for (size_t i = 0; i < findings->n; i++)
                if (findings->items[i].subject)
                        by_subject[n_by_subject++] = (struct keyed){ findings->items[i].subject,
                                                                     findings->items[i].def->id, i };
                else
                        plain[n_plain++] = i;
        keyed_sort(by_subject, n_by_subject);

        for (size_t j = 0; j < sp->n_findings; j++) {
                struct state_finding *old = &sp->findings[j];
                if (kept[j])
                        continue;
                if (!judged(old, obs, by_endpoint, n_endpoints)) {
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
                if (old->severity != SEVERITY_INFO && !superseded(old, findings, by_subject, n_by_subject, plain,
                                                                   n_plain))
                        alert_push(out, ALERT_RESOLVED, old, old->severity);
        }

        for (size_t j = 0; j < sp->n_findings; j++)
                state_finding_done(&sp->findings[j]);
        free(sp->findings);
        free(kept);
        sp->findings = next;
        sp->n_findings = n;
}
