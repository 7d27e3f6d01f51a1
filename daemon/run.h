/* One platform's run, the pipeline `certvigil audit` and the daemon share:
 * the audit, then ARI, the provided-mode Secret and renewal, then the
 * platform's findings gathered in one list; and the settling of a finished
 * run into the alert state and the journal. A run object lives as long as
 * its platform's schedule: the daemon starts it again every interval. */
#pragma once

#include <stdbool.h>
#include <time.h>

#include <systemd/sd-event.h>

#include "audit.h"
#include "config.h"
#include "finding.h"
#include "journal.h"
#include "renewal.h"
#include "report.h"
#include "state.h"

/* What the runs of one process share. Everything is borrowed and must
 * outlive the runs made with it. */
struct run_env {
        sd_event *event;
        struct audit_pool *pool;
        struct http_cache *cache;          /* NULL: each audit fetches for itself */
        struct renew_store *store;         /* NULL: ARI remembers nothing, no renewal */
        bool renew;                        /* renewal may trigger (needs store) */
        struct renewal_options renewal;    /* dry run, where the command's lines go */
};

struct run;

typedef void (*run_done_cb)(struct run *r, void *userdata);

/* p must outlive the run. */
int run_new(const struct run_env *env, const struct platform *p, struct run **ret);
/* Cancels whatever is in flight without calling back (a renewal command is
 * killed: see run_wind_down()). Accepts NULL, returns NULL. */
struct run *run_free(struct run *r);

/* Makes a fresh audit of the platform, dropping the previous run's
 * results. Fails with *ret_error (caller frees) when the plan, the trust
 * anchors or the resolver cannot be set up: nothing has been sent then. */
int run_prepare(struct run *r, char **ret_error);
/* Starts the prepared audit; cb runs from the loop once the audit and
 * everything that follows it are done, and run_findings() is ready. */
int run_start(struct run *r, run_done_cb cb, void *userdata);

bool run_is_running(const struct run *r);   /* false for NULL */
/* A renewal method (command or API request) is in flight. */
bool run_is_renewing(const struct run *r);
/* While run_is_renewing(): lets the method end and record its outcome but
 * starts nothing after it (the store keeps a verification due for the
 * platform's next run), then calls cb instead of the callback given to
 * run_start(). For a reload, which must not kill a command half way. */
void run_wind_down(struct run *r, run_done_cb cb, void *userdata);

const struct platform *run_platform(const struct run *r);
/* Every finding of the last finished run: the newest audit's (a renewal's
 * last re-audit when one ran), ARI's, the Secret's and renewal's. */
const struct finding_list *run_findings(const struct run *r);
/* The audit this run started (renewal's re-audits aside), for a progress
 * display; NULL before run_start() and after run_release(). */
const struct audit *run_audit(const struct run *r);
/* The newest finished audit's observations (after run_release(), only
 * their summary: see platform_obs_summary()). */
const struct platform_obs *run_observations(const struct run *r);
/* The run as one platform of a report; borrows from the run. Not after
 * run_release(). */
void run_report_platform(const struct run *r, struct report_platform *ret);
/* Once a finished run is reported: frees its audit, keeping the summary
 * run_settle() needs, so a large oneshot holds one platform's observations
 * at a time rather than all. A no-op while renewal holds re-audits. */
void run_release(struct run *r);

/* Records the finished run in state (alerts computed, certificates and the
 * audit time remembered; state may be NULL) and sends it to the journal
 * (the alerts with a state, else every finding; journal may be NULL).
 * Does not save the state. Returns the worst severity still open (with a
 * state) or found (without), -1 for none. */
int run_settle(const struct run *r, struct state *state, struct journal *journal, time_t now);

/* Loads a config from a file or a values file and applies the overrides.
 * *ret_error: "FILE:LINE:COL: message" or "certvigil: message". */
int run_load_config(const char *config_path, const char *values_path, const struct config_overrides *ov,
                    struct config **ret, char **ret_error);

/* The daemon's config (or values) file must be a regular file: it is read
 * again on every SIGHUP, on the loop, where a FIFO, a pipe or a device would
 * make every audit wait. Returns 0, or -EINVAL (or the errno of stat()) with
 * *ret_error "FILE: why"; a file that is missing is left to the reader. */
int run_check_config_file(const char *config_path, const char *values_path, char **ret_error);

/* The state directory: given when set, else the first directory of
 * $STATE_DIRECTORY (systemd's StateDirectory= joins several with ':'),
 * else default_dir. Caller frees. The oneshot and the daemon both ask
 * here, so they cannot read the variable differently. */
char *run_state_dir(const char *given, const char *default_dir);

/* STATE_DIR/state.json, or a fresh state when it is missing, truncated or
 * corrupt (logged on stderr): the state never stops an audit. Creates the
 * directory if needed. *ret_path is the file's path (caller frees). */
struct state *run_state_open(const char *dir, char **ret_path);
