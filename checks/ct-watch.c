/* ct.unexpected and ct.rate-limit.near. See ct-watch.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "ct-watch.h"
#include "tls-ari.h"
#include "util.h"

static const struct finding_def findings[] = {
#define CT_UNEXPECTED (&findings[0])
        { "ct.unexpected", SEVERITY_WARNING, "e1b82bf4826247f098d40d8e4e2241cf",
          "CT logs show a recent certificate for the platform's names that no endpoint serves, from an issuer "
          "tls.mode does not expect" },
#define CT_RATE (&findings[1])
        { "ct.rate-limit.near", SEVERITY_WARNING, "7b53b6d30b094c7eb42bd51ad1b1f222",
          "4 or more certificates for the same names in 7 days: Let's Encrypt's duplicate certificate limit is near" },
};

/* In the catalog; emitted by daemon/renew/ctwatch.c after the audit. */
const struct check check_ct_watch = {
        .name = "ct",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = NULL,
};

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* crt.sh gives "2026-11-26T14:22:07" (UTC, no zone). */
static int ct_time(const char *s, time_t *ret) {
        _cleanup_free_ char *z = NULL;
        if (!s)
                return -EINVAL;
        if (rfc3339_parse(s, ret) == 0)
                return 0;
        z = xasprintf("%sZ", s);
        return rfc3339_parse(z, ret);
}

static char **names_split(const char *v) {
        char **names = NULL;
        size_t n;

        while (v && *v) {
                size_t len = strcspn(v, "\n");
                if (len > 0 && len < 256) {
                        char *name = str_escape(v, len);
                        for (char *c = name; *c; c++)
                                if (*c >= 'A' && *c <= 'Z')
                                        *c = (char)(*c - 'A' + 'a');
                        if (strv_contains(names, name))
                                free(name);
                        else
                                strv_push(&names, name);
                }
                v += len;
                if (*v == '\n')
                        v++;
        }
        n = strv_length(names);
        if (n > 1)
                qsort(names, n, sizeof(char *), cmp_str);
        return names;
}

void ct_entries_free(struct ct_entry *e, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(e[i].issuer);
                strv_free(e[i].names);
                free(e[i].serial);
        }
        free(e);
}

int ct_entries_parse(const char *body, size_t len, size_t max, struct ct_entry **ret, size_t *ret_n,
                     char **ret_error) {
        json_t *a = json_loadb(body, len, 0, NULL), *x;
        struct ct_entry *out = NULL;
        size_t n = 0, i;

        if (!json_is_array(a)) {
                *ret_error = xstrdup("the CT search did not answer with a JSON array");
                json_decref(a);
                return -EINVAL;
        }
        out = xcalloc(max ? max : 1, sizeof(*out));
        json_array_foreach(a, i, x) {
                const char *issuer = json_string_value(json_object_get(x, "issuer_name"));
                const char *names = json_string_value(json_object_get(x, "name_value"));
                const char *serial = json_string_value(json_object_get(x, "serial_number"));
                time_t nb;
                bool dup = false;

                if (n >= max)
                        break;
                if (!issuer || !names || !serial || ct_time(json_string_value(json_object_get(x, "not_before")), &nb) < 0)
                        continue; /* an entry we cannot read tells nothing, ignoring */
                _cleanup_free_ char *s = serial_normalize(serial);
                for (size_t k = 0; k < n && !dup; k++)
                        dup = strcmp(out[k].serial, s) == 0;
                if (dup)
                        continue;
                out[n++] = (struct ct_entry){ .issuer = str_escape(issuer, strlen(issuer)),
                                              .names = names_split(names),
                                              .serial = TAKE_PTR(s),
                                              .not_before = nb };
        }
        json_decref(a);
        *ret = out;
        *ret_n = n;
        return 0;
}

static bool covers_platform(const struct check_ctx *ctx, const struct ct_entry *e) {
        for (char **n = e->names; n && *n; n++) {
                if (strcasecmp(*n, ctx->plan->wildcard) == 0)
                        return true;
                for (size_t i = 0; i < ctx->plan->n_names; i++)
                        if (dns_name_pattern_matches(*n, ctx->plan->names[i].name))
                                return true;
        }
        return false;
}

static bool served(const struct check_ctx *ctx, const char *serial) {
        for (size_t i = 0; i < ctx->obs->n_endpoints; i++) {
                const struct endpoint_obs *ep = &ctx->obs->endpoints[i];
                if (ep->status != ENDPOINT_OK || ep->n_chain == 0 || !ep->chain[0].serial)
                        continue;
                _cleanup_free_ char *s = serial_normalize(ep->chain[0].serial);
                if (strcasecmp(s, serial) == 0)
                        return true;
        }
        return false;
}

static bool is_letsencrypt(const char *issuer) {
        return strstr(issuer, "Let's Encrypt") != NULL;
}

/* Does the issuer contradict tls.mode? Only what the settings say. */
static bool issuer_unexpected(const struct platform *p, const char *issuer) {
        if (p->expect_issuer && !strstr(issuer, p->expect_issuer))
                return true;
        switch (p->tls_mode) {
        case TLS_MODE_LETSENCRYPT:
                return !is_letsencrypt(issuer) && !p->expect_issuer;
        case TLS_MODE_SELFSIGNED:
                return true; /* a self-signed certificate is never logged */
        default:
                return false;
        }
}

static bool same_names(char *const *a, char *const *b) {
        size_t n = strv_length(a);
        if (n != strv_length(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (strcmp(a[i], b[i]) != 0)
                        return false;
        return true;
}

void ct_watch_judge(const struct check_ctx *ctx, const struct ct_entry *e, size_t n, struct finding_list *out,
                    struct ct_summary *ret_summary) {
        struct ct_summary sum = { 0 };
        const struct ct_entry *worst = NULL;
        char when[RFC3339_MAX];

        for (size_t i = 0; i < n; i++) {
                size_t same = 0;
                if (e[i].not_before < ctx->now - CT_WINDOW || !covers_platform(ctx, &e[i]))
                        continue;
                sum.recent++;
                /* The limit counts the CA's own certificates only. */
                for (size_t j = 0; is_letsencrypt(e[i].issuer) && j < n; j++)
                        if (e[j].not_before >= ctx->now - CT_WINDOW && is_letsencrypt(e[j].issuer) &&
                            same_names(e[i].names, e[j].names))
                                same++;
                if (same > sum.same_names_max) {
                        sum.same_names_max = same;
                        worst = &e[i];
                }
                if (!served(ctx, e[i].serial) && issuer_unexpected(ctx->platform, e[i].issuer)) {
                        _cleanup_free_ char *names = strv_join(e[i].names, ", ", 8);
                        finding_emit(out, CT_UNEXPECTED, NULL, NULL,
                                     "CT logs show a certificate issued %s by '%s' for %s (serial %s) that no "
                                     "endpoint serves and that tls.mode %s does not expect: find out who requested "
                                     "it; revoke it if it is not yours",
                                     format_rfc3339(e[i].not_before, when), e[i].issuer, names, e[i].serial,
                                     tls_mode_to_string(ctx->platform->tls_mode));
                }
        }
        if (ctx->platform->tls_mode == TLS_MODE_LETSENCRYPT && worst && sum.same_names_max >= CT_DUPLICATE_LIMIT - 1) {
                _cleanup_free_ char *names = strv_join(worst->names, ", ", 8);
                bool hit = sum.same_names_max >= CT_DUPLICATE_LIMIT;
                finding_emit_severity(out, CT_RATE, hit ? SEVERITY_CRITICAL : SEVERITY_WARNING, NULL, NULL,
                                      "%zu certificates for exactly {%s} in the last 7 days: Let's Encrypt issues at "
                                      "most %d per 7 days for the same names%s",
                                      sum.same_names_max, names, CT_DUPLICATE_LIMIT,
                                      hit ? "; the limit is reached: a renewal now fails (certvigil holds its own "
                                            "back); look for a renewal loop"
                                          : "; one more and renewals fail for days: look for a renewal loop");
        }
        if (ret_summary)
                *ret_summary = sum;
}
