/* The command line: options, help texts, the config they name and where
 * the report goes. */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checks.h"
#include "cli.h"
#include "journal.h"
#include "run.h"
#include "state.h"
#include "util.h"

void cli_options_done(struct cli_options *o) {
        strv_free(o->ov.resolvers);
        strv_free(o->ov.only_platforms);
}

/* ------------------------------------------------------------------------ */
/* The commands whose options are parsed here. */

/* A command's bit in an option row's cmds. */
enum {
        CLI_AUDIT = 1 << 0,
        CLI_PLAN = 1 << 1,
        CLI_DAEMON = 1 << 2,
        CLI_CHECK = 1 << 3,
        CLI_ALL = CLI_AUDIT | CLI_PLAN | CLI_DAEMON,   /* the commands that read a config */
};

static const struct cli_command {
        const char *name;
        unsigned bit;             /* 0: its options are parsed elsewhere (list-findings) */
        const char *summary;      /* its line in certvigil --help */
        const char *about;        /* the paragraph under its usage line in COMMAND --help */
        const char *exit_status;  /* the last paragraph of COMMAND --help; NULL: none */
        const char *args;         /* its arguments in the usage line, before [OPTIONS]; NULL: none */
} cli_commands[] = {
        { "audit", CLI_AUDIT, "Resolve every expected name, handshake every address, report findings",
          "Audits every platform once and exits with its worst finding.",
          "Exit status: 0 ok, 1 warning, 2 critical, 3 could not audit; with --state-dir, of\n"
          "the worst finding still open.\n", NULL },
        { "check", CLI_CHECK, "Probe every address of one host with the checks for a single name",
          "Resolves HOST (A and AAAA), handshakes every address on PORT (default 443) with\n"
          "HOST as SNI and judges each as audit judges a platform's name: chain, SAN,\n"
          "expiry, the same certificate on every address, issuer, TLS 1.0/1.1, revocation.\n"
          "HOST may be an IPv4 or IPv6 address (127.0.0.1:8443, [::1]:8443): then no DNS\n"
          "lookup and no SNI, and the certificate must carry the address as an iPAddress\n"
          "SAN. No config, no state, nothing triggered; no DNS-01, CAA, DNSSEC or other\n"
          "platform checks. The port goes in HOST:PORT.",
          "Exit status: 0 ok, 1 warning, 2 critical, 3 could not check (a malformed HOST,\n"
          "an unreadable --trust file: nothing is sent then).\n",
          "HOST[:PORT]" },
        { "daemon", CLI_DAEMON, "Audit every platform every interval and alert through the journal",
          "Audits each platform every `interval` and sends alerts to the journal (or\n"
          "stderr); SIGHUP reloads the config, SIGTERM stops.",
          NULL, NULL },
        { "plan", CLI_PLAN, "Show the names, wildcard and DNS-01 records the settings imply",
          "Prints the names, wildcard and DNS-01 challenge each platform's settings need,\n"
          "and the records and certificate to create.",
          "Exit status: 0, or 3 when the settings are invalid.\n", NULL },
        { "list-findings", 0, "List every finding id with its severity and meaning", NULL, NULL, NULL },
};

static const struct cli_command *cli_command_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(cli_commands); i++)
                if (strcmp(cli_commands[i].name, name) == 0)
                        return &cli_commands[i];
        return NULL;
}

void cli_help(FILE *f) {
        fputs("Usage: certvigil COMMAND [OPTIONS]\n"
              "\n"
              "Audits the wildcard certificate and DNS of self-hosted AI gateway platforms.\n"
              "\n"
              "Commands:\n", f);
        for (size_t i = 0; i < ELEMENTSOF(cli_commands); i++)
                fprintf(f, "  %-13s  %s\n", cli_commands[i].name, cli_commands[i].summary);
        fputs("\n"
              "Options:\n"
              "  -h --help      Show this help (certvigil COMMAND --help for a command)\n"
              "     --version   Show the version\n"
              "\n"
              "Exit status: 0 no warning or critical finding, 1 warning, 2 critical,\n"
              "3 could not audit (usage, configuration).\n"
              "See certvigil(8) and certvigil.yaml(5).\n", f);
}

/* ------------------------------------------------------------------------ */
/* Row parsers: each reads one option's argument into one field of struct
 * cli_options. They return 0, or EXIT_UNUSABLE after saying why on stderr
 * (the help row: 1 once the help is shown). */

struct cli_option;

typedef int (*cli_parse_fn)(const struct cli_option *opt, const struct cli_command *cmd, const char *arg,
                            void *field);

struct cli_option {
        const char *name;         /* --name; NULL: the row is a section title of --help */
        char letter;              /* -l as well, or 0 */
        const char *arg;          /* its argument as --help names it; NULL: it takes none */
        unsigned cmds;            /* the commands that accept it (CLI_*) */
        cli_parse_fn parse;
        size_t offset;            /* of the field parse fills, in struct cli_options */
        int value;                /* parse_set_int: what to store */
        bool sub;                 /* --help: indented under the row above, as one of its options */
        const char *help;         /* its text in --help ('\n' between lines), or the title; NULL: none */
};

static int parse_help(const struct cli_option *opt, const struct cli_command *cmd, const char *arg, void *field);

static int parse_string(const struct cli_option *opt, const struct cli_command *cmd, const char *arg,
                        void *field) {
        *(const char **)field = arg;
        return 0;
}

static int parse_path(const struct cli_option *opt, const struct cli_command *cmd, const char *arg, void *field) {
        if (!*arg) {
                fprintf(stderr, "certvigil: --%s: empty path\n", opt->name);
                return EXIT_UNUSABLE;
        }
        *(const char **)field = arg;
        return 0;
}

static int parse_strv(const struct cli_option *opt, const struct cli_command *cmd, const char *arg, void *field) {
        strv_push(field, xstrdup(arg));
        return 0;
}

/* 'system' is what no --resolver at all means: resolv.conf. */
static int parse_resolver(const struct cli_option *opt, const struct cli_command *cmd, const char *arg,
                          void *field) {
        if (strcmp(arg, "system") != 0)
                strv_push(field, xstrdup(arg));
        return 0;
}

static int parse_port(const struct cli_option *opt, const struct cli_command *cmd, const char *arg, void *field) {
        long long v;

        if (parse_int(arg, 1, 65535, &v) < 0) {
                fprintf(stderr, "certvigil: --%s: '%s' is not a port number (1-65535)\n", opt->name, arg);
                return EXIT_UNUSABLE;
        }
        *(int *)field = (int)v;
        return 0;
}

/* A duration of 0 would time out everything at once: refused. */
static int parse_duration_set(const struct cli_option *opt, const struct cli_command *cmd, const char *arg,
                              void *field) {
        uint64_t usec;

        if (parse_duration(arg, &usec) < 0 || usec == 0) {
                fprintf(stderr, "certvigil: --%s: '%s' is not a duration such as 10s, 2m or 1h\n", opt->name, arg);
                return EXIT_UNUSABLE;
        }
        *(uint64_t *)field = usec;
        return 0;
}

static int parse_set_int(const struct cli_option *opt, const struct cli_command *cmd, const char *arg,
                         void *field) {
        *(int *)field = opt->value;
        return 0;
}

static int parse_set_true(const struct cli_option *opt, const struct cli_command *cmd, const char *arg,
                          void *field) {
        *(bool *)field = true;
        return 0;
}

/* value: the formats this command renders, as bits (1 << REPORT_*); 0
 * for every one. */
static int parse_format(const struct cli_option *opt, const struct cli_command *cmd, const char *arg,
                        void *field) {
        int r = report_format_from_string(arg);
        unsigned mask = (unsigned)opt->value;

        if (r < 0 && !mask) {
                fprintf(stderr, "certvigil: --format: unknown format '%s' (text, json, junit, github or prometheus)\n",
                        arg);
                return EXIT_UNUSABLE;
        }
        if (r < 0 || (mask && !(mask & (1u << r)))) {
                fprintf(stderr, "certvigil %s: --format: '%s' is not", cmd->name, arg);
                for (int f = 0, n = 0; f < _REPORT_FORMAT_MAX; f++)
                        if (mask & (1u << f))
                                fprintf(stderr, "%s%s", n++ ? " or " : " ", report_writer_of(f)->name);
                fputc('\n', stderr);
                return EXIT_UNUSABLE;
        }
        *(enum report_format *)field = (enum report_format)r;
        return 0;
}

static int parse_fail_on(const struct cli_option *opt, const struct cli_command *cmd, const char *arg,
                         void *field) {
        if (strcmp(arg, "never") == 0)
                *(int *)field = -1;
        else if (strcmp(arg, "warning") == 0 || strcmp(arg, "critical") == 0)
                *(int *)field = severity_from_string(arg);
        else {
                fprintf(stderr, "certvigil: --fail-on: '%s' is not warning, critical or never\n", arg);
                return EXIT_UNUSABLE;
        }
        return 0;
}

static int parse_log_target(const struct cli_option *opt, const struct cli_command *cmd, const char *arg,
                            void *field) {
        int r = journal_target_from_string(arg);

        if (r < 0) {
                fprintf(stderr, "certvigil %s: --log-target: expected auto, journal or stderr\n", cmd->name);
                return EXIT_UNUSABLE;
        }
        *(int *)field = r;
        return 0;
}

static int shard_set(const char *what, const char *s, struct shard *ret) {
        if (shard_parse(s, ret) < 0) {
                fprintf(stderr, "certvigil: %s: '%s' is not I/N (shard I of N, 1 <= I <= N <= %d)\n", what, s,
                        SHARDS_MAX);
                return EXIT_UNUSABLE;
        }
        return 0;
}

static int parse_shard(const struct cli_option *opt, const struct cli_command *cmd, const char *arg, void *field) {
        return shard_set("--shard", arg, field);
}

/* ------------------------------------------------------------------------ */
/* The options. One row per option and command set, in the order of --help;
 * rows without a name are section titles there. A command accepts exactly
 * the rows whose cmds carry its bit: getopt_long's tables are built from
 * them for each parse, so an option of another command is refused (and
 * named as such) rather than ignored.
 *
 * A new command: add its bit to the enum and a row to cli_commands (and
 * its function to main.c's dispatch table); then give it options by adding
 * its bit to the cmds of the rows it shares and new rows for its own, each
 * with a parser above that fills a field of struct cli_options (add the
 * field to cli.h). The same long name may have one row per set of
 * commands (--format, --state-dir), never two rows for one command. */

#define FIELD(f) offsetof(struct cli_options, f)
#define FORMATS(a, b) ((1 << (a)) | (1 << (b)))

static const struct cli_option cli_option_table[] = {
        { NULL, 0, NULL, CLI_ALL, NULL, 0, 0, false, "Source of the platforms (one of):" },
        { "config", 'c', "FILE", CLI_ALL, parse_string, FIELD(config), 0, false,
          "certvigil's config (default " DEFAULT_CONFIG ")" },
        { "values", 0, "FILE", CLI_ALL, parse_string, FIELD(values), 0, false,
          "a platform's Helm values file alone, no config needed" },
        { "base-domain", 0, "NAME", CLI_AUDIT | CLI_PLAN, parse_string, FIELD(base_domain), 0, false,
          "one platform from flags alone: its global.baseDomain, with" },
        { "separator", 0, ".|-", CLI_AUDIT | CLI_PLAN, parse_string, FIELD(separator), 0, true,
          "its global.subdomainSeparator (default .)," },
        { "mode", 0, "MODE", CLI_AUDIT | CLI_PLAN, parse_string, FIELD(mode), 0, true,
          "its tls.mode: letsencrypt, provided or selfsigned (default\nletsencrypt)," },
        { "dns-zone", 0, "ZONE", CLI_AUDIT | CLI_PLAN, parse_string, FIELD(dns_zone), 0, true,
          "its tls.letsencrypt.dns01.dnsZone" },

        { NULL, 0, NULL, CLI_CHECK, NULL, 0, 0, false, "The host:" },
        { "wildcard", 0, "*.NAME", CLI_CHECK, parse_string, FIELD(wildcard), 0, false,
          "the certificate must also carry this wildcard (default: it\nmust cover HOST only)" },

        { NULL, 0, NULL, CLI_ALL, NULL, 0, 0, false, "Overrides for every platform:" },
        { NULL, 0, NULL, CLI_CHECK, NULL, 0, 0, false, "Overrides:" },
        { "platform", 0, "NAME", CLI_ALL, parse_strv, FIELD(ov.only_platforms), 0, false,
          "only this platform (repeatable)" },
        { "resolver", 0, "ADDR[:PORT]", CLI_AUDIT | CLI_DAEMON | CLI_CHECK, parse_resolver, FIELD(ov.resolvers), 0, false,
          "DNS resolver to ask (repeatable; 'system' for resolv.conf)" },
        { "port", 0, "N", CLI_ALL, parse_port, FIELD(ov.port), 0, false, "TLS port of the platform's endpoints" },
        { "dns-port", 0, "N", CLI_AUDIT | CLI_DAEMON, parse_port, FIELD(ov.dns_port), 0, false,
          "port of the zones' authoritative servers, asked directly" },
        { "trust", 0, "FILE|system", CLI_AUDIT | CLI_DAEMON | CLI_CHECK, parse_string, FIELD(ov.trust), 0, false,
          "trust anchors (PEM bundle) or the system store" },
        { "timeout", 0, "DURATION", CLI_AUDIT | CLI_DAEMON | CLI_CHECK, parse_duration_set, FIELD(ov.timeout_usec), 0, false,
          "per query and per connection + handshake (e.g. 10s)" },
        { "deadline", 0, "DURATION", CLI_AUDIT | CLI_DAEMON | CLI_CHECK, parse_duration_set, FIELD(ov.deadline_usec), 0, false,
          "the whole audit (e.g. 2m)" },
        { "shard", 0, "I/N", CLI_ALL, parse_shard, FIELD(ov.shard), 0, false,
          "only the platforms shard I of N owns (also CERTVIGIL_SHARD)" },

        { NULL, 0, NULL, CLI_AUDIT | CLI_PLAN | CLI_CHECK, NULL, 0, 0, false, "Output:" },
        { NULL, 0, NULL, CLI_DAEMON, NULL, 0, 0, false, "Report file, alerts and state:" },
        { "format", 0, "FORMAT", CLI_AUDIT | CLI_CHECK, parse_format, FIELD(format), 0 /* all */, false,
          "text, json, junit, github or prometheus (default text)" },
        { "format", 0, "FORMAT", CLI_PLAN, parse_format, FIELD(format), FORMATS(REPORT_TEXT, REPORT_JSON), false,
          "text or json (default text)" },
        { "output", 'o', "FILE", CLI_AUDIT | CLI_PLAN | CLI_CHECK, parse_string, FIELD(output), 0, false,
          "write the report to FILE (atomically; '-' is stdout)" },
        { "format", 0, "FORMAT", CLI_DAEMON, parse_format, FIELD(format), FORMATS(REPORT_JSON, REPORT_PROMETHEUS),
          false, "json or prometheus (default json): what -o FILE gets" },
        { "output", 'o', "FILE", CLI_DAEMON, parse_string, FIELD(output), 0, false,
          "as audits finish, at most once a second,\n"
          "replace FILE (atomically) with the report of\n"
          "every platform's last audit, as /report.json\n"
          "or /metrics serve it" },
        { "color", 0, NULL, CLI_AUDIT | CLI_CHECK, parse_set_int, FIELD(color), 1, false,
          "force colour on (default: on a terminal without NO_COLOR)" },
        { "no-color", 0, NULL, CLI_AUDIT | CLI_CHECK, parse_set_int, FIELD(color), 0, false, "force colour off" },
        { "journal", 0, NULL, CLI_AUDIT, parse_set_true, FIELD(journal), 0, false,
          "also write findings to the systemd journal" },
        { "quiet", 'q', NULL, CLI_AUDIT | CLI_CHECK, parse_set_int, FIELD(verbosity), -1, false,
          "no progress line on stderr (shown on a terminal after 1s)" },
        { "verbose", 'v', NULL, CLI_AUDIT | CLI_CHECK, parse_set_int, FIELD(verbosity), 1, false,
          "one line on stderr per probe as it ends" },
        { "state-dir", 0, "DIR", CLI_AUDIT, parse_path, FIELD(state_dir), 0, false,
          "remember open findings in DIR/state.json: the journal then\n"
          "gets alerts only (new, changed, resolved, reminders)" },
        { "state-dir", 0, "DIR", CLI_DAEMON, parse_path, FIELD(state_dir), 0, false,
          "the open findings and renewal guardrails (default\n$STATE_DIRECTORY or " DEFAULT_STATE_DIR ")" },
        { "log-target", 0, "auto|journal|stderr", CLI_DAEMON, parse_log_target, FIELD(log_target), 0, false,
          "where alerts and audit summaries go (auto, the\n"
          "default: the journal when its socket exists, else stderr)" },
        { "listen", 0, "ADDR:PORT", CLI_DAEMON, parse_string, FIELD(ov.listen), 0, false,
          "serve /metrics, /healthz and /report.json there\n"
          "(127.0.0.1 when only a port is given; also CERTVIGIL_LISTEN)" },
        { "fail-on", 0, "warning|critical|never", CLI_AUDIT | CLI_CHECK, parse_fail_on, FIELD(fail_on), 0, false,
          "which severities make the exit status\nnon-zero (default warning)" },
        { "help", 'h', NULL, CLI_ALL | CLI_CHECK, parse_help, 0, 0, false, "show this help" },

        { NULL, 0, NULL, CLI_AUDIT | CLI_DAEMON, NULL, 0, 0, false,
          "Renewal (platforms with renew.enabled; the guardrails are kept in --state-dir):" },
        { "no-renew", 0, NULL, CLI_AUDIT | CLI_DAEMON, parse_set_true, FIELD(no_renew), 0, false,
          "never trigger a renewal (CI)" },
        { "dry-run", 0, NULL, CLI_AUDIT, parse_set_true, FIELD(dry_run), 0, false,
          "say what would be triggered and why; run nothing" },
};

/* getopt_long's val for a row without a letter: past every char. */
#define ROW_VAL(i) (0x100 + (int)(i))

/* ------------------------------------------------------------------------ */
/* COMMAND --help, derived from the table. */

/* The column where an option's text starts. */
#define HELP_COLUMN 26

static void help_option_print(FILE *f, const struct cli_option *opt) {
        int n;

        if (opt->letter)
                n = fprintf(f, "  -%c --%s", opt->letter, opt->name);
        else
                n = fprintf(f, "%s--%s", opt->sub ? "       " : "     ", opt->name);
        if (opt->arg)
                n += fprintf(f, " %s", opt->arg);
        /* At least two spaces between an option and its text. */
        fprintf(f, "%*s", n <= HELP_COLUMN - 2 ? HELP_COLUMN - n : 2, "");
        for (const char *s = opt->help; *s; s++) {
                fputc(*s, f);
                if (*s == '\n')
                        fprintf(f, "%*s", HELP_COLUMN, "");
        }
        fputc('\n', f);
}

static void help_command_print(FILE *f, const struct cli_command *cmd) {
        fprintf(f, "Usage: certvigil %s %s%s[OPTIONS]\n\n%s\n", cmd->name, cmd->args ? cmd->args : "",
                cmd->args ? " " : "", cmd->about);
        for (size_t i = 0; i < ELEMENTSOF(cli_option_table); i++) {
                const struct cli_option *opt = &cli_option_table[i];
                if (!(opt->cmds & cmd->bit) || !opt->help)
                        continue;
                if (opt->name)
                        help_option_print(f, opt);
                else
                        fprintf(f, "\n%s\n", opt->help);
        }
        if (cmd->exit_status)
                fprintf(f, "\n%s", cmd->exit_status);
}

static int parse_help(const struct cli_option *opt, const struct cli_command *cmd, const char *arg, void *field) {
        help_command_print(stdout, cmd);
        return 1;
}

/* ------------------------------------------------------------------------ */
/* The parse */

/* getopt_long's tables for one command: its rows only. */
struct cli_getopt {
        struct option longopts[ELEMENTSOF(cli_option_table) + 1];
        char shortopts[2 * ELEMENTSOF(cli_option_table) + 2];
};

static void cli_getopt_build(const struct cli_command *cmd, struct cli_getopt *g) {
        size_t n = 0, s = 0;

        /* "+" is not given: options and arguments may mix, as before. */
        for (size_t i = 0; i < ELEMENTSOF(cli_option_table); i++) {
                const struct cli_option *opt = &cli_option_table[i];
                if (!opt->name || !(opt->cmds & cmd->bit))
                        continue;
                /* One row per option and command: the table's invariant. */
                for (size_t j = 0; j < n; j++)
                        assert(strcmp(g->longopts[j].name, opt->name) != 0 &&
                               (!opt->letter || g->longopts[j].val != opt->letter));
                g->longopts[n++] = (struct option){ opt->name, opt->arg ? required_argument : no_argument, NULL,
                                                    opt->letter ? opt->letter : ROW_VAL(i) };
                if (opt->letter) {
                        g->shortopts[s++] = opt->letter;
                        if (opt->arg)
                                g->shortopts[s++] = ':';
                }
        }
        g->longopts[n] = (struct option){};
        g->shortopts[s] = '\0';
}

/* The row getopt_long's val c stands for, in this command. */
static const struct cli_option *cli_option_of(const struct cli_command *cmd, int c) {
        if (c >= ROW_VAL(0) && c < ROW_VAL(ELEMENTSOF(cli_option_table)))
                return &cli_option_table[c - ROW_VAL(0)];
        for (size_t i = 0; i < ELEMENTSOF(cli_option_table); i++)
                if (cli_option_table[i].letter == c && (cli_option_table[i].cmds & cmd->bit))
                        return &cli_option_table[i];
        return NULL;
}

/* After getopt_long refused an option: when another command takes it, say
 * which (getopt_long said "unrecognized"). optopt is the letter of a short
 * option; for a long one it is 0 and argv[optind - 1] is the option. */
static void cli_misplaced_hint(const struct cli_command *cmd, char *argv[]) {
        const char *arg = optopt == 0 && optind > 0 ? argv[optind - 1] : NULL;
        size_t len = arg && strncmp(arg, "--", 2) == 0 ? strcspn(arg + 2, "=") : 0;
        unsigned cmds = 0;
        size_t total = 0, n = 0;

        if (optopt >= ROW_VAL(0) || (!optopt && !len))
                return;          /* one of ours missing its argument, or not an option */
        for (size_t i = 0; i < ELEMENTSOF(cli_option_table); i++) {
                const struct cli_option *opt = &cli_option_table[i];
                if (opt->name && (optopt ? opt->letter == optopt
                                         : strlen(opt->name) == len && strncmp(opt->name, arg + 2, len) == 0))
                        cmds |= opt->cmds;
        }
        if (!cmds || (cmds & cmd->bit))
                return;
        if (optopt)
                fprintf(stderr, "certvigil %s: -%c is for ", cmd->name, optopt);
        else
                fprintf(stderr, "certvigil %s: --%.*s is for ", cmd->name, (int)len, arg + 2);
        for (size_t i = 0; i < ELEMENTSOF(cli_commands); i++)
                total += !!(cmds & cli_commands[i].bit);
        for (size_t i = 0; i < ELEMENTSOF(cli_commands); i++)
                if (cmds & cli_commands[i].bit)
                        fprintf(stderr, "%s%s", n++ == 0 ? "" : n == total ? " and " : ", ", cli_commands[i].name);
        fprintf(stderr, ", not %s\n", cmd->name);
}

/* What no single option decides: the environment and the combinations. */
static int cli_parse_finish(int argc, char *argv[], const struct cli_command *cmd, struct cli_options *o) {
        /* The environment sets what a StatefulSet's ordinal or a template
         * unit's instance decides; an option given wins over it. */
        const char *env = getenv("CERTVIGIL_SHARD");
        /* A check's one host is no shard's to skip. */
        if (!o->ov.shard.count && env && *env && cmd->bit != CLI_CHECK &&
            shard_set("CERTVIGIL_SHARD", env, &o->ov.shard) != 0)
                return EXIT_UNUSABLE;
        env = getenv("CERTVIGIL_LISTEN");
        if (!o->ov.listen && env && *env && cmd->bit == CLI_DAEMON)
                o->ov.listen = env;
        /* check's one argument: the host, judged by config_for_host(). */
        if (cmd->bit == CLI_CHECK && optind < argc)
                o->host = argv[optind++];
        if (optind < argc) {
                fprintf(stderr, "certvigil %s: unexpected argument '%s'\nTry 'certvigil %s --help'.\n", cmd->name,
                        argv[optind], cmd->name);
                return EXIT_UNUSABLE;
        }
        if (cmd->bit == CLI_CHECK && !o->host) {
                fprintf(stderr, "certvigil check: which host? (certvigil check HOST[:PORT])\n");
                return EXIT_UNUSABLE;
        }
        /* The daemon writes a report only where -o says. */
        if (cmd->bit == CLI_DAEMON && o->format != REPORT_TEXT && !o->output) {
                fprintf(stderr, "certvigil daemon: --format says what -o FILE gets; -o is missing\n");
                return EXIT_UNUSABLE;
        }
        if (o->no_renew && o->dry_run) {
                fprintf(stderr, "certvigil %s: --no-renew and --dry-run exclude each other\n", cmd->name);
                return EXIT_UNUSABLE;
        }
        if (!!o->config + !!o->values + !!o->base_domain > 1) {
                fprintf(stderr, "certvigil %s: --config, --values and --base-domain exclude each other\n", cmd->name);
                return EXIT_UNUSABLE;
        }
        if (!o->base_domain && (o->separator || o->mode || o->dns_zone)) {
                fprintf(stderr, "certvigil %s: --separator, --mode and --dns-zone describe a --base-domain platform\n",
                        cmd->name);
                return EXIT_UNUSABLE;
        }
        return 0;
}

static int cli_parse_command(int argc, char *argv[], const struct cli_command *cmd, struct cli_options *o) {
        struct cli_getopt g;
        int c, r;

        o->color = -1;
        o->fail_on = SEVERITY_WARNING;
        cli_getopt_build(cmd, &g);
        optind = 0;
        while ((c = getopt_long(argc, argv, g.shortopts, g.longopts, NULL)) >= 0) {
                const struct cli_option *opt = c == '?' ? NULL : cli_option_of(cmd, c);
                if (!opt) {
                        cli_misplaced_hint(cmd, argv);
                        fprintf(stderr, "Try 'certvigil %s --help'.\n", cmd->name);
                        return EXIT_UNUSABLE;
                }
                r = opt->parse(opt, cmd, optarg, (char *)o + opt->offset);
                if (r != 0)
                        return r;
        }
        return cli_parse_finish(argc, argv, cmd, o);
}

int cli_parse(int argc, char *argv[], const char *name, struct cli_options *o) {
        const struct cli_command *cmd = cli_command_find(name);
        char prog[64], *arg0 = argv[0];
        int r;

        assert(cmd && cmd->bit);
        /* getopt names argv[0] in its messages: make that the command,
         * while parsing only (prog is ours, on this stack). */
        snprintf(prog, sizeof(prog), "certvigil %s", cmd->name);
        argv[0] = prog;
        r = cli_parse_command(argc, argv, cmd, o);
        argv[0] = arg0;
        return r;
}

static int cli_bad_domain(const char *option, const char *given) {
        _cleanup_free_ char *shown = str_escape(given, strlen(given));
        bool idn = false;

        for (const char *c = given; *c && !idn; c++)
                idn = (unsigned char)*c >= 0x80;
        fprintf(stderr, "certvigil: %s: '%.80s%s' is not a domain name (labels of a-z, 0-9 and '-', at least two, "
                        "not an IP address)%s\n", option, shown, strlen(shown) > 80 ? "..." : "",
                idn ? ": write internationalized names in A-label form (xn--...)" : "");
        return EXIT_UNUSABLE;
}

/* The one platform --base-domain describes, as a config document: every
 * value is checked first (a DNS name, one of a few words), so none can
 * change the document's structure. */
static int cli_flags_config(const struct cli_options *o, char **ret) {
        const char *sep = o->separator ? o->separator : ".", *mode = o->mode ? o->mode : "letsencrypt";
        /* Normalized as global.baseDomain and dnsZone are in a file, so
         * `Example.COM.` means here what it means there. */
        _cleanup_free_ char *base = dns_domain_normalize(o->base_domain);
        _cleanup_free_ char *zone = o->dns_zone ? dns_domain_normalize(o->dns_zone) : NULL;

        if (!base)
                return cli_bad_domain("--base-domain", o->base_domain);
        if (strcmp(sep, ".") != 0 && strcmp(sep, "-") != 0) {
                fprintf(stderr, "certvigil: --separator: '%.80s' is not . or -\n", sep);
                return EXIT_UNUSABLE;
        }
        if (strcmp(mode, "letsencrypt") != 0 && strcmp(mode, "provided") != 0 && strcmp(mode, "selfsigned") != 0) {
                fprintf(stderr, "certvigil: --mode: unknown tls.mode '%.80s' (expected letsencrypt, provided or "
                                "selfsigned)\n", mode);
                return EXIT_UNUSABLE;
        }
        if (o->dns_zone && !zone)
                return cli_bad_domain("--dns-zone", o->dns_zone);
        *ret = xasprintf("platforms:\n"
                         "  - name: \"%s\"\n"
                         "    global: { baseDomain: \"%s\", subdomainSeparator: \"%s\" }\n"
                         "    tls: { mode: %s%s%s%s }\n",
                         base, base, sep, mode, zone ? ", letsencrypt: { dns01: { dnsZone: \"" : "", zone ? zone : "",
                         zone ? "\" } }" : "");
        return 0;
}

int cli_load_config(const struct cli_options *o, struct config **ret) {
        _cleanup_free_ char *error = NULL;
        struct config *c = NULL;
        int r;

        if (o->base_domain || o->host) {
                _cleanup_free_ char *text = NULL;
                if (o->host)
                        r = config_for_host(o->host, o->wildcard, &c, &error);
                else {
                        r = cli_flags_config(o, &text);
                        if (r != 0)
                                return r;
                        r = config_load_string(text, "--base-domain", checks_find_def, &c, &error);
                }
                if (r >= 0)
                        r = config_apply_overrides(c, &o->ov, &error);
                if (r < 0) {
                        fprintf(stderr, "certvigil: %s\n", error ? error : strerror(-r));
                        config_free(c);
                        return EXIT_UNUSABLE;
                }
                *ret = c;
                return 0;
        }
        /* Errors come as "FILE:LINE:COL: message" or "certvigil: message". */
        r = run_load_config(o->config ? o->config : DEFAULT_CONFIG, o->values, &o->ov, &c, &error);
        if (r < 0) {
                fprintf(stderr, "%s\n", error ? error : strerror(-r));
                return EXIT_UNUSABLE;
        }
        *ret = c;
        return 0;
}

/* Sends the rendered report to -o FILE (atomically) or stdout. */
/* The input -o would overwrite ("the config file"), or NULL. Compared by
 * device and inode, so another spelling or a symbolic link is caught. */
static const char *output_overwrites(const struct cli_options *o, const char *state_dir) {
        _cleanup_free_ char *state = state_dir ? xasprintf("%s/%s", state_dir, STATE_FILE) : NULL;
        _cleanup_free_ char *lock = state_dir ? xasprintf("%s/%s", state_dir, STATE_LOCK_FILE) : NULL;
        const struct {
                const char *path, *what;
        } inputs[] = {
                { o->values, "the values file" },
                { o->values || o->base_domain || o->host ? NULL : o->config ? o->config : DEFAULT_CONFIG,
                  "the config file" },
                { state, "the state file" },
                { lock, "the state directory's lock" },
        };
        struct stat out, in;

        if (!o->output || strcmp(o->output, "-") == 0 || stat(o->output, &out) < 0 || !S_ISREG(out.st_mode))
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(inputs); i++)
                if (inputs[i].path && stat(inputs[i].path, &in) == 0 && in.st_dev == out.st_dev &&
                    in.st_ino == out.st_ino)
                        return inputs[i].what;
        return NULL;
}

int cli_output_open(const struct cli_options *o, const char *state_dir, struct output **ret) {
        _cleanup_free_ char *error = NULL;
        const char *input = output_overwrites(o, state_dir);

        if (input) {
                fprintf(stderr, "certvigil: -o %s is %s: the report would replace it\n", o->output, input);
                return EXIT_UNUSABLE;
        }
        if (output_open(o->output, ret, &error) < 0) {
                fprintf(stderr, "certvigil: %s\n", error);
                return EXIT_UNUSABLE;
        }
        return 0;
}

int cli_emit(struct output *out, const char *text, size_t len) {
        _cleanup_free_ char *error = NULL;

        if (output_write(out, text, len, &error) < 0) {
                fprintf(stderr, "certvigil: %s\n", error);
                return EXIT_UNUSABLE;
        }
        return 0;
}

bool cli_want_color(const struct cli_options *o) {
        if (o->color >= 0)
                return o->color;
        return (!o->output || strcmp(o->output, "-") == 0) && o->format == REPORT_TEXT && isatty(STDOUT_FILENO) &&
               !getenv("NO_COLOR");
}
