/* One platform's run: audit -> ARI -> Secret -> renewal -> findings, on
 * the caller's loop; then state and journal. The oneshot and the daemon's
 * slots both drive their platforms through here, so the two cannot drift
 * apart. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alert.h"
#include "ari.h"
#include "checks.h"
#include "ctwatch.h"
#include "group.h"
#include "log.h"
#include "rdap.h"
#include "run.h"
#include "silence.h"
#include "secret.h"
#include "util.h"

struct run {
        struct run_env env;
        const struct platform *p;
        struct audit *audit;               /* the running or last finished audit */
        struct platform_obs *summary;      /* after run_release(): what settling reads */
        /* What follows each audit; renewal is NULL when it is off. */
        struct ari *ari;
        struct secret_check *secret;
        struct rdap *rdap;
        struct ctwatch *ct;
        struct renewal *renewal;
        /* Everything the run found, in report order: the newest audit's,
         * ARI's, the Secret's, renewal's. Assembled by run_collect() only. */
        struct finding_list findings;
        bool running;
        run_done_cb cb;
        void *userdata;
};

int run_new(const struct run_env *env, const struct platform *p, struct run **ret) {
        struct run *r = xcalloc(1, sizeof(*r));
        int e;

        assert(env && env->event && env->pool && p);
        r->env = *env;
        r->p = p;
        e = ari_new(env->event, p, env->store, &r->ari);
        if (e >= 0)
                e = secret_check_new(env->event, p, &r->secret);
        if (e >= 0)
                e = rdap_new(env->event, p, env->store, &r->rdap);
        if (e >= 0)
                e = ctwatch_new(env->event, p, &r->ct);
        if (e >= 0 && env->store && env->renew && p->renew.enabled)
                e = renewal_new(env->event, env->pool, p, env->store, &env->renewal, &r->renewal);
        if (e < 0) {
                run_free(r);
                return e;
        }
        *ret = r;
        return 0;
}

struct run *run_free(struct run *r) {
        if (!r)
                return NULL;
        /* Renewal's re-audits and the Secret borrow the audit: they go first. */
        renewal_free(r->renewal);
        secret_check_free(r->secret);
        ctwatch_free(r->ct);
        rdap_free(r->rdap);
        ari_free(r->ari);
        audit_free(r->audit);
        platform_obs_free(r->summary);
        finding_list_clear(&r->findings);
        free(r);
        return NULL;
}

/* After a verified renewal the platform is judged as last re-audited. */
static const struct audit *run_newest_audit(const struct run *r) {
        const struct audit *v = r->renewal ? renewal_last_audit(r->renewal) : NULL;
        return v ? v : r->audit;
}

/* The one place a run's findings are put together. */
static void run_collect(struct run *r, bool with_renewal) {
        finding_list_clear(&r->findings);
        finding_list_append_all(&r->findings, audit_findings(run_newest_audit(r)));
        finding_list_append_all(&r->findings, ari_findings(r->ari));
        finding_list_append_all(&r->findings, secret_check_findings(r->secret));
        finding_list_append_all(&r->findings, rdap_findings(r->rdap));
        finding_list_append_all(&r->findings, ctwatch_findings(r->ct));
        if (with_renewal && r->renewal)
                finding_list_append_all(&r->findings, renewal_findings(r->renewal));
}

static void run_complete(struct run *r) {
        run_collect(r, true);
        /* Silences change what counts, not what renewal (which saw the
         * findings before) may do. */
        silence_apply(r->p, (time_t)(now_realtime_usec() / USEC_PER_SEC), &r->findings);
        /* One finding per root cause, for every reporter, the alerts and
         * the exit status alike. */
        group_findings(r->p, run_observations(r), &r->findings);
        r->running = false;
        if (r->cb)
                r->cb(r, r->userdata);
}

static void on_renewal_done(struct renewal *x, void *userdata) {
        run_complete(userdata);
}

static void on_ct_done(struct ctwatch *x, void *userdata) {
        struct run *r = userdata;

        if (!r->renewal) {
                run_complete(r);
                return;
        }
        /* Renewal is judged on everything found so far, ARI's window and
         * the Secret's mismatch included. */
        run_collect(r, false);
        renewal_start(r->renewal, r->audit, &r->findings, on_renewal_done, r);
}

static void on_rdap_done(struct rdap *x, void *userdata) {
        struct run *r = userdata;
        ctwatch_start(r->ct, r->audit, on_ct_done, r);
}

static void on_secret_done(struct secret_check *x, void *userdata) {
        struct run *r = userdata;
        rdap_start(r->rdap, on_rdap_done, r);
}

static void on_ari_done(struct ari *x, void *userdata) {
        struct run *r = userdata;
        secret_check_start(r->secret, r->audit, on_secret_done, r);
}

/* ARI, the Secret, then renewal follow their platform's audit at once, so
 * a slow platform does not hold up another's. */
static void on_audit_done(struct audit *a, void *userdata) {
        struct run *r = userdata;
        ari_start(r->ari, a, on_ari_done, r);
}

int run_prepare(struct run *r, char **ret_error) {
        int e;

        assert(!r->running);
        r->audit = audit_free(r->audit);
        r->summary = platform_obs_free(r->summary);
        finding_list_clear(&r->findings);
        e = audit_new_pooled(r->env.pool, r->p, &r->audit, ret_error);
        if (e < 0)
                return e;
        if (r->env.cache)
                audit_set_cache(r->audit, r->env.cache);
        return 0;
}

int run_start(struct run *r, run_done_cb cb, void *userdata) {
        int e;

        assert(r->audit && !r->running);
        r->cb = cb;
        r->userdata = userdata;
        r->running = true;
        e = audit_start(r->audit, on_audit_done, r);
        if (e < 0)
                r->running = false;
        return e;
}

bool run_is_running(const struct run *r) {
        return r && r->running;
}

bool run_is_renewing(const struct run *r) {
        return r && r->running && renewal_method_in_flight(r->renewal);
}

void run_wind_down(struct run *r, run_done_cb cb, void *userdata) {
        assert(run_is_renewing(r));
        r->cb = cb;
        r->userdata = userdata;
        renewal_wind_down(r->renewal);
}

const struct platform *run_platform(const struct run *r) {
        return r->p;
}

const struct finding_list *run_findings(const struct run *r) {
        return &r->findings;
}

const struct audit *run_audit(const struct run *r) {
        return r->audit;
}

const struct platform_obs *run_observations(const struct run *r) {
        if (r->summary)
                return r->summary;
        return audit_observations(run_newest_audit(r));
}

void run_release(struct run *r) {
        assert(!r->running && r->audit);
        /* Renewal keeps its re-audits and judges by them: a renewing
         * platform keeps everything (few do). The Secret, ARI, RDAP and CT
         * only read the audit while they run. */
        if (r->renewal || r->summary)
                return;
        r->summary = platform_obs_summary(audit_observations(r->audit));
        r->audit = audit_free(r->audit);
}

void run_report_platform(const struct run *r, struct report_platform *ret) {
        const struct audit *a = run_newest_audit(r);

        assert(a);

        *ret = (struct report_platform){
                .platform = r->p,
                .plan = audit_plan(a),
                .obs = audit_observations(a),
                .findings = &r->findings,
                .ari = ari_observation(r->ari),
                .rdap = rdap_observation(r->rdap),
                .ctlog = ctwatch_observation(r->ct),
                .cert_manager = renewal_certmanager_observation(r->renewal),
        };
}

int run_settle(const struct run *r, struct state *state, struct journal *journal, time_t now) {
        const struct platform_obs *obs = run_observations(r);
        struct alert_list alerts = { 0 };
        size_t counts[3] = { 0 };
        int worst;

        if (state) {
                struct state_platform *sp = state_platform(state, r->p->name);
                alert_compute(sp, &r->findings, obs, now, r->p->remind_usec, &alerts);
                state_platform_record_certs(sp, obs, now);
                sp->last_audit = obs->started;
                for (size_t i = 0; i < sp->n_findings; i++)
                        counts[sp->findings[i].severity]++;
                worst = state_platform_worst(sp);
        } else
                worst = finding_list_count(&r->findings, counts);
        if (journal)
                journal_send_audit(journal, r->p->name, &r->findings, obs, state ? &alerts : NULL, counts, now);
        alert_list_clear(&alerts);
        return worst;
}

int run_load_config(const char *config_path, const char *values_path, const struct config_overrides *ov,
                    struct config **ret, char **ret_error) {
        struct config *c = NULL;
        int e;

        if (values_path)
                e = config_from_values(values_path, &c, ret_error);
        else
                e = config_load(config_path, checks_find_def, &c, ret_error);
        if (e >= 0 && ov) {
                e = config_apply_overrides(c, ov, ret_error);
                /* Not about a file position: say who speaks. */
                if (e < 0 && *ret_error) {
                        char *m = xasprintf("certvigil: %s", *ret_error);
                        free(*ret_error);
                        *ret_error = m;
                }
        }
        if (e < 0) {
                config_free(c);
                return e;
        }
        /* Misspelt chart keys in a values file are ignored, as Helm would,
         * but said, as Helm would not. */
        for (char **w = c->warnings; w && *w; w++)
                fprintf(stderr, "%s\n", *w);
        *ret = c;
        return 0;
}

int run_check_config_file(const char *config_path, const char *values_path, char **ret_error) {
        const char *path = values_path ? values_path : config_path;
        struct stat st;

        if (stat(path, &st) < 0)
                return 0;
        if (S_ISREG(st.st_mode))
                return 0;
        *ret_error = xasprintf("%s: not a regular file: the daemon reads it again on SIGHUP and must not wait "
                               "on a FIFO, a pipe or a device (audit and plan read those)", path);
        return -EINVAL;
}

char *run_state_dir(const char *given, const char *default_dir) {
        const char *env = getenv("STATE_DIRECTORY");

        if (given)
                return xstrdup(given);
        /* An empty first entry (":x", "") says nothing: the default. */
        if (!env || !*env || *env == ':')
                return xstrdup(default_dir);
        return xstrndup(env, strcspn(env, ":"));
}

static int state_dir_prepare(const char *dir) {
        struct stat st;
        if (stat(dir, &st) == 0)
                return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
        if (errno != ENOENT)
                return -errno;
        return mkdir(dir, 0700) < 0 ? -errno : 0;
}

struct state *run_state_open(const char *dir, char **ret_path) {
        _cleanup_free_ char *error = NULL;
        struct state *s = NULL;
        char *path = xasprintf("%s/%s", dir, STATE_FILE);
        int e;

        e = state_dir_prepare(dir);
        if (e < 0)
                log_msg(LOG_WARNING, "state directory %s: %s; alerts may repeat after a restart", dir, strerror(-e));
        e = state_load(path, &s, &error);
        if (e == -ENOENT)
                log_msg(LOG_INFO, "no state in %s yet: every open finding is new", path);
        else if (e < 0)
                log_msg(LOG_WARNING, "%s; starting with an empty state (findings already alerted are alerted once more)",
                        error ? error : strerror(-e));
        *ret_path = path;
        return s ? s : state_new();
}
