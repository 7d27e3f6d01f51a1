/* The shared validating resolvers' rules, on real libunbound contexts that
 * are never asked anything (so no worker process is forked, no packet
 * sent): one context per setup, a later audit gets a fresh one, at most
 * `max` at once with the rest waiting in order, a setup that fails says
 * why, and a lease given back while waiting is never called back. Then one
 * that is asked about localhost (answered by unbound itself, no packet
 * sent) and whose worker is killed: the users are told, and writing to the
 * dead worker is an error, not a SIGPIPE that ends the process. And one
 * whose worker cannot be forked at first (fork() below fails as under
 * RLIMIT_NPROC; libunbound forks again at the next question): stdio is
 * flushed before that second fork too. */
#include <arpa/nameser.h>
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cpu-bound.h"

#include <systemd/sd-event.h>
#include <unbound.h>

#include "dnssec-hub.h"
#include "util.h"

struct user {
        struct dnssec_lease *lease;
        int calls;
        int r;
        char *why;
        int lost;
        int answers;
};

static void on_ready(struct dnssec_lease *l, int r, const char *why, void *userdata) {
        struct user *u = userdata;
        assert_ptr_equal(l, u->lease);
        u->calls++;
        u->r = r;
        free(u->why);
        u->why = why ? xstrdup(why) : NULL;
}

static void on_lost(struct dnssec_lease *l, void *userdata) {
        struct user *u = userdata;
        u->lost++;
}

static void on_answer(void *userdata, int err, struct ub_result *result) {
        struct user *u = userdata;
        assert_int_equal(err, 0);
        u->answers++;
        ub_resolve_free(result);
}

/* Runs what the loop has pending, the hub's deferred work included. */
static void settle(sd_event *e) {
        for (int i = 0; i < 8; i++)
                assert_true(sd_event_run(e, 0) >= 0);
}

static char *anchor_a = "/nonexistent/a.key", *anchor_b = "/nonexistent/b.key", *anchor_c = "/nonexistent/c.key";
static char *fwd_one[] = { "127.0.0.1:5353", NULL }, *fwd_two[] = { "127.0.0.1:5353", "[::1]:5353", NULL };

static void lease(struct dnssec_hub *h, struct user *u, char **resolvers, const char *anchor, uint64_t born) {
        struct dnssec_setup s = { .resolvers = resolvers, .trust_anchor = anchor, .transparent_tld = "test" };
        *u = (struct user){ 0 };
        u->lease = dnssec_hub_lease(h, &s, born, on_ready, on_lost, u);
}

static void give_back(struct user *u) {
        u->lease = dnssec_lease_free(u->lease);
        u->why = mfree(u->why);
}

static void test_shared_by_setup(void **state) {
        sd_event *e = NULL;
        struct dnssec_hub *h = NULL;
        struct user a, b, c, d;

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(dnssec_hub_new(e, 4, &h), 0);
        lease(h, &a, fwd_one, anchor_a, 0);
        lease(h, &b, fwd_one, anchor_a, 0);
        lease(h, &c, fwd_one, anchor_b, 0);
        lease(h, &d, fwd_two, anchor_a, 0);
        /* Never from the call itself. */
        assert_int_equal(a.calls + b.calls + c.calls + d.calls, 0);
        settle(e);
        assert_int_equal(a.calls, 1);
        assert_int_equal(a.r, 0);
        assert_non_null(dnssec_lease_ub(a.lease));
        assert_ptr_equal(dnssec_lease_ub(a.lease), dnssec_lease_ub(b.lease));
        assert_ptr_not_equal(dnssec_lease_ub(a.lease), dnssec_lease_ub(c.lease));
        assert_ptr_not_equal(dnssec_lease_ub(a.lease), dnssec_lease_ub(d.lease));
        assert_int_equal(dnssec_hub_contexts(h), 3);
        assert_int_equal(dnssec_hub_made(h), 3);
        /* A context goes once its last user does. */
        give_back(&a);
        settle(e);
        assert_int_equal(dnssec_hub_contexts(h), 3);
        give_back(&b);
        settle(e);
        assert_int_equal(dnssec_hub_contexts(h), 2);
        give_back(&c);
        give_back(&d);
        settle(e);
        assert_int_equal(dnssec_hub_contexts(h), 0);
        dnssec_hub_free(h);
        sd_event_unref(e);
}

static void test_later_audit_fresh_context(void **state) {
        sd_event *e = NULL;
        struct dnssec_hub *h = NULL;
        struct user early, late, early2;

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(dnssec_hub_new(e, 4, &h), 0);
        lease(h, &early, fwd_one, anchor_a, 0);
        settle(e);
        /* An audit made after the context was: a fresh one, and the old
         * one takes nobody new, not even an audit as old as its users. */
        lease(h, &late, fwd_one, anchor_a, now_monotonic_usec() + 1);
        settle(e);
        assert_int_equal(late.r, 0);
        assert_ptr_not_equal(dnssec_lease_ub(early.lease), dnssec_lease_ub(late.lease));
        lease(h, &early2, fwd_one, anchor_a, 0);
        settle(e);
        assert_ptr_equal(dnssec_lease_ub(early2.lease), dnssec_lease_ub(late.lease));
        assert_int_equal(dnssec_hub_contexts(h), 2);
        give_back(&early);
        settle(e);
        assert_int_equal(dnssec_hub_contexts(h), 1);
        give_back(&late);
        give_back(&early2);
        settle(e);
        assert_int_equal(dnssec_hub_made(h), 2);
        dnssec_hub_free(h);
        sd_event_unref(e);
}

static void test_bounded_waits_in_order(void **state) {
        sd_event *e = NULL;
        struct dnssec_hub *h = NULL;
        struct user a, b, c, d, gone;

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(dnssec_hub_new(e, 2, &h), 0);
        lease(h, &a, fwd_one, anchor_a, 0);
        lease(h, &b, fwd_one, anchor_b, 0);
        lease(h, &gone, fwd_two, anchor_a, 0);
        lease(h, &c, fwd_one, anchor_c, 0);
        /* A user of an open context is not held up by those waiting. */
        lease(h, &d, fwd_one, anchor_a, 0);
        settle(e);
        assert_int_equal(a.calls + b.calls + d.calls, 3);
        assert_ptr_equal(dnssec_lease_ub(a.lease), dnssec_lease_ub(d.lease));
        assert_int_equal(gone.calls + c.calls, 0);
        assert_null(dnssec_lease_ub(c.lease));
        assert_int_equal(dnssec_hub_contexts(h), 2);
        /* Given back while waiting: never called. */
        give_back(&gone);
        give_back(&b);
        settle(e);
        assert_int_equal(c.calls, 1);
        assert_int_equal(c.r, 0);
        assert_non_null(dnssec_lease_ub(c.lease));
        assert_int_equal(dnssec_hub_contexts(h), 2);
        give_back(&a);
        give_back(&c);
        give_back(&d);
        settle(e);
        assert_int_equal(dnssec_hub_contexts(h), 0);
        assert_int_equal(dnssec_hub_made(h), 3);
        dnssec_hub_free(h);
        sd_event_unref(e);
}

/* A lease served in a pass may give back others still waiting, the one
 * the pass looks at next among them, and ask for a new one: the pass goes
 * on over what is left, and none of those given back is called. */
struct reentrant {
        struct user self;
        struct user *drop[2];
        struct dnssec_hub *hub;
        struct user *ask;
};

static void on_ready_reentrant(struct dnssec_lease *l, int r, const char *why, void *userdata) {
        struct reentrant *x = userdata;

        on_ready(l, r, why, &x->self);
        for (size_t i = 0; i < ELEMENTSOF(x->drop); i++)
                give_back(x->drop[i]);
        lease(x->hub, x->ask, fwd_one, anchor_c, 0);
}

static void test_give_back_within_a_pass(void **state) {
        struct dnssec_setup sb = { .resolvers = fwd_two, .trust_anchor = anchor_b, .transparent_tld = "test" };
        sd_event *e = NULL;
        struct dnssec_hub *h = NULL;
        struct user held, b, d, asked;
        struct reentrant a = { 0 };

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(dnssec_hub_new(e, 1, &h), 0);
        lease(h, &held, fwd_one, anchor_a, 0);
        settle(e);
        assert_int_equal(held.calls, 1);
        /* Waiting in this order: a (its own setup), then b and d. */
        a.self = (struct user){ 0 };
        a.self.lease = dnssec_hub_lease(h, &sb, 0, on_ready_reentrant, on_lost, &a);
        a.hub = h;
        a.ask = &asked;
        lease(h, &b, fwd_one, anchor_b, 0);
        lease(h, &d, fwd_two, anchor_c, 0);
        a.drop[0] = &b;
        a.drop[1] = &d;
        settle(e);
        assert_int_equal(a.self.calls + b.calls + d.calls, 0);
        give_back(&held);
        settle(e);
        assert_int_equal(a.self.calls, 1);
        assert_int_equal(a.self.r, 0);
        assert_int_equal(b.calls + d.calls, 0);
        /* The one asked from the callback waits for the one context. */
        assert_int_equal(asked.calls, 0);
        give_back(&a.self);
        settle(e);
        assert_int_equal(asked.calls, 1);
        give_back(&asked);
        settle(e);
        assert_int_equal(dnssec_hub_contexts(h), 0);
        dnssec_hub_free(h);
        sd_event_unref(e);
}

/* Every context in use, and many waiting: a lease that can join an open
 * context is served without looking at each of those that cannot again
 * and again (once per served lease). */
static void test_saturated_serves_in_linear_time(void **state) {
        enum { HELD = 16, STUCK = 10000, JOINING = 10000 };
        static char anchors[HELD][32];
        struct user *held = xcalloc(HELD, sizeof(*held)), *stuck = xcalloc(STUCK, sizeof(*stuck)),
                    *joining = xcalloc(JOINING, sizeof(*joining));
        sd_event *e = NULL;
        struct dnssec_hub *h = NULL;
        uint64_t t0;
        int served = 0;

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(dnssec_hub_new(e, HELD, &h), 0);
        for (int i = 0; i < HELD; i++) {
                snprintf(anchors[i], sizeof(anchors[i]), "/nonexistent/%d.key", i);
                lease(h, &held[i], fwd_one, anchors[i], 0);
        }
        settle(e);
        assert_int_equal(dnssec_hub_contexts(h), HELD);

        t0 = test_cpu_usec();
        for (int i = 0; i < STUCK; i++)
                lease(h, &stuck[i], fwd_two, anchor_a, 0);
        for (int i = 0; i < JOINING; i++)
                lease(h, &joining[i], fwd_one, anchors[i % HELD], 0);
        settle(e);
        for (int i = 0; i < JOINING; i++)
                served += joining[i].calls == 1 && joining[i].r == 0;
        assert_int_equal(served, JOINING);
        for (int i = 0; i < STUCK; i++)
                assert_int_equal(stuck[i].calls, 0);
        /* Linear: a few ms here; rescanning the queue per lease served: 6 s. */
        test_cpu_within("10,000 leases served past 10,000 stuck", test_cpu_usec() - t0, 2 * USEC_PER_SEC);

        for (int i = 0; i < STUCK; i++)
                give_back(&stuck[i]);
        for (int i = 0; i < JOINING; i++)
                give_back(&joining[i]);
        for (int i = 0; i < HELD; i++)
                give_back(&held[i]);
        settle(e);
        assert_int_equal(dnssec_hub_contexts(h), 0);
        free(held);
        free(stuck);
        free(joining);
        dnssec_hub_free(h);
        sd_event_unref(e);
}

static void test_setup_fails(void **state) {
        static char *bad[] = { "not an address", NULL };
        sd_event *e = NULL;
        struct dnssec_hub *h = NULL;
        struct user a, b;

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(dnssec_hub_new(e, 1, &h), 0);
        lease(h, &a, bad, anchor_a, 0);
        lease(h, &b, fwd_one, anchor_a, 0);
        settle(e);
        assert_int_equal(a.calls, 1);
        assert_true(a.r < 0);
        assert_non_null(a.why);
        assert_non_null(strstr(a.why, "resolver not an address"));
        assert_null(dnssec_lease_ub(a.lease));
        /* The failed one takes no room. */
        assert_int_equal(b.r, 0);
        assert_int_equal(dnssec_hub_contexts(h), 1);
        give_back(&a);
        give_back(&b);
        settle(e);
        dnssec_hub_free(h);
        sd_event_unref(e);
}

/* libunbound forks its worker with fork(): the first fork_failures calls
 * fail as under RLIMIT_NPROC, the rest fork. */
static int fork_failures;

pid_t fork(void) {
        pid_t (*real)(void);

        if (fork_failures > 0) {
                fork_failures--;
                errno = EAGAIN;
                return -1;
        }
        *(void **)&real = dlsym(RTLD_NEXT, "fork");
        return real();
}

/* The one child of this process: the context's worker. */
static pid_t worker_pid(void) {
        char path[64], buf[64] = "";
        FILE *f;

        snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
        f = fopen(path, "re");
        assert_non_null(f);
        assert_non_null(fgets(buf, sizeof(buf), f));
        fclose(f);
        return (pid_t)strtol(buf, NULL, 10);
}

/* Whether sig is in pid's blocked mask (SigBlk in /proc/PID/status). */
static bool sig_blocked(pid_t pid, int sig) {
        char path[64], line[256];
        unsigned long long mask = 0;
        bool found = false;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        f = fopen(path, "re");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, "SigBlk:", 7) == 0) {
                        mask = strtoull(line + 7, NULL, 16);
                        found = true;
                }
        fclose(f);
        assert_true(found);
        return mask & (1ULL << (sig - 1));
}

static void test_worker_killed(void **state) {
        /* The root zone's KSK-2017 DS: any well-formed anchor will do. */
        static const char ds[] =
                ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n";
        char anchor[] = "/tmp/test_dnssec_hub.XXXXXX";
        sd_event *e = NULL;
        struct dnssec_hub *h = NULL;
        struct user a;
        sigset_t mask, pending;
        siginfo_t si;
        int fd, id;
        const char *why = NULL;
        pid_t pid;

        fd = mkstemp(anchor);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, ds, sizeof(ds) - 1), (ssize_t)(sizeof(ds) - 1));
        close(fd);
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(dnssec_hub_new(e, 1, &h), 0);
        lease(h, &a, fwd_one, anchor, 0);
        settle(e);
        assert_int_equal(a.r, 0);
        /* Blocked here as the daemon blocks the signals sd-event handles:
         * the worker forked at this first question must not inherit it. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGUSR1);
        assert_int_equal(sigprocmask(SIG_BLOCK, &mask, NULL), 0);
        assert_int_equal(dnssec_lease_ask(a.lease, "localhost", ns_t_a, on_answer, &a, &id, &why), 0);
        assert_int_equal(sigprocmask(SIG_UNBLOCK, &mask, NULL), 0);
        /* Read when the context was finalized, at that first question:
         * gone now, whatever happens next. */
        unlink(anchor);
        for (int i = 0; i < 100 && a.answers == 0; i++)
                assert_true(sd_event_run(e, 100 * 1000) >= 0);
        assert_int_equal(a.answers, 1);

        pid = worker_pid();
        assert_true(pid > 0);
        /* Forked while our SIGPIPE was held, it does not inherit the
         * hold: once we are gone, its next write ends it quietly. */
        assert_false(sig_blocked(pid, SIGPIPE));
        assert_false(sig_blocked(getpid(), SIGPIPE));
        /* Nor the other signals we block: a SIGTERM to the whole service
         * ends it. The positive control: the mask is read at all. */
        assert_false(sig_blocked(pid, SIGUSR1));
        assert_int_equal(sigprocmask(SIG_BLOCK, &mask, NULL), 0);
        assert_true(sig_blocked(getpid(), SIGUSR1));
        assert_int_equal(sigprocmask(SIG_UNBLOCK, &mask, NULL), 0);
        assert_int_equal(kill(pid, SIGKILL), 0);
        /* Dead, not reaped: ub_ctx_delete() reaps it. */
        assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
        /* A write to the dead worker, and a cancel (another write). */
        (void)dnssec_lease_ask(a.lease, "localhost", ns_t_a, on_answer, &a, &id, &why);
        dnssec_lease_cancel(a.lease, id);
        for (int i = 0; i < 100 && a.lost == 0; i++)
                assert_true(sd_event_run(e, 100 * 1000) >= 0);
        assert_int_equal(a.lost, 1);
        assert_null(dnssec_lease_ub(a.lease));
        assert_int_equal(dnssec_lease_ask(a.lease, "localhost", ns_t_a, on_answer, &a, &id, &why), -EPIPE);
        assert_non_null(why);
        give_back(&a);
        settle(e);
        assert_int_equal(dnssec_hub_contexts(h), 0);
        /* SIGPIPE neither left held nor pending. */
        assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &mask), 0);
        assert_false(sigismember(&mask, SIGPIPE));
        assert_int_equal(sigpending(&pending), 0);
        assert_false(sigismember(&pending, SIGPIPE));
        dnssec_hub_free(h);
        sd_event_unref(e);
}

static char *anchor_file(void) {
        /* The root zone's KSK-2017 DS: any well-formed anchor will do. */
        static const char ds[] =
                ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n";
        char *path = xstrdup("/tmp/test_dnssec_hub.XXXXXX");
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, ds, sizeof(ds) - 1), (ssize_t)(sizeof(ds) - 1));
        close(fd);
        return path;
}

/* The worker's fork failed once (libunbound then forks again at the next
 * question): what a stream held before that next fork is written once, by
 * us, not a second time by the worker's exit(). */
static void test_fork_retry_flushes(void **state) {
        _cleanup_free_ char *anchor = anchor_file();
        char out[] = "/tmp/test_dnssec_hub.out.XXXXXX", got[256] = "";
        sd_event *e = NULL;
        struct dnssec_hub *h = NULL;
        struct user a;
        const char *why = NULL;
        FILE *f;
        int fd, id;

        fd = mkstemp(out);
        assert_true(fd >= 0);
        f = fdopen(fd, "w");
        assert_non_null(f);
        assert_int_equal(setvbuf(f, NULL, _IOFBF, 4096), 0);
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(dnssec_hub_new(e, 1, &h), 0);
        lease(h, &a, fwd_one, anchor, 0);
        settle(e);
        assert_int_equal(a.r, 0);

        fputs("one\n", f);
        fork_failures = 1;
        assert_true(dnssec_lease_ask(a.lease, "localhost", ns_t_a, on_answer, &a, &id, &why) < 0);
        assert_int_equal(fork_failures, 0);
        assert_non_null(why);
        fputs("two\n", f); /* in f's buffer at the next fork */
        assert_int_equal(dnssec_lease_ask(a.lease, "localhost", ns_t_a, on_answer, &a, &id, &why), 0);
        for (int i = 0; i < 100 && a.answers == 0; i++)
                assert_true(sd_event_run(e, 100 * 1000) >= 0);
        assert_int_equal(a.answers, 1);
        give_back(&a);
        settle(e);
        /* The context is gone, and its worker with it (reaped). */
        assert_int_equal(dnssec_hub_contexts(h), 0);
        assert_int_equal(fclose(f), 0);

        f = fopen(out, "re");
        assert_non_null(f);
        assert_true(fread(got, 1, sizeof(got) - 1, f) > 0);
        fclose(f);
        unlink(out);
        unlink(anchor);
        assert_string_equal(got, "one\ntwo\n");
        dnssec_hub_free(h);
        sd_event_unref(e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_shared_by_setup),
                cmocka_unit_test(test_later_audit_fresh_context),
                cmocka_unit_test(test_bounded_waits_in_order),
                cmocka_unit_test(test_saturated_serves_in_linear_time),
                cmocka_unit_test(test_give_back_within_a_pass),
                cmocka_unit_test(test_setup_fails),
                cmocka_unit_test(test_worker_killed),
                cmocka_unit_test(test_fork_retry_flushes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
