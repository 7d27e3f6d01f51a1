/* `certvigil plan`: what each platform's settings need (names, wildcard,
 * DNS-01 challenge and zone) and what to create for them (the DNS records
 * as zone-file lines, the cert-manager Certificate or the Secret the mode
 * needs, the DNS-01 delegation), as text or as JSON (format 1). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report.h"
#include "util.h"

/* The address records the names need: one wildcard record, as the
 * platform's documentation asks, at the gateway's external address
 * (expect_addresses when set). With Cloudflare Tunnel the tunnel publishes
 * the names itself. */
static char **plan_records(const struct platform *p, const struct plan *plan) {
        char **lines = NULL;

        if (p->tunnel_enabled) {
                for (size_t j = 0; j < plan->n_names; j++)
                        strv_push(&lines, xasprintf("%s. 300 IN CNAME TUNNEL-ID.cfargotunnel.com. "
                                                    "; made by the tunnel's public hostname route",
                                                    plan->names[j].name));
                return lines;
        }
        if (!p->expect_addresses) {
                strv_push(&lines, xasprintf("%s. 300 IN A EXTERNAL-ADDRESS ; the gateway's load balancer "
                                            "(AAAA for IPv6)", plan->wildcard));
                return lines;
        }
        for (size_t i = 0; p->expect_addresses[i]; i++)
                strv_push(&lines, xasprintf("%s. 300 IN %s %s", plan->wildcard,
                                            strchr(p->expect_addresses[i], ':') ? "AAAA" : "A",
                                            p->expect_addresses[i]));
        return lines;
}

/* The Kubernetes object the TLS mode needs, as YAML. */
static char *plan_certificate(const struct platform *p, const struct plan *plan) {
        const char *secret = p->wildcard_secret ? p->wildcard_secret : "ai-gateway-wildcard-tls";

        if (p->tls_mode == TLS_MODE_PROVIDED)
                return xasprintf("# a Secret of type kubernetes.io/tls whose tls.crt carries %s:\n"
                                 "#   kubectl create secret tls %s --cert=fullchain.pem --key=key.pem\n"
                                 "apiVersion: v1\n"
                                 "kind: Secret\n"
                                 "type: kubernetes.io/tls\n"
                                 "metadata:\n"
                                 "  name: %s\n"
                                 "data: { tls.crt: ..., tls.key: ... }\n",
                                 plan->wildcard, secret, secret);
        return xasprintf("apiVersion: cert-manager.io/v1\n"
                         "kind: Certificate\n"
                         "metadata:\n"
                         "  name: %s\n"
                         "spec:\n"
                         "  secretName: %s\n"
                         "  dnsNames: [\"%s\"]\n"
                         "  issuerRef: { kind: %s, name: %s }\n",
                         p->renew.cm_certificate ? p->renew.cm_certificate : "ai-gateway-wildcard", secret,
                         plan->wildcard, p->tls_mode == TLS_MODE_LETSENCRYPT ? "ClusterIssuer" : "Issuer",
                         p->tls_mode == TLS_MODE_LETSENCRYPT ? (p->le_issuer ? p->le_issuer : "letsencrypt-prod")
                                                              : "selfsigned");
}

/* What DNS-01 issuance needs, in one sentence; NULL outside letsencrypt. */
static char *plan_dns01(const struct platform *p, const struct plan *plan) {
        if (p->tls_mode != TLS_MODE_LETSENCRYPT)
                return NULL;
        if (!plan->dns01_zone)
                return xasprintf("cert-manager writes TXT records at %s.; set tls.letsencrypt.dns01.dnsZone to "
                                 "the zone that holds it (the zone your DNS provider token can manage)",
                                 plan->challenge_name);
        return xasprintf("cert-manager writes TXT records at %s. in zone %s; the DNS provider token%s%s%s must "
                         "be able to edit %s (or CNAME %s. to a zone it can edit)",
                         plan->challenge_name, plan->dns01_zone, p->dns01_provider ? " (" : "",
                         p->dns01_provider ? p->dns01_provider : "", p->dns01_provider ? ")" : "",
                         plan->dns01_zone, plan->challenge_name);
}

static json_t *plan_json_strv(char *const *v) {
        json_t *a = json_array();
        for (size_t i = 0; v && v[i]; i++)
                json_array_append_new(a, json_string(v[i]));
        return a;
}

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
        _cleanup_strv_free_ char **records = plan_records(p, plan);
        _cleanup_free_ char *cert = plan_certificate(p, plan), *dns01 = plan_dns01(p, plan);
        json_t *create = json_pack("{s:o, s:s, s:s?}", "dns_records", plan_json_strv(records), "kubernetes", cert,
                                   "dns01", dns01);
        json_object_set_new(po, "create", create);
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
        _cleanup_strv_free_ char **records = plan_records(p, plan);
        _cleanup_free_ char *cert = plan_certificate(p, plan), *dns01 = plan_dns01(p, plan);

        fprintf(f, "Platform %s: %s (separator \"%c\", tls.mode %s, port %d)\n", p->name, p->base_domain,
                p->separator, tls_mode_to_string(p->tls_mode), (int)p->port);
        for (size_t j = 0; j < plan->n_names; j++)
                fprintf(f, "  %-8s %s\n", service_to_string(plan->names[j].service), plan->names[j].name);
        fprintf(f, "  certificate must carry  %s\n", plan->wildcard);
        if (p->tls_mode == TLS_MODE_LETSENCRYPT) {
                fprintf(f, "  DNS-01 challenge name   %s\n", plan->challenge_name);
                if (plan->dns01_zone)
                        fprintf(f, "  DNS-01 zone (dnsZone)   %s\n", plan->dns01_zone);
        }
        fprintf(f, "\n  DNS records to create%s:\n", p->tunnel_enabled ? " (Cloudflare Tunnel)" : "");
        for (size_t i = 0; records && records[i]; i++)
                fprintf(f, "    %s\n", records[i]);
        fprintf(f, "\n  %s:\n", p->tls_mode == TLS_MODE_PROVIDED ? "The wildcard Secret" : "The cert-manager Certificate");
        for (const char *l = cert, *e; *l; l = e + 1) {
                e = strchrnul(l, '\n');
                fprintf(f, "    %.*s\n", (int)(e - l), l);
                if (!*e)
                        break;
        }
        if (dns01)
                fprintf(f, "\n  DNS-01: %s\n", dns01);
        fputc('\n', f);
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
