/* The grouping pass: merging a run's per-endpoint findings into one per
 * root cause, and folding derived findings under their cause. See
 * group.h. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "group.h"
#include "keyed.h"
#include "util.h"

static const struct finding_def findings[] = {
#define DEADLINE_REACHED (&findings[0])
        { "audit.deadline.reached", SEVERITY_CRITICAL, "dfdab5be46a449a0aa0335f5c8cd8271",
          "the audit deadline came before every name was resolved and every endpoint probed: those were not judged" },
};

const struct check check_group = {
        .name = "audit.deadline",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = NULL,
};

/* About the server at an address, not the certificate it serves. */
static const char *const by_address[] = {
        "tls.connect.failed", "tls.handshake.failed", "tls.protocol.legacy", "tls.kx.weak",
};

/* Emitted once per certificate (endpoint_is_first_with_leaf): every
 * endpoint serving it is affected. */
static const char *const per_certificate[] = {
        "tls.renewal.overdue", "tls.wildcard.shape", "tls.issuer.staging", "tls.issuer.mode-mismatch",
        "tls.ct.missing", "tls.key.weak", "tls.signature.weak", "tls.revoked",
};

/* What an ingress placeholder certificate explains about itself. */
static const char *const placeholder_explains[] = {
        "tls.chain.untrusted", "tls.chain.incomplete", "tls.chain.order", "tls.san.mismatch",
        "tls.wildcard.shape", "tls.issuer.staging", "tls.issuer.mode-mismatch", "tls.expiry.expired",
        "tls.expiry.critical", "tls.expiry.warning", "tls.cert.not-yet-valid", "tls.renewal.overdue",
        "tls.ct.missing", "tls.secret.mismatch",
};

static const char *const expiry_ids[] = { "tls.expiry.expired", "tls.expiry.critical", "tls.expiry.warning" };

static bool id_in(const char *id, const char *const *set, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(set[i], id) == 0)
                        return true;
        return false;
}
#define ID_IN(id, set) id_in(id, set, ELEMENTSOF(set))

char *group_list_text(char *const *items, size_t n) {
        if (n == 0)
                return xstrdup("");
        if (n == 1)
                return xstrdup(items[0]);
        if (n == 2)
                return xasprintf("%s and %s", items[0], items[1]);
        if (n == 3)
                return xasprintf("%s, %s and %s", items[0], items[1], items[2]);
        return xasprintf("%s, %s and %zu more", items[0], items[1], n - 2);
}

/* ---- names and addresses inside messages ------------------------------- */

static bool word_char(char c) {
        return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '*' || c == ':';
}

/* The next occurrence of tok in s as a whole name or address: not part of
 * a longer name ("api.x" in "api.x.y"), address ("127.0.0.1" in
 * "127.0.0.10") or label. */
static const char *token_find(const char *s, const char *tok) {
        size_t n = strlen(tok);
        for (const char *p = strstr(s, tok); n > 0 && p; p = strstr(p + 1, tok)) {
                char before = p > s ? p[-1] : ' ', after = p[n];
                if (word_char(before) || before == '.')
                        continue;
                /* "api.x: ..." and "api.x." end a sentence; "api.x.y" and
                 * "::1:5" go on. */
                if ((after == ':' || after == '.') ? word_char(p[n + 1]) : word_char(after))
                        continue;
                return p;
        }
        return NULL;
}

/* s with every whole occurrence of tok replaced by with. Caller frees. */
static char *token_replace(const char *s, const char *tok, const char *with) {
        char *out = xstrdup(""), *next;
        const char *p;

        while ((p = tok && *tok ? token_find(s, tok) : NULL)) {
                next = xasprintf("%s%.*s%s", out, (int)(p - s), s, with);
                free(out);
                out = next;
                s = p + strlen(tok);
        }
        next = xasprintf("%s%s", out, s);
        free(out);
        return next;
}

/* ---- the endpoints behind findings ------------------------------------- */

/* The endpoints by name and address, to find the one a finding names in
 * O(log n): a run may hold a finding per endpoint. */
struct endpoint_index {
        const struct platform_obs *obs;   /* may be NULL: nothing found */
        struct keyed *refs;               /* (name, address) at the endpoint's index */
        size_t n;
};

static void endpoint_index_make(struct endpoint_index *x, const struct platform_obs *obs) {
        *x = (struct endpoint_index){ .obs = obs };
        if (!obs)
                return;
        x->refs = xcalloc(obs->n_endpoints + 1, sizeof(*x->refs));
        for (size_t i = 0; i < obs->n_endpoints; i++)
                if (obs->endpoints[i].name && obs->endpoints[i].address)
                        x->refs[x->n++] = (struct keyed){ obs->endpoints[i].name, obs->endpoints[i].address, i };
        keyed_sort(x->refs, x->n);
}

/* The first endpoint (by index) with this name and address, SIZE_MAX when none. */
static size_t endpoint_find(const struct endpoint_index *x, const char *name, const char *address) {
        size_t k;

        if (!name || !address)
                return SIZE_MAX;
        k = keyed_find(x->refs, x->n, name, address);
        return k < x->n && keyed_is(&x->refs[k], name, address) ? x->refs[k].at : SIZE_MAX;
}

static const char *leaf_of(const struct endpoint_obs *e) {
        return e->status == ENDPOINT_OK && e->n_chain > 0 ? e->chain[0].sha256 : NULL;
}

static char *subject_of(const struct endpoint_index *x, const struct finding *f, uint16_t *ret_port) {
        const struct platform_obs *obs = x->obs;
        size_t i = endpoint_find(x, f->name, f->address);

        *ret_port = 0;
        if (!f->name)
                return NULL;
        if (!f->address)
                return xasprintf("name %s", f->name);
        if (i == SIZE_MAX)
                return xasprintf("address %s", f->address);
        *ret_port = obs->endpoints[i].port;
        /* A DNS finding about an endpoint is about its address record. */
        if (leaf_of(&obs->endpoints[i]) && strncmp(f->def->id, "tls.", 4) == 0 && !ID_IN(f->def->id, by_address))
                return xasprintf("cert %s", leaf_of(&obs->endpoints[i]));
        return xasprintf("address %s port %u", f->address, obs->endpoints[i].port);
}

/* Targets gathered before they join a finding, in an array that grows
 * by doubling: one realloc per target would copy the whole list each time
 * under allocators that do not grow in place. */
struct targets {
        struct finding_target *v;
        size_t n, allocated;
};

/* Appends one target; targets_unique() then drops the repeats. */
static void target_add(struct targets *t, const char *name, const char *address, uint16_t port) {
        if (t->n == t->allocated) {
                t->allocated = t->allocated ? 2 * t->allocated : 8;
                t->v = xrealloc(t->v, t->allocated * sizeof(*t->v));
        }
        t->v[t->n++] = (struct finding_target){
                .name = xstrdup(name),
                .address = xstrdup(address),
                .port = port,
        };
}

/* Moves t's targets to the end of f's. */
static void targets_move(struct finding *f, struct targets *t) {
        if (t->n > 0) {
                f->affected = xrealloc(f->affected, (f->n_affected + t->n) * sizeof(*f->affected));
                memcpy(f->affected + f->n_affected, t->v, t->n * sizeof(*t->v));
                f->n_affected += t->n;
        }
        free(t->v);
        *t = (struct targets){ 0 };
}

/* NULL first, then as strcmp(). */
static int strcmp_null(const char *a, const char *b) {
        return !a || !b ? (a != NULL) - (b != NULL) : strcmp(a, b);
}

static int target_at_cmp(const void *a, const void *b) {
        const struct finding_target *const *x = a, *const *y = b;
        int c = strcmp_null((*x)->name, (*y)->name);
        if (c == 0)
                c = strcmp_null((*x)->address, (*y)->address);
        return c != 0 ? c : *x < *y ? -1 : *x > *y;
}

/* Keeps the first target of each name and address, in order. Sorted,
 * not compared pairwise: a finding may affect every endpoint. */
static void targets_unique(struct finding *f) {
        size_t n = f->n_affected, kept = 0;
        _cleanup_free_ const struct finding_target **sorted = xcalloc(n + 1, sizeof(*sorted));
        _cleanup_free_ bool *drop = xcalloc(n + 1, sizeof(*drop));

        for (size_t i = 0; i < n; i++)
                sorted[i] = &f->affected[i];
        qsort(sorted, n, sizeof(*sorted), target_at_cmp);
        for (size_t k = 1; k < n; k++)
                if (strcmp_null(sorted[k - 1]->name, sorted[k]->name) == 0 &&
                    strcmp_null(sorted[k - 1]->address, sorted[k]->address) == 0)
                        drop[sorted[k] - f->affected] = true;
        for (size_t i = 0; i < n; i++) {
                if (drop[i]) {
                        free(f->affected[i].name);
                        free(f->affected[i].address);
                } else
                        f->affected[kept++] = f->affected[i];
        }
        f->n_affected = kept;
}

/* Same finding up to the endpoint it names: the merge key. */
static char *merge_key(const struct finding *f, const char *subject) {
        _cleanup_free_ char *a = token_replace(f->message, f->address, "\002");
        _cleanup_free_ char *m = token_replace(a, f->name, "\001");
        return xasprintf("%s\n%d\n%s\n%s\n%s", f->def->id, (int)f->severity, subject ? subject : "",
                         f->silenced ? f->silenced : "", m);
}

/* affected_sort()'s key: where the name comes in the plan (names not
 * planned last), the address, and the place before sorting. */
struct target_key {
        size_t rank;
        const char *address;
        size_t at;
};

static int target_key_cmp(const void *a, const void *b) {
        const struct target_key *x = a, *y = b;
        int c;

        if (x->rank != y->rank)
                return x->rank < y->rank ? -1 : 1;
        c = strcmp(x->address ? x->address : "", y->address ? y->address : "");
        return c != 0 ? c : x->at < y->at ? -1 : x->at > y->at;
}

/* In the plan's order: by name as planned, then address (as
 * endpoint_before() orders endpoints), equal ones as they came. Ranks are
 * looked up once per target: a finding may affect every endpoint of a
 * large platform. */
static void affected_sort(const struct platform_obs *obs, struct finding *f) {
        size_t n = f->n_affected;
        _cleanup_free_ const char **names = xcalloc(n + 1, sizeof(*names));
        _cleanup_free_ size_t *rank = xcalloc(n + 1, sizeof(*rank));
        _cleanup_free_ struct target_key *keys = xcalloc(n + 1, sizeof(*keys));
        _cleanup_free_ struct finding_target *sorted = xcalloc(n + 1, sizeof(*sorted));

        for (size_t i = 0; i < n; i++)
                names[i] = f->affected[i].name;
        names_plan_rank(obs, names, n, rank);
        for (size_t i = 0; i < n; i++)
                keys[i] = (struct target_key){ rank[i], f->affected[i].address, i };
        qsort(keys, n, sizeof(*keys), target_key_cmp);
        for (size_t k = 0; k < n; k++)
                sorted[k] = f->affected[keys[k].at];
        for (size_t k = 0; k < n; k++)
                f->affected[k] = sorted[k];
}

/* The message names every affected name and address; the finding's own
 * name and address become the first affected. */
static void merged_rewrite(struct finding *f) {
        _cleanup_free_ const char **names = xcalloc(f->n_affected + 1, sizeof(*names));
        _cleanup_free_ const char **addresses = xcalloc(f->n_affected + 1, sizeof(*addresses));
        size_t n_names, n_addresses;

        for (size_t i = 0; i < f->n_affected; i++) {
                names[i] = f->affected[i].name;
                addresses[i] = f->affected[i].address;
        }
        n_names = strs_unique(names, f->n_affected);
        n_addresses = strs_unique(addresses, f->n_affected);
        if (n_addresses > 1 && f->address) {
                _cleanup_free_ char *list = group_list_text((char *const *)addresses, n_addresses);
                char *m = token_replace(f->message, f->address, list);
                free(f->message);
                f->message = m;
        }
        if (n_names > 1 && f->name) {
                _cleanup_free_ char *list = group_list_text((char *const *)names, n_names);
                char *m = token_replace(f->message, f->name, list);
                free(f->message);
                f->message = m;
        }
        if (f->n_affected > 0) {
                free(f->name);
                free(f->address);
                f->name = xstrdup(f->affected[0].name);
                f->address = xstrdup(f->affected[0].address);
        }
}

/* Every endpoint serving the certificate of a once-per-certificate finding. */
static void per_certificate_expand(const struct platform_obs *obs, struct finding *f) {
        const char *sha = f->subject && strncmp(f->subject, "cert ", 5) == 0 ? f->subject + 5 : NULL;
        struct targets t = { 0 };

        if (!sha || !ID_IN(f->def->id, per_certificate))
                return;
        for (size_t i = 0; i < obs->n_endpoints; i++)
                if (streq_ptr(leaf_of(&obs->endpoints[i]), sha))
                        target_add(&t, obs->endpoints[i].name, obs->endpoints[i].address, obs->endpoints[i].port);
        targets_move(f, &t);
}

/* Findings with the same key become one, at the place of the first: the
 * keys are sorted (with their places) rather than compared pairwise, as a
 * run may hold a finding per endpoint. */
static void merge(const struct endpoint_index *x, const struct finding_list *in, struct finding_list *out) {
        const struct platform_obs *obs = x->obs;
        size_t n = in->n;
        _cleanup_free_ const char **keys = xcalloc(n + 1, sizeof(*keys));
        _cleanup_free_ char **subjects = xcalloc(n + 1, sizeof(*subjects));
        _cleanup_free_ uint16_t *ports = xcalloc(n + 1, sizeof(*ports));
        _cleanup_free_ size_t *lead = xcalloc(n + 1, sizeof(*lead)), *slot = xcalloc(n + 1, sizeof(*slot));
        _cleanup_free_ struct targets *adds = xcalloc(n + 1, sizeof(*adds));   /* per finding of out */

        for (size_t i = 0; i < n; i++) {
                subjects[i] = subject_of(x, &in->items[i], &ports[i]);
                keys[i] = merge_key(&in->items[i], subjects[i]);
        }
        /* lead[i]: the first finding with i's key. */
        strs_first(keys, n, lead);
        for (size_t i = 0; i < n; i++) {
                const struct finding *f = &in->items[i];
                size_t j;

                if (lead[i] == i) {
                        j = slot[i] = out->n;
                        finding_list_push(out, f);
                        free(out->items[j].subject);
                        out->items[j].subject = TAKE_PTR(subjects[i]);
                } else
                        j = slot[lead[i]];
                if (f->name)
                        target_add(&adds[j], f->name, f->address, ports[i]);
        }
        for (size_t i = 0; i < n; i++) {
                free(subjects[i]);
                free((char *)keys[i]);
        }
        for (size_t j = 0; j < out->n; j++) {
                struct finding *f = &out->items[j];
                targets_move(f, &adds[j]);
                if (obs)
                        per_certificate_expand(obs, f);
                targets_unique(f);
                affected_sort(obs, f);
                merged_rewrite(f);
        }
}

/* ---- folding under a cause --------------------------------------------- */

static void fold(struct finding_list *l, const struct finding *cause, const char *id, const char *subject) {
        for (size_t i = 0; i < l->n; i++) {
                struct finding *f = &l->items[i];
                if (f != cause && !f->caused_by && strcmp(f->def->id, id) == 0 && streq_ptr(f->subject, subject))
                        f->caused_by = cause->def;
        }
}

/* The placeholder certificates served: the subjects of the
 * tls.cert.ingress-default findings, and the leaves among them ("cert
 * SHA"), each sorted for a binary search, and the first such finding. Read
 * once per run: a run may hold a finding per endpoint and a placeholder
 * per ingress pod. */
struct placeholders {
        const char **subjects, **leaves;
        size_t n_subjects, n_leaves;
        const struct finding *first;
};

static int str_cmp(const void *a, const void *b) {
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool sorted_has(const char *const *v, size_t n, const char *s) {
        return s && n > 0 && bsearch(&s, v, n, sizeof(*v), str_cmp);
}

static void placeholders_collect(const struct finding_list *l, struct placeholders *ret) {
        *ret = (struct placeholders){ .subjects = xcalloc(l->n + 1, sizeof(char *)),
                                      .leaves = xcalloc(l->n + 1, sizeof(char *)) };
        for (size_t i = 0; i < l->n; i++) {
                const struct finding *f = &l->items[i];
                if (strcmp(f->def->id, "tls.cert.ingress-default") != 0 || !f->subject)
                        continue;
                if (!ret->first)
                        ret->first = f;
                ret->subjects[ret->n_subjects++] = f->subject;
                if (strncmp(f->subject, "cert ", 5) == 0)
                        ret->leaves[ret->n_leaves++] = f->subject + 5;
        }
        qsort(ret->subjects, ret->n_subjects, sizeof(char *), str_cmp);
        qsort(ret->leaves, ret->n_leaves, sizeof(char *), str_cmp);
}

/* tls.cert.inconsistent when the certificates the cause is about are the
 * odd ones out: without them, every endpoint serves one certificate. */
static bool leaf_explained(const struct placeholders *ph, const struct finding *cause, const char *sha) {
        if (strcmp(cause->def->id, "tls.cert.ingress-default") != 0)
                return cause->subject && strncmp(cause->subject, "cert ", 5) == 0 &&
                       strcmp(cause->subject + 5, sha) == 0;
        /* Every placeholder served, not only this one's. */
        return sorted_has(ph->leaves, ph->n_leaves, sha);
}

static void fold_inconsistent(const struct platform_obs *obs, const struct placeholders *ph, struct finding_list *l,
                              const struct finding *cause) {
        const char *other = NULL;

        for (size_t i = 0; obs && i < obs->n_endpoints; i++) {
                const char *sha = leaf_of(&obs->endpoints[i]);
                if (!sha || leaf_explained(ph, cause, sha))
                        continue;
                if (other && strcmp(other, sha) != 0)
                        return;
                other = sha;
        }
        if (other)
                fold(l, cause, "tls.cert.inconsistent", NULL);
}

/* A name under a missing wildcard record that does not exist: the missing
 * record is the one problem to fix (dns.wildcard.missing is critical once
 * names fail). A SERVFAIL or a timeout is a problem of its own. */
static void fold_under_wildcard(const struct platform_obs *obs, struct finding_list *l, const struct finding *c) {
        for (size_t i = 0; obs && c->name && i < l->n; i++) {
                struct finding *f = &l->items[i];
                if (f->caused_by || strcmp(f->def->id, "dns.resolve.failed") != 0 || !f->name ||
                    !dns_name_pattern_matches(c->name, f->name))
                        continue;
                for (size_t k = 0; k < obs->n_names; k++)
                        if (strcmp(obs->names[k].name, f->name) == 0 &&
                            (obs->names[k].status == DNS_STATUS_NXDOMAIN || obs->names[k].status == DNS_STATUS_NODATA))
                                f->caused_by = c->def;
        }
}

static void fold_all(const struct platform_obs *obs, struct finding_list *l) {
        struct placeholders ph;

        /* A placeholder explains the findings about itself (its subject),
         * and the inconsistency when all placeholders together are what
         * differs: the first placeholder's finding is the cause, as every
         * one carries the same definition. */
        placeholders_collect(l, &ph);
        for (size_t i = 0; ph.first && i < l->n; i++) {
                struct finding *f = &l->items[i];
                if (!f->caused_by && ID_IN(f->def->id, placeholder_explains) &&
                    sorted_has(ph.subjects, ph.n_subjects, f->subject))
                        f->caused_by = ph.first->def;
        }
        if (ph.first)
                fold_inconsistent(obs, &ph, l, ph.first);
        for (size_t i = 0; i < l->n; i++) {
                const struct finding *c = &l->items[i];
                /* The old certificate still served somewhere: its expiry
                 * is the problem, the inconsistency and the overdue renewal
                 * are why and how it shows. */
                if (ID_IN(c->def->id, expiry_ids) && c->subject && !c->caused_by) {
                        fold(l, c, "tls.renewal.overdue", c->subject);
                        fold_inconsistent(obs, &ph, l, c);
                }
                else if (strcmp(c->def->id, "dns.wildcard.missing") == 0 && c->severity == SEVERITY_CRITICAL)
                        fold_under_wildcard(obs, l, c);
        }
        /* After the wildcard: a name folded under it still explains the
         * resolvers' disagreement about itself. */
        for (size_t i = 0; i < l->n; i++) {
                const struct finding *c = &l->items[i];
                if (strcmp(c->def->id, "dns.resolve.failed") == 0 && c->subject)
                        fold(l, c, "dns.resolvers.disagree", c->subject);
        }
        free(ph.subjects);
        free(ph.leaves);
}

/* ---- the deadline ------------------------------------------------------ */

static bool name_not_run(const struct platform_obs *obs, const char *name) {
        for (size_t i = 0; name && i < obs->n_names; i++)
                if (strcmp(obs->names[i].name, name) == 0)
                        return obs->names[i].status == DNS_STATUS_NOT_RUN;
        return false;
}

static bool cut_short(const struct endpoint_index *x, const struct finding *f) {
        const struct platform_obs *obs = x->obs;

        if (strcmp(f->def->id, "dns.resolve.failed") == 0)
                return f->n_affected > 0 && name_not_run(obs, f->affected[0].name);
        if (!ID_IN(f->def->id, by_address) || f->n_affected == 0)
                return false;
        for (size_t i = 0; i < f->n_affected; i++) {
                size_t e = endpoint_find(x, f->affected[i].name, f->affected[i].address);
                if (e == SIZE_MAX || !obs->endpoints[e].cut_short)
                        return false;
        }
        return true;
}

static void deadline_add(const struct platform *p, const struct endpoint_index *x, struct finding_list *l) {
        const struct platform_obs *obs = x->obs;
        char *what[3] = { NULL };  /* the first three: all group_list_text() shows */
        _cleanup_free_ char *list = NULL, *names = NULL, *endpoints = NULL;
        struct finding *d;
        struct targets t = { 0 };
        size_t n_what = 0, n_names = 0, n_endpoints = 0;
        char dl[DURATION_MAX];

        for (size_t i = 0; i < obs->n_names; i++)
                if (obs->names[i].status == DNS_STATUS_NOT_RUN) {
                        if (n_what < ELEMENTSOF(what))
                                what[n_what] = xstrdup(obs->names[i].name);
                        n_what++;
                        n_names++;
                }
        for (size_t i = 0; i < obs->n_endpoints; i++)
                if (obs->endpoints[i].cut_short) {
                        if (n_what < ELEMENTSOF(what))
                                what[n_what] = xasprintf("%s for %s", obs->endpoints[i].address,
                                                         obs->endpoints[i].name);
                        n_what++;
                        n_endpoints++;
                }
        if (n_what == 0)
                return;
        list = group_list_text(what, n_what);
        for (size_t k = 0; k < ELEMENTSOF(what); k++)
                free(what[k]);
        names = n_names ? xasprintf("%zu of %zu name(s) were resolved", n_names, obs->n_names) : NULL;
        endpoints = n_endpoints ? xasprintf("%zu of %zu endpoint(s) were probed", n_endpoints, obs->n_endpoints)
                                : NULL;
        finding_emit(l, DEADLINE_REACHED, NULL, NULL,
                     "the audit deadline (%s) was reached before %s%s%s (%s): they were not judged; raise deadline "
                     "(or concurrency), or find out why they are slow",
                     format_duration(p->deadline_usec, dl), names ? names : "", names && endpoints ? " and " : "",
                     endpoints ? endpoints : "", list);
        d = &l->items[l->n - 1];
        for (size_t i = 0; i < obs->n_names; i++)
                if (obs->names[i].status == DNS_STATUS_NOT_RUN)
                        target_add(&t, obs->names[i].name, NULL, 0);
        for (size_t i = 0; i < obs->n_endpoints; i++)
                if (obs->endpoints[i].cut_short)
                        target_add(&t, obs->endpoints[i].name, obs->endpoints[i].address, obs->endpoints[i].port);
        targets_move(d, &t);
        targets_unique(d);
        /* One problem however many probes it cut: its alert stays one. */
        d->subject = xstrdup("audit deadline");
        free(d->name);
        free(d->address);
        d->name = xstrdup(d->affected[0].name);
        d->address = xstrdup(d->affected[0].address);
        for (size_t i = 0; i + 1 < l->n; i++)
                if (!l->items[i].caused_by && cut_short(x, &l->items[i]))
                        l->items[i].caused_by = DEADLINE_REACHED;
}

void group_findings(const struct platform *p, const struct platform_obs *obs, struct finding_list *l) {
        struct finding_list out = { 0 };
        struct endpoint_index x;

        endpoint_index_make(&x, obs);
        merge(&x, l, &out);
        finding_list_clear(l);
        *l = out;
        fold_all(obs, l);
        if (obs && obs->deadline_reached)
                deadline_add(p, &x, l);
        free(x.refs);
}
