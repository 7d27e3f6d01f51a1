/* JUnit XML for CI (GitLab, Jenkins): one testsuite per platform, one
 * testcase per check and endpoint (an endpoint is a name and an address,
 * or a name that did not resolve). Warning and critical findings make the
 * testcase fail with their messages; info findings go to system-out. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "checks.h"
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

/* Which target a finding belongs to: its endpoint, else the first target of
 * its name, else the platform. */
static size_t target_of(const struct finding *fd, const struct target *t, size_t n) {
        size_t by_name = n;
        for (size_t i = 0; i + 1 < n; i++) {
                if (!streq_ptr(t[i].name, fd->name))
                        continue;
                if (streq_ptr(t[i].address, fd->address))
                        return i;
                if (by_name == n && !fd->address)
                        by_name = i;
        }
        return by_name < n ? by_name : n - 1;
}

/* A grouped finding is told once, in the case of its first endpoint; the
 * other endpoints it affects point there. */
static bool affects(const struct finding *fd, const struct target *t) {
        for (size_t i = 0; t->name && i < fd->n_affected; i++)
                if (streq_ptr(fd->affected[i].name, t->name) && streq_ptr(fd->affected[i].address, t->address))
                        return true;
        return false;
}

static void testcase(FILE *f, const char *platform, const char *check, const struct target *t,
                     const struct finding_list *fl, const bool *mine, const bool *also) {
        size_t failures = 0, infos = 0;
        int worst = -1;
        const struct finding *first = NULL;

        for (size_t i = 0; i < fl->n; i++) {
                if (also[i] && finding_counts(&fl->items[i]))
                        infos++;
                if (!mine[i])
                        continue;
                /* Silenced and folded findings do not fail the case; they
                 * are told. */
                if (fl->items[i].severity == SEVERITY_INFO || !finding_counts(&fl->items[i])) {
                        infos++;
                        continue;
                }
                failures++;
                if ((int)fl->items[i].severity > worst) {
                        worst = (int)fl->items[i].severity;
                        first = &fl->items[i];
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
                for (size_t i = 0; i < fl->n; i++)
                        if (mine[i] && fl->items[i].severity != SEVERITY_INFO && finding_counts(&fl->items[i])) {
                                fprintf(f, "%s %s: ", severity_to_string(fl->items[i].severity), fl->items[i].def->id);
                                xml_escaped(f, fl->items[i].message);
                                fputc('\n', f);
                        }
                fputs("</failure>\n", f);
        }
        if (infos) {
                fputs("      <system-out>", f);
                for (size_t i = 0; i < fl->n; i++)
                        if (mine[i] && fl->items[i].silenced) {
                                char when[RFC3339_MAX];
                                fprintf(f, "silenced until %s (", format_rfc3339(fl->items[i].silenced_until, when));
                                xml_escaped(f, fl->items[i].silenced);
                                fprintf(f, "): %s %s: ", severity_to_string(fl->items[i].severity),
                                        fl->items[i].def->id);
                                xml_escaped(f, fl->items[i].message);
                                fputc('\n', f);
                        } else if (mine[i] && fl->items[i].caused_by) {
                                fprintf(f, "caused by %s: %s %s: ", fl->items[i].caused_by->id,
                                        severity_to_string(fl->items[i].severity), fl->items[i].def->id);
                                xml_escaped(f, fl->items[i].message);
                                fputc('\n', f);
                        } else if (also[i] && finding_counts(&fl->items[i])) {
                                fprintf(f, "%s %s: reported once, on ", severity_to_string(fl->items[i].severity),
                                        fl->items[i].def->id);
                                xml_escaped(f, fl->items[i].name);
                                fputc(' ', f);
                                xml_escaped(f, fl->items[i].address ? fl->items[i].address : "(not resolved)");
                                fputc('\n', f);
                        } else if (mine[i] && fl->items[i].severity == SEVERITY_INFO) {
                                fprintf(f, "info %s: ", fl->items[i].def->id);
                                xml_escaped(f, fl->items[i].message);
                                fputc('\n', f);
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

static void testsuite(FILE *f, const struct report_platform *rp, time_t started) {
        const struct platform_obs *o = rp->obs;
        const struct finding_list *fl = rp->findings;
        size_t n_checks, n = 0, tests = 0, failures = 0;
        const struct check *const *checks = checks_all(&n_checks);
        struct target *t = targets_new(o, &n);
        size_t *where = xcalloc(fl->n + 1, sizeof(*where));
        bool *mine = xcalloc(fl->n + 1, sizeof(*mine)), *also = xcalloc(fl->n + 1, sizeof(*also));
        char when[RFC3339_MAX];

        for (size_t i = 0; i < fl->n; i++)
                where[i] = target_of(&fl->items[i], t, n);

        /* Count first: the testsuite element carries the totals. A host
         * (certvigil check) has cases only for the checks that ran. */
        for (size_t c = 0; c <= n_checks; c++)
                for (size_t k = 0; k < n && check_ran(rp->platform, c < n_checks ? checks[c] : NULL); k++) {
                        bool any = false, failed = false;
                        for (size_t i = 0; i < fl->n; i++) {
                                const struct check *owner = report_check_of(&fl->items[i]);
                                if (where[i] != k || owner != (c < n_checks ? checks[c] : NULL))
                                        continue;
                                any = true;
                                failed |= fl->items[i].severity != SEVERITY_INFO && finding_counts(&fl->items[i]);
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
        for (size_t c = 0; c <= n_checks; c++)
                for (size_t k = 0; k < n && check_ran(rp->platform, c < n_checks ? checks[c] : NULL); k++) {
                        const struct check *ch = c < n_checks ? checks[c] : NULL;
                        bool any = false;
                        for (size_t i = 0; i < fl->n; i++) {
                                mine[i] = where[i] == k && report_check_of(&fl->items[i]) == ch;
                                also[i] = !mine[i] && report_check_of(&fl->items[i]) == ch &&
                                          affects(&fl->items[i], &t[k]);
                                any |= mine[i];
                        }
                        if ((c < n_checks && k + 1 < n) || any)
                                testcase(f, rp->platform->name, ch ? ch->name : "certvigil", &t[k], fl, mine, also);
                }
        fputs("  </testsuite>\n", f);
        free(t);
        free(where);
        free(mine);
        free(also);
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
