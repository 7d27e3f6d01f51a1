/* Fuzz target: a Helm values file as `certvigil audit --values` reads it
 * (daemon/core/config.c config_from_values, which takes a path: the input
 * is written to a scratch file first), then the plan derived from it. */
#include <assert.h>

#include "config.h"
#include "fuzz.h"
#include "plan.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *path = fuzz_input_file("values.yaml", data, size);
        _cleanup_free_ char *error = NULL, *why = NULL;
        struct config *c = NULL;
        struct plan *p = NULL;

        if (config_from_values(path, &c, &error) < 0) {
                assert(error && *error);
                return 0;
        }
        assert(c->n_platforms == 1 && c->platforms[0]->base_domain);
        if (plan_derive(c->platforms[0], &p, &why) == 0)
                plan_free(p);
        else
                assert(why);
        config_free(c);
        return 0;
}
