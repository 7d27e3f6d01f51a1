/* `certvigil daemon`: the manager. Owns the sd-event loop, one schedule per
 * platform, the alert state and the journal; speaks the systemd notify
 * protocol (READY, STATUS, WATCHDOG, RELOADING, STOPPING); reloads the
 * config on SIGHUP and stops on SIGTERM/SIGINT. */
#pragma once

#include "config.h"

struct daemon_options {
        const char *config_path;          /* or values_path */
        const char *values_path;
        const struct config_overrides *ov; /* borrowed, must outlive the daemon */
        const char *state_dir;
        bool no_renew;                    /* monitor only, never trigger a renewal */
};

struct daemon;

/* Takes ownership of config (already loaded and checked by the caller).
 * Blocks SIGHUP, SIGTERM and SIGINT for the loop's signal sources. */
int daemon_new(const struct daemon_options *o, struct config *config, struct daemon **ret);
struct daemon *daemon_free(struct daemon *d);

/* Runs until SIGTERM or SIGINT; returns 0 then, or a negative errno when
 * the loop itself failed. */
int daemon_run(struct daemon *d);

/* Loads a config from a file or a values file and applies overrides;
 * shared with the command line. */
int daemon_load_config(const char *config_path, const char *values_path, const struct config_overrides *ov,
                       struct config **ret, char **ret_error);

/* STATE_DIR/state.json, or a fresh state when it is missing, truncated or
 * corrupt (logged on stderr): the state never stops an audit. Creates the
 * directory if needed. *ret_path is the file's path (caller frees). Shared
 * with the oneshot audit. */
struct state;
struct state *daemon_state_open(const char *dir, char **ret_path);
