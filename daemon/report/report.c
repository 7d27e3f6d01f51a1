/* What all reporters share: format names, counting, dispatch. */
#include <errno.h>
#include <string.h>

#include "checks.h"
#include "report.h"

static const char *const format_names[_REPORT_FORMAT_MAX] = {
        [REPORT_TEXT] = "text",
        [REPORT_JSON] = "json",
        [REPORT_JUNIT] = "junit",
        [REPORT_GITHUB] = "github",
        [REPORT_PROMETHEUS] = "prometheus",
};

int report_format_from_string(const char *s) {
        for (int i = 0; i < _REPORT_FORMAT_MAX; i++)
                if (strcmp(s, format_names[i]) == 0)
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
        switch (f) {
        case REPORT_TEXT:
                return report_text(r, color, ret, ret_len);
        case REPORT_JSON:
                return report_json(r, ret, ret_len);
        case REPORT_JUNIT:
                return report_junit(r, ret, ret_len);
        case REPORT_GITHUB:
                return report_github(r, ret, ret_len);
        case REPORT_PROMETHEUS:
                return report_prometheus(r, ret, ret_len);
        default:
                return -EINVAL;
        }
}

const struct check *report_check_of(const struct finding *f) {
        size_t n;
        const struct check *const *all = checks_all(&n);
        for (size_t i = 0; i < n; i++)
                if (f->def >= all[i]->findings && f->def < all[i]->findings + all[i]->n_findings)
                        return all[i];
        return NULL;
}
