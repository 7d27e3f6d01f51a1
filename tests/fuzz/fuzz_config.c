/* Fuzz target: the config loader (daemon/core/config.c config_load_string),
 * then what the loaded config feeds: the command-line overrides and the
 * plan of every platform. The config names values files relative to its own
 * directory: a small valid one sits in the scratch directory as
 * values.yaml, so the merge of values and platform keys is reached too. */
#include <assert.h>
#include <string.h>

#include "checks.h"
#include "config.h"
#include "fuzz.h"
#include "plan.h"
#include "util.h"

static const char values[] =
        "global:\n"
        "  baseDomain: ai-gateway.example.com\n"
        "  subdomains: { console: ui }\n"
        "tls:\n"
        "  mode: letsencrypt\n"
        "  letsencrypt: { issuer: letsencrypt-staging, dns01: { provider: cloudflare, dnsZone: example.com } }\n"
        "mcp: { enabled: true }\n";

static char *config_path;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_scratch_write("values.yaml", values);
        /* Never written: only its directory matters, for values paths. */
        config_path = xasprintf("%s/certvigil.yaml", fuzz_scratch_dir());
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = fuzz_strndup(data, size), *error = NULL;
        char *resolvers[] = { (char *)"127.0.0.1:5353", NULL };
        const struct config_overrides o = { .resolvers = resolvers, .port = 8443 };
        struct config *c = NULL;
        int r;

        r = config_load_string(text, config_path, checks_find_def, &c, &error);
        if (r < 0) {
                /* Every refusal says why. */
                assert(error && *error);
                return 0;
        }
        assert(c->n_platforms > 0);
        for (size_t i = 0; i < c->n_platforms; i++) {
                struct plan *p = NULL;
                _cleanup_free_ char *why = NULL;
                assert(c->platforms[i]->name);
                if (plan_derive(c->platforms[i], &p, &why) == 0)
                        plan_free(p);
                else
                        assert(why);
        }
        free(error);
        error = NULL;
        (void)config_apply_overrides(c, &o, &error);
        config_free(c);
        return 0;
}
