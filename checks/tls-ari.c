/* tls.ari.renew-now: the CA's suggested renewal window (RFC 9773) against
 * now and the previous poll. Pure; see tls-ari.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "checks.h"
#include "tls-ari.h"
#include "util.h"

static const struct finding_def findings[] = {
#define RENEW_NOW (&findings[0])
        { "tls.ari.renew-now", SEVERITY_WARNING, "f8bbc7a8372545089c46520b083f70c0",
          "the CA's renewal window (ACME ARI) has started or moved earlier; critical once it has ended" },
};

/* In the catalog; judged by ari_judge() after the poll, not by checks_run(). */
const struct check check_tls_ari = {
        .name = "tls.ari",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = NULL,
};

int rfc3339_parse(const char *s, time_t *ret) {
        struct tm tm = { 0 };
        const char *p;
        long off = 0;

        if (!s || !(p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
                return -EINVAL;
        if (*p == '.') {
                p++;
                if (!(*p >= '0' && *p <= '9'))
                        return -EINVAL;
                while (*p >= '0' && *p <= '9')
                        p++;
        }
        if ((*p == 'Z' || *p == 'z') && p[1] == 0)
                off = 0;
        else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':' && strspn(p + 1, "0123456789") == 2 &&
                 strspn(p + 4, "0123456789") == 2) {
                off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 + ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
                if (*p == '-')
                        off = -off;
        } else
                return -EINVAL;
        *ret = timegm(&tm) - off;
        return 0;
}

int ari_parse_response(const char *body, size_t len, struct ari_window *ret, char **ret_explanation,
                       char **ret_error) {
        json_error_t jerr;
        json_t *root = json_loadb(body, len, 0, &jerr), *w;
        struct ari_window win;
        const char *url;
        int r = -EINVAL;

        if (!root) {
                _cleanup_free_ char *why = str_escape(jerr.text, strlen(jerr.text));
                *ret_error = xasprintf("the renewalInfo response is not JSON (%s)", why);
                return -EINVAL;
        }
        w = json_object_get(root, "suggestedWindow");
        if (!json_is_object(w) || rfc3339_parse(json_string_value(json_object_get(w, "start")), &win.start) < 0 ||
            rfc3339_parse(json_string_value(json_object_get(w, "end")), &win.end) < 0) {
                *ret_error = xstrdup("the renewalInfo response has no valid suggestedWindow start and end");
                goto out;
        }
        /* RFC 9773 section 4.2: the end must be after the start. */
        if (win.end <= win.start) {
                *ret_error = xstrdup("the renewalInfo response's suggestedWindow ends before it starts");
                goto out;
        }
        url = json_string_value(json_object_get(root, "explanationURL"));
        *ret_explanation = url ? str_escape(url, strlen(url) > 512 ? 512 : strlen(url)) : NULL;
        *ret = win;
        r = 0;
out:
        json_decref(root);
        return r;
}

int ari_renewal_info_url(const char *body, size_t len, const char *cert_id, char **ret_url) {
        json_t *dir = json_loadb(body, len, 0, NULL);
        const char *info = json_string_value(json_object_get(dir, "renewalInfo"));
        int r = -EINVAL;

        if (info && strncmp(info, "https://", 8) == 0) {
                *ret_url = xasprintf("%s%s%s", info, str_endswith(info, "/") ? "" : "/", cert_id);
                r = 0;
        }
        json_decref(dir);
        return r;
}

time_t ari_next_poll(const char *retry_after, time_t now) {
        time_t wait = ARI_POLL_DEFAULT;
        long long secs;
        struct tm tm = { 0 };
        const char *end;

        if (retry_after && parse_int(retry_after, 0, INT32_MAX, &secs) == 0)
                wait = (time_t)secs;
        else if (retry_after && (end = strptime(retry_after, "%a, %d %b %Y %H:%M:%S GMT", &tm)) && *end == 0)
                wait = timegm(&tm) - now;
        if (wait < ARI_POLL_MIN)
                wait = ARI_POLL_MIN;
        if (wait > ARI_POLL_MAX)
                wait = ARI_POLL_MAX;
        return now + wait;
}

void ari_judge(const struct ari_window *w, const struct ari_window *prev, time_t now, const char *what,
               const char *explanation, struct finding_list *out) {
        char s[RFC3339_MAX], e[RFC3339_MAX], ps[RFC3339_MAX];
        _cleanup_free_ char *more = explanation ? xasprintf("; the CA explains: %s", explanation) : xstrdup("");

        format_rfc3339(w->start, s);
        format_rfc3339(w->end, e);
        if (now >= w->end)
                finding_emit_severity(out, RENEW_NOW, SEVERITY_CRITICAL, NULL, NULL,
                                      "the CA's renewal window for %s (%s to %s) has ended: renew now%s", what, s, e,
                                      more);
        else if (prev && w->start < prev->start)
                finding_emit(out, RENEW_NOW, NULL, NULL,
                             "the CA moved the renewal window for %s earlier, from %s to %s (until %s): a sign of "
                             "revocation; renew now%s",
                             what, format_rfc3339(prev->start, ps), s, e, more);
        else if (now >= w->start)
                finding_emit(out, RENEW_NOW, NULL, NULL, "the CA's renewal window for %s started at %s (until %s)%s",
                             what, s, e, more);
}
