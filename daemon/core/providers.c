/* Loading the DNS-01 provider table: "NAME PATTERN..." lines, '#'
 * comments. Small and read once per audit, so a plain list. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "providers.h"
#include "util.h"

#define LINE_MAX_LEN 1024
#define PROVIDERS_FILE "dns-providers.txt"

struct provider {
        char *name;
        char **patterns;
};

struct providers {
        struct provider *items;
        size_t n;
};

char *providers_default_path(void) {
        return data_path(PROVIDERS_FILE);
}

struct providers *providers_free(struct providers *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n; i++) {
                free(t->items[i].name);
                strv_free(t->items[i].patterns);
        }
        free(t->items);
        free(t);
        return NULL;
}

int providers_load(const char *path, struct providers **ret, char **ret_error) {
        struct providers *t = xcalloc(1, sizeof(*t));
        char line[LINE_MAX_LEN];
        unsigned lineno = 0;
        int r = 0;
        FILE *f = file_fopen_regular(path);

        if (!f) {
                r = -errno;
                *ret_error = xasprintf("%s: cannot read: %s (set CERTVIGIL_DATA_DIR to the directory holding %s)",
                                       path, file_strerror(r), PROVIDERS_FILE);
                goto out;
        }
        while (fgets(line, sizeof(line), f)) {
                _cleanup_strv_free_ char **words = NULL;
                lineno++;
                if (!strchr(line, '\n') && !feof(f)) {
                        *ret_error = xasprintf("%s:%u: line too long", path, lineno);
                        r = -EINVAL;
                        goto out;
                }
                line[strcspn(line, "#\r\n")] = 0;
                for (char *w = line;;) {
                        w += strspn(w, " \t");
                        if (!*w)
                                break;
                        size_t n = strcspn(w, " \t");
                        strv_push(&words, xstrndup(w, n));
                        w += n;
                }
                if (!words)
                        continue;
                if (!words[1]) {
                        *ret_error = xasprintf("%s:%u: provider '%s' has no name-server pattern", path, lineno, words[0]);
                        r = -EINVAL;
                        goto out;
                }
                struct provider p = { .name = xstrdup(words[0]), .patterns = strv_copy(words + 1) };
                t->items = xrealloc(t->items, (t->n + 1) * sizeof(*t->items));
                t->items[t->n++] = p;
        }
out:
        if (f)
                fclose(f);
        if (r < 0) {
                providers_free(t);
                return r;
        }
        *ret = t;
        return 0;
}

static const struct provider *find(const struct providers *t, const char *name) {
        for (size_t i = 0; t && i < t->n; i++)
                if (strcasecmp(t->items[i].name, name) == 0)
                        return &t->items[i];
        return NULL;
}

bool providers_known(const struct providers *t, const char *provider) {
        return find(t, provider) != NULL;
}

bool providers_ns_matches(const struct providers *t, const char *provider, const char *ns) {
        const struct provider *p = find(t, provider);
        for (size_t i = 0; p && p->patterns[i]; i++)
                if (fnmatch(p->patterns[i], ns, FNM_CASEFOLD) == 0)
                        return true;
        return false;
}

char *providers_describe(const struct providers *t, const char *provider) {
        const struct provider *p = find(t, provider);
        return strv_join_or(p ? p->patterns : NULL, " or ", "-");
}
