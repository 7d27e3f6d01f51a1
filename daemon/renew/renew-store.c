/* The renewal store: the guardrails' memory under the "renewal" key of
 * state.json, changed under the state directory's lock and saved
 * atomically beside the alert state. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "renew-store.h"
#include "state.h"
#include "util.h"

#define STORE_FORMAT 1

/* Each entry is its own allocation: renewals and ARI keep a pointer to
 * their platform's state while later platforms are added. */
struct store_entry {
        char *name;
        struct renew_state st;
};

struct renew_store {
        char *dir;
        char *path;
        bool read_only;
        bool unsaved;              /* the last save failed: memory is newer than the file */
        bool lock_failed;          /* some change could not be made this run */
        int lock_fd;               /* state_lock()'s, -1 when not held */
        bool locked;               /* renew_store_lock() succeeded, not yet unlocked (lock_fd may
                                    * still be -1: no state directory to lock) */
        json_t *others;            /* platforms of the file not asked for, as last read */
        /* The process's alert state (renew_store_share()), borrowed: the
         * file is read and written through it. NULL: the store reads and
         * writes the file itself. */
        struct state **state;
        struct store_entry **entries;
        size_t n_entries;
};

/* The platforms of renewal, the "renewal" key's value (NULL: none): 0 and
 * *ret (a new reference; NULL without renewal), or -EINVAL with
 * *ret_warning. */
static int store_platforms(const struct renew_store *s, json_t *renewal, json_t **ret, char **ret_warning) {
        json_t *platforms = json_object_get(renewal, "platforms");

        *ret = NULL;
        if (renewal && (json_integer_value(json_object_get(renewal, "format")) != STORE_FORMAT ||
                        !json_is_object(platforms))) {
                *ret_warning = xasprintf("%s: \"%s\" is not a renewal state of format %d; starting afresh", s->path,
                                         STATE_RENEWAL_KEY, STORE_FORMAT);
                return -EINVAL;
        }
        *ret = json_incref(platforms);
        return 0;
}

/* The "renewal" key's platforms in the file at s->path: 0 and *ret (NULL
 * when the file or the key is missing), or -EINVAL with *ret_warning. */
static int store_read(struct renew_store *s, json_t **ret, char **ret_warning) {
        _cleanup_free_ char *error = NULL;
        json_t *root = NULL;
        int r;

        *ret = NULL;
        r = state_read_json(s->path, JSON_REJECT_DUPLICATES, &root, &error);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                *ret_warning = xasprintf("%s; cannot read the renewal state, starting afresh, "
                                         "so the guardrails forget earlier triggers", error);
                return -EINVAL;
        }
        /* The guardrails live under one key of the alert state's file. */
        r = store_platforms(s, json_object_get(root, STATE_RENEWAL_KEY), ret, ret_warning);
        json_decref(root);
        return r;
}

/* store_read() through the shared alert state: read again only when the
 * file is not the version it holds. An unreadable file is -EINVAL. *ret
 * is a copy: the caller takes platforms out of it as it reads them, and
 * the state's own must stay what the file holds. */
static int store_read_shared(struct renew_store *s, json_t **ret, char **ret_warning) {
        _cleanup_free_ char *error = NULL;
        json_t *platforms = NULL;
        int r;

        *ret = NULL;
        r = state_refresh(s->path, s->state, &error);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                *ret_warning = xasprintf("%s; keeping the renewal state in memory", error);
                return -EINVAL;
        }
        r = store_platforms(s, (*s->state)->renewal, &platforms, ret_warning);
        if (r < 0 || !platforms)
                return r;
        *ret = json_deep_copy(platforms);
        json_decref(platforms);
        return *ret ? 0 : -ENOMEM;
}

static void entry_load(struct renew_store *s, struct store_entry *e, json_t *o) {
        renew_state_done(&e->st);
        if (o && renew_state_from_json(o, &e->st) < 0) {
                fprintf(stderr, "certvigil: %s: the renewal state of platform '%s' is malformed; starting afresh\n",
                        s->path, e->name);
                e->st = (struct renew_state){ 0 };
        }
}

int renew_store_open(const char *dir, bool read_only, struct renew_store **ret, char **ret_warning) {
        struct renew_store *s = xcalloc(1, sizeof(*s));
        json_t *platforms = NULL;

        s->dir = xstrdup(dir);
        s->path = xasprintf("%s/%s", dir, STATE_FILE);
        s->read_only = read_only;
        s->lock_fd = -1;
        s->others = json_object();
        (void)store_read(s, &platforms, ret_warning); /* a bad file is an empty store, said in the warning */
        if (platforms)
                json_object_update(s->others, platforms);
        json_decref(platforms);
        *ret = s;
        return 0;
}

struct renew_store *renew_store_free(struct renew_store *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_entries; i++) {
                free(s->entries[i]->name);
                renew_state_done(&s->entries[i]->st);
                free(s->entries[i]);
        }
        free(s->entries);
        json_decref(s->others);
        s->lock_fd = state_unlock(s->lock_fd);
        free(s->path);
        free(s->dir);
        free(s);
        return NULL;
}

void renew_store_share(struct renew_store *s, struct state **state) {
        s->state = state;
}

const char *renew_store_path(const struct renew_store *s) {
        return s->path;
}

bool renew_store_lock_failed(const struct renew_store *s) {
        return s && s->lock_failed;
}

struct renew_state *renew_store_get(struct renew_store *s, const char *platform) {
        struct store_entry *e;

        for (size_t i = 0; i < s->n_entries; i++)
                if (strcmp(s->entries[i]->name, platform) == 0)
                        return &s->entries[i]->st;
        e = xcalloc(1, sizeof(*e));
        e->name = xstrdup(platform);
        entry_load(s, e, json_object_get(s->others, platform));
        json_object_del(s->others, platform);
        s->entries = xrealloc(s->entries, (s->n_entries + 1) * sizeof(*s->entries));
        s->entries[s->n_entries++] = e;
        return &e->st;
}

int renew_store_lock(struct renew_store *s) {
        _cleanup_free_ char *error = NULL, *warning = NULL;
        json_t *platforms = NULL;
        int r;

        assert(!s->locked && s->lock_fd < 0);
        if (s->read_only)
                return 0;
        r = state_lock(s->dir, &s->lock_fd, &error);
        if (r < 0) {
                fprintf(stderr, "certvigil: cannot lock %s\n", error);
                s->lock_failed = true;
                return r;
        }
        s->locked = true;
        /* Another certvigil may have saved since: its word is the newest,
         * unless our own last save failed. A file that cannot be read
         * leaves memory as it is. */
        if (s->unsaved)
                return 0;
        r = s->state ? store_read_shared(s, &platforms, &warning) : store_read(s, &platforms, &warning);
        if (r < 0 || !platforms)
                return 0;
        for (size_t i = 0; i < s->n_entries; i++) {
                entry_load(s, s->entries[i], json_object_get(platforms, s->entries[i]->name));
                json_object_del(platforms, s->entries[i]->name);
        }
        json_object_clear(s->others);
        json_object_update(s->others, platforms);
        json_decref(platforms);
        return 0;
}

void renew_store_unlock(struct renew_store *s) {
        s->lock_fd = state_unlock(s->lock_fd);
        s->locked = false;
}

/* platforms (taken) under the renewal key, through the shared alert
 * state, which renders only what changed and stays the file's version
 * for the daemon's next settle: the alert part as the file has it now
 * (the lock may not have read it), or, unreadable, as memory has it. */
static int store_write_shared(struct renew_store *s, json_t *platforms) {
        _cleanup_free_ char *error = NULL;
        json_t *renewal;
        int r;

        (void)state_refresh(s->path, s->state, &error);
        renewal = json_pack("{s:i, s:o}", "format", STORE_FORMAT, "platforms", platforms);
        r = renewal ? state_save_renewal(*s->state, s->path, renewal) : -ENOMEM;
        json_decref(renewal);
        return r;
}

/* platforms (taken) under the renewal key: read, replace our key, write;
 * the alert state in the same file is kept as the daemon or the last
 * audit left it. */
static int store_write_file(struct renew_store *s, json_t *platforms) {
        _cleanup_free_ char *ignored = NULL, *line = NULL;
        json_t *root = NULL;
        char *text;

        (void)state_read_json(s->path, 0, &root, &ignored); /* unreadable: the alert state is rebuilt */
        if (!json_is_object(root)) {
                json_decref(root);
                root = json_pack("{s:i, s:[]}", "format", STATE_FORMAT, "platforms");
        }
        json_object_set_new(root, STATE_RENEWAL_KEY,
                            json_pack("{s:i, s:o}", "format", STORE_FORMAT, "platforms", platforms));
        text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        json_decref(root);
        if (!text)
                return -ENOMEM;
        line = xasprintf("%s\n", text);
        free(text);
        return write_file_atomic(s->path, line, strlen(line));
}

int renew_store_save(struct renew_store *s) {
        json_t *platforms;
        int r;

        if (s->read_only)
                return 0;
        /* Saved from memory not re-read under the lock, the file would lose
         * what another certvigil saved since. */
        assert(s->locked);
        platforms = json_deep_copy(s->others);
        for (size_t i = 0; i < s->n_entries; i++)
                json_object_set_new(platforms, s->entries[i]->name, renew_state_to_json(&s->entries[i]->st));
        r = s->state ? store_write_shared(s, platforms) : store_write_file(s, platforms);
        s->unsaved = r < 0;
        renew_store_unlock(s);
        return r;
}
