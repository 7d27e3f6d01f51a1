/* finding.silence.expired and the application of `ignore:` silences. See
 * silence.h. */
#include <fnmatch.h>
#include <string.h>

#include "checks.h"
#include "silence.h"
#include "util.h"

static const struct finding_def findings[] = {
#define EXPIRED (&findings[0])
        { "finding.silence.expired", SEVERITY_WARNING, "b59b419d087249b78745942e03d93d71",
          "an ignore: silence has passed its end date: what it silenced counts again" },
};

/* In the catalog; applied by silence_apply() once a run's findings are
 * gathered. */
const struct check check_silence = {
        .name = "finding.silence",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = NULL,
};

static bool silence_matches(const struct silence *s, const struct finding *f) {
        if (strcmp(s->id, f->def->id) != 0)
                return false;
        /* A name glob only matches findings about a name. */
        return !s->name || (f->name && fnmatch(s->name, f->name, FNM_CASEFOLD) == 0);
}

void silence_apply(const struct platform *p, time_t now, struct finding_list *l) {
        size_t n = l->n;

        for (size_t k = 0; k < p->n_silences; k++) {
                const struct silence *s = &p->silences[k];
                char when[RFC3339_MAX];

                if (now >= s->until) {
                        finding_emit(l, EXPIRED, NULL, NULL,
                                     "the silence of %s%s%s (\"%s\") ended on %s: what it silenced counts again; "
                                     "fix the cause, or extend or remove the silence",
                                     s->id, s->name ? " for " : "", s->name ? s->name : "", s->reason,
                                     format_rfc3339(s->until, when));
                        continue;
                }
                /* Only the findings of the run itself, not the warnings
                 * this function adds. */
                for (size_t i = 0; i < n; i++) {
                        struct finding *f = &l->items[i];
                        if (f->silenced || !silence_matches(s, f))
                                continue;
                        f->silenced = xstrdup(s->reason);
                        f->silenced_until = s->until;
                }
        }
}
