/* Fuzz target: the line-based files certvigil reads from where the operator
 * points it (the same bytes as each): the DNS-01 provider table
 * (daemon/core/providers.c providers_load, then providers_known,
 * providers_ns_matches with the file's fnmatch patterns against name
 * servers' names, providers_describe), the ingress placeholder subjects
 * (daemon/engine/audit-pool.c audit_pool_ingress_read), both from
 * $CERTVIGIL_DATA_DIR, and a DNSSEC trust anchor file (dnssec.trust_anchor;
 * daemon/probe/dnssec.c dnssec_anchor_owner). */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "audit-pool.h"
#include "dnssec.h"
#include "fuzz.h"
#include "providers.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        return 0;
}

static void providers(const char *path) {
        static const char *const names[] = { "cloudflare", "route53", "azuredns", "x" };
        static const char *const servers[] = { "ns1.ns.cloudflare.com", "ns-12.awsdns-01.org",
                                               "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.example.test" };
        _cleanup_free_ char *error = NULL;
        struct providers *t = NULL;

        if (providers_load(path, &t, &error) < 0) {
                assert(error && strncmp(error, path, strlen(path)) == 0);
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                char *d = providers_describe(t, names[i]);
                assert(d && (providers_known(t, names[i]) || strcmp(d, "-") == 0));
                free(d);
                for (size_t j = 0; j < ELEMENTSOF(servers); j++)
                        assert(!providers_ns_matches(t, names[i], servers[j]) || providers_known(t, names[i]));
        }
        providers_free(t);
}

static void ingress(const char *path) {
        _cleanup_free_ char *error = NULL;
        char **lines = NULL;

        if (audit_pool_ingress_read(path, &lines, &error) < 0) {
                assert(error && strncmp(error, path, strlen(path)) == 0 && !lines);
                return;
        }
        for (char **l = lines; l && *l; l++)
                assert(**l && **l != '#' && **l != ' ' && **l != '\t');
        strv_free(lines);
}

static void anchor(const char *path) {
        _cleanup_free_ char *error = NULL, *zone = NULL;

        if (dnssec_anchor_owner(path, &zone, &error) < 0) {
                assert(error && !zone);
                return;
        }
        assert(zone && *zone);
        for (const char *c = zone; *c; c++)
                assert((unsigned char)*c > 0x20 && *c != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *path = fuzz_input_file("datafile", data, size);

        providers(path);
        ingress(path);
        anchor(path);
        return 0;
}
