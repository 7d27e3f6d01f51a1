/* dns.address.*: where the platform's names point, against
 * expect_addresses when it is set, else against each other. */
#include <string.h>

#include "checks.h"
#include "util.h"

static const struct finding_def findings[] = {
#define UNEXPECTED (&findings[0])
        { "dns.address.unexpected", SEVERITY_CRITICAL, "bda384e607474e558ff2a4a39b1c33f9",
          "a name of the platform resolves to an address outside expect_addresses" },
#define INCONSISTENT (&findings[1])
        { "dns.address.inconsistent", SEVERITY_WARNING, "f12534f2ca0445249e3b7f901cf27360",
          "the platform's names do not all resolve to the same addresses" },
};

static int run(const struct check_ctx *ctx, struct finding_list *out) {
        const struct platform_obs *o = ctx->obs;
        char *const *expect = ctx->platform->expect_addresses;

        if (expect) {
                _cleanup_free_ char *allowed = strv_join_or(expect, ", ", "-");
                for (size_t i = 0; i < o->n_names; i++)
                        for (size_t j = 0; o->names[i].addresses && o->names[i].addresses[j]; j++) {
                                const char *a = o->names[i].addresses[j];
                                if (strv_contains(expect, a))
                                        continue;
                                finding_emit(out, UNEXPECTED, o->names[i].name, a,
                                             "%s resolves to %s, which is not in expect_addresses (%s): fix the "
                                             "record for %s, or add %s to expect_addresses if the gateway moved",
                                             o->names[i].name, a, allowed, o->names[i].name, a);
                        }
                return 0;
        }

        const struct name_obs *first = NULL;
        bool differ = false;
        for (size_t i = 0; i < o->n_names; i++) {
                if (o->names[i].status != DNS_STATUS_OK)
                        continue;
                if (!first)
                        first = &o->names[i];
                else if (!strv_same_set(first->addresses, o->names[i].addresses))
                        differ = true;
        }
        if (!differ)
                return 0;
        _cleanup_free_ char *list = NULL;
        for (size_t i = 0; i < o->n_names; i++) {
                if (o->names[i].status != DNS_STATUS_OK)
                        continue;
                _cleanup_free_ char *a = strv_join_or(o->names[i].addresses, ", ", "-");
                char *n = xasprintf("%s%s%s -> %s", list ? list : "", list ? "; " : "", o->names[i].name, a);
                free(list);
                list = n;
        }
        finding_emit(out, INCONSISTENT, NULL, NULL,
                     "the platform's names resolve to different address sets (%s); every name is served by the same "
                     "gateway, so point them all at its external address (or set expect_addresses)",
                     list);
        return 0;
}

const struct check check_dns_address = {
        .name = "dns.address",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = run,
        .single_name = true,
};
