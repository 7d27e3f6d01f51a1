/* The alert state shared by the daemon and the oneshot audit: per platform,
 * the findings still open (with when they were first seen and last
 * alerted) and the last certificate seen on each endpoint. Kept in
 * STATE_DIR/state.json, written atomically after every audit, so a restart
 * (even after kill -9) remembers what was already said. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include <jansson.h>

#include "finding.h"
#include "observe.h"

#define STATE_FILE "state.json"
/* 2: findings keyed by subject (one per root cause); 1 (one finding per
 * endpoint) is still read, and its findings are matched by endpoint. */
#define STATE_FORMAT 2
/* The key under which renewal keeps its guardrails in the same file
 * (daemon/renewal.c); state_save() carries it over untouched. */
#define STATE_RENEWAL_KEY "renewal"
/* Every read-modify-write of state.json (the alert state, the renewal
 * guardrails, ARI's memory), by the daemon or a oneshot, holds an exclusive
 * flock on this file beside it: state.json itself is replaced by rename, so
 * it cannot carry the lock. The sections are short (read, decide, write),
 * so a holder longer than STATE_LOCK_WAIT_USEC is stuck, not busy. */
#define STATE_LOCK_FILE "state.lock"
/* What state.json may grow to (README, "Reliability"). A larger file is
 * not read: it is reported, naming it, and rebuilt. */
#define STATE_FILE_MAX_BYTES ((size_t)16 << 20)
/* Per platform, the certificates of endpoints the last audit did not see
 * (addresses that churn behind a CDN or cloud load balancer) are kept for
 * STATE_CERT_KEEP_SEC, at most STATE_CERT_HISTORY of them, the newest. */
#define STATE_CERT_HISTORY 16
#define STATE_CERT_KEEP_SEC ((time_t)30 * 86400)
/* A platform no longer in the config is dropped once it has not been
 * audited for this long (another config sharing the directory, or a
 * oneshot with --platform, audits the others within it). */
#define STATE_PLATFORM_KEEP_SEC ((time_t)7 * 86400)
#define STATE_LOCK_WAIT_USEC (5 * 1000000ULL)

struct state_finding {
        char *id;                  /* a finding id known to the catalog */
        enum severity severity;
        char *name;                /* NULL when not about one name */
        char *address;             /* NULL when not about one endpoint */
        /* The finding's subject (finding.h); with the id, the alert
         * identity. NULL for a platform-wide finding, and for every finding
         * read from a format 1 file (then name and address identify it). */
        char *subject;
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
        /* Its part of state.json as last rendered (owned; "" when jansson
         * refused it), or NULL: state_save() renders only these, so a save
         * costs what changed since the last one, not every platform.
         * state_platform() drops it, since what it returns is for changing
         * the platform. */
        char *text;
        size_t text_len;
        bool touched;         /* given out by state_platform() since the last state_prune_due() */
};

/* Owns everything it points to. Change platforms only through the
 * functions below: the index finds a platform by name in constant time
 * (the daemon looks every platform up on each platform's audit). */
struct state {
        struct state_platform *platforms;
        size_t n_platforms;
        size_t n_allocated;   /* platforms' room, grown by doubling */
        size_t *index;        /* open addressing: platforms' index + 1, 0 free */
        size_t index_size;    /* a power of two, more than twice n_platforms; 0 before the first */
        /* The file this state was last read from or written to, as it was
         * then, and the renewal guardrails it held (owned): while the file
         * is still that one, state_refresh() need not read it again, nor
         * state_save() read it for the guardrails. The file is replaced by
         * rename on every write; fd, a descriptor on that version, keeps
         * its inode alive, so no other version can have its number (a
         * filesystem reuses a freed one at once) and device and inode
         * tell it apart from any other whatever the timestamps'
         * granularity; size and times catch a change in place. */
        struct state_file_id {
                dev_t dev;
                ino_t ino;
                off_t size;
                struct timespec mtime, ctime;
                int fd;       /* O_RDONLY, owned; -1: no version known */
        } file;
        json_t *renewal;
        char *renewal_text;   /* its part of state.json as last rendered (owned), or NULL */
        /* Pruning: no platform can be dropped before prune_due (0: at
         * once) but those given out by state_platform() since (their
         * indexes in touched), as long as the configured names are the
         * same; state_prune_due() takes those into account. */
        time_t prune_due;
        size_t *touched;
        size_t n_touched, n_touched_allocated;
        /* state_save()'s list of pieces, kept for the next one: allocating
         * and clearing it anew cost more than filling it. Scratch only:
         * between saves its entries point at texts that may be gone (the
         * save's own header, platforms re-rendered) and are never read. */
        struct iovec *iov;
        size_t n_iov_allocated;
};

struct state *state_new(void);
struct state *state_free(struct state *s);   /* accepts NULL, returns NULL */

/* Reads path. -ENOENT when it does not exist; -EINVAL (and *ret_error,
 * "PATH:LINE:COL: why") when it is truncated or corrupt, -EFBIG (and
 * *ret_error) when larger than STATE_FILE_MAX_BYTES; the caller then
 * starts from state_new(). Findings whose id this build does not know are
 * dropped. */
int state_load(const char *path, struct state **ret, char **ret_error);

/* *s made what path says now: nothing read when path is still the file *s
 * was last loaded from or saved to (0), else state_load() into a fresh
 * state that replaces *s (1), or its error, *s left as it was. */
int state_refresh(const char *path, struct state **s, char **ret_error);

/* *s was changed without being saved: the next state_refresh() reads the
 * file again, as if it had changed. */
void state_forget_file(struct state *s);

/* Reads a JSON file of the state directory with jansson's flags, refusing
 * one larger than STATE_FILE_MAX_BYTES. -ENOENT when missing; -EFBIG,
 * -EINVAL (syntax) or another negative errno with *ret_error ("PATH: why"
 * or "PATH:LINE:COL: why"; caller frees). */
int state_read_json(const char *path, size_t flags, json_t **ret, char **ret_error);

/* Writes atomically (util.h write_file_atomic), carrying the renewal
 * guardrails over, and remembers the file written. 0 or a negative errno.
 * Renders only the platforms given out by state_platform() since the last
 * save (the others' text is kept from before): a change made through a
 * pointer state_platform() returned before a save is not seen by later
 * saves; ask state_platform() again. */
int state_save(struct state *s, const char *path);

/* state_save() with renewal (an object, borrowed: s keeps a reference) as
 * the renewal guardrails, in place of those carried over: the renewal
 * store's save, through the state its process holds, so that neither
 * reads and renders the other's part of the file again. */
int state_save_renewal(struct state *s, const char *path, json_t *renewal);

/* Takes DIR/state.lock exclusively, waiting at most STATE_LOCK_WAIT_USEC
 * (the caller's loop stands still meanwhile). 0 and *ret_fd, the lock to
 * hand to state_unlock(); *ret_fd is -1 when the directory has no lock file
 * and cannot get one (not writable: nothing here can write state.json
 * either). -ETIMEDOUT or another negative errno with *ret_error
 * ("PATH: why"; caller frees). */
int state_lock(const char *dir, int *ret_fd, char **ret_error);
/* Releases (closes) the lock; accepts -1. Returns -1. */
int state_unlock(int fd);

/* The platform's entry, created empty when missing, to be changed until
 * the next state_save() (which then writes it again). */
struct state_platform *state_platform(struct state *s, const char *name);
/* The platform's entry, or NULL: changes nothing. */
const struct state_platform *state_platform_find(const struct state *s, const char *name);

/* Remembers the leaf of every endpoint that completed a handshake, then
 * forgets, beyond the endpoints of obs, all but the newest
 * STATE_CERT_HISTORY certificates seen within STATE_CERT_KEEP_SEC. */
void state_platform_record_certs(struct state_platform *sp, const struct platform_obs *obs, time_t now);
const struct state_cert *state_platform_cert(const struct state_platform *sp, const char *name, const char *address);

void state_finding_done(struct state_finding *f);
void state_finding_copy(struct state_finding *dst, const struct state_finding *src);

/* Drops the platforms not named in configured (n of them) that have not
 * been audited within STATE_PLATFORM_KEEP_SEC before now. */
void state_prune_platforms(struct state *s, const char *const *configured, size_t n, time_t now);
/* Whether state_prune_platforms() could drop a platform at now, when given
 * the configured names it was last given: false while none it kept can be
 * dropped yet, nor any given out by state_platform() since; true before
 * the first state_prune_platforms(). It may be true with nothing to drop
 * (an audit since moved a date on: the next state_prune_platforms() finds
 * out). Costs what was given out since it was last asked, not what s
 * holds. */
bool state_prune_due(struct state *s, time_t now);

/* The worst severity among open findings, or -1. */
int state_platform_worst(const struct state_platform *sp);

/* "info", "warning", "critical" back to the enum; -EINVAL otherwise. */
int severity_from_string(const char *s);
