/* What one platform's settling costs the daemon in state.json
 * (daemon/daemon.c daemon_settle(), daemon/state/state.c state_save()):
 * under the lock, the file re-read only when another process replaced
 * it, one platform changed, the pruning, the file written whole. */
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cpu-bound.h"

#include "renew-store.h"
#include "state.h"
#include "util.h"

#define T0 ((time_t)1795702927)

struct scratch {
        char *dir;
        char *path;     /* dir/state.json */
};

static void scratch_new(struct scratch *x) {
        x->dir = xstrdup("/tmp/certvigil-test-statesave.XXXXXX");
        assert_non_null(mkdtemp(x->dir));
        x->path = xasprintf("%s/%s", x->dir, STATE_FILE);
}

static void scratch_done(struct scratch *x) {
        _cleanup_free_ char *lock = xasprintf("%s/%s", x->dir, STATE_LOCK_FILE);
        (void)unlink(x->path);
        (void)unlink(lock);
        assert_int_equal(rmdir(x->dir), 0);
        free(x->dir);
        free(x->path);
}

static void add_finding(struct state_platform *sp, const char *id, enum severity sev, const char *name,
                        const char *address, time_t first) {
        sp->findings = xrealloc(sp->findings, (sp->n_findings + 1) * sizeof(*sp->findings));
        sp->findings[sp->n_findings++] = (struct state_finding){
                .id = xstrdup(id), .severity = sev, .name = xstrdup(name), .address = address ? xstrdup(address) : NULL,
                .subject = xasprintf("cert %s", name),
                .message = xasprintf("the certificate of %s expires in 9 days (2026-12-12 00:00:00 UTC)", name),
                .first_seen = first, .last_alerted = first,
        };
}

static void add_cert(struct state_platform *sp, const char *name, const char *address, time_t seen) {
        sp->certs = xrealloc(sp->certs, (sp->n_certs + 1) * sizeof(*sp->certs));
        sp->certs[sp->n_certs++] = (struct state_cert){
                .name = xstrdup(name), .address = xstrdup(address), .port = 443,
                .sha256 = xstrdup("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
                .subject = xasprintf("CN=%s", name), .issuer = xstrdup("CN=R11,O=Let's Encrypt,C=US"),
                .not_after = T0 + 90 * 86400, .seen = seen,
        };
}

/* A platform as an audit leaves it: two names on an address each, one
 * finding open, about 1.2 KB of state.json (12 MB at 10,000 platforms,
 * within STATE_FILE_MAX_BYTES). */
static void fill_platform(struct state_platform *sp, size_t i, time_t now) {
        for (int k = 0; k < 2; k++) {
                _cleanup_free_ char *host = xasprintf("name%d.platform-%05zu.example.test", k, i);
                _cleanup_free_ char *addr = xasprintf("192.0.2.%d", k + 1);
                add_cert(sp, host, addr, now);
                if (k == 0)
                        add_finding(sp, "tls.expiry.warning", SEVERITY_WARNING, host, NULL, now);
        }
        sp->last_audit = now;
}

/* The state part of daemon_settle() for platform `which`: what an audit
 * changes in it (last audit, certificates seen, the reminder sent), the
 * pruning when due, the save. */
static void settle(const char *dir, const char *path, struct state **s, const char *const *names, size_t n,
                   size_t which, time_t now) {
        _cleanup_free_ char *error = NULL;
        int lock = -1;

        assert_int_equal(state_lock(dir, &lock, &error), 0);
        assert_true(state_refresh(path, s, &error) >= 0);
        struct state_platform *sp = state_platform(*s, names[which]);
        sp->last_audit = now;
        for (size_t i = 0; i < sp->n_certs; i++)
                sp->certs[i].seen = now;
        sp->findings[0].last_alerted = now;
        if (state_prune_due(*s, now))
                state_prune_platforms(*s, names, n, now);
        assert_int_equal(state_save(*s, path), 0);
        state_unlock(lock);
}

/* CPU of `rounds` settles on a state of n platforms, and of writing a file
 * of its size as many times (state_save()'s floor). */
static void measure(size_t n, size_t rounds, uint64_t *ret_settle, uint64_t *ret_write, off_t *ret_size) {
        struct state *s = state_new();
        const char **names = xcalloc(n + 1, sizeof(*names));
        _cleanup_free_ char *text = NULL, *copy = NULL;
        struct scratch x;
        struct stat st;
        int fd = -1;

        scratch_new(&x);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *name = xasprintf("platform-%05zu", i);
                struct state_platform *sp = state_platform(s, name);
                fill_platform(sp, i, T0);
        }
        for (size_t i = 0; i < n; i++)
                names[i] = s->platforms[i].name;
        assert_int_equal(state_save(s, x.path), 0);

        uint64_t t0 = test_cpu_usec();
        for (size_t r = 0; r < rounds; r++)
                settle(x.dir, x.path, &s, names, n, (r * 7919) % n, T0 + 60 + (time_t)r);
        *ret_settle = test_cpu_usec() - t0;
        assert_int_equal(s->n_platforms, n);

        /* The floor: the same bytes written atomically, each version held
         * open until the next is written, as state_save() does. */
        assert_int_equal(stat(x.path, &st), 0);
        *ret_size = st.st_size;
        text = xmalloc((size_t)st.st_size);
        FILE *f = fopen(x.path, "re");
        assert_non_null(f);
        assert_int_equal(fread(text, 1, (size_t)st.st_size, f), (size_t)st.st_size);
        fclose(f);
        copy = xasprintf("%s.copy", x.path);
        t0 = test_cpu_usec();
        for (size_t r = 0; r < rounds; r++) {
                int next = -1;
                assert_int_equal(write_file_atomic_pinned(copy, text, (size_t)st.st_size, &next), 0);
                if (fd >= 0)
                        close(fd);
                fd = next;
        }
        *ret_write = test_cpu_usec() - t0;
        close(fd);
        (void)unlink(copy);
        free(names);
        state_free(s);
        scratch_done(&x);
}

/* A settle costs what its platform changed and the writing of the file,
 * not the serializing of every platform: state.json was rendered whole
 * after every platform's audit, so a round of N audits cost N renderings
 * of N platforms (about 100 ms per settle at 2,000 platforms, 500 ms at
 * 10,000). Bounded as a ratio to writing the same bytes, which the
 * atomic replace cannot avoid and the disk decides. */
#define SETTLES 32
#define WRITE_RATIO 3
#define SETTLE_FIXED_USEC (2 * USEC_PER_MSEC)

static void test_settle_cost(void **state) {
        static const size_t sizes[] = { 2000, 10000 };
        uint64_t settle[ELEMENTSOF(sizes)], write[ELEMENTSOF(sizes)];

        /* Both measured before either is judged: the numbers tell more
         * together. */
        for (size_t k = 0; k < ELEMENTSOF(sizes); k++) {
                off_t size;

                measure(sizes[k], SETTLES, &settle[k], &write[k], &size);
                print_message("%zu platforms (%jd bytes): %" PRIu64 " us of CPU per settle, %" PRIu64
                              " us per write of the file\n",
                              sizes[k], (intmax_t)size, settle[k] / SETTLES, write[k] / SETTLES);
        }
        print_message("a round of 5x the platforms: %.1fx the CPU\n",
                      5.0 * (double)settle[1] / (double)(settle[0] ? settle[0] : 1));
        for (size_t k = 0; k < ELEMENTSOF(sizes); k++) {
                char what[128];

                snprintf(what, sizeof(what), "%d settles among %zu platforms", SETTLES, sizes[k]);
                test_cpu_within(what, settle[k], WRITE_RATIO * write[k] + SETTLES * SETTLE_FIXED_USEC);
        }
}

/* ---- the file, byte for byte ------------------------------------------ */

static void set_opt(json_t *o, const char *key, const char *value) {
        if (value)
                json_object_set_new(o, key, json_string(value));
}

/* state.json as state_save() wrote it when it rendered the whole document
 * at once through jansson, with renewal carried over: what it writes now,
 * platform by platform, must stay that, byte for byte. */
static char *render_whole(const struct state *s, json_t *renewal) {
        json_t *platforms = json_array();
        for (size_t i = 0; i < s->n_platforms; i++) {
                const struct state_platform *sp = &s->platforms[i];
                json_t *findings = json_array(), *certs = json_array();
                for (size_t j = 0; j < sp->n_findings; j++) {
                        const struct state_finding *f = &sp->findings[j];
                        json_t *o = json_pack("{s:s, s:s}", "id", f->id, "severity", severity_to_string(f->severity));
                        set_opt(o, "name", f->name);
                        set_opt(o, "address", f->address);
                        set_opt(o, "subject", f->subject);
                        set_opt(o, "message", f->message);
                        json_object_set_new(o, "first_seen", json_integer((json_int_t)f->first_seen));
                        json_object_set_new(o, "last_alerted", json_integer((json_int_t)f->last_alerted));
                        json_array_append_new(findings, o);
                }
                for (size_t j = 0; j < sp->n_certs; j++) {
                        const struct state_cert *c = &sp->certs[j];
                        json_t *o = json_pack("{s:s, s:s, s:I}", "name", c->name, "address", c->address, "port",
                                              (json_int_t)c->port);
                        set_opt(o, "sha256", c->sha256);
                        set_opt(o, "subject", c->subject);
                        set_opt(o, "issuer", c->issuer);
                        json_object_set_new(o, "not_after", json_integer((json_int_t)c->not_after));
                        json_object_set_new(o, "seen", json_integer((json_int_t)c->seen));
                        json_array_append_new(certs, o);
                }
                json_array_append_new(platforms, json_pack("{s:s, s:I, s:o, s:o}", "name", sp->name, "last_audit",
                                                           (json_int_t)sp->last_audit, "findings", findings,
                                                           "certificates", certs));
        }
        json_t *root = json_pack("{s:i, s:o}", "format", STATE_FORMAT, "platforms", platforms);
        assert_non_null(root);
        if (renewal)
                json_object_set(root, STATE_RENEWAL_KEY, renewal);
        char *text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        json_decref(root);
        assert_non_null(text);
        char *line = xasprintf("%s\n", text);
        free(text);
        return line;
}

static char *slurp(const char *path) {
        FILE *f = fopen(path, "re");
        struct stat st;

        assert_non_null(f);
        assert_int_equal(fstat(fileno(f), &st), 0);
        char *text = xmalloc((size_t)st.st_size + 1);
        assert_int_equal(fread(text, 1, (size_t)st.st_size, f), (size_t)st.st_size);
        text[st.st_size] = 0;
        fclose(f);
        return text;
}

/* Saves s, and checks the file against the whole document's rendering. */
static void save_and_compare(struct state *s, const char *path, const char *what) {
        assert_int_equal(state_save(s, path), 0);
        _cleanup_free_ char *got = slurp(path), *want = render_whole(s, s->renewal);
        if (strcmp(got, want) != 0)
                fail_msg("%s: state.json differs from the whole document's rendering:\n%s\n---- want\n%s", what, got,
                         want);
}

/* A platform with every field a file can hold: optional ones missing,
 * strings jansson escapes, numbers at their ends. */
static void fill_odd(struct state_platform *sp, time_t now) {
        add_finding(sp, "tls.expiry.critical", SEVERITY_CRITICAL, "a.example.test", "2001:db8::1", now);
        free(sp->findings[0].message);
        sp->findings[0].message = xstrdup("quote \" backslash \\ newline \n tab \t bell \a del \x7f é €");
        add_finding(sp, "dns.resolve.failed", SEVERITY_INFO, "b.example.test", NULL, 0);
        free(sp->findings[1].subject);
        sp->findings[1].subject = NULL;
        free(sp->findings[1].name);
        sp->findings[1].name = NULL;
        add_cert(sp, "a.example.test", "2001:db8::1", now);
        sp->certs[0].port = 65535;
        sp->certs[0].not_after = (time_t)INT64_MAX;
        free(sp->certs[0].sha256);
        sp->certs[0].sha256 = NULL;
        free(sp->certs[0].issuer);
        sp->certs[0].issuer = NULL;
        sp->last_audit = now;
}

static void test_file_unchanged(void **state) {
        const char *names[] = { "alpha", "beta", "gamma", "delta" };
        _cleanup_free_ char *error = NULL;
        struct state *s = state_new();
        json_t *root = NULL;
        struct scratch x;

        scratch_new(&x);
        save_and_compare(s, x.path, "no platform");
        state_platform(s, "empty")->last_audit = T0;
        save_and_compare(s, x.path, "a platform without findings or certificates");
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                fill_platform(state_platform(s, names[i]), i, T0);
        fill_odd(state_platform(s, "odd"), T0);
        save_and_compare(s, x.path, "platforms");

        /* One platform changes: only it is rendered again. */
        struct state_platform *sp = state_platform(s, "beta");
        sp->last_audit = T0 + 3600;
        free(sp->findings[0].message);
        sp->findings[0].message = xstrdup("a longer message than the one before, which moves the others");
        save_and_compare(s, x.path, "one platform changed");
        state_platform(s, "zeta")->last_audit = T0 + 3600;
        save_and_compare(s, x.path, "one platform added");

        /* Pruned: the first one goes, and one in the middle. */
        const char *configured[] = { "beta", "gamma", "odd", "zeta" };
        state_platform(s, "empty")->last_audit = T0 - STATE_PLATFORM_KEEP_SEC - 1;
        state_platform(s, "delta")->last_audit = T0 - STATE_PLATFORM_KEEP_SEC - 1;
        assert_true(state_prune_due(s, T0));
        state_prune_platforms(s, configured, ELEMENTSOF(configured), T0);
        assert_null(state_platform_find(s, "empty"));
        assert_int_equal(s->n_platforms, 5);
        save_and_compare(s, x.path, "pruned");

        /* Values jansson refuses (not UTF-8) are left out as they were:
         * a finding's field, a finding, a whole platform. */
        sp = state_platform(s, "gamma");
        free(sp->findings[0].message);
        sp->findings[0].message = xstrdup("bad \xff byte");
        add_finding(sp, "tls.expiry.warning", SEVERITY_WARNING, "c.example.test", NULL, T0);
        free(sp->findings[1].id);
        sp->findings[1].id = xstrdup("tls.\xc3(");
        state_platform(s, "\xfe\xfe")->last_audit = T0;
        save_and_compare(s, x.path, "values jansson refuses");

        /* Renewal's guardrails written by another process: carried over,
         * at their depth, then as they were rendered. */
        assert_int_equal(state_read_json(x.path, 0, &root, &error), 0);
        json_object_set_new(root, STATE_RENEWAL_KEY,
                            json_pack("{s:i, s:{s:{s:[I, I], s:s, s:b, s:{}}}, s:[]}", "format", 1, "platforms",
                                      "beta", "triggers", (json_int_t)T0, (json_int_t)T0 + 60, "note", "x\ny", "verifying", 1,
                                      "empty", "list"));
        char *text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        json_decref(root);
        assert_int_equal(write_file_atomic(x.path, text, strlen(text)), 0);
        free(text);
        assert_int_equal(state_refresh(x.path, &s, &error), 1);
        assert_non_null(s->renewal);
        save_and_compare(s, x.path, "renewal carried over, after a refresh");
        state_platform(s, "beta")->last_audit = T0 + 7200;
        save_and_compare(s, x.path, "renewal as rendered before");
        /* Memory changed without a save: the renewal is read from the file again. */
        state_forget_file(s);
        save_and_compare(s, x.path, "renewal read again");

        /* Every platform refused: an empty list, as jansson writes it. */
        struct state *bad = state_new();
        state_platform(bad, "\xff")->last_audit = T0;
        save_and_compare(bad, x.path, "only a platform jansson refuses");
        state_free(bad);

        state_free(s);
        scratch_done(&x);
}

/* Pruning is looked at only when a platform may go, and then drops what
 * state_prune_platforms() drops. */
static void test_prune_due(void **state) {
        const char *configured[] = { "kept", "stale-but-configured" };
        struct state *s = state_new();
        time_t now = T0;

        state_platform(s, "kept")->last_audit = now;
        state_platform(s, "stale-but-configured")->last_audit = now - 30 * 86400;
        state_platform(s, "other")->last_audit = now - 86400;     /* another config's: goes in 6 days */
        assert_true(state_prune_due(s, now));                    /* never pruned */
        state_prune_platforms(s, configured, ELEMENTSOF(configured), now);
        assert_int_equal(s->n_platforms, 3);
        assert_false(state_prune_due(s, now));
        assert_false(state_prune_due(s, now - 86400 + STATE_PLATFORM_KEEP_SEC)); /* the last second "other" stays */
        assert_true(state_prune_due(s, now - 86400 + STATE_PLATFORM_KEEP_SEC + 1));

        /* Audited since: still due then (the date only moves on when
         * every platform is looked at), but nothing goes, and the next
         * date is the new audits'. */
        state_platform(s, "other")->last_audit = now + 3600;
        state_platform(s, "kept")->last_audit = now + 3600;
        assert_true(state_prune_due(s, now - 86400 + STATE_PLATFORM_KEEP_SEC + 1));
        state_prune_platforms(s, configured, ELEMENTSOF(configured), now - 86400 + STATE_PLATFORM_KEEP_SEC + 1);
        assert_int_equal(s->n_platforms, 3);
        assert_false(state_prune_due(s, now + 3600 + STATE_PLATFORM_KEEP_SEC));
        assert_true(state_prune_due(s, now + 3600 + STATE_PLATFORM_KEEP_SEC + 1));

        /* A platform given out with an old last audit makes it due at once. */
        state_platform(s, "old")->last_audit = now - 10 * 86400;
        assert_true(state_prune_due(s, now + 3600));
        state_prune_platforms(s, configured, ELEMENTSOF(configured), now + 3600);
        assert_null(state_platform_find(s, "old"));
        assert_non_null(state_platform_find(s, "stale-but-configured"));
        assert_false(state_prune_due(s, now + 3600));
        state_free(s);
}

/* ---- the renewal guardrails' saves ------------------------------------- */

/* `changes` changes of the renewal store among n platforms (an RDAP
 * look-up remembered: lock, change one platform's entry, save), each
 * followed by the daemon's settle of another platform; the store reads and
 * writes through the daemon's state when shared. CPU of the whole. */
static uint64_t store_changes(const struct scratch *x, struct state **s, const char *const *names, size_t n,
                              bool shared, size_t changes, time_t now) {
        struct renew_store *store = NULL;
        _cleanup_free_ char *warning = NULL;

        assert_int_equal(renew_store_open(x->dir, false, &store, &warning), 0);
        assert_null(warning);
        if (shared)
                renew_store_share(store, s);
        uint64_t t0 = test_cpu_usec();
        for (size_t r = 0; r < changes; r++) {
                assert_int_equal(renew_store_lock(store), 0);
                struct renew_state *st = renew_store_get(store, names[(r * 7919) % n]);
                free(st->rdap_domain);
                st->rdap_domain = xstrdup("example.test");
                st->rdap_next_check = now + (time_t)r;
                assert_int_equal(renew_store_save(store), 0);
                settle(x->dir, x->path, s, names, n, (r * 104729) % n, now + (time_t)r);
        }
        uint64_t spent = test_cpu_usec() - t0;
        renew_store_free(store);
        return spent;
}

/* A change of the renewal guardrails in the daemon read and rendered the
 * whole file twice, and the daemon's next settle read and rendered it all
 * again as another process's (about 0.4 s and 0.25 s of CPU at 10,000
 * platforms). Through the daemon's state it costs what changed and the
 * write, and the file is the same. */
#define STORE_PLATFORMS 5000
#define STORE_CHANGES 16

static void test_renewal_store_shared(void **state) {
        /* Copies: the state is read anew while the store writes the file itself. */
        char **names = xcalloc(STORE_PLATFORMS + 1, sizeof(*names));
        _cleanup_free_ char *error = NULL, *whole = NULL, *shared_text = NULL;
        struct state *s = state_new();
        json_t *root = NULL;
        struct scratch x;

        scratch_new(&x);
        for (size_t i = 0; i < STORE_PLATFORMS; i++) {
                names[i] = xasprintf("platform-%05zu", i);
                fill_platform(state_platform(s, names[i]), i, T0);
        }
        assert_int_equal(state_save(s, x.path), 0);

        uint64_t own = store_changes(&x, &s, (const char *const *)names, STORE_PLATFORMS, false, STORE_CHANGES,
                                     T0 + 60);
        uint64_t through = store_changes(&x, &s, (const char *const *)names, STORE_PLATFORMS, true, STORE_CHANGES,
                                         T0 + 120);
        print_message("%d platforms: %" PRIu64 " us of CPU per guardrails' change and settle, %" PRIu64
                      " through the daemon's state\n",
                      STORE_PLATFORMS, own / STORE_CHANGES, through / STORE_CHANGES);

        /* The file is what the whole document renders, the guardrails of
         * both runs in it, and the daemon's state is still its version. */
        assert_int_equal(state_refresh(x.path, &s, &error), 0);
        shared_text = slurp(x.path);
        whole = render_whole(s, s->renewal);
        assert_string_equal(shared_text, whole);
        assert_int_equal(state_read_json(x.path, 0, &root, &error), 0);
        json_t *platforms = json_object_get(json_object_get(root, STATE_RENEWAL_KEY), "platforms");
        assert_int_equal(json_object_size(platforms), STORE_CHANGES);
        json_t *last = json_object_get(platforms, names[((STORE_CHANGES - 1) * 7919) % STORE_PLATFORMS]);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(last, "rdap"), "next_check")),
                         T0 + 120 + STORE_CHANGES - 1);
        json_decref(root);

        /* Locks that change nothing leave the guardrails as they were, in
         * memory, in the state and in the file (a lock once took platforms
         * out of the state's own guardrails as it read them). */
        struct renew_store *store = NULL;
        _cleanup_free_ char *warning = NULL;
        const char *last_name = names[((STORE_CHANGES - 1) * 7919) % STORE_PLATFORMS];
        assert_int_equal(renew_store_open(x.dir, false, &store, &warning), 0);
        renew_store_share(store, &s);
        for (int k = 0; k < 3; k++) {
                assert_int_equal(renew_store_lock(store), 0);
                assert_int_equal(renew_store_get(store, last_name)->rdap_next_check, T0 + 120 + STORE_CHANGES - 1);
                renew_store_unlock(store);
                settle(x.dir, x.path, &s, (const char *const *)names, STORE_PLATFORMS, (size_t)k, T0 + 200 + k);
        }
        /* Two changes in a row, no settle between or after: the file holds
         * each as saved, not the guardrails' text rendered for the one
         * before (a daemon may stop before its next settle). */
        for (int k = 0; k < 2; k++) {
                assert_int_equal(renew_store_lock(store), 0);
                renew_store_get(store, last_name)->rdap_next_check = T0 + 300 + k;
                assert_int_equal(renew_store_save(store), 0);
                free(shared_text);
                shared_text = slurp(x.path);
                free(whole);
                whole = render_whole(s, s->renewal);
                assert_string_equal(shared_text, whole);
                assert_int_equal(state_read_json(x.path, 0, &root, &error), 0);
                json_t *mine = json_object_get(json_object_get(json_object_get(root, STATE_RENEWAL_KEY), "platforms"),
                                               last_name);
                assert_int_equal(json_integer_value(json_object_get(json_object_get(mine, "rdap"), "next_check")),
                                 T0 + 300 + k);
                json_decref(root);
                root = NULL;
        }
        renew_store_free(store);
        assert_int_equal(json_object_size(json_object_get(s->renewal, "platforms")), STORE_CHANGES);
        free(shared_text);
        shared_text = slurp(x.path);
        free(whole);
        whole = render_whole(s, s->renewal);
        assert_string_equal(shared_text, whole);

        /* Its own reading and writing stays for a process without a state
         * (the oneshot); the shared one's costs a fifth of it at most. */
        test_cpu_within("the guardrails' changes through the daemon's state", through, own / 5);
        for (size_t i = 0; i < STORE_PLATFORMS; i++)
                free(names[i]);
        free(names);
        state_free(s);
        scratch_done(&x);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_renewal_store_shared),
                cmocka_unit_test(test_file_unchanged),
                cmocka_unit_test(test_prune_due),
                cmocka_unit_test(test_settle_cost),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
