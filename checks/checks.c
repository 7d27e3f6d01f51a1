/* The registration table of checks, the engine that runs them, and the
 * finding catalog assembled from the checks' own definitions. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "checks.h"
#include "util.h"

static const struct finding_def engine_findings[] = {
        { "check.error", SEVERITY_WARNING, "8e5674f8addd4058a466c8979ed532d2",
          "a check could not run, so part of the platform was not judged" },
};

static const struct check check_engine = {
        .name = "check",
        .findings = engine_findings,
        .n_findings = ELEMENTSOF(engine_findings),
        .run = NULL,
};

/* Findings emitted outside checks_run(): by the renewal engine after an
 * audit. In the catalog like every other. */
static const struct check *const catalog_only[] = {
        &check_renew,
        &check_tls_ari,
        &check_tls_secret,
        &check_engine,
};

static const struct check *const checks[] = {
        &check_dns_resolve,
        &check_tls_connect,
        &check_tls_chain,
        &check_tls_san,
        &check_tls_expiry,
};

const struct check *const *checks_all(size_t *ret_n) {
        *ret_n = ELEMENTSOF(checks);
        return checks;
}

void checks_run(const struct check_ctx *ctx, struct finding_list *out) {
        for (size_t i = 0; i < ELEMENTSOF(checks); i++) {
                int r = checks[i]->run(ctx, out);
                if (r < 0)
                        finding_emit(out, &engine_findings[0], NULL, NULL, "check %s could not run: %s",
                                     checks[i]->name, strerror(-r));
        }
}

void checks_foreach_def(void (*fn)(const struct finding_def *def, const struct check *c, void *userdata),
                        void *userdata) {
        for (size_t i = 0; i < ELEMENTSOF(checks); i++)
                for (size_t j = 0; j < checks[i]->n_findings; j++)
                        fn(&checks[i]->findings[j], checks[i], userdata);
        for (size_t i = 0; i < ELEMENTSOF(catalog_only); i++)
                for (size_t j = 0; j < catalog_only[i]->n_findings; j++)
                        fn(&catalog_only[i]->findings[j], catalog_only[i], userdata);
}

const struct finding_def *checks_find_def(const char *id) {
        for (size_t i = 0; i < ELEMENTSOF(checks); i++)
                for (size_t j = 0; j < checks[i]->n_findings; j++)
                        if (strcmp(checks[i]->findings[j].id, id) == 0)
                                return &checks[i]->findings[j];
        for (size_t i = 0; i < ELEMENTSOF(catalog_only); i++)
                for (size_t j = 0; j < catalog_only[i]->n_findings; j++)
                        if (strcmp(catalog_only[i]->findings[j].id, id) == 0)
                                return &catalog_only[i]->findings[j];
        return NULL;
}

double days_until(time_t t, time_t now) {
        return ((double)t - (double)now) / 86400.0;
}
