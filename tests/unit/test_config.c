/* Unit tests for the config loader: good configs rendered to one line per
 * platform and compared with the expected settings, every bad config with its
 * exact message, and garbage that must fail cleanly instead of crashing. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "checks.h"
#include "config.h"
#include "util.h"
#include "yaml-reader.h"

#define CONF "/etc/certvigil/certvigil.yaml"

static char *fixtures;            /* the fixtures directory; "@/" in tables */

static char *fixtures_dir(void) {
        const char *srcdir = getenv("srcdir");
        const char *slash = strrchr(__FILE__, '/');

        /* automake's `make check` exports srcdir (the top source directory);
         * run by hand, the test finds the fixtures next to its own source. */
        if (srcdir)
                return xasprintf("%s/tests/unit/fixtures", srcdir);
        if (slash)
                return xasprintf("%.*s/fixtures", (int)(slash - __FILE__), __FILE__);
        return xstrdup("fixtures");
}

/* Replaces every "@/" with the fixtures directory. */
static char *fix(const char *s) {
        char *r, *n;

        if (!s)
                return NULL;
        r = xstrdup("");
        for (const char *at; (at = strstr(s, "@/")); s = at + 1) {
                n = xasprintf("%s%.*s%s", r, (int)(at - s), s, fixtures);
                free(r);
                r = n;
        }
        n = xasprintf("%s%s", r, s);
        free(r);
        return n;
}

/* Shows a path with the fixtures directory as "@", the inverse of fix(). */
static char *show_path(const char *p) {
        size_t n = strlen(fixtures);

        if (!p)
                return xstrdup("-");
        if (strncmp(p, fixtures, n) == 0 && p[n] == '/')
                return xasprintf("@%s", p + n);
        return xstrdup(p);
}

static char *join(char **v, const char *empty) {
        char *r = NULL;

        if (!v)
                return xstrdup(empty);
        for (size_t i = 0; v[i]; i++) {
                char *n = r ? xasprintf("%s,%s", r, v[i]) : xstrdup(v[i]);
                free(r);
                r = n;
        }
        return r ? r : xstrdup("");
}

static const char *opt(const char *s) {
        return s ? s : "-";
}

/* One line with every setting of a platform, so a table row can state the
 * expected outcome next to its input. */
static char *describe(const struct platform *p) {
        _cleanup_free_ char *resolvers = join(p->resolvers, "system");
        _cleanup_free_ char *expect = join(p->expect_addresses, "-");
        _cleanup_free_ char *values = show_path(p->values_path), *trust = show_path(p->trust);
        _cleanup_free_ char *jitter = p->jitter_percent >= 0
                                              ? xasprintf("%d%%", p->jitter_percent)
                                              : xasprintf("%" PRIu64 "ms", (uint64_t)(p->jitter_usec / USEC_PER_MSEC));

        return xasprintf("name=%s values=%s base=%s sep=%c labels=%s,%s,%s,%s,%s mode=%s issuer=%s "
                         "email=%s provider=%s zone=%s secret=%s tunnel=%s mcp=%s port=%u dns_port=%u "
                         "resolvers=%s trust=%s warn=%d critical=%d timeout=%" PRIu64 "ms "
                         "deadline=%" PRIu64 "ms concurrency=%u expect=%s warn_share=%.2f critical_share=%.2f "
                         "renew_at=%.2f expect_issuer=%s connect_to=%s:%u interval=%" PRIu64 "ms jitter=%s "
                         "remind=%" PRIu64 "ms",
                         p->name, values, opt(p->base_domain), p->separator, p->labels[0], p->labels[1],
                         p->labels[2], p->labels[3], p->labels[4], tls_mode_to_string(p->tls_mode),
                         opt(p->le_issuer), opt(p->le_email), opt(p->dns01_provider), opt(p->dns01_zone),
                         opt(p->wildcard_secret), p->tunnel_enabled ? "yes" : "no", p->mcp_enabled ? "yes" : "no",
                         p->port, p->dns_port, resolvers, trust, p->warn_days, p->critical_days,
                         (uint64_t)(p->timeout_usec / USEC_PER_MSEC), (uint64_t)(p->deadline_usec / USEC_PER_MSEC), p->concurrency,
                         expect, p->warn_share, p->critical_share, p->renew_at, opt(p->expect_issuer),
                         opt(p->connect_to), p->connect_port, (uint64_t)(p->interval_usec / USEC_PER_MSEC), jitter,
                         (uint64_t)(p->remind_usec / USEC_PER_MSEC));
}

/* Every space-separated "key=value" of expected must appear in actual. */
static void assert_settings(const char *what, const char *actual, const char *expected) {
        _cleanup_free_ char *padded = xasprintf(" %s ", actual);

        for (const char *s = expected; *s;) {
                size_t n = strcspn(s, " ");
                _cleanup_free_ char *token = xasprintf(" %.*s ", (int)n, s);

                if (!strstr(padded, token))
                        fail_msg("%s: expected '%.*s' in\n  %s", what, (int)n, s, actual);
                s += n;
                s += strspn(s, " ");
        }
}

#define DEFAULT_SETTINGS \
        "sep=. labels=api,console,grafana,auth,mcp mode=letsencrypt issuer=letsencrypt-prod email=- " \
        "provider=- zone=- secret=- tunnel=no mcp=no port=443 dns_port=53 resolvers=system trust=system warn=21 " \
        "critical=7 timeout=10000ms deadline=120000ms concurrency=256 expect=- warn_share=0.33 " \
        "critical_share=0.10 renew_at=0.67 expect_issuer=- connect_to=-:0 interval=3600000ms jitter=5% " \
        "remind=86400000ms"

/* ------------------------------------------------------------------------ */

struct good_case {
        const char *filename;     /* "@/" = fixtures directory */
        const char *yaml;
        const char *expect[3];    /* settings per platform, in order */
};

static const struct good_case good_cases[] = {
        /* Built-in defaults. */
        { CONF,
          "platforms:\n  - name: lab\n    global: { baseDomain: ai-gateway.lab.test }\n",
          { "name=lab values=- base=ai-gateway.lab.test " DEFAULT_SETTINGS } },
        /* The daemon's schedule: defaults, a platform's own, sub-second for tests. */
        { CONF,
          "defaults:\n  interval: 6h\n  jitter: 10%\n  remind: 12h\n"
          "platforms:\n  - name: a\n    global: { baseDomain: a.test }\n"
          "  - name: b\n    global: { baseDomain: b.test }\n    interval: 50ms\n    jitter: 0s\n    remind: 1s\n",
          { "name=a interval=21600000ms jitter=10% remind=43200000ms",
            "name=b interval=50ms jitter=0ms remind=1000ms" } },
        { CONF,
          "platforms:\n  - name: a\n    global: { baseDomain: a.test }\n    jitter: 3m\n",
          { "name=a interval=3600000ms jitter=180000ms" } },
        /* The config's defaults apply to every platform; a platform's own keys win. */
        { CONF,
          "defaults:\n"
          "  port: 8443\n"
          "  dns_port: 15353\n"
          "  resolvers: [\"127.0.0.1:15353\", \"192.0.2.53\", \"[::1]:5353\"]\n"
          "  trust: /etc/ssl/internal.pem\n"
          "  warn_days: 30\n"
          "  critical_days: 10\n"
          "  timeout: 500ms\n"
          "  deadline: 2m\n"
          "  concurrency: 16\n"
          "platforms:\n"
          "  - name: a\n"
          "    global: { baseDomain: a.example.com }\n"
          "  - name: b\n"
          "    global: { baseDomain: b.example.com }\n"
          "    port: 443\n"
          "    dns_port: 53\n"
          "    resolvers: system\n"
          "    trust: system\n"
          "    warn_days: 14\n"
          "    timeout: 30\n"
          "    concurrency: 1\n",
          { "name=a port=8443 dns_port=15353 resolvers=127.0.0.1:15353,192.0.2.53,[::1]:5353 trust=/etc/ssl/internal.pem "
            "warn=30 critical=10 timeout=500ms deadline=120000ms concurrency=16",
            "name=b port=443 dns_port=53 resolvers=system trust=system warn=14 critical=10 timeout=30000ms "
            "deadline=120000ms concurrency=1" } },
        /* Resolvers in every accepted spelling, stored canonically. */
        { CONF,
          "platforms:\n  - name: r\n    global: { baseDomain: example.com }\n"
          "    resolvers: [\"192.0.2.53:53\", \"::1\", \"[2001:DB8::53]\", \"[0:0::1]:15353\", \"2001:db8::54\", \"[::1]\"]\n",
          { "resolvers=192.0.2.53:53,[::1]:53,[2001:db8::53]:53,[::1]:15353,[2001:db8::54]:53,[::1]:53" } },
        { CONF,
          "platforms:\n  - name: r\n    global: { baseDomain: example.com }\n    resolvers: [system]\n",
          { "resolvers=system" } },
        /* Both separators, custom labels, mcp on. */
        { CONF,
          "platforms:\n"
          "  - name: lab\n"
          "    global:\n"
          "      baseDomain: ai-gateway.lab.test\n"
          "      subdomainSeparator: \"-\"\n"
          "      subdomains: { api: llm, console: ui, grafana: metrics-2, auth: sso, mcp: tools }\n"
          "    mcp: { enabled: true }\n",
          { "sep=- labels=llm,ui,metrics-2,sso,tools mcp=yes" } },
        { CONF,
          "platforms:\n  - name: p\n    global: { baseDomain: example.com, subdomainSeparator: . }\n"
          "    mcp: { enabled: false }\n",
          { "sep=. mcp=no" } },
        /* Domains are lower-cased and lose one trailing dot; quoted strings are fine. */
        { CONF,
          "platforms:\n  - name: p\n    global: { baseDomain: \"AI-Gateway.Example.COM.\" }\n"
          "    tls:\n      letsencrypt:\n        dns01: { provider: route53, dnsZone: Example.COM. }\n",
          { "base=ai-gateway.example.com zone=example.com provider=route53" } },
        /* TLS modes and their settings. */
        { CONF,
          "platforms:\n"
          "  - name: le\n"
          "    global: { baseDomain: a.example.com }\n"
          "    tls:\n"
          "      mode: letsencrypt\n"
          "      letsencrypt: { issuer: letsencrypt-staging, email: ops@example.com }\n"
          "  - name: own\n"
          "    global: { baseDomain: b.example.com }\n"
          "    tls: { mode: provided, wildcardSecretName: b-wildcard }\n"
          "  - name: self\n"
          "    global: { baseDomain: c.example.com }\n"
          "    tls: { mode: selfsigned }\n",
          { "mode=letsencrypt issuer=letsencrypt-staging email=ops@example.com secret=-",
            "mode=provided issuer=letsencrypt-prod secret=b-wildcard",
            "mode=selfsigned" } },
        /* YAML 1.1 booleans in any case. */
        { CONF,
          "platforms:\n"
          "  - {name: a, global: {baseDomain: a.example.com}, ingress: {tunnel: {enabled: Yes}}, mcp: {enabled: ON}}\n"
          "  - {name: b, global: {baseDomain: b.example.com}, ingress: {tunnel: {enabled: off}}, mcp: {enabled: FALSE}}\n"
          "  - {name: c, global: {baseDomain: c.example.com}, ingress: {tunnel: {enabled: true}}, mcp: {enabled: no}}\n",
          { "tunnel=yes mcp=yes", "tunnel=no mcp=no", "tunnel=yes mcp=no" } },
        /* expect_addresses, canonical; an empty list means none. */
        { CONF,
          "platforms:\n  - name: p\n    global: { baseDomain: example.com }\n"
          "    expect_addresses: [203.0.113.10, \"2001:DB8:0::10\"]\n"
          "  - name: q\n    global: { baseDomain: example.org }\n    expect_addresses: []\n",
          { "expect=203.0.113.10,2001:db8::10", "expect=-" } },
        /* Relative trust paths follow the config file, wherever it is. */
        { CONF,
          "defaults: { trust: certs/root.pem }\n"
          "platforms:\n  - name: p\n    global: { baseDomain: example.com }\n"
          "  - name: q\n    global: { baseDomain: example.org }\n    trust: ../q.pem\n",
          { "trust=/etc/certvigil/certs/root.pem", "trust=/etc/certvigil/../q.pem" } },
        { "certvigil.yaml",
          "platforms:\n  - name: p\n    global: { baseDomain: example.com }\n    trust: certs/root.pem\n",
          { "trust=certs/root.pem" } },
        /* Thresholds as shares of the lifetime replace the days; renew_at,
         * expect_issuer and connect_to (IPv4, IPv6, with and without port). */
        { CONF,
          "defaults: { warn_days: 33%, renew_at: 0.8, expect_issuer: \"O=Let's Encrypt\" }\n"
          "platforms:\n  - name: p\n    global: { baseDomain: example.com }\n    critical_days: 12.5%\n"
          "    connect_to: 192.0.2.10\n"
          "  - name: q\n    global: { baseDomain: example.org }\n    warn_days: 14\n    renew_at: 75%\n"
          "    connect_to: \"[2001:db8::1]:8443\"\n"
          "  - name: r\n    global: { baseDomain: example.net }\n    connect_to: \"192.0.2.11:443\"\n",
          { "warn=-1 warn_share=0.33 critical=-1 critical_share=0.12 renew_at=0.80 expect_issuer=O=Let's "
            "connect_to=192.0.2.10:0",
            "warn=14 warn_share=0.33 critical=7 renew_at=0.75 connect_to=2001:db8::1:8443",
            "connect_to=192.0.2.11:443" } },
        /* Days on a platform replace a share from defaults: the default
         * share is back, not the inherited one. */
        { CONF,
          "defaults: { warn_days: 10%, critical_days: 5% }\n"
          "platforms:\n  - name: p\n    global: { baseDomain: example.com }\n    warn_days: 14\n    critical_days: 3\n"
          "  - name: q\n    global: { baseDomain: example.org }\n",
          { "warn=14 warn_share=0.33 critical=3 critical_share=0.10",
            "warn=-1 warn_share=0.10 critical=-1 critical_share=0.05" } },
        /* warn_days may equal critical_days, and both may be 0. */
        { CONF,
          "defaults: { warn_days: 0, critical_days: 0 }\n"
          "platforms:\n  - name: p\n    global: { baseDomain: example.com }\n"
          "  - name: q\n    global: { baseDomain: example.org }\n    warn_days: 7\n    critical_days: 7\n",
          { "warn=0 critical=0", "warn=7 critical=7" } },
        /* An empty string counts as unset, as Helm's `default` sees it. */
        { CONF,
          "platforms:\n  - name: p\n    global: { baseDomain: example.com, subdomains: { api: \"\" } }\n"
          "    tls: { letsencrypt: { issuer: \"\", email: \"\" } }\n",
          { "labels=api,console,grafana,auth,mcp issuer=letsencrypt-prod email=-" } },
        /* A number where a string is expected is taken as the string. */
        { CONF,
          "platforms:\n  - name: 2024\n    global: { baseDomain: example.com, subdomains: { api: 42 } }\n",
          { "name=2024 labels=42,console,grafana,auth,mcp" } },
        /* Anchors and aliases are plain YAML and work. */
        { CONF,
          "platforms:\n"
          "  - name: a\n    global: &g { baseDomain: example.com, subdomainSeparator: \"-\" }\n"
          "    resolvers: &r [\"192.0.2.53\"]\n"
          "  - name: b\n    global: *g\n    resolvers: *r\n",
          { "name=a base=example.com sep=- resolvers=192.0.2.53",
            "name=b base=example.com sep=- resolvers=192.0.2.53" } },
        /* Values files: the chart's many other keys are ignored, inline keys win. */
        { "@/certvigil.yaml",
          "platforms:\n"
          "  - name: prod\n"
          "    values: values-prod.yaml\n"
          "    global:\n"
          "      subdomains: { api: llm }\n"
          "    tls:\n"
          "      letsencrypt: { issuer: letsencrypt-staging }\n",
          { "name=prod values=@/values-prod.yaml base=ai-gateway.example.com sep=. "
            "labels=llm,ui,metrics,auth,mcp mode=letsencrypt issuer=letsencrypt-staging "
            "email=platform@example.com provider=cloudflare zone=example.com secret=- tunnel=no mcp=yes "
            "port=443 resolvers=system trust=system warn=21 critical=7" } },
        /* A label shared in the values file, told apart inline. */
        { "@/certvigil.yaml",
          "platforms:\n  - name: p\n    values: values-dup-label.yaml\n    global: { subdomains: { console: ui } }\n",
          { "labels=gw,ui,grafana,auth,mcp" } },
        /* The chart's empty placeholders leave our defaults alone. */
        { "@/certvigil.yaml",
          "platforms:\n"
          "  - name: p\n"
          "    values: values-chart-defaults.yaml\n"
          "    global: { baseDomain: example.com }\n",
          { "name=p values=@/values-chart-defaults.yaml base=example.com " DEFAULT_SETTINGS } },
        { "@/certvigil.yaml",
          "platforms:\n  - name: dash\n    values: ./values-dash.yaml\n",
          { "values=@/./values-dash.yaml base=ai-gateway.example.com sep=- labels=llm,console,grafana,auth,tools "
            "mode=provided secret=example-com-wildcard tunnel=yes mcp=yes" } },
        { "@/certvigil.yaml",
          "platforms:\n"
          "  - name: dash\n"
          "    values: values-dash.yaml\n"
          "    global: { subdomainSeparator: \".\", baseDomain: other.example.net }\n"
          "    tls: { mode: selfsigned }\n"
          "    mcp: { enabled: false }\n"
          "    ingress: { tunnel: { enabled: false } }\n",
          { "base=other.example.net sep=. labels=llm,console,grafana,auth,tools mode=selfsigned "
            "secret=example-com-wildcard tunnel=no mcp=no" } },
};

static void test_good_configs(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(good_cases); i++) {
                const struct good_case *t = &good_cases[i];
                _cleanup_free_ char *filename = fix(t->filename), *error = NULL;
                struct config *c = NULL;
                size_t n = 0;
                int r;

                r = config_load_string(t->yaml, filename, checks_find_def, &c, &error);
                if (r < 0)
                        fail_msg("good case %zu failed: %s", i, error);
                assert_null(error);
                assert_string_equal(c->path, filename);
                while (n < ELEMENTSOF(t->expect) && t->expect[n])
                        n++;
                assert_int_equal(c->n_platforms, n);
                for (size_t j = 0; j < n; j++) {
                        _cleanup_free_ char *actual = describe(c->platforms[j]);
                        _cleanup_free_ char *what = xasprintf("good case %zu, platform %zu", i, j);
                        assert_settings(what, actual, t->expect[j]);
                }
                config_free(c);
        }
}

/* ------------------------------------------------------------------------ */

struct bad_case {
        const char *filename;     /* "@/" = fixtures directory */
        const char *yaml;
        int error;
        const char *message;      /* exact, "@/" = fixtures directory */
};

#define P "platforms:\n  - name: prod\n"
#define PB P "    global: { baseDomain: example.com }\n"

static const struct bad_case bad_cases[] = {
        /* YAML syntax */
        { "t.yaml", "defaults:\n  port: 443\n - x\n", -EINVAL,
          "t.yaml:3:2: YAML syntax error: did not find expected key" },
        { "t.yaml", "defaults:\n  resolvers: [system\n", -EINVAL,
          "t.yaml:3:1: YAML syntax error: did not find expected ',' or ']'" },
        { "t.yaml", "platforms: *nope\n", -EINVAL, "t.yaml:1:12: YAML syntax error: found undefined alias" },
        { "t.yaml", "a: &x 1\nb: &x 2\n", -EINVAL, "t.yaml:2:4: YAML syntax error: found duplicate anchor" },
        { "t.yaml", "defaults: {}\nplatforms: [\x01]\n", -EINVAL,
          "t.yaml:2:13: YAML syntax error: control characters are not allowed" },
        { "t.yaml", "platforms: []\n---\nfoo: 1\n", -EINVAL,
          "t.yaml:2:1: multiple YAML documents are not supported" },
        /* Unknown keys, in every strict mapping. */
        { "t.yaml", "platform: []\n", -EINVAL, "t.yaml:1:1: unknown key 'platform' at top level (did you mean 'platforms'?)" },
        { "t.yaml", "defaults:\n  port: 443\n  prot: 443\n", -EINVAL, "t.yaml:3:3: unknown key 'prot' in defaults (did you mean 'port'?)" },
        { "t.yaml", "defaults:\n  name: x\n", -EINVAL, "t.yaml:2:3: unknown key 'name' in defaults" },
        { "t.yaml", PB "    foo: 1\n", -EINVAL, "t.yaml:4:5: unknown key 'foo' in platform 'prod'" },
        { "t.yaml", P "    global:\n      baseDomain: example.com\n      domain: x\n", -EINVAL,
          "t.yaml:5:7: unknown key 'domain' in global" },
        { "t.yaml", P "    global:\n      baseDomain: example.com\n      subdomains:\n        web: www\n", -EINVAL,
          "t.yaml:6:9: unknown key 'web' in global.subdomains" },
        { "t.yaml", PB "    tls:\n      mode: provided\n      secretName: x\n", -EINVAL,
          "t.yaml:6:7: unknown key 'secretName' in tls" },
        { "t.yaml", PB "    tls:\n      letsencrypt:\n        server: x\n", -EINVAL,
          "t.yaml:6:9: unknown key 'server' in tls.letsencrypt" },
        { "t.yaml", PB "    tls:\n      letsencrypt:\n        dns01:\n          zone: example.com\n", -EINVAL,
          "t.yaml:7:11: unknown key 'zone' in tls.letsencrypt.dns01" },
        { "t.yaml", PB "    ingress:\n      tunnel:\n        enable: true\n", -EINVAL,
          "t.yaml:6:9: unknown key 'enable' in ingress.tunnel (did you mean 'enabled'?)" },
        { "t.yaml", PB "    ingress:\n      className: nginx\n", -EINVAL,
          "t.yaml:5:7: unknown key 'className' in ingress" },
        { "t.yaml", PB "    mcp:\n      enabled: true\n      replicas: 2\n", -EINVAL,
          "t.yaml:6:7: unknown key 'replicas' in mcp" },
        /* Did you mean: one edit for short names, two or three for longer ones. */
        { "t.yaml", P "    global:\n      baseDomain: example.com\n      subdomainSeperator: \"-\"\n", -EINVAL,
          "t.yaml:5:7: unknown key 'subdomainSeperator' in global (did you mean 'subdomainSeparator'?)" },
        { "t.yaml", P "    global:\n      baseDomian: example.com\n", -EINVAL,
          "t.yaml:4:7: unknown key 'baseDomian' in global (did you mean 'baseDomain'?)" },
        { "t.yaml", PB "    tsl: { mode: provided }\n", -EINVAL,
          "t.yaml:4:5: unknown key 'tsl' in platform 'prod' (did you mean 'tls'?)" },
        { "t.yaml", PB "    warn_day: 3\n", -EINVAL,
          "t.yaml:4:5: unknown key 'warn_day' in platform 'prod' (did you mean 'warn_days'?)" },
        { "t.yaml", PB "    renew: { verify_timout: 1h }\n", -EINVAL,
          "t.yaml:4:14: unknown key 'verify_timout' in renew (did you mean 'verify_timeout'?)" },
        { "t.yaml", "defaults:\n  concurency: 8\n", -EINVAL,
          "t.yaml:2:3: unknown key 'concurency' in defaults (did you mean 'concurrency'?)" },
        { "t.yaml", PB "    tls: { mod: provided }\n", -EINVAL,
          "t.yaml:4:12: unknown key 'mod' in tls (did you mean 'mode'?)" },
        { "t.yaml", PB "    tls: { md: provided }\n", -EINVAL, "t.yaml:4:12: unknown key 'md' in tls" },
        { "t.yaml", "? [a, b]\n: c\n", -EINVAL, "t.yaml:1:3: unsupported non-string key at top level" },
        { "t.yaml", "defaults:\n  \"p\\x01rt\": 1\n", -EINVAL, "t.yaml:2:3: unknown key 'p\\x01rt' in defaults (did you mean 'port'?)" },
        /* Duplicate keys and names. */
        { "t.yaml", P "    name: other\n", -EINVAL, "t.yaml:3:5: duplicate key 'name'" },
        { "t.yaml", P "    global:\n      baseDomain: a.example.com\n      baseDomain: b.example.com\n", -EINVAL,
          "t.yaml:5:7: duplicate key 'baseDomain'" },
        { "t.yaml", "platforms: []\nplatforms: []\n", -EINVAL, "t.yaml:2:1: duplicate key 'platforms'" },
        { "t.yaml", PB "  - name: prod\n    global: { baseDomain: example.org }\n", -EINVAL,
          "t.yaml:4:11: duplicate platform name 'prod'" },
        /* Wrong types. */
        { "t.yaml", "defaults:\n  port: https\n", -EINVAL, "t.yaml:2:9: 'port' must be an integer" },
        { "t.yaml", "defaults:\n  port: \"443\"\n", -EINVAL, "t.yaml:2:9: 'port' must be an integer" },
        { "t.yaml", "defaults:\n  port: 443.0\n", -EINVAL, "t.yaml:2:9: 'port' must be an integer" },
        { "t.yaml", "defaults:\n  port: ~\n", -EINVAL, "t.yaml:2:9: 'port' must be an integer" },
        { "t.yaml", "defaults:\n  port: [443]\n", -EINVAL, "t.yaml:2:9: 'port' must be an integer" },
        { "t.yaml", PB "    warn_days: 3w\n", -EINVAL, "t.yaml:4:16: 'warn_days' must be an integer" },
        { "t.yaml", P "    global: { baseDomain: b\u00fccher.example }\n", -EINVAL,
          "t.yaml:3:27: 'b\\xc3\\xbccher.example' is not a valid domain name (global.baseDomain): write "
          "internationalized names in A-label form (xn--...)" },
        { "t.yaml", PB "    warn_days: 133%\n", -EINVAL,
          "t.yaml:4:16: 'warn_days' must be a number of days or a share of the lifetime from 0% to 100%" },
        { "t.yaml", PB "    critical_days: x%\n", -EINVAL,
          "t.yaml:4:20: 'critical_days' must be a number of days or a share of the lifetime from 0% to 100%" },
        { "t.yaml", PB "    renew_at: 1.5\n", -EINVAL, "t.yaml:4:15: 'renew_at' must be between 0 and 1 (exclusive)" },
        { "t.yaml", PB "    renew_at: soon\n", -EINVAL,
          "t.yaml:4:15: 'renew_at' must be a fraction such as 0.67 or a share such as 67%" },
        { "t.yaml", PB "    connect_to: origin.example.com\n", -EINVAL,
          "t.yaml:4:17: invalid connect_to 'origin.example.com' (expected ADDRESS[:PORT], IPv6 as [ADDRESS]:PORT)" },
        { "t.yaml", "defaults:\n  connect_to: 192.0.2.1\n", -EINVAL, "t.yaml:2:3: unknown key 'connect_to' in defaults" },
        { "t.yaml", "defaults:\n  resolvers: 192.0.2.53\n", -EINVAL, "t.yaml:2:14: 'resolvers' must be a list" },
        { "t.yaml", "defaults:\n  resolvers: [[192.0.2.53]]\n", -EINVAL,
          "t.yaml:2:15: 'resolvers' must be a list of addresses" },
        { "t.yaml", "defaults:\n  trust: [a.pem]\n", -EINVAL, "t.yaml:2:10: 'trust' must be a string" },
        { "t.yaml", "defaults:\n  trust: null\n", -EINVAL, "t.yaml:2:10: 'trust' must be a string" },
        { "t.yaml", "defaults:\n  timeout: 10 parsecs\n", -EINVAL,
          "t.yaml:2:12: 'timeout' must be a duration such as 10s, 2m or 1h" },
        { "t.yaml", "defaults:\n  deadline: {}\n", -EINVAL,
          "t.yaml:2:13: 'deadline' must be a duration such as 10s, 2m or 1h" },
        { "t.yaml", "defaults:\n  timeout: 0s\n", -EINVAL, "t.yaml:2:12: 'timeout' must be longer than 0" },
        { "t.yaml", "defaults:\n  interval: 0s\n", -EINVAL, "t.yaml:2:13: 'interval' must be longer than 0" },
        { "t.yaml", "defaults:\n  interval: hourly\n", -EINVAL,
          "t.yaml:2:13: 'interval' must be a duration such as 10s, 2m or 1h" },
        { "t.yaml", "defaults:\n  remind: -1h\n", -EINVAL,
          "t.yaml:2:11: 'remind' must be a duration such as 10s, 2m or 1h" },
        { "t.yaml", "defaults:\n  jitter: 150%\n", -EINVAL,
          "t.yaml:2:11: 'jitter' must be a percentage between 0% and 100%" },
        { "t.yaml", "defaults:\n  jitter: [5%]\n", -EINVAL,
          "t.yaml:2:11: 'jitter' must be a percentage of interval such as 5% or a duration such as 3m" },
        { "t.yaml", "defaults: [port]\n", -EINVAL, "t.yaml:1:11: 'defaults' must be a mapping" },
        { "t.yaml", "defaults: ~\n", -EINVAL, "t.yaml:1:11: 'defaults' must be a mapping" },
        { "t.yaml", "platforms: prod\n", -EINVAL, "t.yaml:1:12: 'platforms' must be a list" },
        { "t.yaml", "platforms: [prod]\n", -EINVAL, "t.yaml:1:13: platform #1 must be a mapping" },
        { "t.yaml", PB "  - [x]\n", -EINVAL, "t.yaml:4:5: platform #2 must be a mapping" },
        { "t.yaml", "[1, 2]\n", -EINVAL, "t.yaml:1:1: the config file must be a mapping" },
        { "t.yaml", "just words\n", -EINVAL, "t.yaml:1:1: the config file must be a mapping" },
        { "t.yaml", P "    global: example.com\n", -EINVAL, "t.yaml:3:13: 'global' must be a mapping" },
        { "t.yaml", P "    global:\n", -EINVAL, "t.yaml:3:12: 'global' must be a mapping" },
        { "t.yaml", P "    global:\n      baseDomain: example.com\n      subdomains: [api]\n", -EINVAL,
          "t.yaml:5:19: 'global.subdomains' must be a mapping" },
        { "t.yaml", PB "    tls: selfsigned\n", -EINVAL, "t.yaml:4:10: 'tls' must be a mapping" },
        { "t.yaml", P "    global: { baseDomain: [example.com] }\n", -EINVAL,
          "t.yaml:3:27: 'global.baseDomain' must be a string" },
        { "t.yaml", P "    global: { baseDomain: ~ }\n", -EINVAL,
          "t.yaml:3:27: 'global.baseDomain' must be a string" },
        { "t.yaml", P "    global: { baseDomain: \"a\\0b.example.com\" }\n", -EINVAL,
          "t.yaml:3:27: 'global.baseDomain' must not contain NUL characters" },
        { "t.yaml", PB "    mcp: { enabled: maybe }\n", -EINVAL, "t.yaml:4:21: 'mcp.enabled' must be a boolean" },
        { "t.yaml", PB "    mcp: { enabled: 1 }\n", -EINVAL, "t.yaml:4:21: 'mcp.enabled' must be a boolean" },
        { "t.yaml", PB "    ingress: { tunnel: { enabled: \"true\" } }\n", -EINVAL,
          "t.yaml:4:35: 'ingress.tunnel.enabled' must be a boolean" },
        { "t.yaml", "platforms:\n  - name: [prod]\n", -EINVAL, "t.yaml:2:11: 'name' must be a string" },
        { "t.yaml", PB "    values: [a.yaml]\n", -EINVAL, "t.yaml:4:13: 'values' must be a string" },
        { "t.yaml", PB "    expect_addresses: 203.0.113.10\n", -EINVAL,
          "t.yaml:4:23: 'expect_addresses' must be a list" },
        { "t.yaml", PB "    expect_addresses: [{a: b}]\n", -EINVAL,
          "t.yaml:4:24: 'expect_addresses' must be a list of addresses" },
        /* Out of range. */
        { "t.yaml", "defaults:\n  port: 0\n", -EINVAL, "t.yaml:2:9: 'port' must be between 1 and 65535" },
        { "t.yaml", "defaults:\n  dns_port: 0\n", -EINVAL, "t.yaml:2:13: 'dns_port' must be between 1 and 65535" },
        { "t.yaml", PB "    dns_port: domain\n", -EINVAL, "t.yaml:4:15: 'dns_port' must be an integer" },
        { "t.yaml", PB "    port: 65536\n", -EINVAL, "t.yaml:4:11: 'port' must be between 1 and 65535" },
        { "t.yaml", PB "    port: -443\n", -EINVAL, "t.yaml:4:11: 'port' must be between 1 and 65535" },
        { "t.yaml", PB "    port: 99999999999999999999999\n", -EINVAL,
          "t.yaml:4:11: 'port' must be between 1 and 65535" },
        { "t.yaml", "defaults:\n  concurrency: 0\n", -EINVAL,
          "t.yaml:2:16: 'concurrency' must be between 1 and 65535" },
        { "t.yaml", "defaults:\n  concurrency: 65536\n", -EINVAL,
          "t.yaml:2:16: 'concurrency' must be between 1 and 65535" },
        { "t.yaml", "defaults:\n  critical_days: -1\n", -EINVAL,
          "t.yaml:2:18: 'critical_days' must be between 0 and 36500" },
        /* warn_days against critical_days, pointing at the one that was set. */
        { "t.yaml", PB "    warn_days: 5\n    critical_days: 7\n", -EINVAL,
          "t.yaml:4:16: warn_days (5) must not be less than critical_days (7)" },
        { "t.yaml", "defaults:\n  critical_days: 30\n" PB, -EINVAL,
          "t.yaml:2:18: warn_days (21) must not be less than critical_days (30)" },
        { "t.yaml", "defaults:\n  warn_days: 3\n" PB, -EINVAL,
          "t.yaml:2:14: warn_days (3) must not be less than critical_days (7)" },
        /* Missing things. */
        { "t.yaml", "platforms:\n  - name: lab\n    tls: { mode: selfsigned }\n", -EINVAL,
          "t.yaml:2:5: platform 'lab' has no global.baseDomain" },
        { "t.yaml", "platforms:\n  - {name: lab, global: {baseDomain: \"\"}}\n", -EINVAL,
          "t.yaml:2:5: platform 'lab' has no global.baseDomain" },
        { "t.yaml", "platforms:\n  - global: { baseDomain: example.com }\n", -EINVAL,
          "t.yaml:2:5: platform #1 has no name" },
        { "t.yaml", "platforms:\n  - name: \"\"\n", -EINVAL, "t.yaml:2:5: platform #1 has no name" },
        { "t.yaml", "platforms:\n  - name: \"a\\tb\"\n", -EINVAL,
          "t.yaml:2:11: 'a\\x09b' is not a valid platform name" },
        { "t.yaml", "", -EINVAL, "t.yaml:1:1: no platforms defined" },
        { "t.yaml", "# nothing but a comment\n", -EINVAL, "t.yaml:1:1: no platforms defined" },
        { "t.yaml", "---\n...\n", -EINVAL, "t.yaml:1:1: no platforms defined" },
        { "t.yaml", "defaults: { port: 443 }\n", -EINVAL, "t.yaml:1:1: no platforms defined" },
        { "t.yaml", "defaults: { port: 443 }\nplatforms: []\n", -EINVAL, "t.yaml:1:1: no platforms defined" },
        { "t.yaml", "platforms:\n", -EINVAL, "t.yaml:1:1: no platforms defined" },
        { NULL, "", -EINVAL, "<string>:1:1: no platforms defined" },
        /* Invalid values. */
        { "t.yaml", P "    global: { baseDomain: example.com, subdomains: { api: Api_1 } }\n", -EINVAL,
          "t.yaml:3:59: 'Api_1' is not a valid DNS label (global.subdomains.api)" },
        { "t.yaml", P "    global: { baseDomain: example.com, subdomains: { mcp: -mcp } }\n", -EINVAL,
          "t.yaml:3:59: '-mcp' is not a valid DNS label (global.subdomains.mcp)" },
        { "t.yaml", P "    global: { baseDomain: example.com, subdomains: { auth: a.b } }\n", -EINVAL,
          "t.yaml:3:60: 'a.b' is not a valid DNS label (global.subdomains.auth)" },
        /* Two services on one label: the later one set is the error. */
        { "t.yaml", P "    global: { baseDomain: example.com, subdomains: { api: x, console: x, grafana: x } }\n",
          -EINVAL,
          "t.yaml:3:71: 'x' (global.subdomains.console) is also the label of global.subdomains.api: every service "
          "needs a name of its own" },
        { "t.yaml", P "    global: { baseDomain: example.com, subdomains: { console: api } }\n", -EINVAL,
          "t.yaml:3:63: 'api' (global.subdomains.console) is also the label of global.subdomains.api: every "
          "service needs a name of its own" },
        { "t.yaml", P "    global: { baseDomain: example.com, subdomains: { mcp: x, auth: x } }\n", -EINVAL,
          "t.yaml:3:59: 'x' (global.subdomains.mcp) is also the label of global.subdomains.auth: every "
          "service needs a name of its own" },
        { "@/certvigil.yaml", P "    values: values-dup-label.yaml\n", -EINVAL,
          "@/values-dup-label.yaml:5:14: 'gw' (global.subdomains.console) is also the label of "
          "global.subdomains.api: every service needs a name of its own" },
        { "t.yaml", P "    global: { baseDomain: x..y }\n", -EINVAL,
          "t.yaml:3:27: 'x..y' is not a valid domain name (global.baseDomain)" },
        { "t.yaml", P "    global: { baseDomain: localhost }\n", -EINVAL,
          "t.yaml:3:27: 'localhost' is not a valid domain name (global.baseDomain)" },
        { "t.yaml", P "    global: { baseDomain: 192.0.2.10 }\n", -EINVAL,
          "t.yaml:3:27: '192.0.2.10' is not a valid domain name (global.baseDomain)" },
        { "t.yaml", P "    global: { baseDomain: \"*.example.com\" }\n", -EINVAL,
          "t.yaml:3:27: '*.example.com' is not a valid domain name (global.baseDomain)" },
        { "t.yaml", P "    global: { baseDomain: ai_gateway.example.com }\n", -EINVAL,
          "t.yaml:3:27: 'ai_gateway.example.com' is not a valid domain name (global.baseDomain)" },
        { "t.yaml", P "    global: { baseDomain: example.com.. }\n", -EINVAL,
          "t.yaml:3:27: 'example.com..' is not a valid domain name (global.baseDomain)" },
        { "t.yaml", PB "    tls: { letsencrypt: { dns01: { dnsZone: \"exa mple.com\" } } }\n", -EINVAL,
          "t.yaml:4:45: 'exa mple.com' is not a valid domain name (tls.letsencrypt.dns01.dnsZone)" },
        { "t.yaml", PB "    tls: { mode: acme }\n", -EINVAL,
          "t.yaml:4:18: unknown tls.mode 'acme' (expected letsencrypt, provided or selfsigned)" },
        { "t.yaml", PB "    tls: { mode: LetsEncrypt }\n", -EINVAL,
          "t.yaml:4:18: unknown tls.mode 'LetsEncrypt' (expected letsencrypt, provided or selfsigned)" },
        { "t.yaml", P "    global: { baseDomain: example.com, subdomainSeparator: _ }\n", -EINVAL,
          "t.yaml:3:60: global.subdomainSeparator must be \".\" or \"-\"" },
        { "t.yaml", P "    global: { baseDomain: example.com, subdomainSeparator: \"--\" }\n", -EINVAL,
          "t.yaml:3:60: global.subdomainSeparator must be \".\" or \"-\"" },
        { "t.yaml", PB "    resolvers: [\"x:y\"]\n", -EINVAL,
          "t.yaml:4:17: invalid resolver 'x:y' (expected ADDRESS[:PORT] or system)" },
        { "t.yaml", PB "    resolvers: [192.0.2.53, \"192.0.2.53:0\"]\n", -EINVAL,
          "t.yaml:4:29: invalid resolver '192.0.2.53:0' (expected ADDRESS[:PORT] or system)" },
        { "t.yaml", PB "    resolvers: [\"192.0.2.53:\"]\n", -EINVAL,
          "t.yaml:4:17: invalid resolver '192.0.2.53:' (expected ADDRESS[:PORT] or system)" },
        { "t.yaml", PB "    resolvers: [\"192.0.2.53:+53\"]\n", -EINVAL,
          "t.yaml:4:17: invalid resolver '192.0.2.53:+53' (expected ADDRESS[:PORT] or system)" },
        { "t.yaml", PB "    resolvers: [\"[::1\"]\n", -EINVAL,
          "t.yaml:4:17: invalid resolver '[::1' (expected ADDRESS[:PORT] or system)" },
        { "t.yaml", PB "    resolvers: [\"[::1]53\"]\n", -EINVAL,
          "t.yaml:4:17: invalid resolver '[::1]53' (expected ADDRESS[:PORT] or system)" },
        { "t.yaml", PB "    resolvers: [\"[192.0.2.53]:53\"]\n", -EINVAL,
          "t.yaml:4:17: invalid resolver '[192.0.2.53]:53' (expected ADDRESS[:PORT] or system)" },
        { "t.yaml", PB "    resolvers: [ns1.example.com]\n", -EINVAL,
          "t.yaml:4:17: invalid resolver 'ns1.example.com' (expected ADDRESS[:PORT] or system)" },
        { "t.yaml", PB "    resolvers: [192.0.2.53, system]\n", -EINVAL,
          "t.yaml:4:29: 'system' cannot be combined with other resolvers" },
        { "t.yaml", PB "    resolvers: []\n", -EINVAL,
          "t.yaml:4:16: 'resolvers' must not be empty (use [system] for the system resolver)" },
        { "t.yaml", PB "    expect_addresses: [\"1.2.3\"]\n", -EINVAL,
          "t.yaml:4:24: invalid address '1.2.3' in expect_addresses" },
        { "t.yaml", PB "    expect_addresses: [203.0.113.10, \"[::1]\"]\n", -EINVAL,
          "t.yaml:4:38: invalid address '[::1]' in expect_addresses" },
        /* Values files named in the config. */
        { "t.yaml", PB "    values: nope.yaml\n", -ENOENT,
          "t.yaml:4:5: cannot read values file 'nope.yaml': No such file or directory" },
        { "@/certvigil.yaml", P "    values: missing.yaml\n", -ENOENT,
          "@/certvigil.yaml:3:5: cannot read values file '@/missing.yaml': No such file or directory" },
        { "t.yaml", PB "    values: /\n", -EINVAL, "t.yaml:4:13: '/' is a directory, not a regular file (values)" },
        { "t.yaml", PB "    values: /dev/zero\n", -EINVAL,
          "t.yaml:4:13: '/dev/zero' is a device or socket, not a regular file (values)" },
        { "@/certvigil.yaml", P "    values: values-bad-type.yaml\n", -EINVAL,
          "@/values-bad-type.yaml:2:15: 'global.baseDomain' must be a string" },
        { "@/certvigil.yaml", P "    values: values-bad-bool.yaml\n", -EINVAL,
          "@/values-bad-bool.yaml:2:12: 'mcp.enabled' must be a boolean" },
        { "@/certvigil.yaml", P "    values: values-bad-label.yaml\n", -EINVAL,
          "@/values-bad-label.yaml:4:14: 'Grafana_UI' is not a valid DNS label (global.subdomains.grafana)" },
        { "@/certvigil.yaml", P "    values: values-bad-mode.yaml\n", -EINVAL,
          "@/values-bad-mode.yaml:3:9: unknown tls.mode 'acme' (expected letsencrypt, provided or selfsigned)" },
        { "@/certvigil.yaml", P "    values: values-bad-map.yaml\n", -EINVAL,
          "@/values-bad-map.yaml:3:15: 'global.subdomains' must be a mapping" },
        { "@/certvigil.yaml", P "    values: values-bad-sep.yaml\n", -EINVAL,
          "@/values-bad-sep.yaml:3:23: global.subdomainSeparator must be \".\" or \"-\"" },
        { "@/certvigil.yaml", P "    values: values-syntax.yaml\n", -EINVAL,
          "@/values-syntax.yaml:3:22: YAML syntax error: mapping values are not allowed in this context" },
        { "@/certvigil.yaml", P "    values: values-list.yaml\n", -EINVAL,
          "@/values-list.yaml:1:1: a values file must be a mapping" },
        { "@/certvigil.yaml", P "    values: values-two-docs.yaml\n", -EINVAL,
          "@/values-two-docs.yaml:2:1: multiple YAML documents are not supported" },
        { "@/certvigil.yaml", P "    values: values-empty.yaml\n", -EINVAL,
          "@/certvigil.yaml:2:5: platform 'prod' has no global.baseDomain" },
        { "@/certvigil.yaml", P "    values: values-chart-defaults.yaml\n", -EINVAL,
          "@/certvigil.yaml:2:5: platform 'prod' has no global.baseDomain" },
        /* An inline error is still found after a good values file. */
        { "@/certvigil.yaml", P "    values: values-dash.yaml\n    mcp: { enabled: sometimes }\n", -EINVAL,
          "@/certvigil.yaml:4:21: 'mcp.enabled' must be a boolean" },
};

static void check_bad(size_t i, const struct bad_case *t) {
        _cleanup_free_ char *filename = fix(t->filename), *expected = fix(t->message), *error = NULL;
        struct config *c = NULL;
        int r;

        r = config_load_string(t->yaml, filename, checks_find_def, &c, &error);
        if (r >= 0)
                fail_msg("bad case %zu unexpectedly succeeded, expected: %s", i, expected);
        assert_null(c);
        if (!error || strcmp(error, expected) != 0 || r != t->error)
                fail_msg("bad case %zu:\n  expected %s (%d)\n  got      %s (%d)", i, expected, t->error,
                         error ? error : "(null)", r);
}

static void test_bad_configs(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++)
                check_bad(i, &bad_cases[i]);
}

/* ------------------------------------------------------------------------ */

static char *write_temp(const void *data, size_t len) {
        char *path = xstrdup("/tmp/test_config.XXXXXX");
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, len), (ssize_t)len);
        close(fd);
        return path;
}

/* Whatever goes in, the loader returns an error with a message and no
 * config: no crash, no hang, no leak. */
static void expect_failure(const char *what, const char *text, size_t len) {
        _cleanup_free_ char *path = write_temp(text, len), *error = NULL, *error2 = NULL;
        struct config *c = NULL;
        int r;

        r = config_load(path, checks_find_def, &c, &error);
        if (r >= 0 || !error || strncmp(error, path, strlen(path)) != 0)
                fail_msg("%s: expected an error, got %d: %s", what, r, error ? error : "(null)");
        assert_null(c);
        unlink(path);

        /* And from a string, up to the first NUL. */
        _cleanup_free_ char *s = xstrndup(text, len);
        r = config_load_string(s, "g.yaml", checks_find_def, &c, &error2);
        if (r >= 0 || !error2 || strncmp(error2, "g.yaml", 6) != 0)
                fail_msg("%s (string): expected an error, got %d: %s", what, r, error2 ? error2 : "(null)");
        assert_null(c);
}

static char *nested(const char *prefix, const char *open, const char *close, size_t depth, const char *suffix) {
        size_t lo = strlen(open), lc = strlen(close), lp = strlen(prefix);
        char *s = xmalloc(lp + depth * (lo + lc) + strlen(suffix) + 1), *p = s;

        memcpy(p, prefix, lp);
        p += lp;
        for (size_t i = 0; i < depth; i++, p += lo)
                memcpy(p, open, lo);
        for (size_t i = 0; i < depth; i++, p += lc)
                memcpy(p, close, lc);
        memcpy(p, suffix, strlen(suffix) + 1);
        return s;
}

static void test_garbage(void **state) {
        static const char *const inputs[] = {
                "[", "]", "{", "}", ": :", ":", "-", "- - -", "? ? ?", "&", "*", "!", "|", ">", "%", "@", "`",
                "\t", "\"", "'", "\"\\q\"", "%YAML 1.1\n%YAML 1.1\n---\n", "%TAG ! !x\n--- !a {}\n",
                "!!binary AAAA", "\xff\xfe", "\xfe\xff\x00p", "\xef\xbb\xbf\xff", "\xc3\x28", "a\x7f: b",
                "*x", "&a [*a]", "&a {*a: *a}", "platforms: &a [*a]", "platforms: &p\n  - *p\n",
                "platforms:\n  - &m {name: a, global: *m}\n",
                "platforms:\n  - {name: a, global: &g {baseDomain: *g}}\n",
                "platforms:\n  - {name: &n a, global: {baseDomain: *n}}\n",
                "defaults: &d {port: *d}\nplatforms: []\n",
                "platforms: [{name: a, global: {baseDomain: a.com}}]\n---\n",
                "platforms: [{name: a, global: {baseDomain: example.com}}]\n...\ngarbage\n",
                "platforms:\n- name: a\n  global:\n    baseDomain: example.com\n  global: {}\n",
                "\x00", "platforms: [", "platforms: [{name: a", "platforms:\n  - name: a\n    global: {baseDomain: ",
                "~", "null", "true", "42", "\"\"", "[]", "{}", "- a\n- b\n",
        };
        static const unsigned char all_bytes[] = {
#define B16(x) x, x + 1, x + 2, x + 3, x + 4, x + 5, x + 6, x + 7, x + 8, x + 9, x + 10, x + 11, x + 12, x + 13, x + 14, x + 15
                B16(0), B16(16), B16(32), B16(48), B16(64), B16(80), B16(96), B16(112),
                B16(128), B16(144), B16(160), B16(176), B16(192), B16(208), B16(224), B16(240),
#undef B16
        };
        unsigned char random_bytes[4096];
        uint32_t seed = 12345;

        for (size_t i = 0; i < ELEMENTSOF(inputs); i++) {
                _cleanup_free_ char *what = xasprintf("garbage %zu", i);
                /* Inputs that are only one byte long may be a NUL on purpose. */
                expect_failure(what, inputs[i], inputs[i][0] ? strlen(inputs[i]) : 1);
        }
        expect_failure("all bytes", (const char *)all_bytes, sizeof(all_bytes));
        for (size_t i = 0; i < sizeof(random_bytes); i++) {
                seed = seed * 1103515245u + 12345u;
                random_bytes[i] = (unsigned char)(seed >> 16);
        }
        expect_failure("random bytes", (const char *)random_bytes, sizeof(random_bytes));

        /* 1000-deep nesting: flow and block, at the top, as a platform and
         * inside a values-file key that would otherwise be ignored. */
        struct { const char *prefix, *open, *close, *suffix; } deep[] = {
                { "", "[", "]", "" },
                { "", "{a: ", "}", "" },
                { "platforms: ", "[", "]", "\n" },
                { "platforms:\n  - name: a\n    global: ", "{x: ", "}", "\n" },
                { "platforms:\n  - name: a\n    global: {baseDomain: example.com}\n    port: ", "[", "]", "\n" },
                { "", "- ", "", "x\n" },
        };
        for (size_t i = 0; i < ELEMENTSOF(deep); i++) {
                _cleanup_free_ char *text = nested(deep[i].prefix, deep[i].open, deep[i].close, 1000, deep[i].suffix);
                _cleanup_free_ char *what = xasprintf("nesting %zu", i);
                expect_failure(what, text, strlen(text));
        }
}

/* The limits on size, nesting, nodes and anchors, with their messages. */
static void test_limits(void **state) {
        _cleanup_free_ char *deep = nested("platforms: ", "[", "]", 200, "\n");
        _cleanup_free_ char *error = NULL, *error2 = NULL, *error3 = NULL, *error4 = NULL, *error5 = NULL;
        _cleanup_free_ char *big = xmalloc(5 * 1024 * 1024 + 1);
        _cleanup_free_ char *path = write_temp("", 0);
        _cleanup_free_ char *expected = xasprintf("%s: cannot read: File too large (more than 4 MiB)", path);
        struct config *c = NULL;
        size_t n;
        int fd;

        /* The root mapping is level 1, so the 128th '[' (column 139) is level 129. */
        assert_int_equal(config_load_string(deep, "t.yaml", checks_find_def, &c, &error), -EINVAL);
        assert_string_equal(error, "t.yaml:1:139: YAML nesting too deep (more than 128 levels)");

        /* A sparse 100 MiB file costs nothing to make and is refused unread. */
        fd = open(path, O_WRONLY);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, 100 * 1024 * 1024), 0);
        close(fd);
        assert_int_equal(config_load(path, checks_find_def, &c, &error2), -EFBIG);
        assert_string_equal(error2, expected);
        unlink(path);
        assert_int_equal(config_load("/dev/zero", checks_find_def, &c, &error5), -EFBIG);
        assert_string_equal(error5, "/dev/zero: cannot read: File too large (more than 4 MiB)");

        memset(big, 'a', 5 * 1024 * 1024);
        big[5 * 1024 * 1024] = 0;
        assert_int_equal(config_load_string(big, "t.yaml", checks_find_def, &c, &error3), -EFBIG);
        assert_string_equal(error3, "t.yaml: cannot read: File too large (more than 4 MiB)");

        /* 600,000 nodes in under 4 MiB. */
        n = 0;
        n += (size_t)snprintf(big + n, 64, "platforms: [");
        for (size_t i = 0; i < 600000; i++) {
                big[n++] = '0';
                big[n++] = ',';
        }
        memcpy(big + n, "0]\n", 4);
        assert_int_equal(config_load_string(big, "t.yaml", checks_find_def, &c, &error4), -EINVAL);
        assert_non_null(strstr(error4, "too many YAML nodes (more than 500000)"));
        free(error4);
        error4 = NULL;

        /* An alias bomb's anchors. */
        n = (size_t)snprintf(big, 64, "platforms: [");
        for (size_t i = 0; i < 1001; i++)
                n += (size_t)snprintf(big + n, 64, "&a%zu 0, ", i);
        memcpy(big + n, "0]\n", 4);
        assert_int_equal(config_load_string(big, "t.yaml", checks_find_def, &c, &error4), -EINVAL);
        assert_non_null(strstr(error4, "too many YAML anchors (more than 1000)"));
        free(error4);
        error4 = NULL;

        /* And its aliases, each of which libyaml looks up one anchor at a time. */
        n = (size_t)snprintf(big, 64, "platforms: [&a 0");
        for (size_t i = 0; i < 10001; i++)
                n += (size_t)snprintf(big + n, 64, ", *a");
        memcpy(big + n, "]\n", 3);
        assert_int_equal(config_load_string(big, "t.yaml", checks_find_def, &c, &error4), -EINVAL);
        assert_non_null(strstr(error4, "too many YAML aliases (more than 10000)"));
        assert_null(c);
        free(error4);
        error4 = NULL;

        /* A 3 MiB value is named by its first 80 characters, not echoed whole. */
        n = (size_t)snprintf(big, 128, "platforms:\n  - name: a\n    global: { baseDomain: ");
        memset(big + n, 'a', 3 * 1024 * 1024);
        n += 3 * 1024 * 1024;
        memcpy(big + n, " }\n", 4);
        assert_int_equal(config_load_string(big, "t.yaml", checks_find_def, &c, &error4), -EINVAL);
        assert_int_equal(strlen(error4), strlen("t.yaml:3:27: '' is not a valid domain name (global.baseDomain)") + 83);
        assert_non_null(strstr(error4, "aaaaaaaaaa...' is not a valid domain name (global.baseDomain)"));
        assert_null(c);
}

/* Random edits of a good config: every result is either a config or an
 * error with a message, never a crash (run this one under ASan). */
static void test_mutations(void **state) {
        static const char good[] =
                "defaults:\n  port: 443\n  resolvers: [\"127.0.0.1:15353\", \"[::1]:53\"]\n  timeout: 10s\n"
                "platforms:\n"
                "  - name: prod\n    values: values-prod.yaml\n    expect_addresses: [203.0.113.10]\n"
                "  - name: lab\n    global: { baseDomain: ai-gateway.lab.test, subdomainSeparator: \"-\" }\n"
                "    tls: { mode: selfsigned }\n    trust: lab-root.pem\n";
        static const char alphabet[] = "-:[]{},&*!|>'\"#\n \t.?0a\\~";
        _cleanup_free_ char *filename = fix("@/certvigil.yaml");
        uint32_t seed = 42;

        for (int round = 0; round < 3000; round++) {
                char text[sizeof(good) + 16];
                size_t len = sizeof(good) - 1;
                _cleanup_free_ char *error = NULL;
                struct config *c = NULL;
                int r;

                memcpy(text, good, sizeof(good));
                for (int edits = 0; edits < 1 + round % 4; edits++) {
                        size_t pos;
                        seed = seed * 1103515245u + 12345u;
                        pos = (seed >> 8) % len;
                        switch ((seed >> 4) % 3) {
                        case 0:       /* replace */
                                text[pos] = alphabet[(seed >> 20) % (sizeof(alphabet) - 1)];
                                break;
                        case 1:       /* delete */
                                memmove(text + pos, text + pos + 1, len - pos);
                                len--;
                                break;
                        default:      /* insert */
                                if (len + 1 >= sizeof(text))
                                        break;
                                memmove(text + pos + 1, text + pos, len - pos + 1);
                                text[pos] = alphabet[(seed >> 20) % (sizeof(alphabet) - 1)];
                                len++;
                                break;
                        }
                }
                r = config_load_string(text, filename, checks_find_def, &c, &error);
                if (r < 0) {
                        assert_null(c);
                        assert_non_null(error);
                } else {
                        assert_null(error);
                        assert_true(c->n_platforms > 0);
                }
                config_free(c);
        }
}

/* ------------------------------------------------------------------------ */

static void test_load_file(void **state) {
        _cleanup_free_ char *path = fix("@/certvigil.yaml"), *error = NULL, *prod = NULL, *lab = NULL;
        struct config *c = NULL;

        if (config_load(path, checks_find_def, &c, &error) < 0)
                fail_msg("%s", error);
        assert_string_equal(c->path, path);
        assert_int_equal(c->n_platforms, 2);
        prod = describe(c->platforms[0]);
        lab = describe(c->platforms[1]);
        assert_settings("prod", prod,
                        "name=prod values=@/values-prod.yaml base=ai-gateway.example.com sep=. "
                        "labels=llm,ui,metrics,auth,mcp mode=letsencrypt issuer=letsencrypt-staging "
                        "email=platform@example.com provider=cloudflare zone=example.com secret=- tunnel=no "
                        "mcp=yes port=443 resolvers=127.0.0.1:15353,[::1]:5353 "
                        "trust=@/certs/internal-root.pem warn=30 critical=7 timeout=5000ms deadline=120000ms "
                        "concurrency=256 expect=203.0.113.10,2001:db8::10");
        assert_settings("lab", lab,
                        "name=lab values=- base=ai-gateway.lab.test sep=- labels=api,console,grafana,auth,mcp "
                        "mode=selfsigned tunnel=no mcp=no port=443 resolvers=system "
                        "trust=/etc/certvigil/lab-root.pem warn=30 critical=7 timeout=5000ms expect=-");
        assert_null(config_free(c));
        assert_null(config_free(NULL));
}

static void test_load_file_missing(void **state) {
        _cleanup_free_ char *error = NULL, *error2 = NULL;
        struct config *c = NULL;

        assert_int_equal(config_load("/nonexistent/certvigil.yaml", checks_find_def, &c, &error), -ENOENT);
        assert_string_equal(error, "/nonexistent/certvigil.yaml: cannot read: No such file or directory");
        assert_int_equal(config_load("/", checks_find_def, &c, &error2), -EISDIR);
        assert_string_equal(error2, "/: cannot read: Is a directory");
        assert_null(c);
}

/* A config or values file that is a FIFO or a pipe is read as its writer
 * writes, to its end, within a bound: opening a FIFO nobody writes to used
 * to block forever (audit, plan, and the daemon at start and on SIGHUP). */
static void test_read_stream(void **state) {
        char dir[] = "/tmp/certvigil-test-fifo.XXXXXX";
        _cleanup_free_ char *fifo = NULL, *text = NULL, *text2 = NULL;
        uint64_t t0;
        size_t len = 1;
        pid_t pid;
        int status;

        assert_non_null(mkdtemp(dir));
        fifo = xasprintf("%s/values.yaml", dir);
        assert_int_equal(mkfifo(fifo, 0600), 0);

        /* No writer: an error once the wait has passed, not a hang. */
        t0 = now_monotonic_usec();
        assert_int_equal(yfile_read(fifo, 200, &text, &len), -ETIMEDOUT);
        assert_in_range(now_monotonic_usec() - t0, 200 * 1000, 5 * 1000 * 1000);
        assert_non_null(strstr(yfile_strerror(-ETIMEDOUT), "FIFO"));

        /* A writer that comes after the reader opened it, writes, closes. */
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int fd = open(fifo, O_WRONLY);
                _exit(fd >= 0 && write(fd, "global: {}\n", 11) == 11 ? 0 : 1);
        }
        assert_int_equal(yfile_read(fifo, 5000, &text2, &len), 0);
        assert_int_equal(len, 11);
        assert_string_equal(text2, "global: {}\n");
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_int_equal(status, 0);

        /* A device with nothing in it reads as empty, at once. */
        text = mfree(text);
        assert_int_equal(yfile_read("/dev/null", 0, &text, &len), 0);
        assert_int_equal(len, 0);

        unlink(fifo);
        rmdir(dir);
}

/* A path key naming a FIFO, a directory or a device is refused at load,
 * with its position: the file is read on the loop while auditing, where a
 * FIFO made the audit wait past its deadline. A missing file is not (it
 * may be there by then). */
static void test_path_not_regular(void **state) {
        static const struct {
                const char *head;         /* the platform's line, before the path */
                const char *path;         /* "@" = a FIFO in a scratch directory */
                const char *expect;       /* NULL: loads */
        } cases[] = {
                { "dnssec: { enabled: true, trust_anchor: ", "@",
                  "t.yaml:4:44: '@' is a FIFO, not a regular file (dnssec.trust_anchor)" },
                { "rdap: { enabled: true, bootstrap: ", "/", "t.yaml:4:39: '/' is a directory, not a regular file (rdap.bootstrap)" },
                { "ct: { url: \"https://ct.example/\", trust: ", "/dev/null",
                  "t.yaml:4:46: '/dev/null' is a device or socket, not a regular file (ct.trust)" },
                { "dnssec: { enabled: true, trust_anchor: ", "/nonexistent/root.key", NULL },
        };
        char dir[] = "/tmp/certvigil-test-paths.XXXXXX";
        _cleanup_free_ char *fifo = NULL;

        assert_non_null(mkdtemp(dir));
        fifo = xasprintf("%s/anchor", dir);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        alarm(5);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *path = strcmp(cases[i].path, "@") == 0 ? fifo : cases[i].path;
                _cleanup_free_ char *yaml = xasprintf("platforms:\n  - name: a\n    global: { baseDomain: a.example.com }\n"
                                                      "    %s%s }\n", cases[i].head, path);
                _cleanup_free_ char *error = NULL, *expect = NULL;
                struct config *c = NULL;
                int r = config_load_string(yaml, "t.yaml", checks_find_def, &c, &error);

                if (!cases[i].expect) {
                        assert_int_equal(r, 0);
                        config_free(c);
                        continue;
                }
                expect = xstrdup(cases[i].expect);
                if (strchr(expect, '@')) {
                        char *at = strchr(expect, '@');
                        *at = 0;
                        char *full = xasprintf("%s%s%s", expect, fifo, at + 1);
                        free(expect);
                        expect = full;
                }
                assert_int_equal(r, -EINVAL);
                assert_null(c);
                assert_string_equal(error, expect);
        }
        alarm(0);
        unlink(fifo);
        rmdir(dir);
}

struct values_case {
        const char *path;         /* "@/" = fixtures directory */
        int error;
        const char *expect;       /* settings ("@" = fixtures), or the exact message ("@/" too) */
};

static const struct values_case values_cases[] = {
        { "@/values-prod.yaml", 0,
          "name=ai-gateway.example.com values=@/values-prod.yaml base=ai-gateway.example.com sep=. "
          "labels=api,ui,metrics,auth,mcp mode=letsencrypt issuer=letsencrypt-prod email=platform@example.com "
          "provider=cloudflare zone=example.com secret=- tunnel=no mcp=yes port=443 resolvers=system "
          "trust=system warn=21 critical=7 timeout=10000ms deadline=120000ms concurrency=256 expect=-" },
        { "@/values-dash.yaml", 0,
          "name=ai-gateway.example.com sep=- labels=llm,console,grafana,auth,tools mode=provided "
          "secret=example-com-wildcard tunnel=yes mcp=yes" },
        { "@/values-empty.yaml", -EINVAL, "@/values-empty.yaml:1:1: values file has no global.baseDomain" },
        { "@/values-chart-defaults.yaml", -EINVAL,
          "@/values-chart-defaults.yaml:3:1: values file has no global.baseDomain" },
        { "@/values-bad-type.yaml", -EINVAL, "@/values-bad-type.yaml:2:15: 'global.baseDomain' must be a string" },
        { "@/values-syntax.yaml", -EINVAL,
          "@/values-syntax.yaml:3:22: YAML syntax error: mapping values are not allowed in this context" },
        { "@/values-list.yaml", -EINVAL, "@/values-list.yaml:1:1: a values file must be a mapping" },
        { "@/values-dup-label.yaml", -EINVAL,
          "@/values-dup-label.yaml:5:14: 'gw' (global.subdomains.console) is also the label of "
          "global.subdomains.api: every service needs a name of its own" },
        { "@/missing.yaml", -ENOENT, "@/missing.yaml: cannot read: No such file or directory" },
};

/* Values files: keys that look like misspellings of ours are warnings with
 * a position and the key meant; the chart's other keys are not. */
static const char *const typo_warnings[] = {
        "@/values-typos.yaml:1:1: warning: unknown key 'gloabl' at top level, ignored (did you mean 'global'?)",
        "@/values-typos.yaml:5:3: warning: unknown key 'subdomainSeperator' in global, ignored "
        "(did you mean 'subdomainSeparator'?)",
        "@/values-typos.yaml:8:5: warning: unknown key 'cosnole' in global.subdomains, ignored "
        "(did you mean 'console'?)",
        "@/values-typos.yaml:10:3: warning: unknown key 'mdoe' in tls, ignored (did you mean 'mode'?)",
        "@/values-typos.yaml:13:7: warning: unknown key 'dnszone' in tls.letsencrypt.dns01, ignored "
        "(did you mean 'dnsZone'?)",
        "@/values-typos.yaml:18:5: warning: unknown key 'enable' in ingress.tunnel, ignored "
        "(did you mean 'enabled'?)",
        "@/values-typos.yaml:20:3: warning: unknown key 'enable' in mcp, ignored (did you mean 'enabled'?)",
        NULL,
};

static void check_warnings(const char *what, char **got) {
        size_t n = 0;

        for (; typo_warnings[n]; n++) {
                _cleanup_free_ char *want = fix(typo_warnings[n]);
                if (!got || !got[n] || strcmp(got[n], want) != 0)
                        fail_msg("%s: warning %zu:\n  expected %s\n  got      %s", what, n, want,
                                 got && got[n] ? got[n] : "(none)");
        }
        if (got && got[n])
                fail_msg("%s: unexpected warning %s", what, got[n]);
}

/* Helm reads YAML merge keys in values files ("<<: *anchor"): so do we,
 * with the keys written beside a merge key winning, and the first merged
 * mapping that has a key winning over later ones. They were skipped as an
 * unknown key: a baseDomain merged in was "no global.baseDomain", a merged
 * tls.mode silently the default. certvigil's own config refuses them. */
static void test_values_merge(void **state) {
        static const struct {
                const char *yaml;
                const char *expect;       /* "base sep mode", or the error after "PATH:" */
        } cases[] = {
                { "c: &c\n  baseDomain: m.example.com\nglobal:\n  <<: *c\n", "m.example.com . letsencrypt" },
                { "b: &b { baseDomain: b.example.com, subdomainSeparator: \"-\" }\nt: &t { mode: provided }\n"
                  "global:\n  <<: [*b]\n  baseDomain: own.example.com\ntls:\n  <<: *t\n",
                  "own.example.com - provided" },
                { "x: &x { baseDomain: x.example.com }\ny: &y { baseDomain: y.example.com, subdomainSeparator: \"-\" }\n"
                  "global:\n  <<: [*x, *y]\n",
                  "x.example.com - letsencrypt" },
                { "g: &g\n  <<: *g\n  baseDomain: a.example.com\nglobal: *g\n",
                  "2:3: merge keys ('<<') nested more than 16 deep in global" },
                { "global:\n  <<: 5\n", "2:7: a merge key ('<<') takes a mapping or a list of mappings" },
                { "t: &t { mode: acme }\nglobal: { baseDomain: a.example.com }\ntls: { <<: *t }\n",
                  "1:15: unknown tls.mode 'acme' (expected letsencrypt, provided or selfsigned)" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *path = write_temp(cases[i].yaml, strlen(cases[i].yaml));
                _cleanup_free_ char *error = NULL, *got = NULL, *want = NULL;
                struct config *c = NULL;

                if (config_from_values(path, &c, &error) >= 0) {
                        const struct platform *p = c->platforms[0];
                        got = xasprintf("%s %c %s", p->base_domain, p->separator,
                                        p->tls_mode == TLS_MODE_PROVIDED ? "provided"
                                        : p->tls_mode == TLS_MODE_SELFSIGNED ? "selfsigned" : "letsencrypt");
                        want = xstrdup(cases[i].expect);
                        config_free(c);
                } else {
                        got = TAKE_PTR(error);
                        want = xasprintf("%s:%s", path, cases[i].expect);
                }
                unlink(path);
                assert_string_equal(got, want);
        }
}

/* Merge keys listing an anchor many times, level upon level: 10^11
 * mappings to merge if expanded. Refused at once, not ground through. */
static void test_values_merge_bomb(void **state) {
        _cleanup_free_ char *yaml = xstrdup("a0: &a0 { baseDomain: a.example.com }\n"), *path = NULL, *error = NULL;
        struct config *c = NULL;

        for (int i = 1; i <= 11; i++) {
                char *t = xasprintf("%sa%d: &a%d { <<: [*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d] }\n", yaml, i,
                                    i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
                free(yaml);
                yaml = t;
        }
        {
                char *t = xasprintf("%sglobal: { <<: *a11 }\n", yaml);
                free(yaml);
                yaml = t;
        }
        path = write_temp(yaml, strlen(yaml));
        alarm(10);
        assert_int_equal(config_from_values(path, &c, &error), -EINVAL);
        alarm(0);
        unlink(path);
        assert_non_null(strstr(error, "more than 1000 mappings merged ('<<') in global"));
}

/* A wide anchor merged many times, within the bound on mappings: 200,000
 * keys to walk, twice each. Refused at once by the bound on keys merged
 * (a 2 MB file of this took 21 s of CPU at 999 mappings of 200,000 keys). */
static void test_values_merge_wide(void **state) {
        _cleanup_free_ char *yaml = xstrdup("a: &a { baseDomain: a.example.com"), *path = NULL, *error = NULL;
        struct config *c = NULL;

        for (int i = 0; i < 2000; i++) {
                char *t = xasprintf("%s, k%d: 1", yaml, i);
                free(yaml);
                yaml = t;
        }
        {
                char *t = xasprintf("%s }\nglobal:\n  <<: [*a", yaml);
                free(yaml);
                yaml = t;
        }
        for (int i = 1; i < 100; i++) {
                char *t = xasprintf("%s, *a", yaml);
                free(yaml);
                yaml = t;
        }
        {
                char *t = xasprintf("%s]\n", yaml);
                free(yaml);
                yaml = t;
        }
        path = write_temp(yaml, strlen(yaml));
        assert_int_equal(config_from_values(path, &c, &error), -EINVAL);
        unlink(path);
        assert_non_null(strstr(error, "more than 100000 keys merged ('<<') in global"));
}

/* A platform's values file that is a FIFO is refused at once, like every
 * other path in the config: it was read as a stream, up to 10 s, which the
 * daemon did on its loop at every reload, stalling its audits. */
static void test_values_path_not_regular(void **state) {
        char dir[] = "/tmp/certvigil-test-values.XXXXXX";
        _cleanup_free_ char *fifo = NULL, *yaml = NULL, *error = NULL, *expect = NULL;
        struct config *c = NULL;
        uint64_t t0;

        assert_non_null(mkdtemp(dir));
        fifo = xasprintf("%s/values.yaml", dir);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        yaml = xasprintf("platforms:\n  - name: a\n    global: { baseDomain: a.example.com }\n    values: %s\n", fifo);
        t0 = now_monotonic_usec();
        assert_int_equal(config_load_string(yaml, "t.yaml", checks_find_def, &c, &error), -EINVAL);
        assert_null(c);
        expect = xasprintf("t.yaml:4:13: '%s' is a FIFO, not a regular file (values)", fifo);
        assert_string_equal(error, expect);
        assert_true(now_monotonic_usec() - t0 < 2 * USEC_PER_SEC);
        unlink(fifo);
        rmdir(dir);
}

/* certvigil's own config refuses merge keys, saying so. */
static void test_config_merge(void **state) {
        _cleanup_free_ char *error = NULL;
        struct config *c = NULL;

        assert_int_equal(config_load_string("platforms:\n  - &p\n    name: a\n    global: { baseDomain: a.example.com }\n"
                                            "  - <<: *p\n    name: b\n",
                                            "m.yaml", checks_find_def, &c, &error),
                         -EINVAL);
        assert_string_equal(error, "m.yaml:5:5: merge keys ('<<') are not supported in platform 'b': write the keys out");
}

static void test_values_typos(void **state) {
        _cleanup_free_ char *path = fix("@/values-typos.yaml"), *conf = fix("@/certvigil.yaml");
        _cleanup_free_ char *error = NULL, *error2 = NULL, *error3 = NULL;
        struct config *c = NULL;

        if (config_from_values(path, &c, &error) < 0)
                fail_msg("%s", error);
        check_warnings("--values", c->warnings);
        c = config_free(c);

        /* Two platforms on one values file: each warning once. */
        if (config_load_string("platforms:\n  - name: a\n    values: values-typos.yaml\n"
                               "  - name: b\n    values: values-typos.yaml\n",
                               conf, checks_find_def, &c, &error2) < 0)
                fail_msg("%s", error2);
        check_warnings("config", c->warnings);
        c = config_free(c);

        /* 99 near-misses: 20 warnings and a line saying there are more. */
        {
                _cleanup_free_ char *text = xstrdup("global: { baseDomain: example.com }\nmcp:\n");
                _cleanup_free_ char *many = NULL, *error4 = NULL, *last = NULL;
                for (int i = 1; i <= 99; i++) {
                        char *t = xasprintf("%s  enabled%d: true\n", text, i);
                        free(text);
                        text = t;
                }
                many = write_temp(text, strlen(text));
                if (config_from_values(many, &c, &error4) < 0)
                        fail_msg("%s", error4);
                assert_int_equal(strv_length(c->warnings), 21);
                last = xasprintf("%s: warning: more suspicious keys, not shown", many);
                assert_string_equal(c->warnings[20], last);
                c = config_free(c);
                unlink(many);
        }

        /* A clean values file warns about nothing. */
        if (config_load_string("platforms:\n  - name: a\n    values: values-prod.yaml\n", conf, checks_find_def,
                               &c, &error3) < 0)
                fail_msg("%s", error3);
        assert_null(c->warnings);
        config_free(c);
}

static void test_from_values(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(values_cases); i++) {
                const struct values_case *t = &values_cases[i];
                _cleanup_free_ char *path = fix(t->path), *expected = fix(t->expect), *error = NULL;
                struct config *c = NULL;
                int r = config_from_values(path, &c, &error);

                if (r != t->error)
                        fail_msg("values case %zu: expected %d, got %d: %s", i, t->error, r, error ? error : "");
                if (r < 0) {
                        assert_null(c);
                        assert_string_equal(error, expected);
                        continue;
                }
                _cleanup_free_ char *actual = describe(c->platforms[0]);
                assert_null(c->path);
                assert_int_equal(c->n_platforms, 1);
                assert_string_equal(c->platforms[0]->values_path, path);
                assert_settings(t->path, actual, t->expect);
                config_free(c);
        }
}

/* ------------------------------------------------------------------------ */

static struct config *three_platforms(void) {
        struct config *c = NULL;
        _cleanup_free_ char *error = NULL;

        assert_int_equal(config_load_string("defaults: { resolvers: [\"192.0.2.53\"], trust: /a.pem }\n"
                                            "platforms:\n"
                                            "  - { name: a, global: { baseDomain: a.example.com } }\n"
                                            "  - { name: b, global: { baseDomain: b.example.com }, port: 8443 }\n"
                                            "  - { name: c, global: { baseDomain: c.example.com } }\n",
                                            CONF, checks_find_def, &c, &error), 0);
        return c;
}

static void test_overrides(void **state) {
        char *resolvers[] = { (char *)"[::1]:5353", (char *)"192.0.2.1", NULL };
        char *system[] = { (char *)"system", NULL };
        char *only[] = { (char *)"c", (char *)"a", NULL };
        char *unknown[] = { (char *)"a", (char *)"x'y", NULL };
        char *bad_resolver[] = { (char *)"ns1.example.com", NULL };
        const struct config_overrides none = {};
        const struct config_overrides all = {
                .resolvers = resolvers, .port = 10443, .trust = "ca.pem",
                .timeout_usec = 3 * USEC_PER_SEC, .deadline_usec = 60 * USEC_PER_SEC, .only_platforms = only,
        };
        struct config *c = three_platforms();
        _cleanup_free_ char *error = NULL, *error2 = NULL, *error3 = NULL, *a = NULL, *b = NULL;

        /* Nothing set changes nothing. */
        assert_int_equal(config_apply_overrides(c, &none, &error), 0);
        assert_int_equal(c->n_platforms, 3);
        b = describe(c->platforms[1]);
        assert_settings("b", b, "port=8443 resolvers=192.0.2.53 trust=/a.pem timeout=10000ms");

        /* Unknown platforms and bad resolvers fail and leave the config alone. */
        assert_int_equal(config_apply_overrides(c, &(struct config_overrides){ .only_platforms = unknown, .port = 1 },
                                                &error), -ENOENT);
        assert_string_equal(error, "unknown platform 'x'y'");
        assert_int_equal(config_apply_overrides(c, &(struct config_overrides){ .resolvers = bad_resolver }, &error2),
                         -EINVAL);
        assert_string_equal(error2, "invalid resolver 'ns1.example.com' (expected ADDRESS[:PORT] or system)");
        /* A platform named but another shard's: said, not skipped in
         * silence (c is shard 1/2's, a and b shard 2/2's). */
        _cleanup_free_ char *error5 = NULL;
        char *only_c[] = { (char *)"c", NULL };
        assert_int_equal(config_apply_overrides(c, &(struct config_overrides){ .only_platforms = only_c,
                                                                                .shard = { 2, 2 } }, &error5),
                         -ENOENT);
        assert_string_equal(error5, "platform 'c' is shard 1/2's, not 2/2's (--platform and --shard, "
                                    "CERTVIGIL_SHARD or the config's shard:)");
        assert_int_equal(config_apply_overrides(c, &(struct config_overrides){ .port = 65536 }, &error3), -EINVAL);
        assert_string_equal(error3, "'port' must be between 1 and 65535");
        assert_int_equal(c->n_platforms, 3);
        assert_int_equal(c->platforms[1]->port, 8443);
        _cleanup_free_ char *error4 = NULL;
        assert_int_equal(config_apply_overrides(c, &(struct config_overrides){ .dns_port = 70000 }, &error4), -EINVAL);
        assert_string_equal(error4, "'dns_port' must be between 1 and 65535");
        assert_int_equal(c->platforms[1]->dns_port, 53);
        /* --dns-port: every platform asks the zones' servers there. */
        assert_int_equal(config_apply_overrides(c, &(struct config_overrides){ .dns_port = 5353 }, NULL), 0);
        for (size_t i = 0; i < c->n_platforms; i++)
                assert_int_equal(c->platforms[i]->dns_port, 5353);

        /* Command-line values beat the config for every platform, and
         * --platform keeps config order. */
        assert_int_equal(config_apply_overrides(c, &all, NULL), 0);
        assert_int_equal(c->n_platforms, 2);
        a = describe(c->platforms[0]);
        free(b);
        b = describe(c->platforms[1]);
        assert_settings("a", a, "name=a port=10443 resolvers=[::1]:5353,192.0.2.1 trust=ca.pem timeout=3000ms "
                                "deadline=60000ms");
        assert_settings("c", b, "name=c port=10443 resolvers=[::1]:5353,192.0.2.1 trust=ca.pem timeout=3000ms "
                                "deadline=60000ms");

        /* "system" on the command line means the system resolver. */
        assert_int_equal(config_apply_overrides(c, &(struct config_overrides){ .resolvers = system }, NULL), 0);
        assert_null(c->platforms[0]->resolvers);
        assert_null(c->platforms[1]->resolvers);
        config_free(c);
}

/* ------------------------------------------------------------------------ */

static void test_dns_names(void **state) {
        static const struct {
                const char *s;
                bool label, name;
        } cases[] = {
                { "api", true, false },
                { "a", true, false },
                { "0", true, false },
                { "ai-gateway", true, false },
                { "xn--bcher-kva", true, false },
                { "-api", false, false },
                { "api-", false, false },
                { "Api", false, false },
                { "api_1", false, false },
                { "", false, false },
                { "a.b", false, true },
                { "ai-gateway.example.com", false, true },
                { "a..b", false, false },
                { ".a.b", false, false },
                { "a.b.", false, false },
                { "*.example.com", false, false },
                { "exa mple.com", false, false },
                { "EXAMPLE.com", false, false },
                { "123456789012345678901234567890123456789012345678901234567890123", true, false },
                { "1234567890123456789012345678901234567890123456789012345678901234", false, false },
                { "123456789012345678901234567890123456789012345678901234567890123.com", false, true },
                { "1234567890123456789012345678901234567890123456789012345678901234.com", false, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                if (dns_label_is_valid(cases[i].s) != cases[i].label)
                        fail_msg("dns_label_is_valid(\"%s\") != %d", cases[i].s, cases[i].label);
                if (dns_name_is_valid(cases[i].s) != cases[i].name)
                        fail_msg("dns_name_is_valid(\"%s\") != %d", cases[i].s, cases[i].name);
        }
        assert_false(dns_label_is_valid(NULL));
        assert_false(dns_name_is_valid(NULL));

        /* 253 characters is the limit: 63+1+63+1+63+1+61. */
        char name[300];
        memset(name, 'a', sizeof(name));
        name[63] = name[127] = name[191] = '.';
        name[253] = 0;
        assert_true(dns_name_is_valid(name));
        name[253] = 'a';
        name[254] = 0;
        assert_false(dns_name_is_valid(name));
}

/* ------------------------------------------------------------------------ */
/* renew: and acme_directory */

static char *describe_renew(const struct platform *p) {
        const struct renew_settings *r = &p->renew;
        _cleanup_free_ char *on = join(r->on, "-"), *cmd = join(r->command, "-");

        return xasprintf("enabled=%s on=%s command=%s timeout=%" PRIu64 "s min_interval=%" PRIu64 "s cap=%u "
                         "verify_every=%" PRIu64 "s verify_timeout=%" PRIu64 "s ns=%s cert=%s kubeconfig=%s "
                         "in_cluster=%s acme=%s acme_trust=%s kube=%s,%s,%s",
                         r->enabled ? "yes" : "no", on, cmd, (uint64_t)(r->timeout_usec / USEC_PER_SEC),
                         (uint64_t)(r->min_interval_usec / USEC_PER_SEC), r->max_per_week,
                         (uint64_t)(r->verify_every_usec / USEC_PER_SEC),
                         (uint64_t)(r->verify_timeout_usec / USEC_PER_SEC), opt(r->cm_namespace), opt(r->cm_certificate),
                         opt(r->cm_kubeconfig), r->cm_in_cluster ? "yes" : "no", platform_acme_directory(p),
                         opt(p->acme_trust), opt(p->kube_namespace), opt(p->kube_kubeconfig),
                         p->kube_in_cluster ? "in-cluster" : "-");
}

#define RP "platforms:\n  - name: p\n    global: { baseDomain: example.com }\n"

static const struct good_case renew_good[] = {
        /* Off by default, with the issue's defaults. */
        { CONF, RP,
          { "enabled=no on=tls.expiry.critical,tls.expiry.expired,tls.renewal.overdue,tls.ari.renew-now,"
            "tls.issuer.staging,tls.wildcard.shape command=- timeout=600s min_interval=21600s cap=5 "
            "verify_every=120s verify_timeout=1800s ns=- cert=- kubeconfig=- in_cluster=no "
            "acme=https://acme-v02.api.letsencrypt.org/directory" } },
        /* The command method, every knob set. */
        { CONF,
          RP "    renew:\n      enabled: true\n      on: [tls.expiry.critical, tls.ari.renew-now]\n"
             "      command: [/usr/bin/cmctl, renew, -n, ai-gateway, \"name with space\"]\n"
             "      timeout: 5m\n      min_interval: 1h\n      max_per_week: 3\n"
             "      verify_every: 30s\n      verify_timeout: 10m\n",
          { "enabled=yes on=tls.expiry.critical,tls.ari.renew-now "
            "command=/usr/bin/cmctl,renew,-n,ai-gateway,name with space timeout=300s min_interval=3600s cap=3 "
            "verify_every=30s verify_timeout=600s" } },
        /* cert_manager with a kubeconfig relative to the config; in_cluster. */
        { CONF,
          "defaults:\n  renew: { min_interval: 2h }\n"
          "platforms:\n  - name: a\n    global: { baseDomain: a.example.com }\n"
          "    renew: { enabled: yes, cert_manager: { namespace: ai-gateway, certificate: ai-gateway-wildcard,"
          " kubeconfig: kube/config } }\n"
          "  - name: b\n    global: { baseDomain: b.example.com }\n"
          "    renew: { enabled: true, cert_manager: { namespace: gw, certificate: wc, in_cluster: true } }\n",
          { "enabled=yes min_interval=7200s ns=ai-gateway cert=ai-gateway-wildcard "
            "kubeconfig=/etc/certvigil/kube/config in_cluster=no",
            "enabled=yes min_interval=7200s ns=gw cert=wc kubeconfig=- in_cluster=yes" } },
        /* The platform's Kubernetes connection (provided mode's Secret). */
        { CONF,
          RP "    kubernetes: { namespace: ai-gateway, kubeconfig: kube.yaml }\n"
             "  - name: q\n    global: { baseDomain: example.org }\n    kubernetes: { namespace: gw, in_cluster: yes }\n",
          { "kube=ai-gateway,/etc/certvigil/kube.yaml,-", "kube=gw,-,in-cluster" } },
        /* An empty renew.on never triggers; a method may be set while disabled. */
        { CONF, RP "    renew: { on: [], command: [/bin/true] }\n", { "enabled=no on=- command=/bin/true" } },
        /* The ACME directory: explicit, or after the issuer. */
        { CONF,
          RP "    acme_directory: https://127.0.0.1:14000/dir\n    acme_trust: pebble/ca.pem\n"
             "  - name: q\n    global: { baseDomain: example.org }\n"
             "    tls: { letsencrypt: { issuer: letsencrypt-staging } }\n",
          { "acme=https://127.0.0.1:14000/dir acme_trust=/etc/certvigil/pebble/ca.pem",
            "acme=https://acme-staging-v02.api.letsencrypt.org/directory" } },
};

static const struct bad_case renew_bad[] = {
        { "t.yaml", RP "    renew: { enabled: true }\n", -EINVAL,
          "t.yaml:4:5: platform 'p': renew is enabled but has no method (command or cert_manager)" },
        { "t.yaml", "defaults:\n  renew: { enabled: true }\n" RP, -EINVAL,
          "t.yaml:2:3: platform 'p': renew is enabled but has no method (command or cert_manager)" },
        { "t.yaml", RP "    renew: { command: [x], cert_manager: { namespace: a, certificate: b, in_cluster: true } }\n",
          -EINVAL, "t.yaml:4:5: platform 'p': renew.command and renew.cert_manager exclude each other" },
        { "t.yaml", RP "    renew: { enabled: true, cert_manager: { namespace: a, in_cluster: true } }\n", -EINVAL,
          "t.yaml:4:5: platform 'p': renew.cert_manager needs namespace and certificate" },
        { "t.yaml", RP "    renew: { enabled: true, cert_manager: { namespace: a, certificate: b } }\n", -EINVAL,
          "t.yaml:4:5: platform 'p': renew.cert_manager needs one of kubeconfig or in_cluster: true" },
        { "t.yaml",
          RP "    renew: { cert_manager: { namespace: a, certificate: b, kubeconfig: k, in_cluster: true } }\n",
          -EINVAL, "t.yaml:4:5: platform 'p': renew.cert_manager needs one of kubeconfig or in_cluster: true" },
        { "t.yaml", RP "    renew: { cert_manager: { namespace: A_b, certificate: b, in_cluster: true } }\n", -EINVAL,
          "t.yaml:4:41: 'A_b' is not a valid DNS label (renew.cert_manager.namespace)" },
        { "t.yaml", RP "    renew: { command: [] }\n", -EINVAL, "t.yaml:4:23: 'renew.command' must not be empty" },
        { "t.yaml", RP "    renew: { command: /usr/bin/cmctl renew }\n", -EINVAL,
          "t.yaml:4:23: 'renew.command' must be a list" },
        { "t.yaml", RP "    renew: { command: [a, \"\"] }\n", -EINVAL,
          "t.yaml:4:27: 'renew.command' must be a list of non-empty strings" },
        { "t.yaml", RP "    renew: { command: [a, [b]] }\n", -EINVAL,
          "t.yaml:4:27: 'renew.command' must be a list of non-empty strings" },
        { "t.yaml", RP "    renew: { on: [tls.expiry.critical, \"TLS Expiry\"] }\n", -EINVAL,
          "t.yaml:4:40: 'TLS Expiry' is not a finding id (renew.on)" },
        { "t.yaml", RP "    renew: { on: [expiry] }\n", -EINVAL, "t.yaml:4:19: 'expiry' is not a finding id (renew.on)" },
        { "t.yaml", RP "    renew: { on: [tls.expiry.critical, tls.expiry.critcal] }\n", -EINVAL,
          "t.yaml:4:40: unknown finding id 'tls.expiry.critcal' in renew.on (certvigil list-findings lists them)" },
        { "t.yaml", RP "    renew: { timeout: 0 }\n", -EINVAL, "t.yaml:4:23: 'renew.timeout' must be longer than 0" },
        { "t.yaml", RP "    renew: { min_interval: soon }\n", -EINVAL,
          "t.yaml:4:28: 'renew.min_interval' must be a duration such as 10s, 2m or 1h" },
        { "t.yaml", RP "    renew: { max_per_week: 0 }\n", -EINVAL,
          "t.yaml:4:28: 'renew.max_per_week' must be between 1 and 100" },
        { "t.yaml", RP "    renew: { verify_every: 5m, verify_timeout: 1m }\n", -EINVAL,
          "t.yaml:4:5: platform 'p': renew.verify_timeout must not be shorter than renew.verify_every" },
        { "t.yaml", RP "    renew: { enabled: maybe }\n", -EINVAL, "t.yaml:4:23: 'renew.enabled' must be a boolean" },
        { "t.yaml", RP "    renew: { shell: true }\n", -EINVAL, "t.yaml:4:14: unknown key 'shell' in renew" },
        { "t.yaml", RP "    renew: [command]\n", -EINVAL, "t.yaml:4:12: 'renew' must be a mapping" },
        { "t.yaml", RP "    kubernetes: { kubeconfig: k }\n", -EINVAL,
          "t.yaml:2:5: platform 'p': kubernetes needs a namespace" },
        { "t.yaml", RP "    kubernetes: { namespace: gw }\n", -EINVAL,
          "t.yaml:2:5: platform 'p': kubernetes needs one of kubeconfig or in_cluster: true" },
        { "t.yaml", RP "    acme_directory: http://example.com/dir\n", -EINVAL,
          "t.yaml:4:21: 'http://example.com/dir' must be an https:// URL (acme_directory)" },
        /* Kubernetes names reach URL paths: DNS-1123 names only. */
        { "t.yaml", RP "    renew: { cert_manager: { namespace: a, certificate: ../x, in_cluster: true } }\n", -EINVAL,
          "t.yaml:4:57: '../x' is not a valid Kubernetes object name (renew.cert_manager.certificate): lower-case letters, digits, '-' and '.', "
          "starting and ending with a letter or digit, at most 253 characters" },
        { "t.yaml", RP "    renew: { cert_manager: { namespace: a, certificate: \"x/y\", in_cluster: true } }\n", -EINVAL,
          "t.yaml:4:57: 'x/y' is not a valid Kubernetes object name (renew.cert_manager.certificate): lower-case letters, digits, '-' and '.', "
          "starting and ending with a letter or digit, at most 253 characters" },
        { "t.yaml", RP "    renew: { cert_manager: { namespace: a, certificate: \"x?y#\", in_cluster: true } }\n", -EINVAL,
          "t.yaml:4:57: 'x?y#' is not a valid Kubernetes object name (renew.cert_manager.certificate): lower-case letters, digits, '-' and '.', "
          "starting and ending with a letter or digit, at most 253 characters" },
        { "t.yaml", RP "    renew: { cert_manager: { namespace: a, certificate: Wildcard, in_cluster: true } }\n", -EINVAL,
          "t.yaml:4:57: 'Wildcard' is not a valid Kubernetes object name (renew.cert_manager.certificate): lower-case letters, digits, '-' and '.', "
          "starting and ending with a letter or digit, at most 253 characters" },
        { "t.yaml", RP "    tls: { wildcardSecretName: -wc }\n", -EINVAL,
          "t.yaml:4:32: '-wc' is not a valid Kubernetes object name (tls.wildcardSecretName): lower-case letters, digits, '-' and '.', "
          "starting and ending with a letter or digit, at most 253 characters" },
        { "t.yaml", RP "    tls: { wildcardSecretName: wc. }\n", -EINVAL,
          "t.yaml:4:32: 'wc.' is not a valid Kubernetes object name (tls.wildcardSecretName): lower-case letters, digits, '-' and '.', "
          "starting and ending with a letter or digit, at most 253 characters" },
        { "t.yaml", RP "    tls: { wildcardSecretName: a..b }\n", -EINVAL,
          "t.yaml:4:32: 'a..b' is not a valid Kubernetes object name (tls.wildcardSecretName): lower-case letters, digits, '-' and '.', "
          "starting and ending with a letter or digit, at most 253 characters" },
        { "t.yaml", RP "    tls: { wildcardSecretName: a.-b }\n", -EINVAL,
          "t.yaml:4:32: 'a.-b' is not a valid Kubernetes object name (tls.wildcardSecretName): lower-case letters, digits, '-' and '.', "
          "starting and ending with a letter or digit, at most 253 characters" },
        { "t.yaml", RP "    tls: { wildcardSecretName: \"a%2Fb\" }\n", -EINVAL,
          "t.yaml:4:32: 'a%2Fb' is not a valid Kubernetes object name (tls.wildcardSecretName): lower-case letters, digits, '-' and '.', "
          "starting and ending with a letter or digit, at most 253 characters" },
        { "t.yaml", RP "    tls: { wildcardSecretName: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa }\n", -EINVAL,
          "t.yaml:4:32: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is not a valid Kubernetes object name (tls.wildcardSecretName): lower-case letters, digits, '-' and '.', "
          "starting and ending with a letter or digit, at most 253 characters" },
        { "t.yaml", RP "    renew: { cert_manager: { namespace: a.b, certificate: b, in_cluster: true } }\n", -EINVAL,
          "t.yaml:4:41: 'a.b' is not a valid DNS label (renew.cert_manager.namespace)" },
        { "t.yaml", RP "    kubernetes: { namespace: \"..\", in_cluster: true }\n", -EINVAL,
          "t.yaml:4:30: '..' is not a valid DNS label (kubernetes.namespace)" },
        { "@/certvigil.yaml", "platforms:\n  - name: p\n    values: values-bad-secret.yaml\n", -EINVAL,
          "@/values-bad-secret.yaml:5:23: '../../../../../api/v1/namespaces/kube-system/secrets/x?y#' is not a valid "
          "Kubernetes object name (tls.wildcardSecretName): lower-case letters, digits, '-' and '.', starting and "
          "ending with a letter or digit, at most 253 characters" },
};

static void test_renew(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(renew_good); i++) {
                const struct good_case *t = &renew_good[i];
                _cleanup_free_ char *error = NULL;
                struct config *c = NULL;
                size_t n = 0;

                if (config_load_string(t->yaml, t->filename, checks_find_def, &c, &error) < 0)
                        fail_msg("renew good case %zu failed: %s", i, error);
                while (n < ELEMENTSOF(t->expect) && t->expect[n])
                        n++;
                assert_int_equal(c->n_platforms, n);
                for (size_t j = 0; j < n; j++) {
                        _cleanup_free_ char *d = describe_renew(c->platforms[j]);
                        _cleanup_free_ char *what = xasprintf("renew good case %zu, platform %zu", i, j);
                        assert_settings(what, d, t->expect[j]);
                }
                config_free(c);
        }
        for (size_t i = 0; i < ELEMENTSOF(renew_bad); i++)
                check_bad(i, &renew_bad[i]);
}

/* dnssec: { enabled, trust_anchor } and dnssec_warn_days, in defaults and
 * per platform; the anchor is relative to the config file. */
static void test_dnssec_keys(void **state) {
        static const struct {
                const char *yaml;
                bool enabled;
                const char *anchor;
                unsigned days;
        } rows[] = {
                { RP, true, DNSSEC_ROOT_KEY, 3 },
                { "defaults:\n  dnssec: { trust_anchor: ta.key }\n  dnssec_warn_days: 7\n" RP, true,
                  "/etc/certvigil/ta.key", 7 },
                { "defaults:\n  dnssec: { trust_anchor: /x.key }\n" RP "    dnssec: { enabled: false }\n", false,
                  "/x.key", 3 },
                { RP "    dnssec_warn_days: 0\n", true, DNSSEC_ROOT_KEY, 0 },
        };
        static const struct bad_case bad[] = {
                { "t.yaml", RP "    dnssec_warn_days: 366\n", -EINVAL,
                  "t.yaml:4:23: 'dnssec_warn_days' must be between 0 and 365" },
                { "t.yaml", RP "    dnssec: { anchor: x }\n", -EINVAL,
                  "t.yaml:4:15: unknown key 'anchor' in dnssec" },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_free_ char *error = NULL;
                struct config *c = NULL;
                if (config_load_string(rows[i].yaml, "/etc/certvigil/certvigil.yaml", checks_find_def, &c, &error) < 0)
                        fail_msg("dnssec case %zu failed: %s", i, error);
                assert_int_equal(c->platforms[0]->dnssec_enabled, rows[i].enabled);
                assert_string_equal(c->platforms[0]->dnssec_trust_anchor, rows[i].anchor);
                assert_int_equal(c->platforms[0]->dnssec_warn_days, rows[i].days);
                config_free(c);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                check_bad(i, &bad[i]);
}

/* rdap: off by default; its keys, paths relative to the config file. */
static void test_rdap_keys(void **state) {
        static const struct bad_case bad[] = {
                { "t.yaml", RP "    rdap: { url: \"http://rdap.example/\" }\n", -EINVAL,
                  "t.yaml:4:18: 'http://rdap.example/' must be an https:// URL (rdap.url)" },
        };
        _cleanup_free_ char *error = NULL;
        struct config *c = NULL;

        if (config_load_string(RP, "/etc/certvigil/certvigil.yaml", checks_find_def, &c, &error) < 0)
                fail_msg("%s", error);
        assert_false(c->platforms[0]->rdap_enabled);
        assert_null(c->platforms[0]->rdap_bootstrap);
        assert_null(c->platforms[0]->ct_url);
        assert_false(c->platforms[0]->ct_required);
        assert_int_equal(c->platforms[0]->domain_warn_days, 30);
        assert_int_equal(c->platforms[0]->domain_critical_days, 7);
        config_free(c);
        c = NULL;
        if (config_load_string("defaults:\n  rdap: { enabled: true, bootstrap: dns.json, trust: ca.pem }\n"
                               "  domain_critical_days: 3\n" RP
                               "    rdap: { url: \"https://rdap.example/\" }\n    domain_warn_days: 60\n"
                               "    ct: { url: \"https://ct.example/\", trust: ct.pem, required: true }\n",
                               "/etc/certvigil/certvigil.yaml", checks_find_def, &c, &error) < 0)
                fail_msg("%s", error);
        assert_true(c->platforms[0]->rdap_enabled);
        assert_string_equal(c->platforms[0]->rdap_bootstrap, "/etc/certvigil/dns.json");
        assert_string_equal(c->platforms[0]->rdap_trust, "/etc/certvigil/ca.pem");
        assert_string_equal(c->platforms[0]->rdap_url, "https://rdap.example/");
        assert_int_equal(c->platforms[0]->domain_warn_days, 60);
        assert_int_equal(c->platforms[0]->domain_critical_days, 3);
        assert_string_equal(c->platforms[0]->ct_url, "https://ct.example/");
        assert_string_equal(c->platforms[0]->ct_trust, "/etc/certvigil/ct.pem");
        assert_true(c->platforms[0]->ct_required);
        config_free(c);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                check_bad(i, &bad[i]);
}

/* The top-level max_inflight: unset is 0 (derived from the fd limit). */
static void test_max_inflight(void **state) {
        static const struct {
                const char *yaml;
                unsigned expect;
                const char *error;        /* NULL when it loads */
        } rows[] = {
                { PB, 0, NULL },
                { "max_inflight: 200\n" PB, 200, NULL },
                { "max_inflight: 1\n" PB, 1, NULL },
                { "max_inflight: 1048576\n" PB, 1048576, NULL },
                { "max_inflight: 0\n" PB, 0, "t.yaml:1:15: 'max_inflight' must be between 1 and 1048576" },
                { "max_inflight: many\n" PB, 0, "t.yaml:1:15: 'max_inflight' must be an integer" },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_free_ char *error = NULL;
                struct config *c = NULL;
                int r = config_load_string(rows[i].yaml, "t.yaml", checks_find_def, &c, &error);

                if (!rows[i].error) {
                        if (r < 0)
                                fail_msg("row %zu: %s", i, error);
                        assert_int_equal(c->max_inflight, rows[i].expect);
                } else if (r >= 0 || !error || strcmp(error, rows[i].error) != 0)
                        fail_msg("row %zu:\n  expected %s\n  got      %s", i, rows[i].error, error ? error : "(loaded)");
                config_free(c);
        }
}

static void test_enum_strings(void **state) {
        static const char *const services[] = { "api", "console", "grafana", "auth", "mcp" };
        static const char *const modes[] = { "letsencrypt", "provided", "selfsigned" };

        for (size_t i = 0; i < ELEMENTSOF(services); i++)
                assert_string_equal(service_to_string((enum service)i), services[i]);
        for (size_t i = 0; i < ELEMENTSOF(modes); i++)
                assert_string_equal(tls_mode_to_string((enum tls_mode)i), modes[i]);
        assert_null(service_to_string(_SERVICE_MAX));
        assert_null(tls_mode_to_string(_TLS_MODE_MAX));
        assert_null(service_to_string((enum service)-1));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_good_configs),
                cmocka_unit_test(test_bad_configs),
                cmocka_unit_test(test_load_file),
                cmocka_unit_test(test_load_file_missing),
                cmocka_unit_test(test_from_values),
                cmocka_unit_test(test_values_typos),
                cmocka_unit_test(test_overrides),
                cmocka_unit_test(test_garbage),
                cmocka_unit_test(test_limits),
                cmocka_unit_test(test_mutations),
                cmocka_unit_test(test_dns_names),
                cmocka_unit_test(test_enum_strings),
                cmocka_unit_test(test_renew),
                cmocka_unit_test(test_dnssec_keys),
                cmocka_unit_test(test_rdap_keys),
                cmocka_unit_test(test_max_inflight),
                cmocka_unit_test(test_read_stream),
                cmocka_unit_test(test_path_not_regular),
                cmocka_unit_test(test_values_merge),
                cmocka_unit_test(test_values_merge_bomb),
                cmocka_unit_test(test_values_merge_wide),
                cmocka_unit_test(test_values_path_not_regular),
                cmocka_unit_test(test_config_merge),
        };
        int r;

        fixtures = fixtures_dir();
        r = cmocka_run_group_tests(tests, NULL, NULL);
        free(fixtures);
        return r;
}
