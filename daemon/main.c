/* certvigil: command line. Parses arguments, loads the config, runs the
 * requested command; the work itself lives in the modules. */
#include <ares.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <systemd/sd-event.h>

#include "alert.h"
#include "ari.h"
#include "audit.h"
#include "checks.h"
#include "config.h"
#include "daemon.h"
#include "http.h"
#include "journal.h"
#include "plan.h"
#include "renewal.h"
#include "report.h"
#include "state.h"
#include "secret.h"
#include "tls.h"
#include "util.h"

#define DEFAULT_CONFIG SYSCONFDIR "/certvigil/certvigil.yaml"
#define DEFAULT_STATE_DIR LOCALSTATEDIR "/lib/certvigil"

/* Exit statuses, documented in certvigil(8). */
enum {
        EXIT_OK = 0,
        EXIT_WARNING = 1,
        EXIT_CRITICAL = 2,
        EXIT_UNUSABLE = 3,   /* could not audit: usage, config, environment */
};

struct options {
        const char *config;
        const char *values;
        const char *output;
        enum report_format format;
        int color;                 /* -1 auto */
        bool journal;
        const char *state_dir;
        int fail_on;               /* the least severity that fails; -1 never */
        bool no_renew;             /* CI: never trigger a renewal */
        bool dry_run;              /* say what would be triggered, do nothing */
        struct config_overrides ov;
};

static void options_done(struct options *o) {
        strv_free(o->ov.resolvers);
        strv_free(o->ov.only_platforms);
}

static void help(FILE *f) {
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

static void help_audit(FILE *f, const char *cmd) {
        fprintf(f,
                "Usage: certvigil %s [OPTIONS]\n"
                "\n"
                "%s\n"
                "\n"
                "Source of the platforms (one of):\n"
                "  -c --config FILE        certvigil's config (default " DEFAULT_CONFIG ")\n"
                "     --values FILE        a platform's Helm values file alone, no config needed\n"
                "\n"
                "Overrides for every platform:\n"
                "     --platform NAME      only this platform (repeatable)\n"
                "     --resolver ADDR[:PORT]  DNS resolver to ask (repeatable; 'system' for resolv.conf)\n"
                "     --port N             TLS port of the platform's endpoints\n"
                "     --trust FILE|system  trust anchors (PEM bundle) or the system store\n"
                "     --timeout DURATION   per query and per connection + handshake (e.g. 10s)\n"
                "     --deadline DURATION  the whole audit (e.g. 2m)\n"
                "\n"
                "Output:\n"
                "     --format FORMAT      text, json, junit, github or prometheus (default text)\n"
                "  -o --output FILE        write the report to FILE, atomically\n"
                "     --color / --no-color force colour on or off (default: on a terminal)\n"
                "     --journal            also write findings to the systemd journal\n"
                "     --state-dir DIR      remember open findings in DIR/state.json: the journal then\n"
                "                          gets alerts only (new, changed, resolved, reminders)\n"
                "     --fail-on warning|critical|never  which severities make the exit status\n"
                "                          non-zero (default warning)\n"
                "  -h --help               show this help\n"
                "\n"
                "Renewal (platforms with renew.enabled; the guardrails are kept in --state-dir):\n"
                "     --no-renew           never trigger a renewal (CI)\n"
                "     --dry-run            say what would be triggered and why; run nothing\n"
                "\n"
                "Exit status: 0 ok, 1 warning, 2 critical, 3 could not audit; with --state-dir, of\n"
                "the worst finding still open.\n",
                cmd,
                strcmp(cmd, "plan") == 0     ? "Prints the names, wildcard and DNS-01 challenge each platform's settings need."
                : strcmp(cmd, "daemon") == 0 ? "Audits each platform every `interval` and writes alerts to the journal; the\n"
                                               "state lives in --state-dir (default $STATE_DIRECTORY or " DEFAULT_STATE_DIR ").\n"
                                               "SIGHUP reloads the config, SIGTERM stops. --format and -o do not apply."
                                             : "Audits every platform once and exits with its worst finding.");
}

enum {
        ARG_VALUES = 0x100,
        ARG_PLATFORM,
        ARG_RESOLVER,
        ARG_PORT,
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
};

/* Returns 0 to go on, 1 when help was shown, or EXIT_UNUSABLE. */
static int parse_options(int argc, char *argv[], const char *cmd, struct options *o) {
        static const struct option longopts[] = {
                { "help", no_argument, NULL, 'h' },
                { "config", required_argument, NULL, 'c' },
                { "values", required_argument, NULL, ARG_VALUES },
                { "platform", required_argument, NULL, ARG_PLATFORM },
                { "resolver", required_argument, NULL, ARG_RESOLVER },
                { "port", required_argument, NULL, ARG_PORT },
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
        while ((c = getopt_long(argc, argv, "hc:o:", longopts, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help_audit(stdout, cmd);
                        return 1;
                case 'c':
                        o->config = optarg;
                        break;
                case ARG_VALUES:
                        o->values = optarg;
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
                case ARG_DRY_RUN:
                        o->dry_run = true;
                        break;
                case ARG_JOURNAL:
                        o->journal = true;
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
        if (optind < argc) {
                fprintf(stderr, "certvigil %s: unexpected argument '%s'\nTry 'certvigil %s --help'.\n", cmd,
                        argv[optind], cmd);
                return EXIT_UNUSABLE;
        }
        if (o->no_renew && o->dry_run) {
                fprintf(stderr, "certvigil %s: --no-renew and --dry-run exclude each other\n", cmd);
                return EXIT_UNUSABLE;
        }
        if (o->config && o->values) {
                fprintf(stderr, "certvigil %s: --config and --values exclude each other\n", cmd);
                return EXIT_UNUSABLE;
        }
        return 0;
}

static int load_config(const struct options *o, struct config **ret) {
        _cleanup_free_ char *error = NULL;
        struct config *c = NULL;
        int r;

        /* Errors come as "FILE:LINE:COL: message" or "certvigil: message". */
        r = daemon_load_config(o->config ? o->config : DEFAULT_CONFIG, o->values, &o->ov, &c, &error);
        if (r < 0) {
                fprintf(stderr, "%s\n", error ? error : strerror(-r));
                return EXIT_UNUSABLE;
        }
        *ret = c;
        return 0;
}

/* Sends the rendered report to -o FILE (atomically) or stdout. */
static int emit(const struct options *o, const char *text, size_t len) {
        if (o->output) {
                int r = write_file_atomic(o->output, text, len);
                if (r < 0) {
                        fprintf(stderr, "certvigil: cannot write %s: %s\n", o->output, strerror(-r));
                        return EXIT_UNUSABLE;
                }
                return 0;
        }
        if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
                fprintf(stderr, "certvigil: cannot write the report: %s\n", strerror(errno));
                return EXIT_UNUSABLE;
        }
        return 0;
}

static bool want_color(const struct options *o) {
        if (o->color >= 0)
                return o->color;
        return !o->output && o->format == REPORT_TEXT && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
}

struct run_state {
        size_t pending;
        sd_event *event;
        struct audit **audits;
        struct renewal **renewals; /* per platform, NULL when renewal is off */
        struct ari **aris;         /* per platform */
        struct secret_check **secrets; /* per platform */
        struct finding_list *post; /* per platform: findings made after the audit */
        size_t n;
};

static void on_renewal_done(struct renewal *r, void *userdata) {
        struct run_state *s = userdata;
        if (--s->pending == 0)
                sd_event_exit(s->event, 0);
}

/* Exit status of the worst severity under --fail-on. */
static int exit_status(int worst, int fail_on) {
        if (fail_on < 0 || worst < fail_on)
                return EXIT_OK;
        return worst == SEVERITY_CRITICAL ? EXIT_CRITICAL : worst == SEVERITY_WARNING ? EXIT_WARNING : EXIT_OK;
}

/* GitHub Actions shows this Markdown on the run's summary page. The file is
 * the runner's and others append to it too, so append, never replace. */
static void github_summary(const struct report *rep) {
        const char *path = getenv("GITHUB_STEP_SUMMARY");
        _cleanup_free_ char *md = NULL;
        size_t len;
        FILE *f;

        if (!path || !*path || report_github_summary(rep, &md, &len) < 0)
                return;
        f = fopen(path, "ae");
        if (!f || fwrite(md, 1, len, f) != len || fclose(f) != 0)
                fprintf(stderr, "certvigil: cannot append the job summary to %s: %s\n", path, strerror(errno));
}

/* --journal and --state-dir: the oneshot's share of what the daemon does
 * after every audit, into the run's journal (NULL without --journal).
 * Returns the worst severity still open (with state) or found (without). */
static int settle(const struct options *o, const struct report *rep, struct journal *journal) {
        _cleanup_free_ char *path = NULL;
        struct state *state = o->state_dir ? daemon_state_open(o->state_dir, &path) : NULL;
        time_t now = (time_t)(now_realtime_usec() / USEC_PER_SEC);
        int worst = -1;

        for (size_t i = 0; i < rep->n_platforms; i++) {
                const struct report_platform *rp = &rep->platforms[i];
                struct alert_list alerts = { 0 };
                size_t counts[3] = { 0 };
                int w;

                if (state) {
                        struct state_platform *sp = state_platform(state, rp->platform->name);
                        alert_compute(sp, rp->findings, rp->obs, now, rp->platform->remind_usec, &alerts);
                        state_platform_record_certs(sp, rp->obs, now);
                        sp->last_audit = rp->obs->started;
                        for (size_t j = 0; j < sp->n_findings; j++)
                                counts[sp->findings[j].severity]++;
                        w = state_platform_worst(sp);
                } else
                        w = finding_list_count(rp->findings, counts);
                if (w > worst)
                        worst = w;
                if (journal)
                        journal_send_audit(journal, rp->platform->name, rp->findings, rp->obs, state ? &alerts : NULL,
                                           counts, now);
                alert_list_clear(&alerts);
        }
        /* --dry-run changes no state, the alerts' included. */
        if (state && !o->dry_run) {
                int r = state_save(state, path);
                if (r < 0)
                        fprintf(stderr, "certvigil: cannot write %s: %s (alerts may repeat next time)\n", path,
                                strerror(-r));
        }
        state_free(state);
        return worst;
}

/* A renewal command's output: on stderr as always, and with --journal as
 * entries of their own. */
static void on_renew_line(const char *platform, const char *stream, const char *line, void *userdata) {
        fprintf(stderr, "certvigil: platform '%s': renew.command %s: %s\n", platform, stream, line);
        journal_send_renew_line(userdata, platform, stream, line);
}

static void on_secret_done(struct secret_check *x, void *userdata) {
        struct run_state *s = userdata;
        for (size_t i = 0; i < s->n; i++)
                if (s->secrets[i] == x) {
                        finding_list_append_all(&s->post[i], secret_check_findings(x));
                        if (!s->renewals[i])
                                break;
                        if (renewal_start(s->renewals[i], s->audits[i], &s->post[i], on_renewal_done, s) >= 0)
                                return;
                        fprintf(stderr, "certvigil: cannot start the renewal of '%s', ignoring\n",
                                audit_platform(s->audits[i])->name);
                }
        if (--s->pending == 0)
                sd_event_exit(s->event, 0);
}

static void on_ari_done(struct ari *x, void *userdata) {
        struct run_state *s = userdata;
        for (size_t i = 0; i < s->n; i++)
                if (s->aris[i] == x) {
                        finding_list_append_all(&s->post[i], ari_findings(x));
                        if (secret_check_start(s->secrets[i], s->audits[i], on_secret_done, s) >= 0)
                                return;
                }
        if (--s->pending == 0)
                sd_event_exit(s->event, 0);
}

/* ARI, the Secret, then renewal, follow their platform's audit at once, so a slow
 * platform does not hold up another's. */
static void on_audit_done(struct audit *a, void *userdata) {
        struct run_state *s = userdata;
        for (size_t i = 0; i < s->n; i++)
                if (s->audits[i] == a) {
                        if (ari_start(s->aris[i], a, on_ari_done, s) >= 0)
                                return;
                        fprintf(stderr, "certvigil: cannot poll ARI for '%s', ignoring\n", audit_platform(a)->name);
                }
        if (--s->pending == 0)
                sd_event_exit(s->event, 0);
}

/* The renewal store, when some platform renews and this run may trigger. */
static int open_store(const struct options *o, const struct config *c, struct renew_store **ret) {
        _cleanup_free_ char *warning = NULL;
        const char *dir = o->state_dir;
        bool any = false;
        struct stat sb;

        for (size_t i = 0; i < c->n_platforms; i++)
                any = any || c->platforms[i]->renew.enabled;
        if (!dir)
                dir = getenv("STATE_DIRECTORY") && *getenv("STATE_DIRECTORY") ? getenv("STATE_DIRECTORY")
                                                                              : DEFAULT_STATE_DIR;
        if (!any || o->no_renew) {
                /* ARI alone uses the state when it can (Retry-After and
                 * "moved earlier" across runs), and does without. */
                *ret = NULL;
                if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) && access(dir, W_OK) == 0)
                        (void)renew_store_open(dir, o->dry_run, ret, &warning);
                if (warning)
                        fprintf(stderr, "certvigil: %s\n", warning);
                return 0;
        }
        /* The guardrails only hold if they can be remembered. Like the alert
         * state, the directory is created when missing. */
        if (!o->dry_run && stat(dir, &sb) < 0 && errno == ENOENT)
                (void)mkdir(dir, 0700); /* judged just below, ignoring */
        if (!o->dry_run && (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode) || access(dir, W_OK) < 0)) {
                fprintf(stderr, "certvigil: renewal is enabled but the state directory %s is not a writable "
                        "directory; use --state-dir, or --no-renew\n", dir);
                return EXIT_UNUSABLE;
        }
        (void)renew_store_open(dir, o->dry_run, ret, &warning);
        if (warning)
                fprintf(stderr, "certvigil: %s\n", warning);
        return 0;
}

static int cmd_audit(int argc, char *argv[]) {
        struct options o = { 0 };
        struct config *c = NULL;
        struct audit **audits = NULL;
        struct http_cache *cache = NULL;
        struct audit_pool *pool = NULL;
        struct report_platform *rps = NULL;
        struct renewal **renewals = NULL;
        struct ari **aris = NULL;
        struct secret_check **secrets = NULL;
        struct finding_list *post = NULL;
        struct renew_store *store = NULL;
        struct finding_list *merged = NULL;
        struct journal *run_journal = NULL;   /* renewal output during the run, with --journal */
        sd_event *event = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r, ret;

        ret = parse_options(argc, argv, "audit", &o);
        if (ret != 0) {
                ret = ret == 1 ? EXIT_OK : ret;
                goto out;
        }
        ret = load_config(&o, &c);
        if (ret != 0)
                goto out;

        ret = open_store(&o, c, &store);
        if (ret != 0)
                goto out;

        ret = EXIT_UNUSABLE;
        r = sd_event_default(&event);
        if (r < 0) {
                fprintf(stderr, "certvigil: cannot create the event loop: %s\n", strerror(-r));
                goto out;
        }
        /* Platforms run side by side, within one cap on jobs in flight: the
         * largest concurrency any of them asks for, within the descriptors
         * the process may open. */
        unsigned long nofile;
        (void)fd_limit_raise(&nofile); /* sized by what we got, ignoring */
        (void)audit_pool_new(event, audit_pool_cap(c, nofile), &pool);
        /* Every platform is set up before the first packet leaves, so a bad
         * trust file or plan stops the audit with nothing sent. */
        audits = xcalloc(c->n_platforms, sizeof(*audits));
        /* One cache for the run: platforms sharing a CA fetch its CRL once. */
        cache = http_cache_new();
        for (size_t i = 0; i < c->n_platforms; i++) {
                _cleanup_free_ char *error = NULL;
                r = audit_new_pooled(pool, c->platforms[i], &audits[i], &error);
                if (r < 0) {
                        fprintf(stderr, "%s: platform '%s': %s\n", c->path ? c->path : o.values, c->platforms[i]->name,
                                error ? error : strerror(-r));
                        goto out;
                }
                audit_set_cache(audits[i], cache);
        }

        if (o.journal)
                run_journal = journal_new();
        renewals = xcalloc(c->n_platforms, sizeof(*renewals));
        aris = xcalloc(c->n_platforms, sizeof(*aris));
        secrets = xcalloc(c->n_platforms, sizeof(*secrets));
        post = xcalloc(c->n_platforms, sizeof(*post));
        for (size_t i = 0; i < c->n_platforms; i++) {
                struct renewal_options ro = { .dry_run = o.dry_run, .on_line = on_renew_line, .userdata = run_journal };
                (void)ari_new(event, c->platforms[i], store, &aris[i]);
                (void)secret_check_new(event, c->platforms[i], &secrets[i]);
                if (store && !o.no_renew && c->platforms[i]->renew.enabled)
                        (void)renewal_new(event, pool, c->platforms[i], store, &ro, &renewals[i]);
        }

        struct run_state state = {
                .pending = c->n_platforms,
                .event = event,
                .audits = audits,
                .renewals = renewals,
                .aris = aris,
                .secrets = secrets,
                .post = post,
                .n = c->n_platforms,
        };
        uint64_t started = now_monotonic_usec();
        time_t started_wall = (time_t)(now_realtime_usec() / USEC_PER_SEC);
        for (size_t i = 0; i < c->n_platforms; i++) {
                r = audit_start(audits[i], on_audit_done, &state);
                if (r < 0) {
                        fprintf(stderr, "certvigil: cannot start the audit of '%s': %s\n", c->platforms[i]->name,
                                strerror(-r));
                        goto out;
                }
        }
        r = sd_event_loop(event);
        if (r < 0) {
                fprintf(stderr, "certvigil: event loop failed: %s\n", strerror(-r));
                goto out;
        }

        /* A platform whose renewal was verified is reported as last seen,
         * followed by what renewal did. */
        rps = xcalloc(c->n_platforms, sizeof(*rps));
        merged = xcalloc(c->n_platforms, sizeof(*merged));
        for (size_t i = 0; i < c->n_platforms; i++) {
                const struct audit *a = renewals[i] && renewal_last_audit(renewals[i]) ? renewal_last_audit(renewals[i])
                                                                                       : audits[i];
                finding_list_append_all(&merged[i], audit_findings(a));
                finding_list_append_all(&merged[i], &post[i]);
                if (renewals[i])
                        finding_list_append_all(&merged[i], renewal_findings(renewals[i]));
                rps[i] = (struct report_platform){
                        .platform = audit_platform(a),
                        .plan = audit_plan(a),
                        .obs = audit_observations(a),
                        .findings = &merged[i],
                        .ari = ari_observation(aris[i]),
                        .cert_manager = renewal_certmanager_observation(renewals[i]),
                };
        }
        struct report rep = {
                .started = started_wall,
                .duration_usec = now_monotonic_usec() - started,
                .now = (time_t)(now_realtime_usec() / USEC_PER_SEC),
                .platforms = rps,
                .n_platforms = c->n_platforms,
        };
        r = report_render(&rep, o.format, want_color(&o), &text, &len);
        if (r < 0) {
                fprintf(stderr, "certvigil: cannot render the report: %s\n", strerror(-r));
                goto out;
        }
        ret = emit(&o, text, len);
        if (ret != 0)
                goto out;
        if (o.format == REPORT_GITHUB)
                github_summary(&rep);
        size_t counts[3];
        int worst = report_count(&rep, counts);
        if (o.state_dir || o.journal)
                worst = settle(&o, &rep, run_journal);
        ret = exit_status(worst, o.fail_on);
out:
        for (size_t i = 0; renewals && c && i < c->n_platforms; i++)
                renewal_free(renewals[i]);
        free(renewals);
        for (size_t i = 0; aris && c && i < c->n_platforms; i++)
                ari_free(aris[i]);
        free(aris);
        for (size_t i = 0; secrets && c && i < c->n_platforms; i++)
                secret_check_free(secrets[i]);
        free(secrets);
        for (size_t i = 0; post && c && i < c->n_platforms; i++)
                finding_list_clear(&post[i]);
        free(post);
        renew_store_free(store);
        journal_free(run_journal);
        for (size_t i = 0; merged && c && i < c->n_platforms; i++)
                finding_list_clear(&merged[i]);
        free(merged);
        for (size_t i = 0; audits && c && i < c->n_platforms; i++)
                audit_free(audits[i]);
        free(audits);
        http_cache_free(cache);
        audit_pool_free(pool);
        free(rps);
        sd_event_unref(event);
        config_free(c);
        options_done(&o);
        return ret;
}

static int cmd_plan(int argc, char *argv[]) {
        struct options o = { 0 };
        struct config *c = NULL;
        json_t *root = NULL;
        _cleanup_free_ char *text = NULL;
        int ret;

        ret = parse_options(argc, argv, "plan", &o);
        if (ret != 0) {
                ret = ret == 1 ? EXIT_OK : ret;
                goto out;
        }
        if ((o.format != REPORT_TEXT && o.format != REPORT_JSON) || o.journal || o.state_dir ||
            o.fail_on != SEVERITY_WARNING) {
                fprintf(stderr, "certvigil plan: only --format text|json; --journal, --state-dir and --fail-on are for audit\n");
                ret = EXIT_UNUSABLE;
                goto out;
        }
        ret = load_config(&o, &c);
        if (ret != 0)
                goto out;

        root = json_array();
        for (size_t i = 0; i < c->n_platforms; i++) {
                const struct platform *p = c->platforms[i];
                _cleanup_free_ char *error = NULL;
                struct plan *plan = NULL;
                if (plan_derive(p, &plan, &error) < 0) {
                        fprintf(stderr, "%s: platform '%s': %s\n", c->path ? c->path : o.values, p->name, error);
                        ret = EXIT_UNUSABLE;
                        goto out;
                }
                json_t *names = json_array();
                for (size_t j = 0; j < plan->n_names; j++)
                        json_array_append_new(names, json_pack("{s:s, s:s}", "service",
                                                               service_to_string(plan->names[j].service), "name",
                                                               plan->names[j].name));
                char sep[2] = { p->separator, 0 };
                json_t *po = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s}", "name", p->name, "base_domain",
                                       p->base_domain, "separator", sep, "tls_mode", tls_mode_to_string(p->tls_mode),
                                       "names", names, "wildcard", plan->wildcard, "challenge_name",
                                       plan->challenge_name);
                json_object_set_new(po, "dns01_zone", plan->dns01_zone ? json_string(plan->dns01_zone) : json_null());
                json_object_set_new(po, "port", json_integer(p->port));
                json_array_append_new(root, po);
                plan_free(plan);
        }

        if (o.format == REPORT_JSON) {
                json_t *doc = json_pack("{s:i, s:O}", "format", 1, "platforms", root);
                char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                json_decref(doc);
                text = xasprintf("%s\n", s ? s : "{}");
                free(s);
        } else {
                char *buf = NULL;
                size_t blen = 0;
                FILE *f = open_memstream(&buf, &blen);
                if (!f) {
                        ret = EXIT_UNUSABLE;
                        goto out;
                }
                size_t idx;
                json_t *po;
                json_array_foreach(root, idx, po) {
                        fprintf(f, "Platform %s: %s (separator \"%s\", tls.mode %s, port %lld)\n",
                                json_string_value(json_object_get(po, "name")),
                                json_string_value(json_object_get(po, "base_domain")),
                                json_string_value(json_object_get(po, "separator")),
                                json_string_value(json_object_get(po, "tls_mode")),
                                (long long)json_integer_value(json_object_get(po, "port")));
                        size_t k;
                        json_t *n;
                        json_array_foreach(json_object_get(po, "names"), k, n)
                                fprintf(f, "  %-8s %s\n", json_string_value(json_object_get(n, "service")),
                                        json_string_value(json_object_get(n, "name")));
                        fprintf(f, "  certificate must carry  %s\n", json_string_value(json_object_get(po, "wildcard")));
                        fprintf(f, "  DNS-01 challenge name   %s\n",
                                json_string_value(json_object_get(po, "challenge_name")));
                        const char *zone = json_string_value(json_object_get(po, "dns01_zone"));
                        fprintf(f, "  DNS-01 zone (dnsZone)   %s\n\n", zone ? zone : "(not set)");
                }
                fclose(f);
                text = buf;
        }
        ret = emit(&o, text, strlen(text));
out:
        json_decref(root);
        config_free(c);
        options_done(&o);
        return ret;
}

static int cmd_daemon(int argc, char *argv[]) {
        struct options o = { 0 };
        struct config *c = NULL;
        struct daemon *d = NULL;
        int r, ret;

        ret = parse_options(argc, argv, "daemon", &o);
        if (ret != 0) {
                ret = ret == 1 ? EXIT_OK : ret;
                goto out;
        }
        if (o.output || o.format != REPORT_TEXT || o.journal || o.fail_on != SEVERITY_WARNING || o.dry_run) {
                fprintf(stderr, "certvigil daemon: alerts always go to the journal; --format, --output, --journal, "
                                "--fail-on and --dry-run are for audit\n");
                ret = EXIT_UNUSABLE;
                goto out;
        }
        ret = load_config(&o, &c);
        if (ret != 0)
                goto out;
        struct daemon_options dopts = {
                .config_path = o.values ? NULL : o.config ? o.config : DEFAULT_CONFIG,
                .values_path = o.values,
                .ov = &o.ov,
                /* systemd's StateDirectory= says where, unless told. */
                .state_dir = o.state_dir      ? o.state_dir
                             : getenv("STATE_DIRECTORY") && *getenv("STATE_DIRECTORY") && !strchr(getenv("STATE_DIRECTORY"), ':')
                                 ? getenv("STATE_DIRECTORY")
                                 : DEFAULT_STATE_DIR,
                .no_renew = o.no_renew,
        };
        r = daemon_new(&dopts, c, &d);
        if (r < 0) {
                fprintf(stderr, "certvigil: cannot set up the daemon: %s\n", strerror(-r));
                config_free(c);
                ret = EXIT_UNUSABLE;
                goto out;
        }
        r = daemon_run(d);
        if (r < 0) {
                fprintf(stderr, "certvigil: event loop failed: %s\n", strerror(-r));
                ret = EXIT_UNUSABLE;
        }
out:
        daemon_free(d);
        options_done(&o);
        return ret;
}

static void print_def(const struct finding_def *def, const struct check *c, void *userdata) {
        printf("%-30s %-9s %s  %s\n", def->id, severity_to_string(def->severity), def->message_id, def->summary);
}

static int cmd_list_findings(int argc, char *argv[]) {
        if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
                printf("Usage: certvigil list-findings [--journal]\n\nLists every finding id: severity, journal MESSAGE_ID, meaning.\n"
                       "With --journal, also the MESSAGE_IDs of entries that are not findings (audit.summary).\n");
                return EXIT_OK;
        }
        if (argc == 2 && strcmp(argv[1], "--journal") == 0) {
                checks_foreach_def(print_def, NULL);
                printf("%-30s %-9s %s  %s\n", "audit.summary", "info", JOURNAL_SUMMARY_MESSAGE_ID,
                       "the summary of one audit (not a finding)");
                return EXIT_OK;
        }
        if (argc > 1) {
                fprintf(stderr, "certvigil list-findings: unexpected argument '%s'\n", argv[1]);
                return EXIT_UNUSABLE;
        }
        checks_foreach_def(print_def, NULL);
        return EXIT_OK;
}

int main(int argc, char *argv[]) {
        static const struct {
                const char *name;
                int (*fn)(int argc, char *argv[]);
        } commands[] = {
                { "audit", cmd_audit },
                { "daemon", cmd_daemon },
                { "plan", cmd_plan },
                { "list-findings", cmd_list_findings },
        };
        int ret = EXIT_UNUSABLE;

        if (argc < 2) {
                help(stderr);
                return EXIT_UNUSABLE;
        }
        if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
                help(stdout);
                return EXIT_OK;
        }
        if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
                printf("certvigil %s\n", PACKAGE_VERSION);
                return EXIT_OK;
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
                return ret;
        }
        fprintf(stderr, "certvigil: unknown command '%s'\nTry 'certvigil --help'.\n", argv[1]);
        return EXIT_UNUSABLE;
}
