/* What all reporters share: the table of writers, counting, dispatch. */
#include <errno.h>
#include <string.h>

#include "checks.h"
#include "report.h"

/* Every output format; the enum indexes it. */
static const struct report_writer *const writers[_REPORT_FORMAT_MAX] = {
        [REPORT_TEXT] = &report_writer_text,
        [REPORT_JSON] = &report_writer_json,
        [REPORT_JUNIT] = &report_writer_junit,
        [REPORT_GITHUB] = &report_writer_github,
        [REPORT_PROMETHEUS] = &report_writer_prometheus,
};

int report_format_from_string(const char *s) {
        for (int i = 0; i < _REPORT_FORMAT_MAX; i++)
                if (strcmp(s, writers[i]->name) == 0)
                        return i;
        return -EINVAL;
}

int report_count(const struct report *r, size_t counts[3]) {
        int worst = -1;
        counts[0] = counts[1] = counts[2] = 0;
        for (size_t i = 0; i < r->n_platforms; i++) {
                size_t c[3];
                int w = finding_list_count(r->platforms[i].findings, c);
                for (int j = 0; j < 3; j++)
                        counts[j] += c[j];
                if (w > worst)
                        worst = w;
        }
        return worst;
}

const char *report_status_string(const struct report *r) {
        size_t c[3];
        int worst = report_count(r, c);
        return worst == SEVERITY_CRITICAL ? "critical" : worst == SEVERITY_WARNING ? "warning" : "ok";
}

int report_render(const struct report *r, enum report_format f, bool color, char **ret, size_t *ret_len) {
        if ((unsigned)f >= _REPORT_FORMAT_MAX)
                return -EINVAL;
        return writers[f]->render(r, color, ret, ret_len);
}

const struct check *report_check_of(const struct finding *f) {
        size_t n;
        const struct check *const *all = checks_all(&n);
        for (size_t i = 0; i < n; i++)
                if (f->def >= all[i]->findings && f->def < all[i]->findings + all[i]->n_findings)
                        return all[i];
        return NULL;
}
