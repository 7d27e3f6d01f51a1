/* JUnit XML for CI (GitLab, Jenkins): one testsuite per platform, one
 * testcase per check and endpoint (an endpoint is a name and an address,
 * or a name that did not resolve). Warning and critical findings make the
 * testcase fail with their messages; info findings go to system-out. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "keyed.h"
#include "report.h"
#include "util.h"

static void xml_escaped(FILE *f, const char *s) {
        for (; s && *s; s++) {
                switch (*s) {
                case '&':
                        fputs("&amp;", f);
                        break;
                case '<':
                        fputs("&lt;", f);
                        break;
                case '>':
                        fputs("&gt;", f);
                        break;
                case '"':
                        fputs("&quot;", f);
                        break;
                case '\'':
                        fputs("&apos;", f);
                        break;
                default:
                        /* XML 1.0 allows no other control characters. */
                        if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
                                fprintf(f, "\\x%02x", (unsigned char)*s);
                        else
                                fputc(*s, f);
                }
        }
}

struct target {
        const char *name;          /* NULL: the platform as a whole */
        const char *address;       /* NULL: the name did not resolve */
};

/* The targets (the platform's excepted) by name and address, NULL
 * addresses first, and by name alone (b NULL), each in the targets' order:
 * a finding's target and the other targets it affects are found by binary
 * search, not by walking the targets for every finding. */
struct target_index {
        struct keyed *by_address, *by_name;
        size_t n;
};

static void target_index_make(struct target_index *x, const struct target *t, size_t n) {
        x->n = n - 1;   /* the last is the platform's */
        x->by_address = xcalloc(n, sizeof(*x->by_address));
        x->by_name = xcalloc(n, sizeof(*x->by_name));
        for (size_t k = 0; k < x->n; k++) {
                x->by_address[k] = (struct keyed){ t[k].name, t[k].address, k };
                x->by_name[k] = (struct keyed){ t[k].name, NULL, k };
        }
        keyed_sort(x->by_address, x->n);
        keyed_sort(x->by_name, x->n);
}

static void target_index_done(struct target_index *x) {
        free(x->by_address);
        free(x->by_name);
}

/* Where the targets with this name and address start in by_address (they
 * follow one another from there); x->n when there are none. */
static size_t targets_at(const struct target_index *x, const char *name, const char *address) {
        size_t at;

        if (!name)
                return x->n;
        at = keyed_find(x->by_address, x->n, name, address);
        return at < x->n && keyed_is(&x->by_address[at], name, address) ? at : x->n;
}

/* Which target a finding belongs to: its endpoint, else the first target of
 * its name, else the platform (the last of n). */
static size_t target_of(const struct finding *fd, const struct target_index *x, size_t n) {
        size_t at = targets_at(x, fd->name, fd->address);

        if (at < x->n)
                return x->by_address[at].at;
        if (!fd->name || fd->address)
                return n - 1;
        at = keyed_find(x->by_name, x->n, fd->name, NULL);
        return at < x->n && keyed_is(&x->by_name[at], fd->name, NULL) ? x->by_name[at].at : n - 1;
}

/* A finding told in the testcase of a check and target: its own (mine),
 * or a grouped one reported on another endpoint that also affects it. */
struct told {
        size_t check, target, finding;
        bool mine;
};

static int told_cmp(const void *a, const void *b) {
        const struct told *x = a, *y = b;
        if (x->check != y->check)
                return x->check < y->check ? -1 : 1;
        if (x->target != y->target)
                return x->target < y->target ? -1 : 1;
        return x->finding < y->finding ? -1 : x->finding > y->finding;
}

/* One testcase: told[0..n) are its findings, in the list's order. */
static void testcase(FILE *f, const char *platform, const char *check, const struct target *t,
                     const struct finding_list *fl, const struct told *told, size_t n) {
        size_t failures = 0, infos = 0;
        int worst = -1;
        const struct finding *first = NULL;

        for (size_t j = 0; j < n; j++) {
                const struct finding *fd = &fl->items[told[j].finding];
                if (!told[j].mine) {
                        infos += finding_counts(fd);
                        continue;
                }
                /* Silenced and folded findings do not fail the case; they
                 * are told. */
                if (fd->severity == SEVERITY_INFO || !finding_counts(fd)) {
                        infos++;
                        continue;
                }
                failures++;
                if ((int)fd->severity > worst) {
                        worst = (int)fd->severity;
                        first = fd;
                }
        }
        fputs("    <testcase classname=\"", f);
        xml_escaped(f, platform);
        fputc('.', f);
        xml_escaped(f, check);
        fputs("\" name=\"", f);
        if (t->name) {
                xml_escaped(f, t->name);
                fputc(' ', f);
                xml_escaped(f, t->address ? t->address : "(not resolved)");
        } else
                fputs("(platform)", f);
        fputs("\" time=\"0\"", f);
        if (!failures && !infos) {
                fputs("/>\n", f);
                return;
        }
        fputs(">\n", f);
        if (failures) {
                fputs("      <failure type=\"", f);
                xml_escaped(f, first->def->id);
                fputs("\" message=\"", f);
                xml_escaped(f, first->message);
                fputs("\">", f);
                for (size_t j = 0; j < n; j++) {
                        const struct finding *fd = &fl->items[told[j].finding];
                        if (told[j].mine && fd->severity != SEVERITY_INFO && finding_counts(fd)) {
                                fprintf(f, "%s %s: ", severity_to_string(fd->severity), fd->def->id);
                                xml_escaped(f, fd->message);
                                fputc('\n', f);
                        }
                }
                fputs("</failure>\n", f);
        }
        if (infos) {
                fputs("      <system-out>", f);
                for (size_t j = 0; j < n; j++) {
                        const struct finding *fd = &fl->items[told[j].finding];
                        bool mine = told[j].mine;
                        if (mine && fd->silenced) {
                                char when[RFC3339_MAX];
                                fprintf(f, "silenced until %s (", format_rfc3339(fd->silenced_until, when));
                                xml_escaped(f, fd->silenced);
                                fprintf(f, "): %s %s: ", severity_to_string(fd->severity), fd->def->id);
                                xml_escaped(f, fd->message);
                                fputc('\n', f);
                        } else if (mine && fd->caused_by) {
                                fprintf(f, "caused by %s: %s %s: ", fd->caused_by->id, severity_to_string(fd->severity),
                                        fd->def->id);
                                xml_escaped(f, fd->message);
                                fputc('\n', f);
                        } else if (!mine && finding_counts(fd)) {
                                fprintf(f, "%s %s: reported once, on ", severity_to_string(fd->severity), fd->def->id);
                                xml_escaped(f, fd->name);
                                fputc(' ', f);
                                xml_escaped(f, fd->address ? fd->address : "(not resolved)");
                                fputc('\n', f);
                        } else if (mine && fd->severity == SEVERITY_INFO) {
                                fprintf(f, "info %s: ", fd->def->id);
                                xml_escaped(f, fd->message);
                                fputc('\n', f);
                        }
                }
                fputs("</system-out>\n", f);
        }
        fputs("    </testcase>\n", f);
}

/* The targets of name i (its endpoints, or the name alone when it did not
 * resolve) into out when not NULL; returns how many. A name that repeats an
 * earlier one (services sharing a label) has none of its own: its endpoints
 * are already the earlier name's. */
static size_t targets_of_name(const struct platform_obs *o, size_t i, struct target *out) {
        size_t n = 0;

        for (size_t k = 0; k < i; k++)
                if (strcmp(o->names[k].name, o->names[i].name) == 0)
                        return 0;
        for (size_t j = 0; j < o->n_endpoints; j++)
                if (strcmp(o->endpoints[j].name, o->names[i].name) == 0) {
                        if (out)
                                out[n] = (struct target){ o->endpoints[j].name, o->endpoints[j].address };
                        n++;
                }
        if (n == 0 && out)
                out[0] = (struct target){ o->names[i].name, NULL };
        return n ? n : 1;
}

/* Every target in report order, then the platform as a whole (last).
 * Counted before it is filled, so the array fits whatever the names are. */
static struct target *targets_new(const struct platform_obs *o, size_t *ret_n) {
        struct target *t;
        size_t n = 0;

        for (size_t i = 0; i < o->n_names; i++)
                n += targets_of_name(o, i, NULL);
        t = xcalloc(n + 1, sizeof(*t));
        n = 0;
        for (size_t i = 0; i < o->n_names; i++)
                n += targets_of_name(o, i, t + n);
        t[n++] = (struct target){ NULL, NULL };
        *ret_n = n;
        return t;
}

/* checks_run() runs only the single-name checks for a host; NULL is the
 * engine's own case. */
static bool check_ran(const struct platform *p, const struct check *c) {
        return !c || p->kind != PLATFORM_HOST || c->single_name;
}

/* What each finding is told in: its own case (its check, its target) and,
 * for a grouped one, the cases of the other targets it affects. Sorted by
 * case, then finding: the cases are then walked in order, each with its
 * run. Linear in the findings and their targets, where asking every
 * finding in every case was their product with the endpoints. */
static void told_push(struct told **v, size_t *n, size_t *allocated, struct told t) {
        if (*n == *allocated) {
                *allocated = *allocated ? 2 * *allocated : 64;
                *v = xrealloc(*v, *allocated * sizeof(**v));
        }
        (*v)[(*n)++] = t;
}

static struct told *told_new(const struct finding_list *fl, const struct target *t, size_t n,
                             const struct check *const *checks, size_t n_checks, size_t *ret_n) {
        struct target_index x;
        struct told *v = NULL;
        size_t m = 0, allocated = 0, kept = 0;

        target_index_make(&x, t, n);
        for (size_t i = 0; i < fl->n; i++) {
                const struct finding *fd = &fl->items[i];
                const struct check *owner = report_check_of(fd);
                size_t c = 0, where = target_of(fd, &x, n);

                while (c < n_checks && checks[c] != owner)
                        c++;
                told_push(&v, &m, &allocated, (struct told){ c, where, i, true });
                for (size_t a = 0; a < fd->n_affected; a++) {
                        const char *name = fd->affected[a].name, *address = fd->affected[a].address;
                        for (size_t at = targets_at(&x, name, address);
                             at < x.n && keyed_is(&x.by_address[at], name, address); at++)
                                if (x.by_address[at].at != where)
                                        told_push(&v, &m, &allocated, (struct told){ c, x.by_address[at].at, i, false });
                }
        }
        target_index_done(&x);
        if (m > 0)      /* v is NULL then, which qsort() must not get */
                qsort(v, m, sizeof(*v), told_cmp);
        /* A target affected twice is told once. */
        for (size_t j = 0; j < m; j++)
                if (kept == 0 || told_cmp(&v[kept - 1], &v[j]) != 0)
                        v[kept++] = v[j];
        *ret_n = kept;
        return v;
}

static void testsuite(FILE *f, const struct report_platform *rp, time_t started) {
        const struct platform_obs *o = rp->obs;
        const struct finding_list *fl = rp->findings;
        size_t n_checks, n = 0, tests = 0, failures = 0, n_told, j;
        const struct check *const *checks = checks_all(&n_checks);
        struct target *t = targets_new(o, &n);
        struct told *told = told_new(fl, t, n, checks, n_checks, &n_told);
        char when[RFC3339_MAX];

        /* Count first: the testsuite element carries the totals. A host
         * (certvigil check) has cases only for the checks that ran. */
        j = 0;
        for (size_t c = 0; c <= n_checks; c++)
                for (size_t k = 0; k < n && check_ran(rp->platform, c < n_checks ? checks[c] : NULL); k++) {
                        bool any = false, failed = false;
                        for (; j < n_told && (told[j].check < c || (told[j].check == c && told[j].target <= k));
                             j++) {
                                const struct finding *fd = &fl->items[told[j].finding];
                                if (told[j].check != c || told[j].target != k || !told[j].mine)
                                        continue;
                                any = true;
                                failed |= fd->severity != SEVERITY_INFO && finding_counts(fd);
                        }
                        /* The platform-wide case and the engine's own only
                         * exist when they have something to say. */
                        if (c < n_checks && k + 1 < n)
                                tests++;
                        else if (any)
                                tests++;
                        failures += failed;
                }

        fputs("  <testsuite name=\"", f);
        xml_escaped(f, rp->platform->name);
        fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" time=\"%.3f\" timestamp=\"%s\">\n",
                tests, failures, (double)o->duration_usec / USEC_PER_SEC, format_rfc3339(started, when));
        j = 0;
        for (size_t c = 0; c <= n_checks; c++)
                for (size_t k = 0; k < n && check_ran(rp->platform, c < n_checks ? checks[c] : NULL); k++) {
                        const struct check *ch = c < n_checks ? checks[c] : NULL;
                        size_t start;
                        bool any = false;

                        /* Skip what belongs to cases not written (checks that did not run). */
                        while (j < n_told && (told[j].check < c || (told[j].check == c && told[j].target < k)))
                                j++;
                        start = j;
                        for (; j < n_told && told[j].check == c && told[j].target == k; j++)
                                any |= told[j].mine;
                        if ((c < n_checks && k + 1 < n) || any)
                                testcase(f, rp->platform->name, ch ? ch->name : "certvigil", &t[k], fl, told + start,
                                         j - start);
                }
        fputs("  </testsuite>\n", f);
        free(t);
        free(told);
}

static int junit_head(FILE *f, const struct report_totals *t, bool color) {
        fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"certvigil\" time=\"%.3f\">\n",
                (double)t->duration_usec / USEC_PER_SEC);
        return ferror(f) ? -EIO : 0;
}

static int junit_part(FILE *f, void **state, const struct report_platform *rp, const struct report_part *part) {
        testsuite(f, rp, part->started);
        return ferror(f) ? -EIO : 0;
}

static int junit_tail(FILE *f, void **state, const struct report_totals *t, bool color) {
        fputs("</testsuites>\n", f);
        return ferror(f) ? -EIO : 0;
}

const struct report_writer report_writer_junit = {
        .name = "junit",
        .head = junit_head,
        .platform = junit_part,
        .tail = junit_tail,
};
