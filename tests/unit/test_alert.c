/* The alert discipline (daemon/state/alert.c) as a table of audits over one
 * platform's state, and the state file (daemon/state/state.c): round trip and
 * every kind of damaged file. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cpu-bound.h"

#include "alert.h"
#include "checks.h"
#include "group.h"
#include "journal.h"
#include "state.h"
#include "util.h"

#define T0 ((time_t)1795702927)
#define HOUR 3600
#define DAY (24 * HOUR)
#define REMIND (24 * 3600 * USEC_PER_SEC)

/* One finding of an audit: "id severity name address" ("-" for none). */
struct row {
        const char *desc;
        time_t at;                  /* seconds after T0 */
        const char *findings[4];
        const char *obs;            /* NULL: no observations; else see make_obs() */
        const char *alerts;         /* "kind id sev name address;" for each alert, in order */
        size_t open;                /* open findings afterwards */
};

/* Observations from a tiny language: "name=STATUS" for a name's DNS status
 * (ok, nxdomain, notrun) and "name@address=STATUS" for an endpoint (ok,
 * refused, notrun), space separated. */
static struct platform_obs *make_obs(const char *spec) {
        struct platform_obs *o = xcalloc(1, sizeof(*o));
        o->names = xcalloc(8, sizeof(*o->names));
        o->endpoints = xcalloc(8, sizeof(*o->endpoints));
        for (const char *p = spec; *p;) {
                size_t len = strcspn(p, " ");
                _cleanup_free_ char *tok = xstrndup(p, len);
                char *eq = strchr(tok, '='), *at = strchr(tok, '@');
                p += len + strspn(p + len, " ");
                *eq = 0;
                if (at) {
                        *at = 0;
                        o->endpoints[o->n_endpoints++] = (struct endpoint_obs){
                                .name = xstrdup(tok),
                                .address = xstrdup(at + 1),
                                .status = strcmp(eq + 1, "ok") == 0        ? ENDPOINT_OK
                                          : strcmp(eq + 1, "notrun") == 0 ? ENDPOINT_NOT_RUN
                                                                          : ENDPOINT_CONNECT_FAILED,
                        };
                } else
                        o->names[o->n_names++] = (struct name_obs){
                                .name = xstrdup(tok),
                                .status = strcmp(eq + 1, "ok") == 0       ? DNS_STATUS_OK
                                          : strcmp(eq + 1, "notrun") == 0 ? DNS_STATUS_NOT_RUN
                                                                          : DNS_STATUS_NXDOMAIN,
                        };
        }
        return o;
}

static void emit(struct finding_list *l, const char *spec) {
        char id[64], sev[16], name[64], address[64];
        assert_int_equal(sscanf(spec, "%63s %15s %63s %63s", id, sev, name, address), 4);
        const struct finding_def *def = checks_find_def(id);
        assert_non_null(def);
        int s = severity_from_string(sev);
        assert_true(s >= 0);
        finding_emit_severity(l, def, (enum severity)s, strcmp(name, "-") ? name : NULL,
                              strcmp(address, "-") ? address : NULL, "%s on %s", id, name);
}

static char *describe(const struct alert_list *l) {
        char *s = xstrdup("");
        for (size_t i = 0; i < l->n; i++) {
                const struct alert *a = &l->items[i];
                char *n = xasprintf("%s%s %s %s %s %s;", s, alert_kind_to_string(a->kind), a->f.id,
                                    severity_to_string(a->f.severity), a->f.name ? a->f.name : "-",
                                    a->f.address ? a->f.address : "-");
                free(s);
                s = n;
        }
        return s;
}

/* Each table is one platform's life: rows run in order on one state.
 * Twice: with the observations, and with the summary a streamed oneshot
 * settles with once a platform's report is written
 * (platform_obs_summary()), which must judge the same. */
static void run_table(const struct row *rows, size_t n) {
        for (int pass = 0; pass < 2; pass++) {
                struct state *st = state_new();
                struct state_platform *sp = state_platform(st, "p");

                for (size_t i = 0; i < n; i++) {
                        struct finding_list fl = { 0 };
                        struct alert_list al = { 0 };
                        struct platform_obs *obs = rows[i].obs ? make_obs(rows[i].obs) : NULL;

                        if (obs && pass == 1) {
                                struct platform_obs *summary = platform_obs_summary(obs);
                                platform_obs_free(obs);
                                obs = summary;
                        }
                        for (size_t j = 0; j < ELEMENTSOF(rows[i].findings) && rows[i].findings[j]; j++)
                                emit(&fl, rows[i].findings[j]);
                        alert_compute(sp, &fl, obs, T0 + rows[i].at, REMIND, &al);
                        _cleanup_free_ char *got = describe(&al);
                        if (strcmp(got, rows[i].alerts) != 0 || sp->n_findings != rows[i].open)
                                fail_msg("%s%s:\n  alerts %s\n  want   %s\n  open %zu, want %zu", rows[i].desc,
                                         pass ? " (summary)" : "", got, rows[i].alerts, sp->n_findings, rows[i].open);
                        alert_list_clear(&al);
                        finding_list_clear(&fl);
                        platform_obs_free(obs);
                }
                state_free(st);
        }
}

#define EXP_A "tls.expiry.warning warning api.x 192.0.2.1"
#define EXP_A_CRIT "tls.expiry.critical critical api.x 192.0.2.1"
#define EXP_A_RAISED "tls.expiry.warning critical api.x 192.0.2.1"
#define CONN_B "tls.connect.failed critical api.x 192.0.2.2"
#define DNS_C "dns.resolve.failed critical auth.x -"
#define INFO "check.error info - -"

static void test_lifecycle(void **state) {
        static const struct row rows[] = {
                { "appears", 0, { EXP_A }, NULL, "new tls.expiry.warning warning api.x 192.0.2.1;", 1 },
                { "persists: not an alert", HOUR, { EXP_A }, NULL, "", 1 },
                { "persists a day less a second", DAY - 1, { EXP_A }, NULL, "", 1 },
                { "a day after the alert: reminder", DAY, { EXP_A }, NULL,
                  "reminder tls.expiry.warning warning api.x 192.0.2.1;", 1 },
                { "right after the reminder: quiet", DAY + 60, { EXP_A }, NULL, "", 1 },
                { "severity raised by the check: changed", DAY + 120, { EXP_A_RAISED }, NULL,
                  "changed tls.expiry.warning critical api.x 192.0.2.1;", 1 },
                { "a second problem appears beside it", DAY + 180, { EXP_A_RAISED, CONN_B }, NULL,
                  "new tls.connect.failed critical api.x 192.0.2.2;", 2 },
                { "the same finding twice in one audit is one", DAY + 240, { EXP_A_RAISED, CONN_B, CONN_B }, NULL, "", 2 },
                { "both gone (no observations: absence resolves)", DAY + 300, { NULL }, NULL,
                  "resolved tls.expiry.warning critical api.x 192.0.2.1;resolved tls.connect.failed critical api.x 192.0.2.2;",
                  0 },
                { "nothing open, nothing said", DAY + 360, { NULL }, NULL, "", 0 },
        };
        run_table(rows, ELEMENTSOF(rows));
}

static void test_judged(void **state) {
        static const struct row rows[] = {
                { "two problems", 0, { EXP_A, DNS_C }, NULL,
                  "new tls.expiry.warning warning api.x 192.0.2.1;new dns.resolve.failed critical auth.x -;", 2 },
                { "endpoint not reachable this time: carried, not resolved", HOUR, { NULL },
                  "api.x=ok api.x@192.0.2.1=refused auth.x=notrun", "", 2 },
                { "deadline before the endpoint: carried", 2 * HOUR, { NULL }, "api.x=ok api.x@192.0.2.1=notrun auth.x=notrun",
                  "", 2 },
                { "carried findings are reminded too", DAY, { NULL }, "api.x=ok api.x@192.0.2.1=notrun auth.x=notrun",
                  "reminder tls.expiry.warning warning api.x 192.0.2.1;reminder dns.resolve.failed critical auth.x -;", 2 },
                { "the name resolves: the DNS finding is resolved", DAY + HOUR, { NULL },
                  "api.x=ok api.x@192.0.2.1=notrun auth.x=ok", "resolved dns.resolve.failed critical auth.x -;", 1 },
                { "the name resolves without the address: resolved", DAY + 2 * HOUR, { NULL },
                  "api.x=ok api.x@192.0.2.9=ok", "resolved tls.expiry.warning warning api.x 192.0.2.1;", 0 },
        };
        run_table(rows, ELEMENTSOF(rows));
}

static void test_handshake_resolves(void **state) {
        static const struct row rows[] = {
                { "appears", 0, { EXP_A }, NULL, "new tls.expiry.warning warning api.x 192.0.2.1;", 1 },
                { "handshake completed without the finding: resolved", HOUR, { NULL }, "api.x=ok api.x@192.0.2.1=ok",
                  "resolved tls.expiry.warning warning api.x 192.0.2.1;", 0 },
        };
        run_table(rows, ELEMENTSOF(rows));
}

static void test_superseded_and_info(void **state) {
        static const struct row rows[] = {
                { "warning", 0, { EXP_A }, NULL, "new tls.expiry.warning warning api.x 192.0.2.1;", 1 },
                { "becomes critical: a new finding, the warning is superseded, not resolved", HOUR, { EXP_A_CRIT },
                  "api.x=ok api.x@192.0.2.1=ok", "new tls.expiry.critical critical api.x 192.0.2.1;", 1 },
                { "an info finding appears", 2 * HOUR, { EXP_A_CRIT, INFO }, NULL, "new check.error info - -;", 2 },
                { "info is never reminded", 2 * DAY, { EXP_A_CRIT, INFO }, NULL,
                  "reminder tls.expiry.critical critical api.x 192.0.2.1;", 2 },
                { "info going away is not news", 2 * DAY + 1, { EXP_A_CRIT }, NULL, "", 1 },
        };
        run_table(rows, ELEMENTSOF(rows));
}

/* ---- grouped findings (one per root cause) ------------------------------ */

static char *scratch(const char *content);
static void scratch_done(char *path);

/* A grouped finding as checks/group.c makes it: targets "name@address ...",
 * the first being its name and address. */
static void emit_grouped(struct finding_list *l, const char *id, enum severity sev, const char *subject,
                         const char *targets, const char *caused_by) {
        struct finding *f;

        finding_emit_severity(l, checks_find_def(id), sev, NULL, NULL, "%s about %s", id, subject);
        f = &l->items[l->n - 1];
        f->subject = xstrdup(subject);
        f->caused_by = caused_by ? checks_find_def(caused_by) : NULL;
        for (const char *p = targets; *p;) {
                size_t len = strcspn(p, " ");
                _cleanup_free_ char *t = xstrndup(p, len);
                char *at = strchr(t, '@');
                *at = 0;
                f->affected = xrealloc(f->affected, (f->n_affected + 1) * sizeof(*f->affected));
                f->affected[f->n_affected++] = (struct finding_target){ xstrdup(t), xstrdup(at + 1), 443 };
                p += len + strspn(p + len, " ");
        }
        f->name = xstrdup(f->affected[0].name);
        f->address = xstrdup(f->affected[0].address);
}

static void state_open(struct state_platform *sp, const char *id, enum severity sev, const char *name,
                       const char *address, time_t first) {
        sp->findings = xrealloc(sp->findings, (sp->n_findings + 1) * sizeof(*sp->findings));
        sp->findings[sp->n_findings++] = (struct state_finding){
                .id = xstrdup(id), .severity = sev, .name = xstrdup(name), .address = xstrdup(address),
                .message = xstrdup("old"), .first_seen = first, .last_alerted = first,
        };
}

static void test_grouped_identity(void **state) {
        struct state *st = state_new();
        struct state_platform *sp = state_platform(st, "p");
        struct finding_list fl = { 0 };
        struct alert_list al = { 0 };
        _cleanup_free_ char *got = NULL;

        /* A format 1 state: one entry per endpoint, and an overdue renewal. */
        state_open(sp, "tls.expiry.critical", SEVERITY_CRITICAL, "api.x", "192.0.2.2", T0);
        state_open(sp, "tls.expiry.critical", SEVERITY_CRITICAL, "console.x", "192.0.2.2", T0);
        state_open(sp, "tls.expiry.critical", SEVERITY_CRITICAL, "grafana.x", "192.0.2.2", T0);
        state_open(sp, "tls.renewal.overdue", SEVERITY_WARNING, "api.x", "192.0.2.2", T0);

        /* Upgraded: the same problems grouped, the renewal folded under the
         * expiry. No storm: nothing new, nothing resolved. */
        emit_grouped(&fl, "tls.expiry.critical", SEVERITY_CRITICAL, "cert aa",
                     "api.x@192.0.2.2 console.x@192.0.2.2 grafana.x@192.0.2.2", NULL);
        emit_grouped(&fl, "tls.renewal.overdue", SEVERITY_WARNING, "cert aa",
                     "api.x@192.0.2.2 console.x@192.0.2.2 grafana.x@192.0.2.2", "tls.expiry.critical");
        alert_compute(sp, &fl, NULL, T0 + HOUR, REMIND, &al);
        got = describe(&al);
        assert_string_equal(got, "");
        assert_int_equal(sp->n_findings, 1);
        assert_string_equal(sp->findings[0].subject, "cert aa");
        assert_int_equal(sp->findings[0].first_seen, T0);
        alert_list_clear(&al);
        finding_list_clear(&fl);

        /* The same certificate, its first endpoint gone: the same problem. */
        emit_grouped(&fl, "tls.expiry.critical", SEVERITY_CRITICAL, "cert aa",
                     "console.x@192.0.2.2 grafana.x@192.0.2.2", NULL);
        alert_compute(sp, &fl, NULL, T0 + 2 * HOUR, REMIND, &al);
        free(got);
        got = describe(&al);
        assert_string_equal(got, "");
        assert_int_equal(sp->n_findings, 1);
        alert_list_clear(&al);
        finding_list_clear(&fl);

        /* Reminded once a day, once for the whole group. */
        emit_grouped(&fl, "tls.expiry.critical", SEVERITY_CRITICAL, "cert aa",
                     "console.x@192.0.2.2 grafana.x@192.0.2.2", NULL);
        alert_compute(sp, &fl, NULL, T0 + DAY, REMIND, &al);
        free(got);
        got = describe(&al);
        assert_string_equal(got, "reminder tls.expiry.critical critical console.x 192.0.2.2;");
        alert_list_clear(&al);
        finding_list_clear(&fl);

        /* Another certificate with the same trouble: a new problem, the old
         * one resolved. */
        emit_grouped(&fl, "tls.expiry.critical", SEVERITY_CRITICAL, "cert bb", "api.x@192.0.2.3", NULL);
        alert_compute(sp, &fl, NULL, T0 + DAY + HOUR, REMIND, &al);
        free(got);
        got = describe(&al);
        assert_string_equal(got, "new tls.expiry.critical critical api.x 192.0.2.3;"
                                 "resolved tls.expiry.critical critical console.x 192.0.2.2;");
        alert_list_clear(&al);
        finding_list_clear(&fl);

        /* A folded finding is never an alert, and its cause gone makes it
         * one. */
        emit_grouped(&fl, "tls.expiry.critical", SEVERITY_CRITICAL, "cert bb", "api.x@192.0.2.3", NULL);
        emit_grouped(&fl, "tls.renewal.overdue", SEVERITY_WARNING, "cert bb", "api.x@192.0.2.3", "tls.expiry.critical");
        alert_compute(sp, &fl, NULL, T0 + DAY + 2 * HOUR, REMIND, &al);
        free(got);
        got = describe(&al);
        assert_string_equal(got, "");
        alert_list_clear(&al);
        finding_list_clear(&fl);
        emit_grouped(&fl, "tls.renewal.overdue", SEVERITY_WARNING, "cert bb", "api.x@192.0.2.3", NULL);
        alert_compute(sp, &fl, NULL, T0 + DAY + 3 * HOUR, REMIND, &al);
        free(got);
        got = describe(&al);
        assert_string_equal(got, "new tls.renewal.overdue warning api.x 192.0.2.3;"
                                 "resolved tls.expiry.critical critical api.x 192.0.2.3;");
        alert_list_clear(&al);
        finding_list_clear(&fl);
        state_free(st);
}

static void test_state_subject_roundtrip(void **state) {
        struct state *s = state_new(), *back = NULL;
        struct state_platform *sp = state_platform(s, "p");
        _cleanup_free_ char *error = NULL;
        char *path = scratch(NULL);

        state_open(sp, "tls.expiry.critical", SEVERITY_CRITICAL, "api.x", "192.0.2.2", T0);
        sp->findings[0].subject = xstrdup("cert aa");
        assert_int_equal(state_save(s, path), 0);
        assert_int_equal(state_load(path, &back, &error), 0);
        assert_string_equal(state_platform(back, "p")->findings[0].subject, "cert aa");
        state_free(s);
        state_free(back);
        scratch_done(path);
}

/* ---- state.json ---------------------------------------------------------- */

static char *scratch(const char *content) {
        char *dir = xstrdup("/tmp/certvigil-test-state.XXXXXX");
        assert_non_null(mkdtemp(dir));
        char *path = xasprintf("%s/state.json", dir);
        free(dir);
        if (content) {
                FILE *f = fopen(path, "w");
                assert_non_null(f);
                fputs(content, f);
                fclose(f);
        }
        return path;
}

static void scratch_done(char *path) {
        unlink(path);
        *strrchr(path, '/') = 0;
        rmdir(path);
        free(path);
}

static void test_state_roundtrip(void **state) {
        char *path = scratch(NULL);
        struct state *s = state_new(), *back = NULL;
        struct state_platform *sp = state_platform(s, "prod");
        struct finding_list fl = { 0 };
        struct alert_list al = { 0 };
        struct platform_obs *obs = make_obs("api.x=ok api.x@192.0.2.1=ok");
        _cleanup_free_ char *error = NULL;

        obs->endpoints[0].port = 443;
        obs->endpoints[0].n_chain = 1;
        obs->endpoints[0].chain = xcalloc(1, sizeof(struct cert_obs));
        obs->endpoints[0].chain[0] = (struct cert_obs){ .sha256 = xstrdup("ab"), .issuer = xstrdup("CN=i"),
                                                         .subject = xstrdup("CN=s"), .not_after = T0 + DAY };
        emit(&fl, EXP_A);
        emit(&fl, DNS_C);
        alert_compute(sp, &fl, NULL, T0, REMIND, &al);
        /* From the summary, as a streamed oneshot settles: the leaf's
         * fields and the port must survive it. */
        struct platform_obs *summary = platform_obs_summary(obs);
        state_platform_record_certs(sp, summary, T0);
        platform_obs_free(summary);
        sp->last_audit = T0;
        assert_int_equal(state_save(s, path), 0);

        assert_int_equal(state_load(path, &back, &error), 0);
        assert_int_equal(back->n_platforms, 1);
        struct state_platform *bp = &back->platforms[0];
        assert_string_equal(bp->name, "prod");
        assert_int_equal(bp->last_audit, T0);
        assert_int_equal(bp->n_findings, 2);
        assert_string_equal(bp->findings[0].id, "tls.expiry.warning");
        assert_int_equal(bp->findings[0].severity, SEVERITY_WARNING);
        assert_string_equal(bp->findings[0].address, "192.0.2.1");
        assert_null(bp->findings[1].address);
        assert_int_equal(bp->findings[1].first_seen, T0);
        const struct state_cert *c = state_platform_cert(bp, "api.x", "192.0.2.1");
        assert_non_null(c);
        assert_string_equal(c->sha256, "ab");
        assert_int_equal(c->not_after, T0 + DAY);
        assert_int_equal(c->port, 443);
        assert_int_equal(state_platform_worst(bp), SEVERITY_CRITICAL);

        /* The loaded state carries the discipline on: nothing new to say. */
        alert_list_clear(&al);
        alert_compute(bp, &fl, NULL, T0 + HOUR, REMIND, &al);
        assert_int_equal(al.n, 0);

        alert_list_clear(&al);
        finding_list_clear(&fl);
        platform_obs_free(obs);
        state_free(s);
        state_free(back);
        scratch_done(path);
}

static void test_state_damaged(void **state) {
        static const struct {
                const char *content;      /* NULL: no file */
                int ret;
                const char *error;        /* expected suffix after "PATH" */
        } cases[] = {
                { NULL, -ENOENT, NULL },
                { "", -EINVAL, ":1:0: '[' or '{' expected near end of file" },
                { "{\"format\": 1, \"platforms\": [", -EINVAL, ":1:" },
                { "\x01\xff", -EINVAL, ":1:" },
                { "[]", -EINVAL, ": not a certvigil state file of format 1 or 2" },
                { "{\"format\": 3, \"platforms\": []}", -EINVAL, ": not a certvigil state file of format 1 or 2" },
                { "{\"format\": 0, \"platforms\": []}", -EINVAL, ": not a certvigil state file of format 1 or 2" },
                { "{\"format\": 1}", -EINVAL, ": no platforms list" },
                { "{\"format\": 1, \"platforms\": [{\"name\": \"p\", \"findings\": 3, \"certificates\": []}]}", -EINVAL,
                  ": a platform without its findings or certificates list" },
                { "{\"format\": 1, \"platforms\": [{\"name\": \"p\", \"last_audit\": 1, \"findings\": [{\"id\": "
                  "\"tls.expiry.warning\", \"severity\": \"bad\", \"first_seen\": 1, \"last_alerted\": 1}], "
                  "\"certificates\": []}]}",
                  -EINVAL, ": a finding with a missing or mistyped field" },
                { "{\"format\": 1, \"platforms\": [{\"name\": \"p\", \"last_audit\": 1, \"findings\": [], "
                  "\"certificates\": [{\"name\": \"a\", \"address\": \"b\", \"port\": 70000, \"not_after\": 1, \"seen\": 1}]}]}",
                  -EINVAL, ": a certificate with a missing or mistyped field" },
                { "{\"format\": 1, \"format\": 1, \"platforms\": []}", -EINVAL, ":1:" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *path = scratch(cases[i].content);
                struct state *s = NULL;
                char *error = NULL;
                int r = state_load(path, &s, &error);
                if (r != cases[i].ret)
                        fail_msg("case %zu: %d, want %d (%s)", i, r, cases[i].ret, error ? error : "-");
                assert_null(s);
                if (cases[i].error) {
                        assert_non_null(error);
                        if (strncmp(error, path, strlen(path)) != 0 ||
                            strncmp(error + strlen(path), cases[i].error, strlen(cases[i].error)) != 0)
                                fail_msg("case %zu: error '%s', want '%s%s...'", i, error, path, cases[i].error);
                }
                free(error);
                scratch_done(path);
        }
}

static void test_state_unknown_id_dropped(void **state) {
        char *path = scratch("{\"format\": 1, \"platforms\": [{\"name\": \"p\", \"last_audit\": 5, \"findings\": ["
                             "{\"id\": \"no.such.finding\", \"severity\": \"critical\", \"first_seen\": 1, \"last_alerted\": 1},"
                             "{\"id\": \"tls.expiry.warning\", \"severity\": \"warning\", \"name\": \"a\", \"first_seen\": 1, "
                             "\"last_alerted\": 2}], \"certificates\": []}]}");
        struct state *s = NULL;
        char *error = NULL;
        assert_int_equal(state_load(path, &s, &error), 0);
        assert_int_equal(s->platforms[0].n_findings, 1);
        assert_string_equal(s->platforms[0].findings[0].id, "tls.expiry.warning");
        assert_string_equal(s->platforms[0].findings[0].message, "");
        state_free(s);
        scratch_done(path);
}

/* ---- bounds -------------------------------------------------------------- */

/* An audit of 4 endpoints of api.x at addresses that change every time
 * (10.0.AUDIT.1-4), each serving a certificate. */
static struct platform_obs *churn_obs(unsigned audit) {
        struct platform_obs *o = xcalloc(1, sizeof(*o));
        o->endpoints = xcalloc(4, sizeof(*o->endpoints));
        for (unsigned i = 0; i < 4; i++) {
                struct endpoint_obs *e = &o->endpoints[o->n_endpoints++];
                *e = (struct endpoint_obs){ .name = xstrdup("api.x"), .address = xasprintf("10.0.%u.%u", audit, i + 1),
                                            .port = 443, .status = ENDPOINT_OK, .n_chain = 1 };
                e->chain = xcalloc(1, sizeof(struct cert_obs));
                e->chain[0] = (struct cert_obs){ .sha256 = xstrdup("ab"), .issuer = xstrdup("CN=i"),
                                                 .subject = xstrdup("CN=s"), .not_after = T0 + 90 * DAY };
        }
        return o;
}

static void test_state_cert_churn(void **state) {
        struct state *s = state_new();
        struct state_platform *sp = state_platform(s, "prod");
        char *path = scratch(NULL);
        struct platform_obs *obs;
        struct stat st;

        /* 30 hourly audits, 120 addresses seen in all: the 4 of the last
         * audit and the 16 newest before them stay. */
        for (unsigned a = 0; a < 30; a++) {
                obs = churn_obs(a);
                state_platform_record_certs(sp, obs, T0 + a * HOUR);
                platform_obs_free(obs);
        }
        assert_int_equal(sp->n_certs, 4 + STATE_CERT_HISTORY);
        for (unsigned i = 1; i <= 4; i++) {
                _cleanup_free_ char *now = xasprintf("10.0.29.%u", i), *newest = xasprintf("10.0.25.%u", i),
                                    *gone = xasprintf("10.0.24.%u", i);
                assert_non_null(state_platform_cert(sp, "api.x", now));
                assert_non_null(state_platform_cert(sp, "api.x", newest));
                assert_null(state_platform_cert(sp, "api.x", gone));
        }
        assert_int_equal(state_save(s, path), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_true(st.st_size < 8192);

        /* An endpoint that could not be probed keeps its certificate; the
         * history ends after STATE_CERT_KEEP_SEC. */
        obs = churn_obs(29);
        obs->endpoints[0].status = ENDPOINT_CONNECT_FAILED;
        cert_obs_done(&obs->endpoints[0].chain[0]); /* n_chain 0: no longer freed with the endpoint */
        obs->endpoints[0].n_chain = 0;
        state_platform_record_certs(sp, obs, T0 + 29 * HOUR + STATE_CERT_KEEP_SEC + 1);
        platform_obs_free(obs);
        assert_int_equal(sp->n_certs, 4);
        assert_int_equal(state_platform_cert(sp, "api.x", "10.0.29.1")->seen, T0 + 29 * HOUR);
        state_free(s);
        scratch_done(path);
}

static void test_state_prune_platforms(void **state) {
        static const char *const configured[] = { "prod", "lab" };
        struct state *s = state_new();
        time_t now = T0 + 30 * DAY;

        state_platform(s, "prod")->last_audit = T0;                                     /* configured, old */
        state_platform(s, "removed")->last_audit = now - STATE_PLATFORM_KEEP_SEC - 1;   /* gone */
        state_platform(s, "elsewhere")->last_audit = now - STATE_PLATFORM_KEEP_SEC;     /* another config's */
        state_platform(s, "lab")->last_audit = T0;
        state_prune_platforms(s, configured, ELEMENTSOF(configured), now);
        assert_int_equal(s->n_platforms, 3);
        assert_string_equal(s->platforms[0].name, "prod");
        assert_string_equal(s->platforms[1].name, "elsewhere");
        assert_string_equal(s->platforms[2].name, "lab");
        /* Found by name after the array moved, the pruned one gone. */
        assert_null(state_platform_find(s, "removed"));
        assert_ptr_equal(state_platform_find(s, "lab"), &s->platforms[2]);
        assert_ptr_equal(state_platform(s, "prod"), &s->platforms[0]);
        assert_int_equal(s->n_platforms, 3);
        state_free(s);
}

/* Each platform found by name in constant time: the daemon looks every
 * platform up on each platform's audit (its status line, the state
 * file's load). It was a linear search: 50,000 platforms took seconds. */
#define MANY_PLATFORMS 50000
#define MANY_CPU_BOUND_USEC (1 * USEC_PER_SEC)

static void test_state_many_platforms(void **state) {
        struct state *s = state_new();
        uint64_t t0 = test_cpu_usec();

        for (size_t i = 0; i < MANY_PLATFORMS; i++) {
                _cleanup_free_ char *name = xasprintf("p%zu", i);
                state_platform(s, name)->last_audit = T0;
        }
        for (size_t i = 0; i < MANY_PLATFORMS; i++) {
                _cleanup_free_ char *name = xasprintf("p%zu", i);
                const struct state_platform *sp = state_platform_find(s, name);
                assert_non_null(sp);
                assert_string_equal(sp->name, name);
                assert_ptr_equal(state_platform(s, name), sp);
        }
        assert_int_equal(s->n_platforms, MANY_PLATFORMS);
        state_prune_platforms(s, NULL, 0, T0 + STATE_PLATFORM_KEEP_SEC + 1); /* all old, none configured */
        assert_int_equal(s->n_platforms, 0);
        assert_null(state_platform_find(s, "p0"));
        test_cpu_within("50,000 platforms added, found and pruned", test_cpu_usec() - t0, MANY_CPU_BOUND_USEC);
        state_free(s);
}

static void test_state_too_large(void **state) {
        char *path = scratch("{\"format\": 1, \"platforms\": []}");
        struct state *s = NULL;
        _cleanup_free_ char *error = NULL;

        assert_int_equal(truncate(path, (off_t)STATE_FILE_MAX_BYTES), 0);
        assert_int_equal(state_load(path, &s, &error), -EINVAL); /* NUL bytes after the object: read, refused */
        error = mfree(error);
        assert_int_equal(truncate(path, (off_t)STATE_FILE_MAX_BYTES + 1), 0);
        assert_int_equal(state_load(path, &s, &error), -EFBIG);
        assert_null(s);
        assert_non_null(error);
        assert_non_null(strstr(error, path));
        assert_non_null(strstr(error, "more than the 16 MiB"));
        scratch_done(path);
}

/* A state.json that is a FIFO (or a directory) is not a state file: it is
 * refused at once, not waited on. Opening a FIFO without O_NONBLOCK waits
 * for a writer that never comes, and the oneshot or daemon hung there; the
 * alarm turns such a hang into a failure. */
static void test_state_not_regular(void **state) {
        char *path = scratch(NULL);
        struct state *s = NULL;

        alarm(5);
        for (int round = 0; round < 2; round++) {
                _cleanup_free_ char *error = NULL;
                assert_int_equal(round == 0 ? mkfifo(path, 0600) : mkdir(path, 0700), 0);
                assert_int_equal(state_load(path, &s, &error), -EINVAL);
                assert_null(s);
                assert_non_null(error);
                assert_non_null(strstr(error, path));
                assert_non_null(strstr(error, "not a regular file"));
                assert_int_equal(round == 0 ? unlink(path) : rmdir(path), 0);
        }
        alarm(0);
        scratch_done(path);
}

/* A state.lock that is a FIFO is refused at once, naming it. One this
 * user may not write (a person's run beside the daemon's state directory)
 * was opened read-only without O_NONBLOCK, which waits for a writer that
 * never comes: run as another user (as root) or from a 0444 FIFO, in a
 * child the alarm ends should it hang. */
static void test_state_lock_not_regular(void **state) {
        char dir[] = "/tmp/certvigil-test-lock.XXXXXX";
        _cleanup_free_ char *lock = NULL;
        int status = 0;
        pid_t pid;

        assert_non_null(mkdtemp(dir));
        assert_int_equal(chmod(dir, 0755), 0);
        lock = xasprintf("%s/%s", dir, STATE_LOCK_FILE);
        assert_int_equal(mkfifo(lock, 0444), 0);
        assert_int_equal(chmod(lock, 0444), 0);   /* whatever the umask */
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                _cleanup_free_ char *error = NULL;
                int fd = -1, r;

                if (getuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
                        _exit(2);
                alarm(5);
                r = state_lock(dir, &fd, &error);
                _exit(r == -EINVAL && fd == -1 && error && strstr(error, lock) &&
                                      strstr(error, "not a regular file")
                              ? 0
                              : 1);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));           /* not killed by the alarm */
        assert_int_equal(WEXITSTATUS(status), 0);
        unlink(lock);
        rmdir(dir);
}

/* A state file of many platforms loads in time proportional to its size
 * and far below the bound: the daemon reads and writes it once per
 * platform audit. It was read a byte per read(2): 8,000 platforms (8 MB)
 * took over a second of CPU to load, in system calls. */
#define LARGE_PLATFORMS 8000
#define LARGE_CPU_BOUND_USEC (1 * USEC_PER_SEC)

static void test_state_load_large(void **state) {
        struct state *s = state_new(), *back = NULL;
        _cleanup_free_ char *error = NULL;
        char *path = scratch(NULL);
        struct stat st;

        for (size_t i = 0; i < LARGE_PLATFORMS; i++) {
                _cleanup_free_ char *name = xasprintf("platform-%05zu", i);
                struct state_platform *sp = state_platform(s, name);
                sp->last_audit = T0;
                for (int k = 0; k < 5; k++) {
                        _cleanup_free_ char *host = xasprintf("name%d-%s.example.test", k, name);
                        state_open(sp, "tls.expiry.critical", SEVERITY_CRITICAL, host, "192.0.2.2", T0);
                }
        }
        assert_int_equal(state_save(s, path), 0);
        assert_int_equal(stat(path, &st), 0);
        uint64_t t0 = test_cpu_usec();
        assert_int_equal(state_load(path, &back, &error), 0);
        uint64_t spent = test_cpu_usec() - t0;
        print_message("%d platforms, %jd bytes\n", LARGE_PLATFORMS, (intmax_t)st.st_size);
        assert_int_equal(state_platform(back, "platform-07999")->n_findings, 5);
        test_cpu_within("loading 8,000 platforms", spent, LARGE_CPU_BOUND_USEC);
        state_free(s);
        state_free(back);
        scratch_done(path);
}

/* The daemon reads state.json before each platform's settling: a file
 * that is still the one it last wrote is not read again, one another
 * process replaced is; the renewal guardrails are carried over from the
 * file as it is, whoever wrote them. */
static void test_state_refresh(void **state) {
        char *path = scratch("{\"format\": 2, \"platforms\": [], \"renewal\": {\"format\": 1, \"v\": 1}}");
        struct state *s = NULL, *other = NULL, *kept;
        _cleanup_free_ char *error = NULL;
        json_t *root = NULL;

        assert_int_equal(state_refresh(path, &s, &error), 1); /* nothing in memory: read */
        state_platform(s, "p")->last_audit = T0;
        assert_int_equal(state_save(s, path), 0);
        kept = s;
        assert_int_equal(state_refresh(path, &s, &error), 0); /* ours as written: not read */
        assert_ptr_equal(s, kept);

        /* Another process replaces it (a oneshot, renewal): read again. */
        assert_int_equal(state_load(path, &other, &error), 0);
        state_platform(other, "q")->last_audit = T0;
        assert_int_equal(state_save(other, path), 0);
        assert_int_equal(state_refresh(path, &s, &error), 1);
        assert_non_null(state_platform_find(s, "q"));
        assert_int_equal(state_refresh(path, &s, &error), 0);

        /* Changed in memory only: forgotten, read again. */
        state_forget_file(s);
        assert_int_equal(state_refresh(path, &s, &error), 1);

        /* The guardrails, kept through every save; replaced by another
         * writer, the new ones are carried over. */
        assert_int_equal(state_save(s, path), 0);
        assert_int_equal(state_read_json(path, 0, &root, &error), 0);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(root, STATE_RENEWAL_KEY), "v")), 1);
        json_decref(root);
        root = json_pack("{s:i, s:[], s:{s:i, s:i}}", "format", 2, "platforms", STATE_RENEWAL_KEY, "format", 1, "v", 2);
        char *text = json_dumps(root, 0);
        json_decref(root);
        assert_int_equal(write_file_atomic(path, text, strlen(text)), 0);
        free(text);
        assert_int_equal(state_save(s, path), 0);
        assert_int_equal(state_read_json(path, 0, &root, &error), 0);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(root, STATE_RENEWAL_KEY), "v")), 2);
        json_decref(root);

        state_free(s);
        state_free(other);
        scratch_done(path);
}

/* Another process's version of state.json is never taken for ours: while
 * the daemon holds a version (read or written), a oneshot replacing it
 * twice with a file of the same size cannot land on its inode number (a
 * filesystem reuses a freed one at once), so the check does not rest on
 * timestamps, which are coarse on some kernels and filesystems. */
static void test_state_refresh_foreign_same_size(void **state) {
        char *path = scratch(NULL);
        _cleanup_free_ char *error = NULL;

        for (int round = 0; round < 20; round++) {
                struct state *s = state_new();
                _cleanup_free_ char *text = NULL;
                struct stat ours, theirs;
                size_t len = 0;
                char *name;
                FILE *f;

                state_platform(s, "p")->last_audit = T0;
                assert_int_equal(state_save(s, path), 0);
                assert_int_equal(stat(path, &ours), 0);
                /* The oneshot's version: another platform, as many bytes. */
                f = fopen(path, "re");
                assert_non_null(f);
                text = xmalloc((size_t)ours.st_size + 1);
                len = fread(text, 1, (size_t)ours.st_size, f);
                fclose(f);
                assert_int_equal(len, (size_t)ours.st_size);
                text[len] = 0;
                name = strstr(text, "\"name\": \"p\"");
                assert_non_null(name);
                name[9] = 'q';
                assert_int_equal(write_file_atomic(path, text, len), 0);
                assert_int_equal(write_file_atomic(path, text, len), 0);
                assert_int_equal(stat(path, &theirs), 0);
                assert_int_equal(theirs.st_size, ours.st_size);
                assert_false(theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino);
                assert_int_equal(state_refresh(path, &s, &error), 1);
                assert_non_null(state_platform_find(s, "q"));
                assert_null(state_platform_find(s, "p"));
                state_free(s);
        }
        scratch_done(path);
}

/* A platform of many endpoints, each refusing connections: a finding
 * each, every one its own problem. Opening them (and sending their
 * entries), keeping them and resolving them (the endpoints answer again)
 * must each take time in proportion to the findings, not their square:
 * every audit of such a platform goes through it. */
#define MANY_ENDPOINTS 20000
#define MANY_ENDPOINTS_CPU_BOUND_USEC (1 * USEC_PER_SEC)

static void many_findings(struct platform_obs *o, bool refused, struct finding_list *ret) {
        static struct platform p = { .name = (char *)"many" };
        const struct finding_def *def = checks_find_def("tls.connect.failed");

        *ret = (struct finding_list){ 0 };
        for (size_t i = 0; i < o->n_endpoints; i++) {
                o->endpoints[i].status = refused ? ENDPOINT_CONNECT_FAILED : ENDPOINT_OK;
                if (refused)
                        finding_emit(ret, def, o->endpoints[i].name, o->endpoints[i].address,
                                     "cannot connect to %s port 443 for %s: Connection refused",
                                     o->endpoints[i].address, o->endpoints[i].name);
        }
        group_findings(&p, o, ret);
}

static void test_alert_many_endpoints(void **state) {
        struct platform_obs *o = xcalloc(1, sizeof(*o));
        struct state_platform sp = { 0 };
        struct finding_list fl;
        struct alert_list out = { 0 };
        uint64_t t0;

        o->names = xcalloc(1, sizeof(*o->names));
        o->names[0] = (struct name_obs){ .name = xstrdup("api.many.example.test"), .status = DNS_STATUS_OK };
        o->n_names = 1;
        o->endpoints = xcalloc(MANY_ENDPOINTS, sizeof(*o->endpoints));
        for (size_t i = 0; i < MANY_ENDPOINTS; i++)
                o->endpoints[i] = (struct endpoint_obs){
                        .name = xstrdup("api.many.example.test"),
                        .address = xasprintf("10.%zu.%zu.%zu", i >> 16, (i >> 8) & 255, i & 255),
                        .port = 443,
                };
        o->n_endpoints = MANY_ENDPOINTS;

        many_findings(o, true, &fl);
        assert_int_equal(fl.n, MANY_ENDPOINTS);
        t0 = test_cpu_usec();
        alert_compute(&sp, &fl, o, T0, REMIND, &out);
        test_cpu_within("20,000 findings opened", test_cpu_usec() - t0, MANY_ENDPOINTS_CPU_BOUND_USEC);
        assert_int_equal(out.n, MANY_ENDPOINTS);
        assert_int_equal(out.items[0].kind, ALERT_NEW);
        assert_int_equal(sp.n_findings, MANY_ENDPOINTS);
        /* Their entries, each with its endpoint's facts (stderr, to /dev/null). */
        {
                int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                struct journal *j = journal_new_target(JOURNAL_TARGET_STDERR);
                size_t counts[3] = { 0, 0, MANY_ENDPOINTS }, sent;

                assert_true(saved >= 0 && null >= 0 && dup2(null, STDERR_FILENO) >= 0);
                t0 = test_cpu_usec();
                sent = journal_send_audit(j, "many", &fl, o, &out, counts, T0);
                fflush(stderr);
                assert_true(dup2(saved, STDERR_FILENO) >= 0);
                test_cpu_within("20,000 alerts sent", test_cpu_usec() - t0, MANY_ENDPOINTS_CPU_BOUND_USEC);
                assert_int_equal(sent, MANY_ENDPOINTS);
                close(saved);
                close(null);
                journal_free(j);
        }
        alert_list_clear(&out);

        t0 = test_cpu_usec();
        alert_compute(&sp, &fl, o, T0 + HOUR, REMIND, &out);
        test_cpu_within("20,000 findings kept", test_cpu_usec() - t0, MANY_ENDPOINTS_CPU_BOUND_USEC);
        assert_int_equal(out.n, 0);
        assert_int_equal(sp.n_findings, MANY_ENDPOINTS);
        assert_int_equal(sp.findings[0].first_seen, T0);
        finding_list_clear(&fl);

        many_findings(o, false, &fl);
        t0 = test_cpu_usec();
        alert_compute(&sp, &fl, o, T0 + 2 * HOUR, REMIND, &out);
        test_cpu_within("20,000 findings resolved", test_cpu_usec() - t0, MANY_ENDPOINTS_CPU_BOUND_USEC);
        assert_int_equal(out.n, MANY_ENDPOINTS);
        assert_int_equal(out.items[MANY_ENDPOINTS - 1].kind, ALERT_RESOLVED);
        assert_int_equal(sp.n_findings, 0);
        alert_list_clear(&out);
        finding_list_clear(&fl);
        free(sp.findings);
        platform_obs_free(o);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lifecycle),
                cmocka_unit_test(test_judged),
                cmocka_unit_test(test_handshake_resolves),
                cmocka_unit_test(test_superseded_and_info),
                cmocka_unit_test(test_state_roundtrip),
                cmocka_unit_test(test_state_damaged),
                cmocka_unit_test(test_state_unknown_id_dropped),
                cmocka_unit_test(test_state_cert_churn),
                cmocka_unit_test(test_state_prune_platforms),
                cmocka_unit_test(test_state_too_large),
                cmocka_unit_test(test_state_not_regular),
                cmocka_unit_test(test_state_lock_not_regular),
                cmocka_unit_test(test_state_load_large),
                cmocka_unit_test(test_state_many_platforms),
                cmocka_unit_test(test_state_refresh),
                cmocka_unit_test(test_state_refresh_foreign_same_size),
                cmocka_unit_test(test_grouped_identity),
                cmocka_unit_test(test_state_subject_roundtrip),
                cmocka_unit_test(test_alert_many_endpoints),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
