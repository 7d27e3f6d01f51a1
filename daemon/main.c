/* certvigil: the command line. Parses the command's options, loads the
 * config and hands over to the module that does the work: the oneshot
 * audit, the daemon, the plan or the finding catalog. */
#include <ares.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

#include "checks.h"
#include "cli.h"
#include "daemon.h"
#include "http.h"
#include "journal.h"
#include "oneshot.h"
#include "plan.h"
#include "report.h"
#include "run.h"
#include "tls.h"
#include "util.h"

/* certvigil audit, and certvigil check HOST[:PORT] (one host audited as a
 * platform's name is, with the single-name checks only, and no state):
 * the options and the config differ, the run is the same. */
static int cmd_oneshot(const char *name, int argc, char *argv[]) {
        struct cli_options o = { 0 };
        struct config *c = NULL;
        int ret;

        ret = cli_parse(argc, argv, name, &o);
        if (ret != 0) {
                ret = ret == 1 ? EXIT_OK : ret;
                goto out;
        }
        ret = cli_load_config(&o, &c);
        if (ret != 0)
                goto out;
        ret = oneshot_audit(&o, c);
out:
        config_free(c);
        cli_options_done(&o);
        return ret;
}

static int cmd_audit(int argc, char *argv[]) {
        return cmd_oneshot("audit", argc, argv);
}

static int cmd_check(int argc, char *argv[]) {
        return cmd_oneshot("check", argc, argv);
}

static int cmd_plan(int argc, char *argv[]) {
        struct cli_options o = { 0 };
        struct config *c = NULL;
        struct report_plan *rp = NULL;
        struct output *out = NULL;
        struct plan **plans = NULL;        /* owned here; rp borrows them */
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r, ret;

        ret = cli_parse(argc, argv, "plan", &o);
        if (ret != 0) {
                ret = ret == 1 ? EXIT_OK : ret;
                goto out;
        }
        ret = cli_output_open(&o, NULL, &out);
        if (ret != 0)
                goto out;
        ret = cli_load_config(&o, &c);
        if (ret != 0)
                goto out;
        rp = xcalloc(c->n_platforms + 1, sizeof(*rp));
        plans = xcalloc(c->n_platforms + 1, sizeof(*plans));
        for (size_t i = 0; i < c->n_platforms; i++) {
                _cleanup_free_ char *error = NULL;
                if (plan_derive(c->platforms[i], &plans[i], &error) < 0) {
                        fprintf(stderr, "%s: platform '%s': %s\n", c->path ? c->path : o.values, c->platforms[i]->name,
                                error);
                        ret = EXIT_UNUSABLE;
                        goto out;
                }
                rp[i] = (struct report_plan){ .platform = c->platforms[i], .plan = plans[i] };
        }
        r = report_plan_render(rp, c->n_platforms, o.format, &text, &len);
        if (r < 0) {
                fprintf(stderr, "certvigil: cannot render the plan: %s\n", strerror(-r));
                ret = EXIT_UNUSABLE;
                goto out;
        }
        ret = cli_emit(out, text, len);
out:
        output_free(out);
        for (size_t i = 0; plans && i < c->n_platforms; i++)
                plan_free(plans[i]);
        free(plans);
        free(rp);
        config_free(c);
        cli_options_done(&o);
        return ret;
}

/* -o FILE for the daemon, checked before the first audit as audit's is.
 * A FIFO or a device would block the loop on every write: a file only.
 * *ret stays NULL without -o. 0 or an exit status. */
static int daemon_output_open(const struct cli_options *o, struct output **ret) {
        _cleanup_free_ char *state_dir = run_state_dir(o->state_dir, DEFAULT_STATE_DIR);
        int status;

        if (!o->output)
                return 0;
        status = cli_output_open(o, state_dir, ret);
        if (status != 0)
                return status;
        if (!output_replaces(*ret)) {
                fprintf(stderr, "certvigil daemon: -o %s: the daemon replaces a regular file as audits "
                                "finish (not stdout, a device or a FIFO)\n", o->output);
                return EXIT_UNUSABLE;
        }
        return 0;
}

/* The config file, checked as every reload checks it. */
static int daemon_config_check(const struct cli_options *o) {
        _cleanup_free_ char *error = NULL;

        if (run_check_config_file(o->config ? o->config : DEFAULT_CONFIG, o->values, &error) < 0) {
                fprintf(stderr, "%s\n", error);
                return EXIT_UNUSABLE;
        }
        return 0;
}

/* Runs the daemon on c (taken over) until it stops; an exit status. */
static int daemon_serve(const struct cli_options *o, struct config *c, struct output *out) {
        _cleanup_free_ char *state_dir = run_state_dir(o->state_dir, DEFAULT_STATE_DIR);
        struct daemon *d = NULL;
        int r, ret = EXIT_OK;
        struct daemon_options dopts = {
                .config_path = o->values ? NULL : o->config ? o->config : DEFAULT_CONFIG,
                .values_path = o->values,
                .ov = &o->ov,
                /* systemd's StateDirectory= says where, unless told. */
                .state_dir = state_dir,
                .no_renew = o->no_renew,
                .log_target = o->log_target,
                .output = out,
                /* The daemon's default: its text report has no snapshot. */
                .format = o->format == REPORT_TEXT ? REPORT_JSON : o->format,
        };

        r = daemon_new(&dopts, c, &d);
        if (r < 0) {
                fprintf(stderr, "certvigil: cannot set up the daemon: %s\n", strerror(-r));
                config_free(c);
                return EXIT_UNUSABLE;
        }
        r = daemon_run(d);
        if (r < 0) {
                fprintf(stderr, "certvigil: event loop failed: %s\n", strerror(-r));
                ret = EXIT_UNUSABLE;
        }
        daemon_free(d);
        return ret;
}

static int cmd_daemon(int argc, char *argv[]) {
        struct cli_options o = { 0 };
        struct config *c = NULL;
        struct output *out = NULL;
        int ret;

        ret = cli_parse(argc, argv, "daemon", &o);
        if (ret != 0) {
                ret = ret == 1 ? EXIT_OK : ret;
                goto out;
        }
        ret = daemon_output_open(&o, &out);
        if (ret != 0)
                goto out;
        ret = daemon_config_check(&o);
        if (ret != 0)
                goto out;
        ret = cli_load_config(&o, &c);
        if (ret != 0)
                goto out;
        ret = daemon_serve(&o, c, out);
out:
        output_free(out);
        cli_options_done(&o);
        return ret;
}

static void print_def(const struct finding_def *def, const struct check *c, void *userdata) {
        json_t *list = userdata;

        if (list)
                json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s?}", "id", def->id, "severity",
                                                      severity_to_string(def->severity), "message_id",
                                                      def->message_id, "summary", def->summary, "check",
                                                      c ? c->name : NULL));
        else
                printf("%-30s %-9s %s  %s\n", def->id, severity_to_string(def->severity), def->message_id,
                       def->summary);
}

static int cmd_list_findings(int argc, char *argv[]) {
        static const struct option longopts[] = {
                { "help", no_argument, NULL, 'h' },
                { "journal", no_argument, NULL, 'j' },
                { "format", required_argument, NULL, 'f' },
                {},
        };
        static const struct finding_def summary = { "audit.summary", SEVERITY_INFO, JOURNAL_SUMMARY_MESSAGE_ID,
                                                    "the summary of one audit (not a finding)" };
        bool journal = false, json = false;
        json_t *list = NULL;
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", longopts, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("Usage: certvigil list-findings [--journal] [--format text|json]\n\n"
                               "Lists every finding id: severity, journal MESSAGE_ID, meaning.\n"
                               "  --journal        also the MESSAGE_IDs of entries that are not findings "
                               "(audit.summary)\n"
                               "  --format FORMAT  text (default) or json: an array of {id, severity,\n"
                               "                   message_id, summary, check}\n");
                        return EXIT_OK;
                case 'j':
                        journal = true;
                        break;
                case 'f':
                        if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0) {
                                fprintf(stderr, "certvigil list-findings: --format must be text or json, not '%s'\n",
                                        optarg);
                                return EXIT_UNUSABLE;
                        }
                        json = strcmp(optarg, "json") == 0;
                        break;
                default:
                        return EXIT_UNUSABLE;
                }
        if (optind < argc) {
                fprintf(stderr, "certvigil list-findings: unexpected argument '%s'\n", argv[optind]);
                return EXIT_UNUSABLE;
        }
        if (json)
                list = json_array();
        checks_foreach_def(print_def, list);
        if (journal)
                print_def(&summary, NULL, list);
        if (list) {
                /* A failed write leaves stdout's error flag: main() says it. */
                (void)json_dumpf(list, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                (void)putchar('\n');
                json_decref(list);
        }
        return EXIT_OK;
}

/* What went to stdout (help, the catalog, a report without -o) must have
 * arrived: a full disk or a closed pipe is exit status 3, said, not a
 * silent success. Reports check their own writes; this catches the rest. */
static int stdout_done(int ret) {
        if (fflush(stdout) == 0 && !ferror(stdout))
                return ret;
        if (ret != EXIT_UNUSABLE)
                fprintf(stderr, "certvigil: cannot write to standard output: %s\n", strerror(errno ? errno : EIO));
        return EXIT_UNUSABLE;
}

int main(int argc, char *argv[]) {
        static const struct {
                const char *name;
                int (*fn)(int argc, char *argv[]);
        } commands[] = {
                { "audit", cmd_audit },
                { "check", cmd_check },
                { "daemon", cmd_daemon },
                { "plan", cmd_plan },
                { "list-findings", cmd_list_findings },
        };
        int ret = EXIT_UNUSABLE;

        if (argc < 2) {
                cli_help(stderr);
                return EXIT_UNUSABLE;
        }
        if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
                cli_help(stdout);
                return stdout_done(EXIT_OK);
        }
        if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
                printf("certvigil %s\n", PACKAGE_VERSION);
                return stdout_done(EXIT_OK);
        }
        for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
                if (strcmp(argv[1], commands[i].name) != 0)
                        continue;
                if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS || tls_global_init() < 0 ||
                    http_global_init() < 0) {
                        fprintf(stderr, "certvigil: cannot initialise the DNS, TLS or HTTP library\n");
                        return EXIT_UNUSABLE;
                }
                ret = commands[i].fn(argc - 1, argv + 1);
                http_global_done();
                tls_global_done();
                ares_library_cleanup();
                return stdout_done(ret);
        }
        fprintf(stderr, "certvigil: unknown command '%s'\nTry 'certvigil --help'.\n", argv[1]);
        return EXIT_UNUSABLE;
}
