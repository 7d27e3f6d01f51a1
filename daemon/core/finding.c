/* Finding lists: appending findings emitted by checks, counting them. */
#include <stdio.h>

#include "finding.h"
#include "util.h"

const char *severity_to_string(enum severity s) {
        switch (s) {
        case SEVERITY_INFO:
                return "info";
        case SEVERITY_WARNING:
                return "warning";
        case SEVERITY_CRITICAL:
                return "critical";
        }
        return "unknown";
}

static void finding_vemit(struct finding_list *l, const struct finding_def *def, enum severity sev,
                          const char *name, const char *address, const char *fmt, va_list ap)
        __attribute__((format(printf, 6, 0)));
static void finding_vemit(struct finding_list *l, const struct finding_def *def, enum severity sev,
                          const char *name, const char *address, const char *fmt, va_list ap) {
        if (l->n == l->allocated) {
                l->allocated = l->allocated ? l->allocated * 2 : 16;
                l->items = xrealloc(l->items, l->allocated * sizeof(*l->items));
        }
        l->items[l->n++] = (struct finding){
                .def = def,
                .severity = sev,
                .name = xstrdup(name),
                .address = xstrdup(address),
                .message = xvasprintf(fmt, ap),
        };
}

void finding_emit(struct finding_list *l, const struct finding_def *def,
                  const char *name, const char *address, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        finding_vemit(l, def, def->severity, name, address, fmt, ap);
        va_end(ap);
}

void finding_emit_severity(struct finding_list *l, const struct finding_def *def, enum severity sev,
                           const char *name, const char *address, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        finding_vemit(l, def, sev, name, address, fmt, ap);
        va_end(ap);
}

int finding_list_count(const struct finding_list *l, size_t counts[3]) {
        int worst = -1;
        counts[0] = counts[1] = counts[2] = 0;
        for (size_t i = 0; i < l->n; i++) {
                if (l->items[i].silenced)
                        continue;
                counts[l->items[i].severity]++;
                if ((int)l->items[i].severity > worst)
                        worst = (int)l->items[i].severity;
        }
        return worst;
}

void finding_list_clear(struct finding_list *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].name);
                free(l->items[i].address);
                free(l->items[i].message);
                free(l->items[i].silenced);
        }
        free(l->items);
        *l = (struct finding_list){ 0 };
}

void finding_list_append_all(struct finding_list *dst, const struct finding_list *src) {
        for (size_t i = 0; i < src->n; i++) {
                const struct finding *f = &src->items[i];
                finding_emit_severity(dst, f->def, f->severity, f->name, f->address, "%s", f->message);
                dst->items[dst->n - 1].silenced = xstrdup(f->silenced);
                dst->items[dst->n - 1].silenced_until = f->silenced_until;
        }
}
