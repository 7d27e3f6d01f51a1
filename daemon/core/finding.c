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

void finding_list_push(struct finding_list *l, const struct finding *f) {
        if (l->n == l->allocated) {
                l->allocated = l->allocated ? l->allocated * 2 : 16;
                l->items = xrealloc(l->items, l->allocated * sizeof(*l->items));
        }
        finding_copy(&l->items[l->n++], f);
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

bool finding_counts(const struct finding *f) {
        return !f->silenced && !f->caused_by;
}

void finding_done(struct finding *f) {
        free(f->name);
        free(f->address);
        free(f->message);
        free(f->silenced);
        free(f->subject);
        for (size_t i = 0; i < f->n_affected; i++) {
                free(f->affected[i].name);
                free(f->affected[i].address);
        }
        free(f->affected);
        *f = (struct finding){ 0 };
}

void finding_copy(struct finding *dst, const struct finding *src) {
        *dst = *src;
        dst->name = xstrdup(src->name);
        dst->address = xstrdup(src->address);
        dst->message = xstrdup(src->message);
        dst->silenced = xstrdup(src->silenced);
        dst->subject = xstrdup(src->subject);
        dst->affected = src->n_affected ? xcalloc(src->n_affected, sizeof(*dst->affected)) : NULL;
        for (size_t i = 0; i < src->n_affected; i++)
                dst->affected[i] = (struct finding_target){
                        .name = xstrdup(src->affected[i].name),
                        .address = xstrdup(src->affected[i].address),
                        .port = src->affected[i].port,
                };
}

int finding_list_count(const struct finding_list *l, size_t counts[3]) {
        int worst = -1;
        counts[0] = counts[1] = counts[2] = 0;
        for (size_t i = 0; i < l->n; i++) {
                if (!finding_counts(&l->items[i]))
                        continue;
                counts[l->items[i].severity]++;
                if ((int)l->items[i].severity > worst)
                        worst = (int)l->items[i].severity;
        }
        return worst;
}

void finding_list_clear(struct finding_list *l) {
        for (size_t i = 0; i < l->n; i++)
                finding_done(&l->items[i]);
        free(l->items);
        *l = (struct finding_list){ 0 };
}

void finding_list_append_all(struct finding_list *dst, const struct finding_list *src) {
        for (size_t i = 0; i < src->n; i++)
                finding_list_push(dst, &src->items[i]);
}
