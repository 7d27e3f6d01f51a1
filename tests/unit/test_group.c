/* The grouping pass (checks/group.c) as tables: observations and the
 * findings checks emitted in, one finding per root cause out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "checks.h"
#include "group.h"
#include "util.h"

/* Observations from a tiny language, space separated: "name=ok|notrun|
 * nxdomain|servfail" for
 * a name, "name@address=SHA" for an endpoint that served the leaf SHA,
 * "name@address=refused" and "name@address=cut" (the deadline stopped its
 * probe) for those that did not. Names are listed in plan order. */
static struct platform_obs *make_obs(const char *spec) {
        struct platform_obs *o = xcalloc(1, sizeof(*o));
        o->names = xcalloc(16, sizeof(*o->names));
        o->endpoints = xcalloc(16, sizeof(*o->endpoints));
        for (const char *p = spec; *p;) {
                size_t len = strcspn(p, " ");
                _cleanup_free_ char *tok = xstrndup(p, len);
                char *eq = strchr(tok, '='), *at = strchr(tok, '@');
                p += len + strspn(p + len, " ");
                *eq = 0;
                if (!at) {
                        o->names[o->n_names++] = (struct name_obs){
                                .name = xstrdup(tok),
                                .status = strcmp(eq + 1, "notrun") == 0     ? DNS_STATUS_NOT_RUN
                                          : strcmp(eq + 1, "nxdomain") == 0 ? DNS_STATUS_NXDOMAIN
                                          : strcmp(eq + 1, "servfail") == 0 ? DNS_STATUS_SERVFAIL
                                                                            : DNS_STATUS_OK,
                        };
                        continue;
                }
                *at = 0;
                struct endpoint_obs *e = &o->endpoints[o->n_endpoints++];
                *e = (struct endpoint_obs){ .name = xstrdup(tok), .address = xstrdup(at + 1), .port = 443 };
                if (strcmp(eq + 1, "refused") == 0)
                        e->status = ENDPOINT_CONNECT_FAILED;
                else if (strcmp(eq + 1, "cut") == 0) {
                        e->status = ENDPOINT_NOT_RUN;
                        e->cut_short = true;
                        o->deadline_reached = true;
                } else {
                        e->status = ENDPOINT_OK;
                        e->chain = xcalloc(1, sizeof(*e->chain));
                        e->chain[0].sha256 = xstrdup(eq + 1);
                        e->n_chain = 1;
                }
        }
        for (size_t i = 0; i < o->n_names; i++)
                if (o->names[i].status == DNS_STATUS_NOT_RUN)
                        o->deadline_reached = true;
        return o;
}

/* "id name address|message", "-" for no name or address; "id!" for a
 * finding raised to critical. */
static void emit(struct finding_list *l, const char *spec) {
        char id[64], name[64], address[64];
        const char *bar = strchr(spec, '|');
        assert_non_null(bar);
        _cleanup_free_ char *head = xstrndup(spec, (size_t)(bar - spec));
        assert_int_equal(sscanf(head, "%63s %63s %63s", id, name, address), 3);
        /* "id!": raised to critical, as some checks do. */
        bool raised = id[strlen(id) - 1] == '!';
        if (raised)
                id[strlen(id) - 1] = 0;
        const struct finding_def *def = checks_find_def(id);
        if (!def)
                fail_msg("unknown id %s", id);
        finding_emit_severity(l, def, raised ? SEVERITY_CRITICAL : def->severity, strcmp(name, "-") ? name : NULL,
                              strcmp(address, "-") ? address : NULL, "%s", bar + 1);
}

/* "id name address affected [<-cause]|message" per finding, in order. */
static char *describe(const struct finding_list *l) {
        char *s = xstrdup("");
        for (size_t i = 0; i < l->n; i++) {
                const struct finding *f = &l->items[i];
                char *n = xasprintf("%s%s %s %s %zu%s%s|%s\n", s, f->def->id, f->name ? f->name : "-",
                                    f->address ? f->address : "-", f->n_affected, f->caused_by ? " <-" : "",
                                    f->caused_by ? f->caused_by->id : "", f->message);
                free(s);
                s = n;
        }
        return s;
}

struct row {
        const char *desc;
        const char *obs;
        const char *in[8];
        const char *out;
};

static const struct row rows[] = {
        { "one certificate, five names: one finding, the names listed",
          "api.x=ok console.x=ok grafana.x=ok auth.x=ok mcp.x=ok api.x@10.0.0.2=S console.x@10.0.0.2=S "
          "grafana.x@10.0.0.2=S auth.x@10.0.0.2=S mcp.x@10.0.0.2=S",
          { "tls.expiry.critical console.x 10.0.0.2|the certificate served by 10.0.0.2 for console.x expires",
            "tls.expiry.critical api.x 10.0.0.2|the certificate served by 10.0.0.2 for api.x expires",
            "tls.expiry.critical grafana.x 10.0.0.2|the certificate served by 10.0.0.2 for grafana.x expires",
            "tls.expiry.critical auth.x 10.0.0.2|the certificate served by 10.0.0.2 for auth.x expires",
            "tls.expiry.critical mcp.x 10.0.0.2|the certificate served by 10.0.0.2 for mcp.x expires" },
          "tls.expiry.critical api.x 10.0.0.2 5|the certificate served by 10.0.0.2 for api.x, console.x and 3 more "
          "expires\n" },
        { "two addresses, two names, one certificate",
          "api.x=ok auth.x=ok api.x@10.0.0.1=S api.x@10.0.0.10=S auth.x@10.0.0.1=S auth.x@10.0.0.10=S",
          { "tls.san.mismatch api.x 10.0.0.10|the certificate served by 10.0.0.10 does not cover api.x: [*.y]",
            "tls.san.mismatch api.x 10.0.0.1|the certificate served by 10.0.0.1 does not cover api.x: [*.y]",
            "tls.san.mismatch auth.x 10.0.0.1|the certificate served by 10.0.0.1 does not cover auth.x: [*.y]",
            "tls.san.mismatch auth.x 10.0.0.10|the certificate served by 10.0.0.10 does not cover auth.x: [*.y]" },
          "tls.san.mismatch api.x 10.0.0.1 4|the certificate served by 10.0.0.1 and 10.0.0.10 does not cover "
          "api.x and auth.x: [*.y]\n" },
        { "different certificates stay apart; so do different messages",
          "api.x=ok auth.x=ok api.x@10.0.0.1=S auth.x@10.0.0.1=T",
          { "tls.expiry.warning api.x 10.0.0.1|for api.x in 5 days",
            "tls.expiry.warning auth.x 10.0.0.1|for auth.x in 5 days",
            "tls.chain.order api.x 10.0.0.1|10.0.0.1 for api.x sends 3",
            "tls.chain.order api.x 10.0.0.1|10.0.0.1 for api.x sends 4" },
          "tls.expiry.warning api.x 10.0.0.1 1|for api.x in 5 days\n"
          "tls.expiry.warning auth.x 10.0.0.1 1|for auth.x in 5 days\n"
          "tls.chain.order api.x 10.0.0.1 1|10.0.0.1 for api.x sends 3\n"
          "tls.chain.order api.x 10.0.0.1 1|10.0.0.1 for api.x sends 4\n" },
        { "a name inside a longer name or address is left alone",
          "api.x=ok api.x.y=ok api.x@10.0.0.1=S api.x.y@10.0.0.1=S",
          { "tls.san.mismatch api.x 10.0.0.1|10.0.0.1 (10.0.0.10 too) for api.x, not api.x.y: api.x.",
            "tls.san.mismatch api.x.y 10.0.0.1|10.0.0.1 (10.0.0.10 too) for api.x.y, not api.x.y: api.x.y." },
          "tls.san.mismatch api.x 10.0.0.1 1|10.0.0.1 (10.0.0.10 too) for api.x, not api.x.y: api.x.\n"
          "tls.san.mismatch api.x.y 10.0.0.1 1|10.0.0.1 (10.0.0.10 too) for api.x.y, not api.x.y: api.x.y.\n" },
        { "a refused address: one finding for the address, not per certificate",
          "api.x=ok auth.x=ok api.x@10.0.0.3=refused auth.x@10.0.0.3=refused",
          { "tls.connect.failed api.x 10.0.0.3|cannot connect to 10.0.0.3 port 443 for api.x: refused",
            "tls.connect.failed auth.x 10.0.0.3|cannot connect to 10.0.0.3 port 443 for auth.x: refused" },
          "tls.connect.failed api.x 10.0.0.3 2|cannot connect to 10.0.0.3 port 443 for api.x and auth.x: refused\n" },
        { "once per certificate: every endpoint serving it is affected",
          "api.x=ok auth.x=ok api.x@10.0.0.1=S auth.x@10.0.0.1=S",
          { "tls.renewal.overdue api.x 10.0.0.1|94% of the certificate served by 10.0.0.1 for api.x" },
          "tls.renewal.overdue api.x 10.0.0.1 2|94% of the certificate served by 10.0.0.1 for api.x and auth.x\n" },
        { "an expiring certificate explains its overdue renewal",
          "api.x=ok api.x@10.0.0.1=S",
          { "tls.renewal.overdue api.x 10.0.0.1|overdue", "tls.expiry.critical api.x 10.0.0.1|expires" },
          "tls.renewal.overdue api.x 10.0.0.1 1 <-tls.expiry.critical|overdue\n"
          "tls.expiry.critical api.x 10.0.0.1 1|expires\n" },
        { "the one expiring certificate among good ones explains the inconsistency",
          "api.x=ok api.x@10.0.0.1=S api.x@10.0.0.2=T",
          { "tls.cert.inconsistent - -|two", "tls.expiry.critical api.x 10.0.0.2|expires" },
          "tls.cert.inconsistent - - 0 <-tls.expiry.critical|two\n"
          "tls.expiry.critical api.x 10.0.0.2 1|expires\n" },
        { "two certificates expiring besides a good one: the inconsistency stays",
          "api.x=ok api.x@10.0.0.1=S api.x@10.0.0.2=T api.x@10.0.0.3=U",
          { "tls.cert.inconsistent - -|three", "tls.expiry.critical api.x 10.0.0.2|expires",
            "tls.expiry.warning api.x 10.0.0.3|soon" },
          "tls.cert.inconsistent - - 0|three\n"
          "tls.expiry.critical api.x 10.0.0.2 1|expires\n"
          "tls.expiry.warning api.x 10.0.0.3 1|soon\n" },
        { "but not another certificate's",
          "api.x=ok auth.x=ok api.x@10.0.0.1=S auth.x@10.0.0.1=T",
          { "tls.renewal.overdue api.x 10.0.0.1|overdue", "tls.expiry.critical auth.x 10.0.0.1|expires" },
          "tls.renewal.overdue api.x 10.0.0.1 1|overdue\n"
          "tls.expiry.critical auth.x 10.0.0.1 1|expires\n" },
        { "a placeholder explains its chain, SAN and the inconsistency it makes",
          "api.x=ok auth.x=ok api.x@10.0.0.1=P auth.x@10.0.0.1=S",
          { "tls.chain.untrusted api.x 10.0.0.1|untrusted", "tls.san.mismatch api.x 10.0.0.1|san",
            "tls.cert.inconsistent - -|two certificates", "tls.cert.ingress-default api.x 10.0.0.1|placeholder",
            "tls.expiry.warning auth.x 10.0.0.1|the real one expires" },
          "tls.chain.untrusted api.x 10.0.0.1 1 <-tls.cert.ingress-default|untrusted\n"
          "tls.san.mismatch api.x 10.0.0.1 1 <-tls.cert.ingress-default|san\n"
          "tls.cert.inconsistent - - 0 <-tls.cert.ingress-default|two certificates\n"
          "tls.cert.ingress-default api.x 10.0.0.1 1|placeholder\n"
          "tls.expiry.warning auth.x 10.0.0.1 1|the real one expires\n" },
        { "a placeholder does not explain an inconsistency between two real certificates",
          "api.x=ok auth.x=ok grafana.x=ok api.x@10.0.0.1=P auth.x@10.0.0.1=S grafana.x@10.0.0.1=T",
          { "tls.cert.inconsistent - -|three certificates", "tls.cert.ingress-default api.x 10.0.0.1|placeholder" },
          "tls.cert.inconsistent - - 0|three certificates\n"
          "tls.cert.ingress-default api.x 10.0.0.1 1|placeholder\n" },
        { "a name that does not resolve explains the resolvers' disagreement about it",
          "api.x=ok",
          { "dns.resolve.failed auth.x -|auth.x does not resolve", "dns.resolvers.disagree auth.x -|asked for auth.x",
            "dns.resolvers.disagree api.x -|asked for api.x" },
          "dns.resolve.failed auth.x - 1|auth.x does not resolve\n"
          "dns.resolvers.disagree auth.x - 1 <-dns.resolve.failed|asked for auth.x\n"
          "dns.resolvers.disagree api.x - 1|asked for api.x\n" },
        { "a missing wildcard record explains the names under it that do not exist, not a SERVFAIL",
          "api.x.t=nxdomain auth.x.t=servfail grafana.y.t=nxdomain",
          { "dns.resolve.failed api.x.t -|api.x.t does not resolve", "dns.resolve.failed auth.x.t -|auth.x.t: SERVFAIL",
            "dns.resolve.failed grafana.y.t -|grafana.y.t does not resolve", "dns.wildcard.missing! *.x.t -|no wildcard",
            "dns.wildcard.missing *.y.t -|warning only" },
          "dns.resolve.failed api.x.t - 1 <-dns.wildcard.missing|api.x.t does not resolve\n"
          "dns.resolve.failed auth.x.t - 1|auth.x.t: SERVFAIL\n"
          "dns.resolve.failed grafana.y.t - 1|grafana.y.t does not resolve\n"
          "dns.wildcard.missing *.x.t - 1|no wildcard\n"
          "dns.wildcard.missing *.y.t - 1|warning only\n" },
        { "the deadline: one finding says what was not probed, the rest folds under it",
          "api.x=ok console.x=ok auth.x=notrun api.x@10.0.0.1=S console.x@10.0.0.1=cut",
          { "dns.resolve.failed auth.x -|auth.x was not resolved: deadline",
            "tls.connect.failed console.x 10.0.0.1|10.0.0.1 port 443 for console.x was not probed: deadline" },
          "dns.resolve.failed auth.x - 1 <-audit.deadline.reached|auth.x was not resolved: deadline\n"
          "tls.connect.failed console.x 10.0.0.1 1 <-audit.deadline.reached|10.0.0.1 port 443 for console.x was "
          "not probed: deadline\n"
          "audit.deadline.reached auth.x - 2|the audit deadline (2s) was reached before 1 of 3 name(s) were "
          "resolved and 1 of 2 endpoint(s) were probed (auth.x and 10.0.0.1 for console.x): they were not judged; "
          "raise deadline (or concurrency), or find out why they are slow\n" },
        { "platform findings and silenced ones stay as they are",
          "api.x=ok api.x@10.0.0.1=S",
          { "caa.forbids-issuer - -|caa", "check.error - -|one", "check.error - -|two" },
          "caa.forbids-issuer - - 0|caa\ncheck.error - - 0|one\ncheck.error - - 0|two\n" },
};

static void test_group_table(void **state) {
        struct platform p = { .name = (char *)"p", .deadline_usec = 2 * USEC_PER_SEC };

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct platform_obs *obs = make_obs(rows[i].obs);
                struct finding_list l = { 0 };
                for (size_t j = 0; j < ELEMENTSOF(rows[i].in) && rows[i].in[j]; j++)
                        emit(&l, rows[i].in[j]);
                group_findings(&p, obs, &l);
                _cleanup_free_ char *got = describe(&l);
                if (strcmp(got, rows[i].out) != 0)
                        fail_msg("%s:\n--- got\n%s--- want\n%s", rows[i].desc, got, rows[i].out);
                finding_list_clear(&l);
                platform_obs_free(obs);
        }
}

/* Silenced findings group apart from the rest: a silence covers only what
 * it matched. */
static void test_group_silenced_apart(void **state) {
        struct platform p = { .name = (char *)"p", .deadline_usec = USEC_PER_SEC };
        struct platform_obs *obs = make_obs("api.x=ok auth.x=ok api.x@10.0.0.1=S auth.x@10.0.0.1=S");
        struct finding_list l = { 0 };

        emit(&l, "tls.expiry.warning api.x 10.0.0.1|for api.x");
        emit(&l, "tls.expiry.warning auth.x 10.0.0.1|for auth.x");
        l.items[0].silenced = xstrdup("ticket 42");
        group_findings(&p, obs, &l);
        assert_int_equal(l.n, 2);
        assert_string_equal(l.items[0].silenced, "ticket 42");
        assert_null(l.items[1].silenced);
        assert_string_equal(l.items[1].name, "auth.x");
        size_t counts[3];
        assert_int_equal(finding_list_count(&l, counts), SEVERITY_WARNING);
        assert_int_equal(counts[SEVERITY_WARNING], 1);
        finding_list_clear(&l);
        platform_obs_free(obs);
}

/* A large platform: 1,000 names on 2 addresses, one certificate that
 * covers none of them. One finding, every endpoint in the plan's order. */
static void test_group_large(void **state) {
        struct platform p = { .name = (char *)"p", .deadline_usec = USEC_PER_SEC };
        struct platform_obs *obs = xcalloc(1, sizeof(*obs));
        struct finding_list l = { 0 };
        const size_t n = 1000;

        obs->names = xcalloc(n, sizeof(*obs->names));
        obs->endpoints = xcalloc(2 * n, sizeof(*obs->endpoints));
        for (size_t i = 0; i < n; i++) {
                obs->names[obs->n_names++] = (struct name_obs){ .name = xasprintf("n%04zu.x.test", i) };
                /* Observed in an order of their own, as DNS answers come. */
                for (size_t a = 0; a < 2; a++) {
                        struct endpoint_obs *e = &obs->endpoints[obs->n_endpoints++];
                        *e = (struct endpoint_obs){ .name = xasprintf("n%04zu.x.test", n - 1 - i),
                                                    .address = xasprintf("10.0.0.%zu", 2 - a), .port = 443 };
                        e->chain = xcalloc(1, sizeof(*e->chain));
                        e->chain[0].sha256 = xstrdup("S");
                        e->n_chain = 1;
                }
        }
        for (size_t i = 0; i < obs->n_endpoints; i++)
                finding_emit(&l, checks_find_def("tls.san.mismatch"), obs->endpoints[i].name,
                             obs->endpoints[i].address, "the certificate served by %s does not cover %s: [*.y]",
                             obs->endpoints[i].address, obs->endpoints[i].name);
        group_findings(&p, obs, &l);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.items[0].n_affected, 2 * n);
        assert_string_equal(l.items[0].affected[0].name, "n0000.x.test");
        assert_string_equal(l.items[0].affected[0].address, "10.0.0.1");
        assert_string_equal(l.items[0].affected[1].address, "10.0.0.2");
        assert_string_equal(l.items[0].affected[2 * n - 1].name, "n0999.x.test");
        assert_string_equal(l.items[0].message, "the certificate served by 10.0.0.1 and 10.0.0.2 does not cover "
                                                "n0000.x.test, n0001.x.test and 998 more: [*.y]");
        finding_list_clear(&l);
        platform_obs_free(obs);
}

static void test_list_text(void **state) {
        char *items[] = { (char *)"a", (char *)"b", (char *)"c", (char *)"d", (char *)"e" };
        static const char *const want[] = { "", "a", "a and b", "a, b and c", "a, b and 2 more", "a, b and 3 more" };
        for (size_t n = 0; n <= 5; n++) {
                _cleanup_free_ char *got = group_list_text(items, n);
                assert_string_equal(got, want[n]);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_group_table),
                cmocka_unit_test(test_group_silenced_apart),
                cmocka_unit_test(test_group_large),
                cmocka_unit_test(test_list_text),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
