/* The shared validating resolvers: see dnssec-hub.h for the rules. One
 * sd-event source per context watches its ub_fd(); ub_process() runs each
 * answer's own callback, so answers reach their probe by async id. Leases
 * are served and unused contexts deleted from one deferred source, never
 * from a caller's stack: a probe may give its lease back from inside an
 * answer's callback, within ub_process() of that very context. */
#include <arpa/nameser.h>
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unbound.h>

#if defined(__SANITIZE_ADDRESS__)
#define CV_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CV_LSAN 1
#endif
#endif
#ifdef CV_LSAN
#include <sanitizer/lsan_interface.h>
#endif

#include "dnssec-hub.h"
#include "util.h"

struct dnssec_lease;

/* Leases in order, added at the tail: both ends kept, so adding is O(1). */
struct lease_list {
        struct dnssec_lease *head, *tail;
};

struct validator {
        struct dnssec_hub *hub;
        struct dnssec_setup setup;     /* owned copies */
        struct ub_ctx *ub;
        sd_event_source *io;
        uint64_t made_usec;            /* CLOCK_MONOTONIC */
        struct lease_list users;
        bool retired;                  /* takes no new users */
        bool lost;                     /* its worker stopped */
        bool forked;                   /* its worker exists: questions fork no more */
};

struct dnssec_lease {
        struct dnssec_hub *hub;
        struct validator *v;           /* NULL while waiting */
        struct dnssec_setup setup;     /* owned copies, while waiting */
        uint64_t born_usec;
        dnssec_lease_ready_cb ready;
        dnssec_lease_lost_cb lost;
        void *userdata;
        bool queued;                   /* in the hub's queue */
        bool told_lost;
        struct dnssec_lease *prev, *next; /* in v->users, or the hub's queue */
};

struct dnssec_hub {
        sd_event *event;
        unsigned max;
        struct validator **validators; /* each its own allocation */
        size_t n_validators;
        struct lease_list queue;       /* waiting, oldest first */
        struct dnssec_lease *cursor;   /* hub_serve's next to look at; moved on if freed */
        sd_event_source *tick;         /* serves the queue, deletes unused contexts */
        unsigned long made;
};

static void list_add_tail(struct lease_list *list, struct dnssec_lease *l) {
        l->prev = list->tail;
        l->next = NULL;
        if (list->tail)
                list->tail->next = l;
        else
                list->head = l;
        list->tail = l;
}

static void list_remove(struct lease_list *list, struct dnssec_lease *l) {
        if (l->prev)
                l->prev->next = l->next;
        else
                list->head = l->next;
        if (l->next)
                l->next->prev = l->prev;
        else
                list->tail = l->prev;
        l->prev = l->next = NULL;
}

static void setup_copy(struct dnssec_setup *dst, const struct dnssec_setup *src) {
        *dst = (struct dnssec_setup){
                .resolvers = src->resolvers ? strv_copy(src->resolvers) : NULL,
                .trust_anchor = xstrdup(src->trust_anchor),
                .transparent_tld = src->transparent_tld ? xstrdup(src->transparent_tld) : NULL,
        };
}

static void setup_done(struct dnssec_setup *s) {
        strv_free((char **)s->resolvers);
        free((char *)s->trust_anchor);
        free((char *)s->transparent_tld);
        *s = (struct dnssec_setup){ 0 };
}

/* The same forwarders in the same order (unbound keeps them so), the same
 * anchor file, the same transparent zone. */
static bool setup_equal(const struct dnssec_setup *a, const struct dnssec_setup *b) {
        size_t n = strv_length(a->resolvers);

        if (!a->resolvers != !b->resolvers || n != strv_length(b->resolvers))
                return false;
        for (size_t i = 0; i < n; i++)
                if (strcmp(a->resolvers[i], b->resolvers[i]) != 0)
                        return false;
        return streq_ptr(a->trust_anchor, b->trust_anchor) && streq_ptr(a->transparent_tld, b->transparent_tld);
}

/* libunbound talks to its worker with plain writes on a socket pair: once
 * the worker is gone (killed, out of memory) a write raises SIGPIPE, whose
 * default action ends certvigil. It is held back around the calls that
 * write and consumed if raised, so the call fails instead and the dead
 * worker is found by its pipe's end of file (validator_lost()). */
static void sigpipe_hold(sigset_t *ret_old) {
        sigset_t pipe;

        sigemptyset(&pipe);
        sigaddset(&pipe, SIGPIPE);
        sigprocmask(SIG_BLOCK, &pipe, ret_old);
}

static void sigpipe_release(const sigset_t *old) {
        static const struct timespec now = { 0, 0 };
        sigset_t pipe, pending;

        sigemptyset(&pipe);
        sigaddset(&pipe, SIGPIPE);
        /* Only if it was not held before us: then it is ours. */
        if (!sigismember(old, SIGPIPE) && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE))
                (void)sigtimedwait(&pipe, NULL, &now); /* consumes it; nothing else to do, ignoring */
        sigprocmask(SIG_SETMASK, old, NULL);
}

/* libunbound forks the worker inside ub_resolve_async(), so while
 * sigpipe_hold() holds SIGPIPE, and the worker kept the hold for good.
 * Once certvigil is gone (killed, crashed) its writes to us then fail
 * with EPIPE instead of ending it: seen here, it printed "libunbound[..]
 * error: tube msg write failed: Broken pipe" to our stderr and exit()ed.
 * Without the hold it ends quietly on SIGPIPE, as libunbound expects. Our
 * side stays held while it writes the question. The signals the daemon
 * blocks for sd-event (SIGTERM, SIGINT, SIGHUP) are not the worker's
 * either: a SIGTERM to the whole service ends it too. Runs in the child
 * of every fork(): libunbound's are the only ones (commands are started
 * with posix_spawn(), which runs no fork handlers and sets its own mask). */
static void worker_unblock_signals(void) {
        sigset_t none;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
#ifdef CV_LSAN
        /* In a sanitizer build the worker, a copy of certvigil, would print
         * a leak report of libunbound's own at its exit(): the worker's
         * allocations are not ours to judge. certvigil's are still checked. */
        __lsan_disable();
#endif
}

static void fork_handler_install(void) {
        /* Fails only without memory: the worker keeps the hold, ignoring. */
        (void)pthread_atfork(NULL, NULL, worker_unblock_signals);
}

static void hub_kick(struct dnssec_hub *h) {
        if (h->tick)
                (void)sd_event_source_set_enabled(h->tick, SD_EVENT_ONESHOT); /* fails only without memory, ignoring */
}

/* "ADDR[:PORT]" or "[ADDR6][:PORT]", as config.c normalises them, in
 * unbound's "ADDR@PORT". */
static char *forwarder_text(const char *resolver) {
        const char *colon;

        if (resolver[0] == '[') {
                const char *end = strchr(resolver, ']');
                if (!end)
                        return xstrdup(resolver);
                colon = end[1] == ':' ? end + 1 : NULL;
                return colon ? xasprintf("%.*s@%s", (int)(end - resolver - 1), resolver + 1, colon + 1)
                             : xstrndup(resolver + 1, (size_t)(end - resolver - 1));
        }
        colon = strchr(resolver, ':');
        return colon ? xasprintf("%.*s@%s", (int)(colon - resolver), resolver, colon + 1) : xstrdup(resolver);
}

static int ub_configure(struct ub_ctx *ub, const struct dnssec_setup *s, char **ret_error) {
        int r;

        if (s->resolvers)
                for (char *const *a = s->resolvers; *a; a++) {
                        _cleanup_free_ char *fwd = forwarder_text(*a);
                        r = ub_ctx_set_fwd(ub, fwd);
                        if (r != 0) {
                                *ret_error = xasprintf("resolver %s: %s", *a, ub_strerror(r));
                                return -EINVAL;
                        }
                }
        else if ((r = ub_ctx_resolvconf(ub, NULL)) != 0) {
                *ret_error = xasprintf("/etc/resolv.conf: %s", ub_strerror(r));
                return -EINVAL;
        }
        r = ub_ctx_add_ta_file(ub, s->trust_anchor);
        if (r != 0) {
                *ret_error = xasprintf("trust anchor %s: %s", s->trust_anchor, ub_strerror(r));
                return -EINVAL;
        }
        /* unbound answers names under RFC 6761's special-use domains
         * (test., invalid., ...) itself, NXDOMAIN; the platform's own
         * domain must reach its resolvers whatever it is. */
        if (s->transparent_tld) {
                _cleanup_free_ char *zone = xasprintf("%s. transparent", s->transparent_tld);
                (void)ub_ctx_set_option(ub, "local-zone:", zone); /* a name unbound does not know is fine, ignoring */
        }
        return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);

static int validator_new(struct dnssec_hub *h, const struct dnssec_setup *setup, struct validator **ret,
                         char **ret_error) {
        struct validator *v = xcalloc(1, sizeof(*v));
        int r;

        v->hub = h;
        setup_copy(&v->setup, setup);
        v->made_usec = now_monotonic_usec();
        v->ub = ub_ctx_create();
        if (!v->ub) {
                *ret_error = xstrdup("the validating resolver could not be created");
                r = -ENOMEM;
                goto fail;
        }
        r = ub_configure(v->ub, &v->setup, ret_error);
        if (r < 0)
                goto fail;
        r = sd_event_add_io(h->event, &v->io, ub_fd(v->ub), EPOLLIN, on_io, v);
        if (r < 0) {
                *ret_error = xasprintf("cannot watch the validating resolver: %s", strerror(-r));
                goto fail;
        }
        h->validators = xrealloc(h->validators, (h->n_validators + 1) * sizeof(*h->validators));
        h->validators[h->n_validators++] = v;
        h->made++;
        *ret = v;
        return 0;
fail:
        if (v->ub)
                ub_ctx_delete(v->ub);
        setup_done(&v->setup);
        free(v);
        return r;
}

/* Stops the worker process (ub_ctx_delete waits for it). */
static void validator_free(struct validator *v) {
        struct dnssec_hub *h = v->hub;

        sigset_t old;

        assert(!v->users.head);
        for (size_t i = 0; i < h->n_validators; i++)
                if (h->validators[i] == v) {
                        h->validators[i] = h->validators[--h->n_validators];
                        break;
                }
        sd_event_source_disable_unref(v->io);
        sigpipe_hold(&old);
        ub_ctx_delete(v->ub); /* tells the worker to quit: a write */
        sigpipe_release(&old);
        setup_done(&v->setup);
        free(v);
}

/* Tells each user once; a user may free its lease, or others, meanwhile:
 * start over from the head after each call. */
static void validator_lost(struct validator *v) {
        v->lost = v->retired = true;
        v->io = sd_event_source_disable_unref(v->io); /* a dead pipe stays readable */
        for (;;) {
                struct dnssec_lease *l = v->users.head;
                while (l && l->told_lost)
                        l = l->next;
                if (!l)
                        break;
                l->told_lost = true;
                if (l->lost)
                        l->lost(l, l->userdata);
        }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct validator *v = userdata;

        /* Runs the callback of every answer that has arrived; deleting v
         * waits for the tick, so a callback may give its lease back. */
        if (ub_process(v->ub) != 0)
                validator_lost(v);
        return 0;
}

/* An open context l may join: same setup, made no earlier than l's audit.
 * An open one made before l's audit retires: l's answers must be fresh. */
static struct validator *hub_find(struct dnssec_hub *h, const struct dnssec_lease *l) {
        for (size_t i = 0; i < h->n_validators; i++) {
                struct validator *v = h->validators[i];
                if (v->retired || !setup_equal(&v->setup, &l->setup))
                        continue;
                if (v->made_usec >= l->born_usec)
                        return v;
                v->retired = true;
                if (!v->users.head)
                        hub_kick(h);
        }
        return NULL;
}

/* The next waiting lease from the cursor on that can be served now, or
 * NULL. Within one hub_serve() no context goes (only the tick deletes
 * them, after it), so once all max are in use a lease that cannot join
 * one cannot later in the pass either: each is looked at once, not again
 * after every lease served (quadratic with many waiting). */
static struct dnssec_lease *hub_next(struct dnssec_hub *h, struct validator **ret_v) {
        while (h->cursor) {
                struct dnssec_lease *l = h->cursor;
                struct validator *v = hub_find(h, l);
                h->cursor = l->next;
                if (v || h->n_validators < h->max) {
                        *ret_v = v;
                        return l;
                }
        }
        return NULL;
}

static void hub_serve(struct dnssec_hub *h) {
        struct dnssec_lease *l;
        struct validator *v;

        /* The callback may free leases (dnssec_lease_free() moves the
         * cursor past one it frees) or ask for more (added at the tail,
         * looked at in turn, or kicked into the next tick). */
        h->cursor = h->queue.head;
        while ((l = hub_next(h, &v))) {
                _cleanup_free_ char *error = NULL;
                int r = 0;

                list_remove(&h->queue, l);
                l->queued = false;
                if (!v)
                        r = validator_new(h, &l->setup, &v, &error);
                if (r >= 0) {
                        l->v = v;
                        list_add_tail(&v->users, l);
                        setup_done(&l->setup);
                }
                l->ready(l, r, error, l->userdata);
        }
}

static int on_tick(sd_event_source *s, void *userdata) {
        struct dnssec_hub *h = userdata;

        hub_serve(h);
        /* Unused contexts go: a later audit would retire them anyway, and
         * each holds a process. Waiting leases had their turn first. */
        for (size_t i = h->n_validators; i > 0; i--)
                if (!h->validators[i - 1]->users.head)
                        validator_free(h->validators[i - 1]);
        if (h->queue.head)
                hub_serve(h);
        return 0;
}

int dnssec_hub_new(sd_event *event, unsigned max, struct dnssec_hub **ret) {
        static pthread_once_t fork_handler = PTHREAD_ONCE_INIT; /* a fork handler is for the process */
        struct dnssec_hub *h = xcalloc(1, sizeof(*h));
        int r;

        (void)pthread_once(&fork_handler, fork_handler_install); /* cannot fail so, ignoring */
        h->event = sd_event_ref(event);
        h->max = max ? max : 1;
        r = sd_event_add_defer(event, &h->tick, on_tick, h);
        if (r >= 0)
                r = sd_event_source_set_enabled(h->tick, SD_EVENT_OFF);
        if (r < 0) {
                dnssec_hub_free(h);
                return r;
        }
        *ret = h;
        return 0;
}

struct dnssec_hub *dnssec_hub_free(struct dnssec_hub *h) {
        if (!h)
                return NULL;
        assert(!h->queue.head);
        while (h->n_validators > 0)
                validator_free(h->validators[h->n_validators - 1]);
        free(h->validators);
        sd_event_source_disable_unref(h->tick);
        sd_event_unref(h->event);
        free(h);
        return NULL;
}

unsigned dnssec_hub_contexts(const struct dnssec_hub *h) {
        return h ? (unsigned)h->n_validators : 0;
}

unsigned long dnssec_hub_made(const struct dnssec_hub *h) {
        return h ? h->made : 0;
}

struct dnssec_lease *dnssec_hub_lease(struct dnssec_hub *h, const struct dnssec_setup *setup, uint64_t born_usec,
                                      dnssec_lease_ready_cb ready, dnssec_lease_lost_cb lost, void *userdata) {
        struct dnssec_lease *l = xcalloc(1, sizeof(*l));

        assert(h && setup && setup->trust_anchor && ready);
        *l = (struct dnssec_lease){
                .hub = h, .born_usec = born_usec, .ready = ready, .lost = lost, .userdata = userdata };
        setup_copy(&l->setup, setup);
        list_add_tail(&h->queue, l);
        l->queued = true;
        hub_kick(h);
        return l;
}

struct ub_ctx *dnssec_lease_ub(const struct dnssec_lease *l) {
        return l && l->v && !l->v->lost ? l->v->ub : NULL;
}

int dnssec_lease_ask(struct dnssec_lease *l, const char *name, int type, dnssec_answer_cb cb, void *userdata,
                     int *ret_id, const char **ret_why) {
        struct ub_ctx *ub = dnssec_lease_ub(l);
        sigset_t old;
        int r;

        if (!ub) {
                *ret_why = "the validating resolver's worker stopped";
                return -EPIPE;
        }
        /* The worker process is forked at the first question and exit()s
         * in the end, flushing its copy of every stdio buffer: what any
         * stream holds now (stdout, a report being written) would be
         * written twice. A fork that fails (RLIMIT_NPROC) is tried again
         * at the next question, so flush until one is known to exist. */
        if (!l->v->forked)
                fflush(NULL);
        sigpipe_hold(&old);
        r = ub_resolve_async(ub, name, type, ns_c_in, userdata, cb, ret_id);
        sigpipe_release(&old);
        if (r == 0)
                l->v->forked = true; /* asked: the worker was forked, now or before */
        if (r != 0) {
                *ret_why = ub_strerror(r);
                return r == UB_NOMEM ? -ENOMEM : -EIO;
        }
        return 0;
}

void dnssec_lease_cancel(struct dnssec_lease *l, int id) {
        struct ub_ctx *ub = dnssec_lease_ub(l);
        sigset_t old;

        if (!ub)
                return;
        sigpipe_hold(&old);
        (void)ub_cancel(ub, id); /* an answer on its way is dropped; an id already answered is fine, ignoring */
        sigpipe_release(&old);
}

struct dnssec_lease *dnssec_lease_free(struct dnssec_lease *l) {
        if (!l)
                return NULL;
        if (l->v) {
                list_remove(&l->v->users, l);
                if (!l->v->users.head)
                        hub_kick(l->hub);
        } else if (l->queued) {
                if (l->hub->cursor == l)
                        l->hub->cursor = l->next;
                list_remove(&l->hub->queue, l);
        }
        setup_done(&l->setup);
        free(l);
        return NULL;
}
