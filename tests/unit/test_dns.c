/* The DNS side without a network: name and zone logic, the bounded answer
 * walker over crafted bytes, CNAME chains, the provider table, and the
 * dns.* / dns01.* checks over fixture observations. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <systemd/sd-event.h>

#include "checks.h"
#include "config.h"
#include "dns.h"
#include "dnsname.h"
#include "providers.h"
#include "util.h"

/* ------------------------------------------------------------------------ */
/* Names and zones. */

static void test_names(void **state) {
        static const struct {
                const char *name, *zone;
                bool in;
        } rows[] = {
                { "_acme-challenge.ai.example.com", "example.com", true },
                { "_acme-challenge.ai.example.com", "ai.example.com", true },
                { "example.com", "example.com", true },
                { "Example.COM", "example.com", true },
                { "_acme-challenge.example.com", "ai-gateway.example.com", false },
                { "notexample.com", "example.com", false },
                { "example.com", "sub.example.com", false },
                { "anything.at.all", "", true },
                { "", "com", false },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                if (dns_name_in_zone(rows[i].name, rows[i].zone) != rows[i].in)
                        fail_msg("%s in %s: expected %d", rows[i].name, rows[i].zone, rows[i].in);

        assert_string_equal(dns_name_parent("a.b.c"), "b.c");
        assert_string_equal(dns_name_parent("c"), "");
        assert_string_equal(dns_name_parent(""), "");
        assert_int_equal(dns_name_labels(""), 0);
        assert_int_equal(dns_name_labels("test"), 1);
        assert_int_equal(dns_name_labels("gw.test"), 2);

        char *chain[] = { (char *)"b", (char *)"c", NULL };
        _cleanup_free_ char *s = dns_chain_describe("a", chain);
        assert_string_equal(s, "a -> b -> c");
}

/* ------------------------------------------------------------------------ */
/* A tiny message builder for crafted answers. */

struct buf {
        unsigned char b[4096];
        size_t n;
};

static void u8(struct buf *m, unsigned v) {
        assert_true(m->n < sizeof(m->b));
        m->b[m->n++] = (unsigned char)v;
}
static void u16(struct buf *m, unsigned v) {
        u8(m, v >> 8);
        u8(m, v & 0xff);
}
static void u32(struct buf *m, uint32_t v) {
        u16(m, v >> 16);
        u16(m, v & 0xffff);
}
static void name(struct buf *m, const char *s) {
        while (*s) {
                size_t n = strcspn(s, ".");
                u8(m, (unsigned)n);
                for (size_t i = 0; i < n; i++)
                        u8(m, (unsigned char)s[i]);
                s += n;
                if (*s == '.')
                        s++;
        }
        u8(m, 0);
}
static void hdr(struct buf *m, unsigned flags, unsigned an, unsigned ns) {
        m->n = 0;
        u16(m, 0x1234);
        u16(m, flags);
        u16(m, 1);
        u16(m, an);
        u16(m, ns);
        u16(m, 0);
}
static void rr_name(struct buf *m, const char *owner, unsigned type, const char *target) {
        struct buf t = { .n = 0 };
        name(&t, target);
        name(m, owner);
        u16(m, type);
        u16(m, 1);
        u32(m, 60);
        u16(m, (unsigned)t.n);
        memcpy(m->b + m->n, t.b, t.n);
        m->n += t.n;
}
static void rr_soa(struct buf *m, const char *owner, uint32_t serial) {
        struct buf t = { .n = 0 };
        name(&t, "ns.example.com");
        name(&t, "hostmaster.example.com");
        u32(&t, serial);
        for (int i = 0; i < 4; i++)
                u32(&t, 60);
        name(m, owner);
        u16(m, 6);
        u16(m, 1);
        u32(m, 60);
        u16(m, (unsigned)t.n);
        memcpy(m->b + m->n, t.b, t.n);
        m->n += t.n;
}

static void test_msg_parse(void **state) {
        struct buf m;
        struct dns_msg msg;

        /* NXDOMAIN with the zone's SOA in the authority section (RFC 2308). */
        hdr(&m, 0x8583, 0, 1);
        name(&m, "_acme-challenge.Ai.Example.com");
        u16(&m, 16);
        u16(&m, 1);
        rr_soa(&m, "Example.com", 2026112601);
        assert_int_equal(dns_msg_parse(m.b, m.n, &msg), 0);
        assert_int_equal(msg.rcode, 3);
        assert_true(msg.aa);
        assert_false(msg.tc);
        assert_int_equal(msg.n_rrs, 1);
        assert_int_equal(msg.rrs[0].section, DNS_SECTION_AUTHORITY);
        assert_string_equal(msg.rrs[0].owner, "example.com");
        assert_int_equal(msg.rrs[0].serial, 2026112601);
        dns_msg_done(&msg);

        /* Every truncation of it is refused, never read past. */
        for (size_t cut = 0; cut < m.n; cut++) {
                unsigned char *copy = xmalloc(cut ? cut : 1);
                memcpy(copy, m.b, cut);
                assert_int_equal(dns_msg_parse(copy, cut, &msg), -EBADMSG);
                free(copy);
        }

        /* A compression pointer to itself. */
        hdr(&m, 0x8180, 1, 0);
        name(&m, "a.example");
        u16(&m, 1);
        u16(&m, 1);
        size_t here = m.n;
        u16(&m, 0xc000 | (unsigned)here);
        u16(&m, 1);
        u16(&m, 1);
        u32(&m, 60);
        u16(&m, 4);
        u32(&m, 0x7f000001);
        assert_int_equal(dns_msg_parse(m.b, m.n, &msg), -EBADMSG);

        /* 100 records: 64 kept, the rest counted. */
        hdr(&m, 0x8180, 100, 0);
        name(&m, "big.example");
        u16(&m, 1);
        u16(&m, 1);
        for (int i = 0; i < 100; i++) {
                u16(&m, 0xc00c);
                u16(&m, 1);
                u16(&m, 1);
                u32(&m, 60);
                u16(&m, 4);
                u32(&m, 0x7f000001);
        }
        assert_int_equal(dns_msg_parse(m.b, m.n, &msg), 0);
        assert_int_equal(msg.n_rrs, DNS_MSG_RRS_MAX);
        assert_int_equal(msg.n_dropped, 100 - DNS_MSG_RRS_MAX);
        dns_msg_done(&msg);

        /* An rdlength running past the end. */
        hdr(&m, 0x8180, 1, 0);
        name(&m, "a.example");
        u16(&m, 1);
        u16(&m, 1);
        u16(&m, 0xc00c);
        u16(&m, 1);
        u16(&m, 1);
        u32(&m, 60);
        u16(&m, 400);
        u32(&m, 0x7f000001);
        assert_int_equal(dns_msg_parse(m.b, m.n, &msg), -EBADMSG);
        assert_int_equal(dns_msg_parse(NULL, 0, &msg), -EBADMSG);
}

/* RRSIG (RFC 4034 3.1): the covered type, expiration, inception and
 * signer are read; a signer running past the RDATA is refused. */
static void rr_rrsig(struct buf *m, const char *owner, unsigned covered, uint32_t exp, const char *signer,
                     int rdlen_delta) {
        struct buf t = { .n = 0 };
        u16(&t, covered);
        u8(&t, 13);
        u8(&t, 3);
        u32(&t, 60);
        u32(&t, exp);
        u32(&t, exp - 86400);
        u16(&t, 4711);
        name(&t, signer);
        for (int i = 0; i < 8; i++)
                u8(&t, 0xab); /* the signature */
        name(m, owner);
        u16(m, 46);
        u16(m, 1);
        u32(m, 60);
        u16(m, (unsigned)((int)t.n + rdlen_delta));
        memcpy(m->b + m->n, t.b, t.n);
        m->n += t.n;
}

static void test_rrsig(void **state) {
        struct buf m;
        struct dns_msg msg;

        hdr(&m, 0x8180, 1, 1);
        name(&m, "api.example.com");
        u16(&m, 1);
        u16(&m, 1);
        rr_rrsig(&m, "api.example.com", 1, 0xfffffff0u, "Example.com", 0);
        rr_rrsig(&m, "example.com", 6, 2000000000u, "example.com", 0);
        assert_int_equal(dns_msg_parse(m.b, m.n, &msg), 0);
        assert_int_equal(msg.n_rrs, 2);
        assert_int_equal(msg.rrs[0].type, DNS_TYPE_RRSIG);
        assert_int_equal(msg.rrs[0].covered, 1);
        assert_int_equal(msg.rrs[0].sig_expiration, 0xfffffff0u);
        assert_int_equal(msg.rrs[0].sig_inception, 0xfffffff0u - 86400);
        assert_string_equal(msg.rrs[0].target, "example.com");
        assert_int_equal(msg.rrs[1].section, DNS_SECTION_AUTHORITY);
        assert_int_equal(msg.rrs[1].covered, 6);
        dns_msg_done(&msg);

        /* RDATA shorter than the fixed part plus the signer's name. */
        hdr(&m, 0x8180, 1, 0);
        name(&m, "api.example.com");
        u16(&m, 1);
        u16(&m, 1);
        rr_rrsig(&m, "api.example.com", 1, 2000000000u, "example.com", -20);
        assert_int_equal(dns_msg_parse(m.b, m.n, &msg), -EBADMSG);
}

static void test_cname_chain(void **state) {
        struct buf m;
        struct dns_msg msg;
        char **chain = NULL;

        /* a -> b -> a */
        hdr(&m, 0x8180, 2, 0);
        name(&m, "a.example");
        u16(&m, 1);
        u16(&m, 1);
        rr_name(&m, "a.example", 5, "b.example");
        rr_name(&m, "b.example", 5, "a.example");
        assert_int_equal(dns_msg_parse(m.b, m.n, &msg), 0);
        assert_int_equal(dns_msg_cname_chain(&msg, "a.example", &chain), -ELOOP);
        assert_int_equal(strv_length(chain), 2);
        chain = strv_free(chain);
        dns_msg_done(&msg);

        /* 9 links: one too many; 8 links: fine. */
        for (int links = 8; links <= 9; links++) {
                char owner[32], target[32];
                hdr(&m, 0x8180, (unsigned)links, 0);
                name(&m, "c0.example");
                u16(&m, 1);
                u16(&m, 1);
                for (int i = 0; i < links; i++) {
                        snprintf(owner, sizeof(owner), "c%d.example", i);
                        snprintf(target, sizeof(target), "c%d.example", i + 1);
                        rr_name(&m, owner, 5, target);
                }
                assert_int_equal(dns_msg_parse(m.b, m.n, &msg), 0);
                assert_int_equal(dns_msg_cname_chain(&msg, "c0.example", &chain), links == 8 ? 0 : -E2BIG);
                chain = strv_free(chain);
                dns_msg_done(&msg);
        }
}

/* ------------------------------------------------------------------------ */
/* The provider table. */

static void test_providers(void **state) {
        _cleanup_free_ char *path = providers_default_path();
        struct providers *t = NULL;
        char *error = NULL;

        if (providers_load(path, &t, &error) < 0)
                fail_msg("%s (set CERTVIGIL_DATA_DIR to contrib/data)", error);
        assert_true(providers_known(t, "cloudflare"));
        assert_true(providers_known(t, "Route53"));
        assert_false(providers_known(t, "some-dns-host"));
        assert_true(providers_ns_matches(t, "cloudflare", "ada.ns.cloudflare.com"));
        assert_false(providers_ns_matches(t, "cloudflare", "ns-1.awsdns-01.org"));
        assert_true(providers_ns_matches(t, "route53", "ns-1536.awsdns-00.co.uk"));
        assert_true(providers_ns_matches(t, "clouddns", "ns-cloud-a1.googledomains.com"));
        assert_true(providers_ns_matches(t, "azuredns", "ns1-01.azure-dns.com"));
        assert_true(providers_ns_matches(t, "digitalocean", "ns1.digitalocean.com"));
        assert_false(providers_ns_matches(t, "digitalocean", "ns1.digitalocean.com.evil.example"));
        providers_free(t);

        assert_int_equal(providers_load("/nonexistent/dns-providers.txt", &t, &error), -ENOENT);
        assert_non_null(strstr(error, "/nonexistent/dns-providers.txt"));
        free(error);
}

/* ------------------------------------------------------------------------ */
/* Checks over fixtures. */

static struct platform platform;
static struct plan plan;

static char *run_check(const struct check *c, struct platform_obs *obs, const struct providers *providers) {
        struct check_ctx ctx = { .platform = &platform, .plan = &plan, .obs = obs, .now = 0, .providers = providers };
        struct finding_list out = { 0 };
        char *s = xstrdup("");

        assert_int_equal(c->run(&ctx, &out), 0);
        for (size_t i = 0; i < out.n; i++) {
                char *n = xasprintf("%s%s %s %s\n", s, out.items[i].def->id, severity_to_string(out.items[i].severity),
                                    out.items[i].name ? out.items[i].name : "-");
                free(s);
                s = n;
        }
        finding_list_clear(&out);
        return s;
}

static void setup_le(const char *base, const char *zone) {
        platform = (struct platform){ .name = (char *)"t", .tls_mode = TLS_MODE_LETSENCRYPT, .separator = '.' };
        plan = (struct plan){ .wildcard_base = (char *)base, .dns01_zone = (char *)zone };
        plan.wildcard = xasprintf("*.%s", base);
        plan.challenge_name = xasprintf("_acme-challenge.%s", base);
}

static void teardown_le(void) {
        free(plan.wildcard);
        free(plan.challenge_name);
}

/* One row: the zone facts and what dns01.zone / dns01.cname say. */
struct zone_row {
        const char *what;
        const char *base, *dns01_zone;
        const char *dns01_found;       /* zone the dnsZone search found */
        const char *cname;             /* the chain's one target, or NULL */
        const char *challenge_found;   /* zone the challenge search found, NULL: none */
        enum dns_status challenge_status;
        const char *expect;
};

static const struct zone_row zone_rows[] = {
        { "healthy", "ai.example.com", "example.com", "example.com", NULL, "example.com", DNS_STATUS_OK, "" },
        { "dnsZone is not a zone", "ai.example.com", "ai.example.com", "example.com", NULL, "example.com",
          DNS_STATUS_OK, "dns01.zone.missing critical ai.example.com\n" },
        { "separator - moves the challenge out", "example.com", "ai-gateway.example.com", "ai-gateway.example.com",
          NULL, "example.com", DNS_STATUS_OK, "dns01.zone.outside critical _acme-challenge.example.com\n" },
        { "a CNAME into dnsZone fixes that", "example.com", "ai-gateway.example.com", "ai-gateway.example.com",
          "_acme-challenge.ai-gateway.example.com", "ai-gateway.example.com", DNS_STATUS_OK, "" },
        { "a delegated child zone", "ai.sub.example.com", "example.com", "example.com", NULL, "sub.example.com",
          DNS_STATUS_OK, "dns01.zone.cut critical _acme-challenge.ai.sub.example.com\n" },
        { "a dangling CNAME", "ai.example.com", "example.com", "example.com", "x.gone-domain.com", "com",
          DNS_STATUS_OK, "dns01.cname.dangling critical _acme-challenge.ai.example.com\n" },
        { "a CNAME into a name with no zone at all", "ai.example.com", "example.com", "example.com", "x.invalid",
          NULL, DNS_STATUS_NXDOMAIN, "dns01.cname.dangling critical _acme-challenge.ai.example.com\n" },
        { "an unanswered search judges nothing", "ai.example.com", "example.com", "example.com", NULL, NULL,
          DNS_STATUS_TIMEOUT, "" },
};

static void test_dns01_zone_rows(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(zone_rows); i++) {
                const struct zone_row *r = &zone_rows[i];
                char *chain[] = { (char *)r->cname, NULL };
                struct platform_obs obs = { 0 };
                struct dns_obs *d = &obs.dns;

                setup_le(r->base, r->dns01_zone);
                d->gathered = d->dns01 = true;
                d->dns01_zone = (struct dns_zone_obs){ .zone = (char *)r->dns01_found, .status = DNS_STATUS_OK };
                d->cname_chain = r->cname ? chain : NULL;
                d->cname_status = DNS_STATUS_OK;
                d->effective_challenge = r->cname ? (char *)r->cname : plan.challenge_name;
                d->challenge_zone = (struct dns_zone_obs){ .zone = (char *)r->challenge_found,
                                                           .status = r->challenge_status };
                _cleanup_free_ char *zone = run_check(&check_dns01_zone, &obs, NULL);
                _cleanup_free_ char *cname = run_check(&check_dns01_cname, &obs, NULL);
                _cleanup_free_ char *got = xasprintf("%s%s", zone, cname);
                if (strcmp(got, r->expect) != 0)
                        fail_msg("%s: expected\n%sgot\n%s", r->what, r->expect, got);
                teardown_le();
        }
}

static void test_dns01_servers_and_provider(void **state) {
        char *ns[] = { (char *)"ada.ns.cloudflare.com", (char *)"bob.ns.cloudflare.com", NULL };
        struct dns_server_obs servers[] = {
                { .ns = ns[0], .address = (char *)"192.0.2.1", .status = DNS_STATUS_OK, .authoritative = true,
                  .has_serial = true, .serial = 7 },
                { .ns = ns[1], .address = (char *)"192.0.2.2", .status = DNS_STATUS_OK, .authoritative = true,
                  .has_serial = true, .serial = 7 },
        };
        struct platform_obs obs = { 0 };
        struct dns_obs *d = &obs.dns;
        _cleanup_free_ char *path = providers_default_path();
        struct providers *t = NULL;
        char *error = NULL;

        assert_int_equal(providers_load(path, &t, &error), 0);
        setup_le("ai.example.com", "example.com");
        d->gathered = d->dns01 = true;
        d->effective_challenge = plan.challenge_name;
        d->challenge_zone = (struct dns_zone_obs){ .zone = (char *)"example.com", .status = DNS_STATUS_OK, .ns = ns,
                                                   .servers = servers, .n_servers = 2 };
        char *s = run_check(&check_dns01_nameservers, &obs, t);
        assert_string_equal(s, "");
        free(s);

        servers[1].serial = 6;
        s = run_check(&check_dns01_nameservers, &obs, t);
        assert_string_equal(s, "dns01.nameservers.inconsistent warning example.com\n");
        free(s);

        servers[1] = (struct dns_server_obs){ .ns = ns[1], .address = (char *)"192.0.2.2", .status = DNS_STATUS_REFUSED,
                                              .error = (char *)"answered REFUSED" };
        s = run_check(&check_dns01_nameservers, &obs, t);
        assert_string_equal(s, "dns01.nameservers.inconsistent warning bob.ns.cloudflare.com\n");
        free(s);

        platform.dns01_provider = (char *)"cloudflare";
        s = run_check(&check_dns01_provider, &obs, t);
        assert_string_equal(s, "");
        free(s);
        platform.dns01_provider = (char *)"route53";
        s = run_check(&check_dns01_provider, &obs, t);
        assert_string_equal(s, "dns01.provider.mismatch warning example.com\n");
        free(s);
        platform.dns01_provider = (char *)"unknown-provider";
        s = run_check(&check_dns01_provider, &obs, t);
        assert_string_equal(s, "");
        free(s);

        /* Not in letsencrypt mode: nothing gathered, nothing judged. */
        d->dns01 = false;
        platform.dns01_provider = (char *)"route53";
        s = run_check(&check_dns01_provider, &obs, t);
        assert_string_equal(s, "");
        free(s);
        providers_free(t);
        teardown_le();
}

static void test_wildcard_severity(void **state) {
        char *a1[] = { (char *)"192.0.2.1", NULL };
        char *a2[] = { (char *)"192.0.2.2", NULL };
        struct name_obs names[] = {
                { .name = (char *)"api.ai.example.com", .status = DNS_STATUS_OK, .addresses = a1 },
                { .name = (char *)"console.ai.example.com", .status = DNS_STATUS_OK, .addresses = a1 },
        };
        struct platform_obs obs = { .names = names, .n_names = 2 };

        setup_le("ai.example.com", NULL);
        obs.dns.gathered = true;
        obs.dns.wildcard_probe_name = (char *)"certvigil-probe-1.ai.example.com";
        obs.dns.wildcard_probe = (struct dns_answer_obs){ .source = (char *)"resolver x", .status = DNS_STATUS_NXDOMAIN };
        char *s = run_check(&check_dns_wildcard, &obs, NULL);
        assert_string_equal(s, "dns.wildcard.missing warning *.ai.example.com\n");
        free(s);

        names[1].status = DNS_STATUS_NXDOMAIN;
        names[1].addresses = NULL;
        s = run_check(&check_dns_wildcard, &obs, NULL);
        assert_string_equal(s, "dns.wildcard.missing critical *.ai.example.com\n");
        free(s);

        platform.tunnel_enabled = true;
        s = run_check(&check_dns_wildcard, &obs, NULL);
        assert_string_equal(s, "");
        free(s);
        platform.tunnel_enabled = false;

        names[1].status = DNS_STATUS_OK;
        names[1].addresses = a2;
        obs.dns.wildcard_probe = (struct dns_answer_obs){ .source = (char *)"resolver x", .status = DNS_STATUS_OK,
                                                          .addresses = a1 };
        s = run_check(&check_dns_wildcard, &obs, NULL);
        assert_string_equal(s, "dns.wildcard.mismatch warning console.ai.example.com\n");
        free(s);
        s = run_check(&check_dns_address, &obs, NULL);
        assert_string_equal(s, "dns.address.inconsistent warning -\n");
        free(s);
        teardown_le();
}

/* ------------------------------------------------------------------------ */
/* Shared channels: one per distinct resolver set; cancelling one handle
 * answers only its own queries. The "server" is a UDP socket that never
 * replies, so queries end by timeout unless cancelled. */

struct hub_probe {
        int calls;
        enum dns_status status;
};

static void on_hub_addresses(void *userdata, enum dns_status status, char **error, char ***addresses) {
        struct hub_probe *p = userdata;
        p->calls++;
        p->status = status;
}

static void test_hub_shared_and_isolated(void **state) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sd_event *event = NULL;
        struct dns_hub *hub = NULL;
        struct dns_resolver *a = NULL, *b = NULL, *c = NULL;
        struct hub_probe pa = { 0 }, pb = { 0 };
        char server[64], *error = NULL;

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
        snprintf(server, sizeof(server), "127.0.0.1:%u", ntohs(sa.sin_port));
        char *servers[] = { server, NULL };

        assert_int_equal(sd_event_new(&event), 0);
        assert_int_equal(dns_hub_new(event, &hub), 0);
        assert_int_equal(dns_resolver_new(hub, servers, 300 * USEC_PER_MSEC, &a, &error), 0);
        assert_int_equal(dns_resolver_new(hub, servers, 300 * USEC_PER_MSEC, &b, &error), 0);
        assert_int_equal(dns_hub_channels(hub), 1);
        /* Asking the same server without recursion is another channel. */
        assert_int_equal(dns_resolver_new_direct(hub, "127.0.0.1", ntohs(sa.sin_port), 300 * USEC_PER_MSEC, &c,
                                                 &error), 0);
        assert_int_equal(dns_hub_channels(hub), 2);

        dns_resolve_addresses(a, "a.example.test", on_hub_addresses, &pa);
        dns_resolve_addresses(b, "b.example.test", on_hub_addresses, &pb);
        dns_resolver_cancel(a);
        assert_int_equal(pa.calls, 1);
        assert_int_equal(pa.status, DNS_STATUS_NOT_RUN);
        assert_int_equal(pb.calls, 0);

        /* b's query runs on until its timeout, on the channel a shares. */
        for (int i = 0; i < 200 && pb.calls == 0; i++)
                assert_true(sd_event_run(event, 100 * USEC_PER_MSEC) >= 0);
        assert_int_equal(pb.calls, 1);
        assert_int_equal(pb.status, DNS_STATUS_TIMEOUT);
        assert_int_equal(pa.calls, 1);

        /* Freed handles leave their channels idle, for the next audit. */
        a = dns_resolver_free(a);
        b = dns_resolver_free(b);
        c = dns_resolver_free(c);
        assert_int_equal(dns_hub_channels(hub), 2);
        assert_int_equal(dns_resolver_new(hub, servers, 300 * USEC_PER_MSEC, &a, &error), 0);
        assert_int_equal(dns_hub_channels(hub), 2);
        a = dns_resolver_free(a);
        hub = dns_hub_free(hub);
        sd_event_unref(event);
        close(fd);
}

/* Every resolver spelling the config accepts (what `plan` shows) is one the
 * resolver accepts too (what `audit` needs), with and without a port.
 * Setting a channel's servers sends nothing. */
static void test_resolver_spellings(void **state) {
        static const char *const spellings[] = {
                "127.0.0.1", "127.0.0.1:5353", "::1", "[::1]", "[::1]:5353", "2001:db8::53", "[2001:db8::53]",
                "[2001:db8::53]:53", "::ffff:192.0.2.1",
        };
        sd_event *event = NULL;
        struct dns_hub *hub = NULL;

        assert_int_equal(sd_event_new(&event), 0);
        assert_int_equal(dns_hub_new(event, &hub), 0);
        for (size_t i = 0; i < ELEMENTSOF(spellings); i++) {
                _cleanup_free_ char *yaml = xasprintf("platforms:\n  - name: p\n    global: { baseDomain: example.com }\n"
                                                      "    resolvers: [\"%s\"]\n", spellings[i]);
                _cleanup_free_ char *error = NULL;
                struct dns_resolver *r = NULL;
                struct config *c = NULL;

                if (config_load_string(yaml, "t.yaml", NULL, &c, &error) < 0)
                        fail_msg("config refuses %s: %s", spellings[i], error);
                if (dns_resolver_new(hub, c->platforms[0]->resolvers, USEC_PER_SEC, &r, &error) < 0)
                        fail_msg("resolver refuses %s (as %s): %s", spellings[i], c->platforms[0]->resolvers[0], error);
                dns_resolver_free(r);
                config_free(c);
        }
        dns_hub_free(hub);
        sd_event_unref(event);
}

/* Without CERTVIGIL_DATA_DIR an uninstalled build finds the table in its
 * source tree, and a table that cannot be read is named in the error. */
static void test_providers_path(void **state) {
        _cleanup_free_ char *saved = getenv("CERTVIGIL_DATA_DIR") ? xstrdup(getenv("CERTVIGIL_DATA_DIR")) : NULL;
        _cleanup_free_ char *path = NULL, *error = NULL;
        struct providers *t = NULL;

        unsetenv("CERTVIGIL_DATA_DIR");
        path = providers_default_path();
        if (providers_load(path, &t, &error) < 0)
                fail_msg("without CERTVIGIL_DATA_DIR: %s", error);
        t = providers_free(t);
        setenv("CERTVIGIL_DATA_DIR", "/nonexistent", 1);
        free(path);
        path = providers_default_path();
        assert_string_equal(path, "/nonexistent/dns-providers.txt");
        assert_int_equal(providers_load(path, &t, &error), -ENOENT);
        assert_string_equal(error, "/nonexistent/dns-providers.txt: cannot read: No such file or directory "
                                   "(set CERTVIGIL_DATA_DIR to the directory holding dns-providers.txt)");
        if (saved)
                setenv("CERTVIGIL_DATA_DIR", saved, 1);
        else
                unsetenv("CERTVIGIL_DATA_DIR");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_resolver_spellings),
                cmocka_unit_test(test_providers_path),
                cmocka_unit_test(test_hub_shared_and_isolated),
                cmocka_unit_test(test_msg_parse),
                cmocka_unit_test(test_rrsig),
                cmocka_unit_test(test_cname_chain),
                cmocka_unit_test(test_providers),
                cmocka_unit_test(test_dns01_zone_rows),
                cmocka_unit_test(test_dns01_servers_and_provider),
                cmocka_unit_test(test_wildcard_severity),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
