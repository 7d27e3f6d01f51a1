/* Fuzz target: what RDAP gives certvigil (daemon/renew/rdap.c): a
 * registry's answer about a domain (checks/domain-expiry.c
 * rdap_expiration_parse, then domain_expiry_judge on the date found) and
 * the bootstrap file, IANA's or the one rdap.bootstrap names
 * (rdap_bootstrap_lookup, for a few registrable domains). The whole input
 * is both. */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "domain-expiry.h"
#include "fuzz.h"
#include "util.h"

#define NOW ((time_t)1795651200)

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        return 0;
}

static void expiration(const uint8_t *data, size_t size) {
        _cleanup_free_ char *error = NULL;
        struct finding_list out = { 0 };
        time_t t;
        int r = rdap_expiration_parse((const char *)data, size, &t, &error);

        if (r < 0) {
                assert((r == -EINVAL || r == -ENOENT) && error);
                return;
        }
        assert(!error);
        domain_expiry_judge("example.com", t, NOW, 30, 7, &out);
        assert(out.n <= 1);
        finding_list_clear(&out);
}

static void bootstrap(const uint8_t *data, size_t size) {
        static const char *const domains[] = { "example.com", "EXAMPLE.NET", "example.co.uk", "a.b.c.example.test" };

        for (size_t i = 0; i < ELEMENTSOF(domains); i++) {
                _cleanup_free_ char *url = NULL, *error = NULL;
                int r = rdap_bootstrap_lookup((const char *)data, size, domains[i], &url, &error);
                if (r == 0)
                        assert(strncmp(url, "https://", 8) == 0);
                else
                        assert(!url && (r == -ENOENT || (r == -EINVAL && error)));
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        expiration(data, size);
        bootstrap(data, size);
        return 0;
}
