/* Renewal's command method, the runner: an argv run directly (no shell) in
 * a process group of its own with stdin /dev/null, its stdout and stderr
 * read line by line from the caller's sd-event loop, the whole group
 * killed after a timeout, the child reaped through sd_event_add_child.
 * What the outcome means for renewal is renewal.c's business. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "config.h"
#include "observe.h"
#include "plan.h"
#include "renew.h"

struct renew_command;

/* One line of output, escaped; stream is "stdout" or "stderr". */
typedef void (*renew_command_line_cb)(const char *stream, const char *line, void *userdata);

struct renew_command_result {
        bool ok;                   /* exited with status 0 within the timeout */
        const char *detail;        /* "command exited with status 1", "killed after renew.timeout (10m)" ... */
        const char *tail;          /* "last output: A | B | C" or "no output" */
};

/* Called once from the loop when the command has ended; res is only valid
 * during the call. The command may be freed from inside it. */
typedef void (*renew_command_done_cb)(struct renew_command *c, const struct renew_command_result *res,
                                      void *userdata);

/* Starts argv[0] (looked up in PATH) with environment envp. Fails with
 * *ret_error (caller frees) when it cannot be started or watched; nothing
 * runs then. */
int renew_command_start(sd_event *event, char *const argv[], char *const envp[], uint64_t timeout_usec,
                        renew_command_line_cb on_line, renew_command_done_cb on_done, void *userdata,
                        struct renew_command **ret, char **ret_error);
/* Kills the group of a command still running (and reaps it) without
 * calling back. Accepts NULL, returns NULL. */
struct renew_command *renew_command_free(struct renew_command *c);
bool renew_command_running(const struct renew_command *c);   /* false for NULL */

/* certvigil's environment without any CERTVIGIL_* variable of its own,
 * plus the documented ones for platform p: CERTVIGIL_PLATFORM,
 * _BASE_DOMAIN, _WILDCARD, _CHALLENGE_NAME, _REASON, _NOT_AFTER (the
 * earliest notAfter served) and _OLD_SERIAL (from st). plan and obs may be
 * NULL. Caller frees (strv_free). */
char **renew_command_env(const struct platform *p, const struct renew_state *st, const struct plan *plan,
                         const struct platform_obs *obs);
