/* The command line: options, help texts, the config they name and where
 * the report goes. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "cli.h"
#include "journal.h"
#include "run.h"
#include "util.h"

void cli_options_done(struct cli_options *o) {
        strv_free(o->ov.resolvers);
        strv_free(o->ov.only_platforms);
}

void cli_help(FILE *f) {
        fprintf(f,
                "Usage: certvigil COMMAND [OPTIONS]\n"
                "\n"
                "Audits the wildcard certificate and DNS of self-hosted AI gateway platforms.\n"
                "\n"
                "Commands:\n"
                "  audit          Resolve every expected name, handshake every address, report findings\n"
                "  daemon         Audit every platform every interval and alert through the journal\n"
                "  plan           Show the names, wildcard and DNS-01 records the settings imply\n"
                "  list-findings  List every finding id with its severity and meaning\n"
                "\n"
                "Options:\n"
                "  -h --help      Show this help (certvigil COMMAND --help for a command)\n"
                "     --version   Show the version\n"
                "\n"
                "Exit status: 0 no warning or critical finding, 1 warning, 2 critical,\n"
                "3 could not audit (usage, configuration).\n"
                "See certvigil(8) and certvigil.yaml(5).\n");
}

/* Which commands an option is for: each command's --help lists its own. */
enum {
        FOR_AUDIT = 1 << 0,
        FOR_PLAN = 1 << 1,
        FOR_DAEMON = 1 << 2,
        FOR_ALL = FOR_AUDIT | FOR_PLAN | FOR_DAEMON,
};

/* A section title (text NULL) or one option's lines, in the order shown. */
static const struct help_line {
        unsigned cmds;
        const char *title;
        const char *text;
} help_lines[] = {
        { FOR_ALL, "Source of the platforms (one of):", NULL },
        { FOR_ALL, NULL, "  -c --config FILE        certvigil's config (default " DEFAULT_CONFIG ")\n" },
        { FOR_ALL, NULL, "     --values FILE        a platform's Helm values file alone, no config needed\n" },
        { FOR_AUDIT | FOR_PLAN, NULL,
          "     --base-domain NAME   one platform from flags alone: its global.baseDomain, with\n"
          "       --separator .|-    its global.subdomainSeparator (default .),\n"
          "       --mode MODE        its tls.mode: letsencrypt, provided or selfsigned (default\n"
          "                          letsencrypt),\n"
          "       --dns-zone ZONE    its tls.letsencrypt.dns01.dnsZone\n" },
        { FOR_ALL, "Overrides for every platform:", NULL },
        { FOR_ALL, NULL, "     --platform NAME      only this platform (repeatable)\n" },
        { FOR_AUDIT | FOR_DAEMON, NULL,
          "     --resolver ADDR[:PORT]  DNS resolver to ask (repeatable; 'system' for resolv.conf)\n" },
        { FOR_ALL, NULL, "     --port N             TLS port of the platform's endpoints\n" },
        { FOR_AUDIT | FOR_DAEMON, NULL,
          "     --dns-port N         port of the zones' authoritative servers, asked directly\n" },
        { FOR_AUDIT | FOR_DAEMON, NULL, "     --trust FILE|system  trust anchors (PEM bundle) or the system store\n" },
        { FOR_AUDIT | FOR_DAEMON, NULL,
          "     --timeout DURATION   per query and per connection + handshake (e.g. 10s)\n" },
        { FOR_AUDIT | FOR_DAEMON, NULL, "     --deadline DURATION  the whole audit (e.g. 2m)\n" },
        { FOR_ALL, NULL, "     --shard I/N          only the platforms shard I of N owns (also CERTVIGIL_SHARD)\n" },
        { FOR_AUDIT | FOR_PLAN, "Output:", NULL },
        { FOR_DAEMON, "Alerts and state:", NULL },
        { FOR_AUDIT, NULL, "     --format FORMAT      text, json, junit, github or prometheus (default text)\n" },
        { FOR_PLAN, NULL, "     --format FORMAT      text or json (default text)\n" },
        { FOR_AUDIT | FOR_PLAN, NULL,
          "  -o --output FILE        write the report to FILE (atomically; '-' is stdout)\n" },
        { FOR_AUDIT, NULL, "     --color / --no-color force colour on or off (default: on a terminal)\n" },
        { FOR_AUDIT, NULL, "     --journal            also write findings to the systemd journal\n" },
        { FOR_AUDIT, NULL,
          "  -q --quiet              no progress line on stderr (shown on a terminal after 1s)\n" },
        { FOR_AUDIT, NULL, "  -v --verbose            one line on stderr per probe as it ends\n" },
        { FOR_AUDIT, NULL,
          "     --state-dir DIR      remember open findings in DIR/state.json: the journal then\n"
          "                          gets alerts only (new, changed, resolved, reminders)\n" },
        { FOR_DAEMON, NULL,
          "     --state-dir DIR      the open findings and renewal guardrails (default\n"
          "                          $STATE_DIRECTORY or " DEFAULT_STATE_DIR ")\n" },
        { FOR_DAEMON, NULL,
          "     --log-target auto|journal|stderr  where alerts and audit summaries go (auto, the\n"
          "                          default: the journal when its socket exists, else stderr)\n" },
        { FOR_DAEMON, NULL,
          "     --listen ADDR:PORT   serve /metrics, /healthz and /report.json there\n"
          "                          (127.0.0.1 when only a port is given; also CERTVIGIL_LISTEN)\n" },
        { FOR_AUDIT, NULL,
          "     --fail-on warning|critical|never  which severities make the exit status\n"
          "                          non-zero (default warning)\n" },
        { FOR_ALL, NULL, "  -h --help               show this help\n" },
        { FOR_AUDIT | FOR_DAEMON, "Renewal (platforms with renew.enabled; the guardrails are kept in --state-dir):", NULL },
        { FOR_AUDIT | FOR_DAEMON, NULL, "     --no-renew           never trigger a renewal (CI)\n" },
        { FOR_AUDIT, NULL, "     --dry-run            say what would be triggered and why; run nothing\n" },
};

static unsigned help_command(const char *cmd) {
        return strcmp(cmd, "plan") == 0 ? FOR_PLAN : strcmp(cmd, "daemon") == 0 ? FOR_DAEMON : FOR_AUDIT;
}

static void help_command_print(FILE *f, const char *cmd) {
        unsigned me = help_command(cmd);

        fprintf(f, "Usage: certvigil %s [OPTIONS]\n\n%s\n", cmd,
                me == FOR_PLAN     ? "Prints the names, wildcard and DNS-01 challenge each platform's settings need,\n"
                                     "and the records and certificate to create."
                : me == FOR_DAEMON ? "Audits each platform every `interval` and sends alerts to the journal (or\n"
                                     "stderr); SIGHUP reloads the config, SIGTERM stops."
                                   : "Audits every platform once and exits with its worst finding.");
        for (size_t i = 0; i < ELEMENTSOF(help_lines); i++) {
                const struct help_line *h = &help_lines[i];
                if (!(h->cmds & me))
                        continue;
                if (h->title)
                        fprintf(f, "\n%s\n", h->title);
                else
                        fputs(h->text, f);
        }
        if (me == FOR_AUDIT)
                fputs("\nExit status: 0 ok, 1 warning, 2 critical, 3 could not audit; with --state-dir, of\n"
                      "the worst finding still open.\n", f);
        else if (me == FOR_PLAN)
                fputs("\nExit status: 0, or 3 when the settings are invalid.\n", f);
}

enum {
        ARG_VALUES = 0x100,
        ARG_BASE_DOMAIN,
        ARG_SEPARATOR,
        ARG_MODE,
        ARG_DNS_ZONE,
        ARG_PLATFORM,
        ARG_RESOLVER,
        ARG_PORT,
        ARG_DNS_PORT,
        ARG_TRUST,
        ARG_TIMEOUT,
        ARG_DEADLINE,
        ARG_FORMAT,
        ARG_COLOR,
        ARG_NO_COLOR,
        ARG_JOURNAL,
        ARG_STATE_DIR,
        ARG_FAIL_ON,
        ARG_NO_RENEW,
        ARG_DRY_RUN,
        ARG_LOG_TARGET,
        ARG_SHARD,
        ARG_LISTEN,
};

static int cli_parse_shard(const char *what, const char *s, struct shard *ret) {
        if (shard_parse(s, ret) < 0) {
                fprintf(stderr, "certvigil: %s: '%s' is not I/N (shard I of N, 1 <= I <= N <= %d)\n", what, s,
                        SHARDS_MAX);
                return -EINVAL;
        }
        return 0;
}

int cli_parse(int argc, char *argv[], const char *cmd, struct cli_options *o) {
        static const struct option longopts[] = {
                { "help", no_argument, NULL, 'h' },
                { "config", required_argument, NULL, 'c' },
                { "values", required_argument, NULL, ARG_VALUES },
                { "base-domain", required_argument, NULL, ARG_BASE_DOMAIN },
                { "separator", required_argument, NULL, ARG_SEPARATOR },
                { "mode", required_argument, NULL, ARG_MODE },
                { "dns-zone", required_argument, NULL, ARG_DNS_ZONE },
                { "platform", required_argument, NULL, ARG_PLATFORM },
                { "resolver", required_argument, NULL, ARG_RESOLVER },
                { "port", required_argument, NULL, ARG_PORT },
                { "dns-port", required_argument, NULL, ARG_DNS_PORT },
                { "trust", required_argument, NULL, ARG_TRUST },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "deadline", required_argument, NULL, ARG_DEADLINE },
                { "format", required_argument, NULL, ARG_FORMAT },
                { "output", required_argument, NULL, 'o' },
                { "color", no_argument, NULL, ARG_COLOR },
                { "no-color", no_argument, NULL, ARG_NO_COLOR },
                { "journal", no_argument, NULL, ARG_JOURNAL },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "fail-on", required_argument, NULL, ARG_FAIL_ON },
                { "no-renew", no_argument, NULL, ARG_NO_RENEW },
                { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                { "log-target", required_argument, NULL, ARG_LOG_TARGET },
                { "shard", required_argument, NULL, ARG_SHARD },
                { "listen", required_argument, NULL, ARG_LISTEN },
                { "quiet", no_argument, NULL, 'q' },
                { "verbose", no_argument, NULL, 'v' },
                {},
        };
        long long v;
        int c, r;

        /* getopt names argv[0] in its messages: make that the command. */
        char prog[64];
        snprintf(prog, sizeof(prog), "certvigil %s", cmd);
        argv[0] = prog;
        o->color = -1;
        o->fail_on = SEVERITY_WARNING;
        optind = 1;
        while ((c = getopt_long(argc, argv, "hc:o:qv", longopts, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help_command_print(stdout, cmd);
                        return 1;
                case 'c':
                        o->config = optarg;
                        break;
                case ARG_VALUES:
                        o->values = optarg;
                        break;
                case ARG_BASE_DOMAIN:
                case ARG_SEPARATOR:
                case ARG_MODE:
                case ARG_DNS_ZONE:
                        if (strcmp(cmd, "daemon") == 0) {
                                fprintf(stderr, "certvigil daemon: --base-domain and its options are for audit and "
                                                "plan; the daemon reads a config\n");
                                return EXIT_UNUSABLE;
                        }
                        *(c == ARG_BASE_DOMAIN ? &o->base_domain
                          : c == ARG_SEPARATOR ? &o->separator
                          : c == ARG_MODE      ? &o->mode
                                               : &o->dns_zone) = optarg;
                        break;
                case ARG_PLATFORM:
                        strv_push(&o->ov.only_platforms, xstrdup(optarg));
                        break;
                case ARG_RESOLVER:
                        if (strcmp(optarg, "system") != 0)
                                strv_push(&o->ov.resolvers, xstrdup(optarg));
                        break;
                case ARG_PORT:
                        if (parse_int(optarg, 1, 65535, &v) < 0) {
                                fprintf(stderr, "certvigil: --port: '%s' is not a port number (1-65535)\n", optarg);
                                return EXIT_UNUSABLE;
                        }
                        o->ov.port = (int)v;
                        break;
                case ARG_DNS_PORT:
                        if (parse_int(optarg, 1, 65535, &v) < 0) {
                                fprintf(stderr, "certvigil: --dns-port: '%s' is not a port number (1-65535)\n", optarg);
                                return EXIT_UNUSABLE;
                        }
                        o->ov.dns_port = (int)v;
                        break;
                case ARG_TRUST:
                        o->ov.trust = optarg;
                        break;
                case ARG_TIMEOUT:
                case ARG_DEADLINE:
                        r = parse_duration(optarg, c == ARG_TIMEOUT ? &o->ov.timeout_usec : &o->ov.deadline_usec);
                        if (r < 0 || (c == ARG_TIMEOUT ? o->ov.timeout_usec : o->ov.deadline_usec) == 0) {
                                fprintf(stderr, "certvigil: --%s: '%s' is not a duration such as 10s, 2m or 1h\n",
                                        c == ARG_TIMEOUT ? "timeout" : "deadline", optarg);
                                return EXIT_UNUSABLE;
                        }
                        break;
                case ARG_FORMAT:
                        r = report_format_from_string(optarg);
                        if (r < 0) {
                                fprintf(stderr, "certvigil: --format: unknown format '%s' (text, json, junit, github or prometheus)\n",
                                optarg);
                                return EXIT_UNUSABLE;
                        }
                        o->format = (enum report_format)r;
                        break;
                case 'o':
                        o->output = optarg;
                        break;
                case ARG_COLOR:
                        o->color = 1;
                        break;
                case ARG_NO_COLOR:
                        o->color = 0;
                        break;
                case ARG_NO_RENEW:
                        o->no_renew = true;
                        break;
                case 'q':
                case 'v':
                        if (strcmp(cmd, "audit") != 0) {
                                fprintf(stderr, "certvigil %s: -%c: only for audit\n", cmd, c);
                                return EXIT_UNUSABLE;
                        }
                        o->verbosity = c == 'q' ? -1 : 1;
                        break;
                case ARG_DRY_RUN:
                        o->dry_run = true;
                        break;
                case ARG_JOURNAL:
                        o->journal = true;
                        break;
                case ARG_LOG_TARGET:
                        r = journal_target_from_string(optarg);
                        if (r < 0 || strcmp(cmd, "daemon") != 0) {
                                fprintf(stderr, "certvigil %s: --log-target: %s\n", cmd,
                                        r < 0 ? "expected auto, journal or stderr" : "only for the daemon");
                                return EXIT_UNUSABLE;
                        }
                        o->log_target = r;
                        break;
                case ARG_SHARD:
                        if (cli_parse_shard("--shard", optarg, &o->ov.shard) < 0)
                                return EXIT_UNUSABLE;
                        break;
                case ARG_LISTEN:
                        if (strcmp(cmd, "daemon") != 0) {
                                fprintf(stderr, "certvigil %s: --listen: only for the daemon\n", cmd);
                                return EXIT_UNUSABLE;
                        }
                        o->ov.listen = optarg;
                        break;
                case ARG_STATE_DIR:
                        if (!*optarg) {
                                fprintf(stderr, "certvigil: --state-dir: empty path\n");
                                return EXIT_UNUSABLE;
                        }
                        o->state_dir = optarg;
                        break;
                case ARG_FAIL_ON:
                        if (strcmp(optarg, "never") == 0)
                                o->fail_on = -1;
                        else if (strcmp(optarg, "warning") == 0 || strcmp(optarg, "critical") == 0)
                                o->fail_on = severity_from_string(optarg);
                        else {
                                fprintf(stderr, "certvigil: --fail-on: '%s' is not warning, critical or never\n",
                                        optarg);
                                return EXIT_UNUSABLE;
                        }
                        break;
                default:
                        fprintf(stderr, "Try 'certvigil %s --help'.\n", cmd);
                        return EXIT_UNUSABLE;
                }
        }
        /* The environment sets what a StatefulSet's ordinal or a template
         * unit's instance decides; an option given wins over it. */
        const char *env = getenv("CERTVIGIL_SHARD");
        if (!o->ov.shard.count && env && *env && cli_parse_shard("CERTVIGIL_SHARD", env, &o->ov.shard) < 0)
                return EXIT_UNUSABLE;
        env = getenv("CERTVIGIL_LISTEN");
        if (!o->ov.listen && env && *env && strcmp(cmd, "daemon") == 0)
                o->ov.listen = env;
        if (optind < argc) {
                fprintf(stderr, "certvigil %s: unexpected argument '%s'\nTry 'certvigil %s --help'.\n", cmd,
                        argv[optind], cmd);
                return EXIT_UNUSABLE;
        }
        if (o->no_renew && o->dry_run) {
                fprintf(stderr, "certvigil %s: --no-renew and --dry-run exclude each other\n", cmd);
                return EXIT_UNUSABLE;
        }
        if (!!o->config + !!o->values + !!o->base_domain > 1) {
                fprintf(stderr, "certvigil %s: --config, --values and --base-domain exclude each other\n", cmd);
                return EXIT_UNUSABLE;
        }
        if (!o->base_domain && (o->separator || o->mode || o->dns_zone)) {
                fprintf(stderr, "certvigil %s: --separator, --mode and --dns-zone describe a --base-domain platform\n",
                        cmd);
                return EXIT_UNUSABLE;
        }
        return 0;
}

/* The one platform --base-domain describes, as a config document: every
 * value is checked first (a DNS name, one of a few words), so none can
 * change the document's structure. */
static int cli_flags_config(const struct cli_options *o, char **ret) {
        const char *sep = o->separator ? o->separator : ".", *mode = o->mode ? o->mode : "letsencrypt";

        if (!dns_name_is_valid(o->base_domain)) {
                fprintf(stderr, "certvigil: --base-domain: '%.80s' is not a DNS name\n", o->base_domain);
                return EXIT_UNUSABLE;
        }
        if (strcmp(sep, ".") != 0 && strcmp(sep, "-") != 0) {
                fprintf(stderr, "certvigil: --separator: '%.80s' is not . or -\n", sep);
                return EXIT_UNUSABLE;
        }
        if (strcmp(mode, "letsencrypt") != 0 && strcmp(mode, "provided") != 0 && strcmp(mode, "selfsigned") != 0) {
                fprintf(stderr, "certvigil: --mode: unknown tls.mode '%.80s' (expected letsencrypt, provided or "
                                "selfsigned)\n", mode);
                return EXIT_UNUSABLE;
        }
        if (o->dns_zone && !dns_name_is_valid(o->dns_zone)) {
                fprintf(stderr, "certvigil: --dns-zone: '%.80s' is not a DNS name\n", o->dns_zone);
                return EXIT_UNUSABLE;
        }
        *ret = xasprintf("platforms:\n"
                         "  - name: \"%s\"\n"
                         "    global: { baseDomain: \"%s\", subdomainSeparator: \"%s\" }\n"
                         "    tls: { mode: %s%s%s%s }\n",
                         o->base_domain, o->base_domain, sep, mode,
                         o->dns_zone ? ", letsencrypt: { dns01: { dnsZone: \"" : "", o->dns_zone ? o->dns_zone : "",
                         o->dns_zone ? "\" } }" : "");
        return 0;
}

int cli_load_config(const struct cli_options *o, struct config **ret) {
        _cleanup_free_ char *error = NULL;
        struct config *c = NULL;
        int r;

        if (o->base_domain) {
                _cleanup_free_ char *text = NULL;
                r = cli_flags_config(o, &text);
                if (r != 0)
                        return r;
                r = config_load_string(text, "--base-domain", checks_find_def, &c, &error);
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
int cli_output_open(const struct cli_options *o, struct output **ret) {
        _cleanup_free_ char *error = NULL;

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
