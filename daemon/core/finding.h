/* Findings: what checks conclude. Each finding id is defined exactly once,
 * in the check file that emits it (checks/<family>.c), as a finding_def with
 * its severity, journal MESSAGE_ID and one-line explanation; the check
 * registration table (checks/checks.c) makes them one catalog. Ids never
 * change meaning once released. */
#pragma once

#include <stdbool.h>
#include <time.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

enum severity {
        SEVERITY_INFO,
        SEVERITY_WARNING,
        SEVERITY_CRITICAL,
};
const char *severity_to_string(enum severity s);

struct finding_def {
        const char *id;            /* "tls.expiry.critical" */
        enum severity severity;    /* the usual severity; a check may raise it */
        const char *message_id;    /* 32 hex digits, journal MESSAGE_ID */
        const char *summary;       /* one line: what it means */
};

/* Looks an id up in the finding catalog (checks_find_def); NULL if unknown. */
typedef const struct finding_def *(*finding_lookup_fn)(const char *id);

/* One endpoint (or name) a finding is about. */
struct finding_target {
        char *name;
        char *address;             /* NULL for a name that was not probed */
        uint16_t port;             /* 0 when not known */
};

struct finding {
        const struct finding_def *def;
        enum severity severity;
        char *name;                /* NULL when not about one endpoint */
        char *address;             /* NULL when not about one endpoint */
        char *message;
        /* Set by an `ignore:` silence: still reported, counted nowhere. */
        char *silenced;            /* the silence's reason; NULL when not silenced */
        time_t silenced_until;
        /* Set by the grouping pass (checks/group.h); empty before it. */
        struct finding_target *affected;   /* the endpoints or names it is about, first = name/address */
        size_t n_affected;
        /* What the problem is about, stable across audits while it stays
         * the same problem: "cert SHA256", "address A port P", "name N";
         * NULL for the platform as a whole. The alert identity with the id. */
        char *subject;
        /* Folded under another finding, its cause: still reported, counted
         * nowhere (like a silenced one). NULL for a root cause. */
        const struct finding_def *caused_by;
};

/* A growable list; owns its findings and their strings. */
struct finding_list {
        struct finding *items;
        size_t n;
        size_t allocated;
};

/* Appends a finding with the definition's severity. name and address are
 * copied and may be NULL. */
void finding_emit(struct finding_list *l, const struct finding_def *def,
                  const char *name, const char *address, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
void finding_emit_severity(struct finding_list *l, const struct finding_def *def, enum severity sev,
                           const char *name, const char *address, const char *fmt, ...)
        __attribute__((format(printf, 6, 7)));

/* Counts per severity into counts[3] (indexed by enum severity). Returns the
 * worst severity present, or -1 for an empty list. Silenced and folded
 * (caused_by) findings are not counted. */
int finding_list_count(const struct finding_list *l, size_t counts[3]);
void finding_list_clear(struct finding_list *l);
/* Counts: neither silenced nor folded under a cause. */
bool finding_counts(const struct finding *f);
/* Frees what f owns and zeroes it. */
void finding_done(struct finding *f);
/* A deep copy into *dst (overwritten). */
void finding_copy(struct finding *dst, const struct finding *src);
/* Appends a deep copy of f. */
void finding_list_push(struct finding_list *l, const struct finding *f);
/* Appends copies of every finding of src. */
void finding_list_append_all(struct finding_list *dst, const struct finding_list *src);
