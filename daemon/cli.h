/* The command line: the options `audit`, `check`, `plan` and `daemon` share, their
 * help texts, loading the config they name and writing the report where
 * -o says. Parsing only: what the options do is the commands' business. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "output.h"
#include "report.h"

#define DEFAULT_CONFIG SYSCONFDIR "/certvigil/certvigil.yaml"
#define DEFAULT_STATE_DIR LOCALSTATEDIR "/lib/certvigil"

/* Exit statuses, documented in certvigil(8). */
enum {
        EXIT_OK = 0,
        EXIT_WARNING = 1,
        EXIT_CRITICAL = 2,
        EXIT_UNUSABLE = 3,   /* could not audit: usage, config, environment */
};

struct cli_options {
        const char *config;
        const char *values;
        /* One platform from flags alone (audit, plan): --base-domain and
         * what goes with it; NULL when not given. */
        const char *base_domain;
        const char *separator;     /* "." or "-" */
        const char *mode;          /* tls.mode */
        const char *dns_zone;      /* tls.letsencrypt.dns01.dnsZone */
        const char *output;
        enum report_format format;
        int color;                 /* -1 auto */
        bool journal;
        int log_target;            /* the daemon's: enum journal_target */
        const char *state_dir;
        int fail_on;               /* the least severity that fails; -1 never */
        bool no_renew;             /* CI: never trigger a renewal */
        bool dry_run;              /* say what would be triggered, do nothing */
        int verbosity;             /* audit's progress on stderr: -1 -q, 0, 1 -v */
        /* check: HOST[:PORT] (the one argument) and --wildcard. A check is
         * stateless: it never opens the state directory and triggers
         * nothing (oneshot.c). */
        const char *host;
        const char *wildcard;
        struct config_overrides ov;
};

/* Frees what parsing allocated (the overrides' lists). */
void cli_options_done(struct cli_options *o);

/* The top-level help (certvigil --help). */
void cli_help(FILE *f);

/* Parses argv of command cmd ("audit", "check", "plan", "daemon"; argv[0]
 * is the command). Returns 0 to go on, 1 when help was shown, or EXIT_UNUSABLE
 * after saying why on stderr. */
int cli_parse(int argc, char *argv[], const char *cmd, struct cli_options *o);

/* The config -c or --values names (or the one platform --base-domain
 * describes, or check's one host), with the overrides applied. Returns 0,
 * or EXIT_UNUSABLE after printing "FILE:LINE:COL: message". */
int cli_load_config(const struct cli_options *o, struct config **ret);

/* Checks where -o says the report goes (output.h), before anything is
 * sent: 0 and *ret, or EXIT_UNUSABLE after saying why, naming the path.
 * A target that is one of the run's inputs (the config or values file, or
 * under state_dir, NULL for none, the state file or its lock) is refused:
 * the report would replace it. */
int cli_output_open(const struct cli_options *o, const char *state_dir, struct output **ret);
/* Writes a rendered report there. Returns 0, or EXIT_UNUSABLE after
 * saying why. */
int cli_emit(struct output *out, const char *text, size_t len);

/* Colour for the text report: --color/--no-color, else a terminal on
 * stdout without NO_COLOR. */
bool cli_want_color(const struct cli_options *o);
