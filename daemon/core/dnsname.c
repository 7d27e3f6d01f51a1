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
