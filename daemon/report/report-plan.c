/* `certvigil plan`: what each platform's settings need (names, wildcard,
 * DNS-01 challenge and zone), as text or as JSON (format 1). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report.h"
#include "util.h"

static json_t *plan_json(const struct platform *p, const struct plan *plan) {
        json_t *names = json_array();
        char sep[2] = { p->separator, 0 };

        for (size_t j = 0; j < plan->n_names; j++)
                json_array_append_new(names, json_pack("{s:s, s:s}", "service",
                                                       service_to_string(plan->names[j].service), "name",
                                                       plan->names[j].name));
        json_t *po = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s}", "name", p->name, "base_domain", p->base_domain,
                               "separator", sep, "tls_mode", tls_mode_to_string(p->tls_mode), "names", names,
                               "wildcard", plan->wildcard, "challenge_name", plan->challenge_name);
        json_object_set_new(po, "dns01_zone", plan->dns01_zone ? json_string(plan->dns01_zone) : json_null());
        json_object_set_new(po, "port", json_integer(p->port));
        return po;
}

static int plan_render_json(const struct report_plan *rp, size_t n, char **ret, size_t *ret_len) {
        json_t *platforms = json_array();
        char *s;

        for (size_t i = 0; i < n; i++)
                json_array_append_new(platforms, plan_json(rp[i].platform, rp[i].plan));
        json_t *doc = json_pack("{s:i, s:o}", "format", 1, "platforms", platforms);
        s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(doc);
        *ret = xasprintf("%s\n", s ? s : "{}");
        *ret_len = strlen(*ret);
        free(s);
        return 0;
}

static void plan_text(FILE *f, const struct platform *p, const struct plan *plan) {
        fprintf(f, "Platform %s: %s (separator \"%c\", tls.mode %s, port %d)\n", p->name, p->base_domain,
                p->separator, tls_mode_to_string(p->tls_mode), (int)p->port);
        for (size_t j = 0; j < plan->n_names; j++)
                fprintf(f, "  %-8s %s\n", service_to_string(plan->names[j].service), plan->names[j].name);
        fprintf(f, "  certificate must carry  %s\n", plan->wildcard);
        fprintf(f, "  DNS-01 challenge name   %s\n", plan->challenge_name);
        fprintf(f, "  DNS-01 zone (dnsZone)   %s\n\n", plan->dns01_zone ? plan->dns01_zone : "(not set)");
}

int report_plan_render(const struct report_plan *rp, size_t n, enum report_format format, char **ret,
                       size_t *ret_len) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f;

        if (format == REPORT_JSON)
                return plan_render_json(rp, n, ret, ret_len);
        if (format != REPORT_TEXT)
                return -EINVAL;
        f = open_memstream(&buf, &len);
        if (!f)
                return -errno;
        for (size_t i = 0; i < n; i++)
                plan_text(f, rp[i].platform, rp[i].plan);
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}
