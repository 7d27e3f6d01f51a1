/* `certvigil daemon`: the manager. Owns the sd-event loop, one schedule per
 * platform, the alert state and the journal; speaks the systemd notify
 * protocol (READY, STATUS, WATCHDOG, RELOADING, STOPPING); reloads the
 * config on SIGHUP and stops on SIGTERM/SIGINT. */
#pragma once

#include "config.h"
#include "output.h"
#include "report.h"

struct daemon_options {
        const char *config_path;          /* or values_path */
        const char *values_path;
        const struct config_overrides *ov; /* borrowed, must outlive the daemon */
        const char *state_dir;
        bool no_renew;                    /* monitor only, never trigger a renewal */
        int log_target;                   /* enum journal_target: where alerts go */
        /* -o FILE: replaced as audits finish (at most once a second) with
         * the report, in format
         * (json or prometheus), of every platform's last audit; NULL:
         * none. Borrowed, must outlive the daemon. */
        struct output *output;
        enum report_format format;
};

struct daemon;

/* Takes ownership of config (already loaded and checked by the caller).
 * Blocks SIGHUP, SIGTERM and SIGINT for the loop's signal sources. */
int daemon_new(const struct daemon_options *o, struct config *config, struct daemon **ret);
struct daemon *daemon_free(struct daemon *d);

/* Runs until SIGTERM or SIGINT; returns 0 then, or a negative errno when
 * the loop itself failed. */
int daemon_run(struct daemon *d);
