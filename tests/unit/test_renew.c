/* The renewal decision, guardrails and proof (checks/renew.c) with the
 * clock injected: one row per case, input and expected outcome side by
 * side. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "checks.h"
#include "renew.h"
#include "util.h"

#define H 3600
#define DAY 86400
#define NOW ((time_t)1795702927) /* 2026-11-26T14:22:07Z */
#define NONE INT64_MIN            /* end of a trigger list */

static struct renew_settings settings(uint64_t min_interval, unsigned cap) {
        static char *on[] = { (char *)"tls.expiry.critical", (char *)"tls.expiry.expired",
                              (char *)"tls.wildcard.shape", (char *)"tls.ari.renew-now", NULL };
        return (struct renew_settings){
                .enabled = true,
                .on = on,
                .min_interval_usec = min_interval * USEC_PER_SEC,
                .max_per_week = cap,
                .verify_every_usec = 120 * USEC_PER_SEC,
                .verify_timeout_usec = 1800 * USEC_PER_SEC,
        };
}

/* ------------------------------------------------------------------------ */

static const struct finding_def def_critical = { "tls.expiry.critical", SEVERITY_CRITICAL, "", "" };
static const struct finding_def def_warning = { "tls.expiry.warning", SEVERITY_WARNING, "", "" };
static const struct finding_def def_shape = { "tls.wildcard.shape", SEVERITY_WARNING, "", "" };
static const struct finding_def def_ari = { "tls.ari.renew-now", SEVERITY_WARNING, "", "" };

static const struct {
        const char *what;
        const struct finding_def *defs[4];
        enum severity sev[4];
        const char *reason;             /* NULL: not due */
} due_rows[] = {
        { "nothing open", { NULL }, { 0 }, NULL },
        { "a warning not in renew.on", { &def_warning }, { SEVERITY_WARNING }, NULL },
        { "critical expiry", { &def_critical }, { SEVERITY_CRITICAL }, "tls.expiry.critical" },
        { "same id on two addresses, named once", { &def_critical, &def_critical },
          { SEVERITY_CRITICAL, SEVERITY_CRITICAL }, "tls.expiry.critical" },
        { "wildcard shape only as a warning", { &def_shape }, { SEVERITY_WARNING }, NULL },
        { "wildcard shape critical", { &def_shape }, { SEVERITY_CRITICAL }, "tls.wildcard.shape" },
        { "several, in renew.on order", { &def_ari, &def_warning, &def_critical },
          { SEVERITY_WARNING, SEVERITY_WARNING, SEVERITY_CRITICAL }, "tls.expiry.critical,tls.ari.renew-now" },
};

static void test_due(void **state) {
        struct renew_settings rs = settings(6 * H, 5);

        for (size_t i = 0; i < ELEMENTSOF(due_rows); i++) {
                struct finding_list l = { 0 };
                _cleanup_free_ char *reason = NULL;
                for (size_t j = 0; j < 4 && due_rows[i].defs[j]; j++)
                        finding_emit_severity(&l, due_rows[i].defs[j], due_rows[i].sev[j], "n", "a", "m");
                bool due = renew_due(&rs, &l, &reason);
                if (due != (due_rows[i].reason != NULL) || (due && strcmp(reason, due_rows[i].reason) != 0))
                        fail_msg("due row '%s': got %s %s", due_rows[i].what, due ? "due" : "not due",
                                 due ? reason : "");
                finding_list_clear(&l);
        }
        /* An empty renew.on never makes renewal due. */
        struct finding_list l = { 0 };
        char *reason = NULL;
        rs.on = NULL;
        finding_emit(&l, &def_critical, NULL, NULL, "m");
        assert_false(renew_due(&rs, &l, &reason));
        assert_null(reason);
        finding_list_clear(&l);
}

/* ------------------------------------------------------------------------ */

static const struct {
        const char *what;
        int64_t min_interval;           /* seconds */
        unsigned cap;
        int64_t triggers[8];            /* relative to NOW, oldest first, NONE-terminated */
        unsigned failures;
        bool verifying;
        enum renew_verdict expect;
        int64_t next;                   /* relative to NOW */
} decide_rows[] = {
        { "never triggered", 6 * H, 5, { NONE }, 0, false, RENEW_GO, 0 },
        { "in flight", 6 * H, 5, { -60, NONE }, 0, true, RENEW_HOLD_IN_FLIGHT, 1800 - 60 },
        { "within min_interval", 6 * H, 5, { -H, NONE }, 0, false, RENEW_HOLD_INTERVAL, 5 * H },
        { "min_interval just over", 6 * H, 5, { -6 * H, NONE }, 0, false, RENEW_GO, 0 },
        { "one failure doubles", 6 * H, 5, { -7 * H, NONE }, 1, false, RENEW_HOLD_BACKOFF, 5 * H },
        { "one failure, waited 12h", 6 * H, 5, { -12 * H, NONE }, 1, false, RENEW_GO, 0 },
        { "two failures: 24h", 6 * H, 5, { -13 * H, NONE }, 2, false, RENEW_HOLD_BACKOFF, 11 * H },
        { "three failures: 48h", 6 * H, 5, { -25 * H, NONE }, 3, false, RENEW_HOLD_BACKOFF, 23 * H },
        { "ten failures: still 48h", 6 * H, 5, { -47 * H, NONE }, 10, false, RENEW_HOLD_BACKOFF, H },
        { "ten failures, 48h passed", 6 * H, 5, { -48 * H, NONE }, 10, false, RENEW_GO, 0 },
        { "min_interval over 48h is the backoff floor", 72 * H, 9, { -50 * H, NONE }, 4, false,
          RENEW_HOLD_BACKOFF, 22 * H },
        { "short intervals double too", 2, 5, { -5, NONE }, 2, false, RENEW_HOLD_BACKOFF, 3 },
        { "cap reached", 60, 3, { -3 * DAY, -2 * DAY, -DAY, NONE }, 0, false, RENEW_HOLD_CAP, 4 * DAY },
        { "cap: oldest left the week", 60, 3, { -7 * DAY, -2 * DAY, -DAY, NONE }, 0, false, RENEW_GO, 0 },
        { "cap: older ones do not count", 60, 2, { -9 * DAY, -8 * DAY, -DAY, NONE }, 0, false, RENEW_GO, 0 },
        { "cap wins over a shorter backoff", 60, 2, { -6 * DAY, -H, NONE }, 1, false, RENEW_HOLD_CAP, DAY },
        { "backoff wins over a shorter cap", 6 * H, 2, { -7 * DAY + 60, -H, NONE }, 3, false, RENEW_HOLD_BACKOFF,
          47 * H },
};

static void test_decide(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(decide_rows); i++) {
                struct renew_settings rs = settings((uint64_t)decide_rows[i].min_interval, decide_rows[i].cap);
                struct renew_state st = { .failures = decide_rows[i].failures };
                time_t next = 0;

                for (size_t j = 0; decide_rows[i].triggers[j] != NONE; j++)
                        st.triggers[st.n_triggers++] = NOW + decide_rows[i].triggers[j];
                if (decide_rows[i].verifying) {
                        st.verifying = true;
                        st.verify_deadline = st.triggers[st.n_triggers - 1] + 1800;
                }
                enum renew_verdict v = renew_decide(&rs, &st, NOW, &next);
                if (v != decide_rows[i].expect || next != NOW + decide_rows[i].next)
                        fail_msg("decide row '%s': got %s, next %+lld; expected %s, next %+lld", decide_rows[i].what,
                                 renew_verdict_to_string(v), (long long)(next - NOW),
                                 renew_verdict_to_string(decide_rows[i].expect), (long long)decide_rows[i].next);
        }
}

/* The guardrails over a sequence of runs, as the oneshot under a timer
 * sees them: fail, back off, and hit the weekly cap. */
static void test_sequence(void **state) {
        struct renew_settings rs = settings(2, 3);
        struct renew_state st = { 0 };
        time_t t = NOW, next;

        assert_int_equal(renew_decide(&rs, &st, t, &next), RENEW_GO);
        renew_state_triggered(&st, &rs, NULL, t, "command", "tls.expiry.critical");
        assert_int_equal(renew_decide(&rs, &st, t + 1, &next), RENEW_HOLD_IN_FLIGHT);
        renew_state_failed(&st, t + 1);
        assert_int_equal(renew_decide(&rs, &st, t + 3, &next), RENEW_HOLD_BACKOFF);
        assert_int_equal(next, t + 4);
        t += 4;
        assert_int_equal(renew_decide(&rs, &st, t, &next), RENEW_GO);
        renew_state_triggered(&st, &rs, NULL, t, "command", "tls.expiry.critical");
        renew_state_failed(&st, t);
        assert_int_equal(renew_decide(&rs, &st, t + 7, &next), RENEW_HOLD_BACKOFF);
        assert_int_equal(next, t + 8);
        t += 8;
        renew_state_triggered(&st, &rs, NULL, t, "command", "tls.expiry.critical");
        renew_state_succeeded(&st);
        assert_int_equal(st.failures, 0);
        /* Three triggers in the week: the cap holds until the first leaves it. */
        assert_int_equal(renew_decide(&rs, &st, t + 100, &next), RENEW_HOLD_CAP);
        assert_int_equal(next, NOW + RENEW_WEEK);
        assert_int_equal(renew_decide(&rs, &st, NOW + RENEW_WEEK, &next), RENEW_GO);
        renew_state_done(&st);
}

/* ------------------------------------------------------------------------ */

struct ep {
        const char *serial;             /* NULL: the endpoint failed */
        int64_t not_after;              /* relative to NOW */
};

static const struct {
        const char *what;
        size_t nb;
        struct ep before[3];
        size_t na;
        struct ep after[3];
        int64_t at;                     /* relative to the trigger */
        bool name_failed;
        enum renew_proof expect;
        const char *new_serial;
} verify_rows[] = {
        { "same certificate", 1, { { "01", 5 * DAY } }, 1, { { "01", 5 * DAY } }, 60, false, RENEW_PROOF_PENDING, NULL },
        { "new everywhere", 2, { { "01", 5 * DAY }, { "01", 5 * DAY } }, 2, { { "02", 90 * DAY }, { "02", 90 * DAY } }, 60,
          false, RENEW_PROOF_SUCCEEDED, "02" },
        { "one address still old", 2, { { "01", 5 * DAY }, { "01", 5 * DAY } }, 2, { { "02", 90 * DAY }, { "01", 5 * DAY } },
          60, false, RENEW_PROOF_PENDING, NULL },
        { "one address unreachable", 2, { { "01", 5 * DAY }, { "01", 5 * DAY } }, 2, { { "02", 90 * DAY }, { NULL, 0 } }, 60,
          false, RENEW_PROOF_PENDING, NULL },
        { "new serial, notAfter not later", 1, { { "01", 5 * DAY } }, 1, { { "03", 5 * DAY } }, 60, false,
          RENEW_PROOF_PENDING, NULL },
        { "an old serial of another address", 2, { { "01", 5 * DAY }, { "09", 50 * DAY } }, 2, { { "09", 50 * DAY }, { "09", 50 * DAY } }, 60, false, RENEW_PROOF_PENDING, NULL },
        { "a name no longer resolves", 1, { { "01", 5 * DAY } }, 1, { { "02", 90 * DAY } }, 60, true, RENEW_PROOF_PENDING,
          NULL },
        { "nothing new by the deadline", 1, { { "01", 5 * DAY } }, 1, { { "01", 5 * DAY } }, 1800, false,
          RENEW_PROOF_TIMED_OUT, NULL },
        { "proof at the deadline still counts", 1, { { "01", 5 * DAY } }, 1, { { "02", 90 * DAY } }, 1800, false,
          RENEW_PROOF_SUCCEEDED, "02" },
        { "two new certificates: the earlier notAfter is named", 2, { { "01", 5 * DAY }, { "01", 5 * DAY } }, 2, { { "02", 90 * DAY }, { "03", 80 * DAY } }, 60, false, RENEW_PROOF_SUCCEEDED, "03" },
};

static void fill_obs(struct platform_obs *o, struct endpoint_obs *eps, struct cert_obs *leaves, struct name_obs *n,
                     const struct ep *e, size_t count, bool name_failed) {
        for (size_t k = 0; k < count; k++) {
                leaves[k] = (struct cert_obs){ .serial = (char *)e[k].serial, .not_after = NOW + e[k].not_after };
                eps[k] = (struct endpoint_obs){
                        .status = e[k].serial ? ENDPOINT_OK : ENDPOINT_CONNECT_FAILED,
                        .chain = e[k].serial ? &leaves[k] : NULL,
                        .n_chain = e[k].serial ? 1 : 0,
                };
        }
        *n = (struct name_obs){ .status = name_failed ? DNS_STATUS_NXDOMAIN : DNS_STATUS_OK };
        *o = (struct platform_obs){ .endpoints = eps, .n_endpoints = count, .names = n, .n_names = 1 };
}

static void test_verify(void **state) {
        struct renew_settings rs = settings(6 * H, 5);

        for (size_t i = 0; i < ELEMENTSOF(verify_rows); i++) {
                struct endpoint_obs eps[3];
                struct cert_obs leaves[3];
                struct name_obs n;
                struct platform_obs before, after;
                struct renew_state st = { 0 };
                const struct cert_obs *found = NULL;

                fill_obs(&before, eps, leaves, &n, verify_rows[i].before, verify_rows[i].nb, false);
                renew_state_triggered(&st, &rs, &before, NOW, "command", "tls.expiry.critical");
                fill_obs(&after, eps, leaves, &n, verify_rows[i].after, verify_rows[i].na, verify_rows[i].name_failed);
                enum renew_proof p = renew_verify(&st, &after, NOW + verify_rows[i].at, &found);
                if (p != verify_rows[i].expect ||
                    (p == RENEW_PROOF_SUCCEEDED && strcmp(found->serial, verify_rows[i].new_serial) != 0))
                        fail_msg("verify row '%s': got %d %s", verify_rows[i].what, p,
                                 p == RENEW_PROOF_SUCCEEDED ? found->serial : "");
                renew_state_done(&st);
        }
}

/* A verification that started before serials were printed as openssl does
 * (lower case, DER's 00 in front) and ends after the upgrade: the old
 * certificate, served again, is not taken for a new one. */
static void test_verify_upgrade(void **state) {
        static const char *const old_state =
                "{\"triggers\":[1795702927],\"failures\":0,\"last_failure\":0,\"verifying\":{\"deadline\":"
                "1795704727,\"method\":\"command\",\"reason\":\"tls.expiry.critical\",\"old_serials\":"
                "[\"00c4a1ff\",\"0b:0c\"],\"old_serial\":\"00c4a1ff\",\"old_not_after\":1796134927}}";
        struct cert_obs leaves[2] = { { .serial = (char *)"C4A1FF", .not_after = NOW + 90 * DAY },
                                      { .serial = (char *)"0B0C", .not_after = NOW + 90 * DAY } };
        struct endpoint_obs eps[2] = { { .status = ENDPOINT_OK, .chain = &leaves[0], .n_chain = 1 },
                                       { .status = ENDPOINT_OK, .chain = &leaves[1], .n_chain = 1 } };
        struct name_obs n = { .status = DNS_STATUS_OK };
        struct platform_obs obs = { .endpoints = eps, .n_endpoints = 1, .names = &n, .n_names = 1 };
        struct renew_state st = { 0 };
        const struct cert_obs *found = NULL;
        json_t *j = json_loads(old_state, 0, NULL);

        assert_non_null(j);
        assert_int_equal(renew_state_from_json(j, &st), 0);
        assert_string_equal(st.old_serial, "C4A1FF");
        assert_string_equal(st.old_serials[0], "C4A1FF");
        assert_string_equal(st.old_serials[1], "0B0C");
        assert_int_equal(renew_verify(&st, &obs, NOW + 60, &found), RENEW_PROOF_PENDING);
        obs.endpoints = &eps[1];
        assert_int_equal(renew_verify(&st, &obs, NOW + 60, &found), RENEW_PROOF_PENDING);
        /* The positive control: a serial never served proves the renewal. */
        leaves[1].serial = (char *)"0B0D";
        assert_int_equal(renew_verify(&st, &obs, NOW + 60, &found), RENEW_PROOF_SUCCEEDED);
        /* Compared without regard to case, whoever wrote the state. */
        leaves[1].serial = (char *)"0b0c";
        assert_int_equal(renew_verify(&st, &obs, NOW + 60, &found), RENEW_PROOF_PENDING);
        json_decref(j);
        renew_state_done(&st);
}

/* ------------------------------------------------------------------------ */

static void test_json(void **state) {
        struct renew_settings rs = settings(6 * H, 5);
        struct cert_obs leaf = { .serial = (char *)"0A1B", .not_after = NOW + 5 * DAY };
        struct endpoint_obs ep = { .status = ENDPOINT_OK, .chain = &leaf, .n_chain = 1 };
        struct platform_obs obs = { .endpoints = &ep, .n_endpoints = 1 };
        struct renew_state st = { 0 }, back = { 0 };
        struct finding_list l = { 0 };

        renew_state_triggered(&st, &rs, &obs, NOW - DAY, "command", "tls.expiry.critical");
        renew_state_failed(&st, NOW - DAY);
        renew_state_triggered(&st, &rs, &obs, NOW, "command", "tls.expiry.critical,tls.ari.renew-now");
        json_t *j = renew_state_to_json(&st);
        char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        assert_string_equal(text, "{\"failures\":1,\"last_failure\":1795616527,\"triggers\":[1795616527,1795702927],"
                                  "\"verifying\":{\"deadline\":1795704727,\"method\":\"command\",\"old_not_after\":"
                                  "1796134927,\"old_serial\":\"0A1B\",\"old_serials\":[\"0A1B\"],\"reason\":"
                                  "\"tls.expiry.critical,tls.ari.renew-now\"}}");
        assert_int_equal(renew_state_from_json(j, &back), 0);
        json_t *j2 = renew_state_to_json(&back);
        assert_true(json_equal(j, j2));
        free(text);
        json_decref(j);
        json_decref(j2);

        /* The messages name what a reader needs. */
        struct cert_obs newer = { .serial = (char *)"0C0D", .not_after = NOW + 90 * DAY };
        renew_emit_succeeded(&l, &back, &newer);
        assert_string_equal(l.items[0].def->id, "renew.succeeded");
        assert_string_equal(l.items[0].message, "new certificate served on every address: serial 0C0D (notAfter "
                                                "2027-02-24T14:22:07Z) replaces 0A1B (notAfter 2026-12-01T14:22:07Z)");
        renew_emit_suppressed(&l, RENEW_HOLD_CAP, NOW + DAY, "tls.expiry.critical");
        assert_string_equal(l.items[1].def->id, "renew.suppressed");
        assert_string_equal(l.items[1].message, "renewal due because of tls.expiry.critical held back: "
                                                "renew.max_per_week triggers in the last 7 days (next attempt "
                                                "2026-11-27T14:22:07Z)");
        renew_emit_failed(&l, &back, "exit status 3");
        assert_string_equal(l.items[2].def->id, "renew.failed");
        assert_int_equal(l.items[2].severity, SEVERITY_CRITICAL);
        finding_list_clear(&l);
        renew_state_done(&st);
        renew_state_done(&back);

        /* Malformed state: refused, nothing leaked. */
        static const char *const bad[] = {
                "[]",
                "{}",
                "{\"triggers\":[2,1],\"failures\":0,\"last_failure\":0}",
                "{\"triggers\":[\"x\"],\"failures\":0,\"last_failure\":0}",
                "{\"triggers\":[],\"failures\":-1,\"last_failure\":0}",
                "{\"triggers\":[],\"failures\":0}",
                "{\"triggers\":[],\"failures\":0,\"last_failure\":0,\"verifying\":{\"deadline\":1}}",
                "{\"triggers\":[],\"failures\":0,\"last_failure\":0,\"verifying\":{\"deadline\":1,\"method\":\"c\","
                "\"reason\":\"r\",\"old_not_after\":1,\"old_serials\":[1]}}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                json_t *b = json_loads(bad[i], 0, NULL);
                assert_non_null(b);
                if (renew_state_from_json(b, &back) != -EINVAL)
                        fail_msg("bad state %zu accepted: %s", i, bad[i]);
                json_decref(b);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_due),
                cmocka_unit_test(test_decide),
                cmocka_unit_test(test_sequence),
                cmocka_unit_test(test_verify),
                cmocka_unit_test(test_verify_upgrade),
                cmocka_unit_test(test_json),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
