/* The alert state shared by the daemon and the oneshot audit: per platform,
 * the findings still open (with when they were first seen and last
 * alerted) and the last certificate seen on each endpoint. Kept in
 * STATE_DIR/state.json, written atomically after every audit, so a restart
 * (even after kill -9) remembers what was already said. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "finding.h"
#include "observe.h"

#define STATE_FILE "state.json"
#define STATE_FORMAT 1
/* The key under which renewal keeps its guardrails in the same file
 * (daemon/renewal.c); state_save() carries it over untouched. */
#define STATE_RENEWAL_KEY "renewal"

struct state_finding {
        char *id;                  /* a finding id known to the catalog */
        enum severity severity;
        char *name;                /* NULL when not about one name */
        char *address;             /* NULL when not about one endpoint */
        char *message;             /* the latest message */
        time_t first_seen;
        time_t last_alerted;
};

struct state_cert {
        char *name;
        char *address;
        uint16_t port;
        char *sha256;
        char *subject;
        char *issuer;
        time_t not_after;
        time_t seen;               /* the last audit that saw it */
};

struct state_platform {
        char *name;
        time_t last_audit;
        struct state_finding *findings;
        size_t n_findings;
        struct state_cert *certs;
        size_t n_certs;
};

/* Owns everything it points to. */
struct state {
        struct state_platform *platforms;
        size_t n_platforms;
};

struct state *state_new(void);
struct state *state_free(struct state *s);   /* accepts NULL, returns NULL */

/* Reads path. -ENOENT when it does not exist; -EINVAL (and *ret_error,
 * "PATH:LINE:COL: why") when it is truncated or corrupt; the caller then
 * starts from state_new(). Findings whose id this build does not know are
 * dropped. */
int state_load(const char *path, struct state **ret, char **ret_error);

/* Writes atomically (util.h write_file_atomic). 0 or a negative errno. */
int state_save(const struct state *s, const char *path);

/* The platform's entry, created empty when missing. */
struct state_platform *state_platform(struct state *s, const char *name);

/* Remembers the leaf of every endpoint that completed a handshake. */
void state_platform_record_certs(struct state_platform *sp, const struct platform_obs *obs, time_t now);
const struct state_cert *state_platform_cert(const struct state_platform *sp, const char *name, const char *address);

void state_finding_done(struct state_finding *f);
void state_finding_copy(struct state_finding *dst, const struct state_finding *src);

/* The worst severity among open findings, or -1. */
int state_platform_worst(const struct state_platform *sp);

/* "info", "warning", "critical" back to the enum; -EINVAL otherwise. */
int severity_from_string(const char *s);
