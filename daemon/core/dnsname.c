/* Pure helpers over DNS names; see dnsname.h. */
#include <string.h>
#include <strings.h>

#include "dnsname.h"
#include "util.h"

bool dns_name_in_zone(const char *name, const char *zone) {
        size_t n = strlen(name), z = strlen(zone);

        if (z == 0)
                return true;
        if (n == z)
                return strcasecmp(name, zone) == 0;
        return n > z && name[n - z - 1] == '.' && strcasecmp(name + n - z, zone) == 0;
}

const char *dns_name_parent(const char *name) {
        const char *dot = strchr(name, '.');
        return dot ? dot + 1 : name + strlen(name);
}

char *dns_chain_describe(const char *qname, char *const *chain) {
        char *s = xstrdup(qname);
        for (size_t i = 0; chain && chain[i]; i++) {
                char *n = xasprintf("%s -> %s", s, chain[i]);
                free(s);
                s = n;
        }
        return s;
}

size_t dns_name_labels(const char *name) {
        size_t n = *name ? 1 : 0;
        for (const char *c = name; *c; c++)
                n += *c == '.';
        return n;
}

/* Length without one trailing dot; names are compared as absolute. */
static size_t name_len(const char *s) {
        size_t n = strlen(s);
        return n > 0 && s[n - 1] == '.' ? n - 1 : n;
}

bool dns_name_pattern_matches(const char *pattern, const char *host) {
        size_t lp = name_len(pattern), lh = name_len(host);

        if (lp == 0 || lh == 0 || memchr(pattern, '\0', lp) != NULL)
                return false;
        /* Empty labels make no valid name on either side. */
        if (pattern[0] == '.' || host[0] == '.' || strstr(host, "..") || strstr(pattern, ".."))
                return false;

        if (pattern[0] != '*')
                return !memchr(pattern, '*', lp) && lp == lh && strncasecmp(pattern, host, lp) == 0;

        /* The wildcard must be the whole left-most label ("*.", not "f*."),
         * with no other '*' and at least two labels after it, so that "*.com"
         * never matches. */
        if (lp < 3 || pattern[1] != '.' || memchr(pattern + 1, '*', lp - 1))
                return false;
        const char *suffix = pattern + 1; /* ".example.com" */
        size_t ls = lp - 1;
        if (!memchr(suffix + 1, '.', ls - 1))
                return false;
        /* Exactly one label for the '*': the host is label + suffix, the
         * label non-empty and without dots. The apex itself (host == suffix
         * without its dot) has no label and is not covered. */
        if (lh <= ls)
                return false;
        const char *host_suffix = host + (lh - ls);
        if (strncasecmp(host_suffix, suffix, ls) != 0)
                return false;
        return memchr(host, '.', lh - ls) == NULL;
}
